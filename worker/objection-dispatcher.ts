/**
 * The objection outbox: tells the case workflows of residents put on the objection register (rows of
 * `objection_deliveries`, written in the register's own transaction) with the signal `objectionRegistered`,
 * so a running round of outreach ends. Runs beside the intake dispatcher (`startDispatcher`).
 *
 * A Temporal outage delays an objection but loses none: a failed hand-over stays queued, backs off, and is
 * retried. Settled rows say how: `signalled`; `no_case` (no workflow runs for the resident: nothing to
 * stop, and the register already keeps later signals out); `withdrawn` (the resident withdrew the objection
 * before it was delivered). Several dispatchers may run at once (rows are claimed with SKIP LOCKED), and a
 * notice delivered twice changes nothing (the workflow ignores it once the round has ended).
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { ObjectionDeliveryOutcome } from '../db/tables/intake.table.js';
import type { Logger } from '../lib/logger.js';
import { caseWorkflowId, objectionRegistered } from '../workflows/messages.js';

export interface ObjectionDispatchOptions {
  db: Db;
  client: Client;
  logger?: Logger | undefined;
  batchSize?: number | undefined;
  /** How long one hand-over may take before the pass gives up (default 10 s). */
  handOverTimeoutMs?: number | undefined;
  /** Only the deliveries for these case keys (tests share one database). */
  objectionCaseKeys?: string[] | undefined;
}

/** How long a pass's claim on its notices lasts; far longer than a pass takes. */
const CLAIM_LEASE_MS = 120_000;

/** Longest wait before a failed hand-over is tried again. */
const MAX_BACKOFF_MS = 5 * 60_000;

/** The wait before the next try after `attempts` failed ones: 1 s, 2 s, 4 s, ... at most 5 minutes. */
export function objectionBackoffMs(attempts: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/**
 * Delivers one batch of due objection notices; returns how many were settled. A resident whose signal still
 * waits in the intake outbox is passed over until it has been handed over: otherwise the notice could find
 * no case and be settled while that signal, screened before the objection, starts one a moment later.
 */
export async function dispatchObjections(options: ObjectionDispatchOptions): Promise<number> {
  const db = options.db;
  // Claimed for a lease in one statement (its next try moved out), then handed over with no transaction open.
  const lease = `${CLAIM_LEASE_MS} milliseconds`;
  const rows = await db
    .with('claimed', (cte) =>
      cte
        .updateTable('objection_deliveries')
        .set({ deliver_after: sql<Date>`now() + ${lease}::interval` })
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('objection_deliveries as d')
            .select('d.id')
            .where('d.delivered_at', 'is', null)
            .where('d.deliver_after', '<=', sql<Date>`now()`)
            .where(({ not, exists, selectFrom }) =>
              not(
                exists(
                  selectFrom('signals as s')
                    .select('s.id')
                    .whereRef('s.case_key', '=', 'd.case_key')
                    .whereRef('s.municipality', '=', 'd.municipality')
                    .where('s.dispatched_at', 'is', null),
                ),
              ),
            )
            .$if(options.objectionCaseKeys !== undefined, (qb) =>
              qb.where('d.case_key', '=', sql<string>`any(${options.objectionCaseKeys ?? []}::text[])`),
            )
            .orderBy('d.deliver_after')
            .limit(options.batchSize ?? 100)
            .forUpdate()
            .skipLocked(),
        )
        .returning(['id', 'municipality', 'case_key', 'attempts']),
    )
    .selectFrom('claimed as d')
    .leftJoin('residents as r', (join) =>
      join.onRef('r.case_key', '=', 'd.case_key').onRef('r.municipality', '=', 'd.municipality'),
    )
    .select(['d.id', 'd.municipality', 'd.case_key', 'd.attempts', 'r.objected'])
    .execute();

  const settled = new Map<ObjectionDeliveryOutcome, string[]>();
  const settle = (outcome: ObjectionDeliveryOutcome, id: string) =>
    settled.set(outcome, [...(settled.get(outcome) ?? []), id]);
  const untried: string[] = [];
  let failedAt = -1;
  for (const [index, row] of rows.entries()) {
    // Withdrawn before it got here: the running outreach may go on. (No resident row: their data is
    // deleted, so the case has ended; the signal below finds that out.)
    if (row.objected === false) {
      settle('withdrawn', row.id);
      continue;
    }
    try {
      await options.client.withDeadline(Date.now() + (options.handOverTimeoutMs ?? 10_000), () =>
        options.client.workflow
          .getHandle(caseWorkflowId(row.municipality, row.case_key))
          .signal(objectionRegistered, { deliveryId: row.id }),
      );
      settle('signalled', row.id);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        settle('no_case', row.id);
        continue;
      }
      // The message of a Temporal client error holds no personal data (only ids go in).
      const reason = err instanceof Error ? err.message.slice(0, 500) : 'unknown error';
      const waitMs = objectionBackoffMs(row.attempts + 1);
      await db
        .updateTable('objection_deliveries')
        .set({
          attempts: sql`attempts + 1`,
          last_error: reason,
          deliver_after: sql<Date>`now() + ${`${waitMs} milliseconds`}::interval`,
        })
        .where('id', '=', row.id)
        .execute();
      options.logger?.warn(
        { objectionDeliveryId: row.id, reason },
        'objection hand-over to Temporal failed; will retry',
      );
      failedAt = index;
      break; // Temporal is likely down: leave the rest queued for the next pass.
    }
  }
  if (failedAt >= 0) for (const row of rows.slice(failedAt + 1)) untried.push(row.id);
  for (const [outcome, ids] of settled) {
    await db
      .updateTable('objection_deliveries')
      .set({ delivered_at: sql<Date>`now()`, outcome, last_error: null })
      .where('id', 'in', ids)
      .execute();
  }
  // The claim's lease released: the rest are due again at once.
  if (untried.length > 0) {
    await db
      .updateTable('objection_deliveries')
      .set({ deliver_after: sql<Date>`now()` })
      .where('id', 'in', untried)
      .execute();
  }
  return [...settled.values()].reduce((n, ids) => n + ids.length, 0);
}
