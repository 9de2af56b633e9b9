/**
 * Signals handed over to Temporal whose case has not yet taken them up (no `case_id` yet): the dispatcher
 * counts them before each pass, to hand over no faster than the workers take cases up (see
 * `worker/dispatcher.ts`). Partial, so it holds only the few signals in flight. Frozen in time: never
 * import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index signals_in_flight on signals (dispatched_at)
    where case_id is null and dispatched_at is not null and dispatch_error is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('signals_in_flight').execute();
}
