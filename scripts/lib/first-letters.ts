/**
 * How far a running system is with the cases of signals that arrived since a moment: signals stored and
 * handed over, cases registered, and cases whose first step is done, read from its database.
 *
 * A case's first step is done when it has its first letter (`outbound_messages`, template 'first', in any
 * status: queued, sent, or `objected` when the letter was withheld; or 'reminder' when its first round
 * ended not picked up and a later signal of another partner started a second one), or, when its first step
 * sent no letter (its stage is not `letter`: not picked up, or a crisis signal that starts with a phone
 * task), once that step's partner notice or task is there. Cases are those started since the moment,
 * signals those received since it.
 */
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';

export interface PipelineCounts {
  /** Signals stored (accepted). */
  stored: number;
  /** Signals handed over to Temporal (`dispatched_at`). */
  handedOver: number;
  /** Signals handed over but not yet recorded by a case (`case_id` null). */
  unassigned: number;
  /** Cases registered. */
  cases: number;
  /** Cases whose first step is done. */
  firstSteps: number;
  /** Of these, with a first letter. */
  firstLetters: number;
}

/** One case: when its first signal was committed and when its first step was done (null: not yet). */
export interface CaseFirstStep {
  stage: string;
  firstSignalAt: Date;
  doneAt: Date | null;
  letter: boolean;
}

/** The cases started since `since`, each with the moment its first step was done (null: not yet). */
const firstSteps = (since: Date) => sql`
  with c as (select id, stage from cases where started_at >= ${since}),
  letters as (
    select case_id, min(created_at) as at from outbound_messages
     where template in ('first', 'reminder') and case_id in (select id from c) group by case_id),
  notices as (
    select case_id, min(created_at) as at from partner_notifications
     where case_id in (select id from c) group by case_id),
  tasks as (
    select case_id, min(created_at) as at from tasks where case_id in (select id from c) group by case_id),
  steps as (
    select c.id, c.stage, l.at is not null as letter,
           coalesce(l.at, case when c.stage <> 'letter' then least(n.at, t.at) end) as done_at
      from c
      left join letters l on l.case_id = c.id
      left join notices n on n.case_id = c.id
      left join tasks t on t.case_id = c.id)`;

/** `query`'s rows, or null when the database does not answer within `timeoutMs`. */
async function within<R>(query: Promise<{ rows: R[] }>, timeoutMs: number): Promise<R[] | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    return (await Promise.race([query, timeout]))?.rows ?? null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    query.catch(() => {});
  }
}

/** The counts of signals received and cases started since `since`; null when the database does not answer. */
export async function pipelineCounts(
  db: Db,
  since: Date,
  timeoutMs = 10_000,
): Promise<PipelineCounts | null> {
  const rows = await within(
    sql<Record<keyof PipelineCounts, string>>`
      ${firstSteps(since)},
      s as (
        select count(*) as stored, count(dispatched_at) as handed_over,
               count(*) filter (where dispatched_at is not null and case_id is null) as unassigned
          from signals where received_at >= ${since})
      select s.stored, s.handed_over as "handedOver", s.unassigned,
             (select count(*) from steps) as cases,
             (select count(done_at) from steps) as "firstSteps",
             (select count(*) from steps where letter) as "firstLetters"
        from s`.execute(db),
    timeoutMs,
  );
  const row = rows?.[0];
  if (!row) return null;
  return {
    stored: Number(row.stored),
    handedOver: Number(row.handedOver),
    unassigned: Number(row.unassigned),
    cases: Number(row.cases),
    firstSteps: Number(row.firstSteps),
    firstLetters: Number(row.firstLetters),
  };
}

/**
 * Every case started since `since` with the commit of its earliest signal (`signals.received_at`) and the
 * moment its first step was done.
 */
export async function caseFirstSteps(db: Db, since: Date, timeoutMs = 60_000): Promise<CaseFirstStep[]> {
  const rows = await within(
    sql<{ stage: string; first_signal_at: Date; done_at: Date | null; letter: boolean }>`
      ${firstSteps(since)}
      select steps.stage, steps.done_at, steps.letter, min(s.received_at) as first_signal_at
        from steps join signals s on s.case_id = steps.id
       group by steps.id, steps.stage, steps.done_at, steps.letter`.execute(db),
    timeoutMs,
  );
  if (!rows) throw new Error('the database did not answer the query of the cases in time');
  return rows.map((r) => ({
    stage: r.stage,
    firstSignalAt: r.first_signal_at,
    doneAt: r.done_at,
    letter: r.letter,
  }));
}

/**
 * When the last of the signals received since `since` was handed over (`dispatched_at`) and the last case
 * started since then began (`cases.started_at`, the workflow's clock at its first signal); null when none.
 */
export async function lastStart(db: Db, since: Date): Promise<Date | null> {
  const rows = await within(
    sql<{ at: Date | null }>`
      select greatest(
        (select max(dispatched_at) from signals where received_at >= ${since}),
        (select max(started_at) from cases where started_at >= ${since})) as at`.execute(db),
    60_000,
  );
  return rows?.[0]?.at ?? null;
}

/** Up to `count` workflow ids of cases started since `since` that sent their first letter, spread evenly. */
export async function sampleLetterCases(db: Db, since: Date, count: number): Promise<string[]> {
  const rows = await within(
    sql<{ workflow_id: string }>`
      select workflow_id from (
        select c.workflow_id, row_number() over (order by c.started_at) as n, count(*) over () as total
          from cases c
         where c.started_at >= ${since} and c.stage = 'letter'
           and exists (select 1 from outbound_messages o where o.case_id = c.id and o.template = 'first')
      ) ranked
      where (n - 1) % greatest(1, total / ${count}) = 0
      limit ${count}`.execute(db),
    60_000,
  );
  return (rows ?? []).map((r) => r.workflow_id);
}
