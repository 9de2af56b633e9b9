/**
 * Rounds of outreach (DDAS vroegsignaalzaken, table `case_rounds`), kept by the case activities.
 *
 * A round ends when the case gets a result (the read model's `result` turns non-null) and the next one
 * starts when the result is cleared again: the machine does that only when a new signal passes screening
 * after an end. A "not now" re-contact has no result in between, so it stays in the same round.
 *
 * Within one machine step the workflow records the signal and the first contact attempt of a new round
 * before it syncs the case (which opens the round row), so both take "the next round" when the latest
 * round has ended: a contact attempt is never made in a round that has its result, and a signal that is
 * picked up after an end is exactly the one that starts the next round. A signal that is not picked up
 * stays with the round it arrived in.
 */
import { sql } from 'kysely';
import type { Db } from '../database.js';

/** Opens round 1 of a new case (idempotent). */
export async function openFirstRound(
  db: Db,
  input: { caseId: string; municipality: string; startedAt: Date },
): Promise<void> {
  await sql`
    insert into case_rounds (case_id, round, municipality, started_at)
    values (${input.caseId}, 1, ${input.municipality}, ${input.startedAt})
    on conflict (case_id, round) do nothing`.execute(db);
}

/** The round a new signal or contact attempt of the case belongs to (see the rule at the top). */
function roundFor(caseId: string, advancesAfterEnd: ReturnType<typeof sql<boolean>>) {
  return sql<number>`coalesce((
    select case when r.ended_at is not null and ${advancesAfterEnd} then r.round + 1 else r.round end
    from case_rounds r where r.case_id = ${caseId} order by r.round desc limit 1), 1)`;
}

/** Records a signal's DDAS status, its case and (once) its round. */
export async function recordSignalRound(
  db: Db,
  input: { signalId: string; status: string; caseId: string },
): Promise<void> {
  await sql`
    update signals set status = ${input.status}, case_id = ${input.caseId},
      case_round = coalesce(case_round, ${roundFor(input.caseId, sql<boolean>`${input.status} = 'Opgepakt'`)})
    where id = ${input.signalId}`.execute(db);
}

/** The round a contact attempt made now belongs to. */
export function attemptRound(caseId: string) {
  return roundFor(caseId, sql<boolean>`true`);
}

/**
 * Follows the case's result into its rounds: a result ends the running round (once, at `at`); no result
 * while the latest round has ended opens the next round at `at`. Idempotent, so a retried sync is harmless.
 */
export async function syncRounds(
  db: Db,
  input: { caseId: string; result: string | null; at: Date },
): Promise<void> {
  if (input.result !== null) {
    await sql`
      update case_rounds set ended_at = ${input.at}, result = ${input.result}
      where case_id = ${input.caseId} and ended_at is null
        and round = (select max(round) from case_rounds where case_id = ${input.caseId})`.execute(db);
    return;
  }
  await sql`
    insert into case_rounds (case_id, round, municipality, started_at)
    select r.case_id, r.round + 1, r.municipality, ${input.at} from case_rounds r
    where r.case_id = ${input.caseId} and r.ended_at is not null
      and r.round = (select max(round) from case_rounds where case_id = ${input.caseId})
    on conflict (case_id, round) do nothing`.execute(db);
}
