/**
 * DDAS delivery and monitor: an anonymous household key on each signal (so household counts survive the
 * deletion of the resident row), and the indexes the period queries and the signal-to-case lookup use.
 * Frozen in time: no application imports.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('signals').addColumn('household_key', 'text').execute();
  // Signals stored before this column existed take their resident's key while the resident still exists.
  await sql`update signals s set household_key = r.household_key from residents r where r.id = s.resident_id`.execute(
    db,
  );
  await db.schema
    .createIndex('signals_period')
    .on('signals')
    .columns(['municipality', 'signal_date'])
    .execute();
  await db.schema
    .createIndex('cases_case_key')
    .on('cases')
    .columns(['municipality', 'case_key', 'started_at'])
    .execute();
  await db.schema
    .createIndex('contact_attempts_period')
    .on('contact_attempts')
    .column('attempted_at')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('contact_attempts_period').ifExists().execute();
  await db.schema.dropIndex('cases_case_key').ifExists().execute();
  await db.schema.dropIndex('signals_period').ifExists().execute();
  await db.schema.alterTable('signals').dropColumn('household_key').execute();
}
