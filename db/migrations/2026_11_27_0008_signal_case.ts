/**
 * The case (vroegsignaalzaak) each signal belongs to, stored when the case workflow records the signal's
 * status, so the DDAS delivery joins on it instead of deriving it per query. Existing signals are backfilled
 * with that derivation: the earliest case of the same resident (municipality + case key) still open when the
 * signal arrived. Signals without a case yet keep null. Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('signals')
    .addColumn('case_id', 'uuid', (c) => c.references('cases.id'))
    .execute();
  await sql`
    update signals s set case_id = m.case_id
    from (
      select distinct on (s.id) s.id, c.id as case_id
      from signals s
      join cases c on c.municipality = s.municipality and c.case_key = s.case_key
        and (c.closed_at is null or c.closed_at >= s.received_at)
      order by s.id, c.started_at
    ) m
    where m.id = s.id`.execute(db);
  // Partial: intake inserts signals without a case, so they do not pay for this index.
  await db.schema
    .createIndex('signals_case')
    .on('signals')
    .column('case_id')
    .where(sql.ref('case_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('signals_case').ifExists().execute();
  await db.schema.alterTable('signals').dropColumn('case_id').execute();
}
