/**
 * The lock that serialises writers of a municipality's residents by identity: intake chunks (matching and
 * creating residents) and objection registrations (flagging residents). A transaction-scoped advisory lock,
 * keyed by the municipality, so one intake chunk or one register change runs at a time per municipality and
 * each sees what the other committed: an objection registered while a chunk creates its resident would
 * otherwise flag nobody (the resident is not committed yet), and the chunk would not see the entry either.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from './database.js';

/** First key of the advisory lock (second: the hash of the municipality's code). */
export const INTAKE_LOCK = 0x5197;

/** Takes the municipality's intake lock until `trx` ends. */
export async function lockIntake(trx: Transaction<Database>, municipality: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${INTAKE_LOCK}, hashtext(${municipality}))`.execute(trx);
}
