/**
 * `residents.details_reported_on`: the signal date of the most recent report the resident's details
 * (phone, e-mail, address) are known from. Intake applies a signal's details only when its signal date is
 * on or after the latest one it knows (this column, or a later signal of the resident), so a partner that
 * sends an old month late does not overwrite newer details. Backfilled from the resident's latest signal;
 * null when no signal reported the resident (rows stored otherwise): the first signal's details apply.
 * Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('residents').addColumn('details_reported_on', 'date').execute();
  // One pass over the signals (a hash join), not a subquery per resident.
  await sql`
    update residents r set details_reported_on = l.signal_date
    from (select case_key, max(signal_date) as signal_date from signals group by case_key) l
    where l.case_key = r.case_key`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('residents').dropColumn('details_reported_on').execute();
}
