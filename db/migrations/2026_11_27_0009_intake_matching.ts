/**
 * Intake matching and signal classification.
 * - `residents.address_key`: the keyed hash of birth date + address + normalised surname, kept for every
 *   resident (also one known by BSN), so a signal without BSN joins the resident already known by BSN.
 *   Rows without BSN take it from their match key (the same hash); rows with a BSN stored before this
 *   migration keep null (the hash needs the matching secret, which a migration does not have).
 * - `signals.classification` (enum `signal_classification`): single, multiple or consecutive, backfilled
 *   by the rule intake applies (per resident: same partner in an earlier month = consecutive, else
 *   another partner in the same month = multiple).
 * - `signal_batches.consecutive`: how many accepted signals of a batch were consecutive.
 *
 * Intake speed (a monthly batch of 100,000 signals at >= 10,000 rows/s, measured by `npm run bench:intake`):
 * - The foreign keys of `signals` to partners, batches and residents are checked per statement instead of
 *   per row. A foreign key checks each inserted row with its own query and locks the referenced row each
 *   time, which was ~40% of a signal insert. Triggers with transition tables keep the same guarantees:
 *   after each insert statement, one query per parent table locks the referenced rows (FOR KEY SHARE, as
 *   a foreign key does, so a concurrent delete waits; rows this transaction created itself need no lock)
 *   and fails with foreign_key_violation when one is missing; an update that changes a reference is checked per row;
 *   deleting a partner or batch that signals reference fails; deleting a resident sets `resident_id` null
 *   on their signals (was ON DELETE SET NULL).
 * - `residents_postcode_area` (0005) is dropped: since 0006 the inbox filters on `tasks.area`, and the
 *   visit list starts from the open visit tasks and joins residents by case key; no query reads it.
 * - `signals_batch` covers only handed-over signals, the only ones a query looks up by batch (`started`
 *   of a batch report); intake inserts signals not handed over, which so skip it.
 * - `signals_resident` is dropped: signals are looked up by their resident's case key (`signals_case_key`),
 *   which every signal carries and keeps after the resident's data is deleted.
 * - `signals` pages keep 10% free (fillfactor 90), so the later updates of a signal that touch no
 *   indexed column (classification, DDAS status) stay on its page and write no index entries.
 * - `residents_address_key` covers residents with a BSN only: one without is found by its match key,
 *   which is the same hash.
 * Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

/** An AFTER trigger per statement that sees the rows inserted (`new_rows`) or deleted (`old_rows`). */
async function statementTrigger(
  db: Kysely<any>,
  name: string,
  event: 'insert' | 'delete',
  table: string,
  fn: string,
): Promise<void> {
  const rows = event === 'insert' ? sql`new table as new_rows` : sql`old table as old_rows`;
  await sql`create trigger ${sql.id(name)} after ${sql.raw(event)} on ${sql.table(table)}
    referencing ${rows} for each statement execute function ${sql.id(fn)}()`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('residents').addColumn('address_key', 'text').execute();
  await sql`update residents set address_key = match_key where bsn is null`.execute(db);
  await db.schema
    .createIndex('residents_address_key')
    .on('residents')
    .columns(['municipality', 'address_key'])
    .where(sql.ref('bsn'), 'is not', null)
    .execute();

  await sql`create type signal_classification as enum ('single', 'multiple', 'consecutive')`.execute(db);
  await db.schema
    .alterTable('signals')
    .addColumn('classification', sql`signal_classification`, (c) => c.notNull().defaultTo('single'))
    .execute();
  await sql`
    update signals s set classification = case
      when exists (
        select 1 from signals e
        where e.municipality = s.municipality and e.case_key = s.case_key and e.partner_id = s.partner_id
          and date_trunc('month', e.signal_date) < date_trunc('month', s.signal_date))
        then 'consecutive'::signal_classification
      when exists (
        select 1 from signals e
        where e.municipality = s.municipality and e.case_key = s.case_key and e.partner_id <> s.partner_id
          and date_trunc('month', e.signal_date) = date_trunc('month', s.signal_date))
        then 'multiple'::signal_classification
      else 'single'::signal_classification
    end`.execute(db);

  await db.schema
    .alterTable('signal_batches')
    .addColumn('consecutive', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await sql`alter table signals set (fillfactor = 90)`.execute(db);
  await db.schema.dropIndex('residents_postcode_area').ifExists().execute();
  await db.schema.dropIndex('signals_resident').ifExists().execute();
  await db.schema.dropIndex('signals_batch').ifExists().execute();
  await db.schema
    .createIndex('signals_batch')
    .on('signals')
    .column('batch_id')
    .where(sql.ref('dispatched_at'), 'is not', null)
    .execute();

  await sql`alter table signals
    drop constraint signals_partner_id_fkey,
    drop constraint signals_batch_id_fkey,
    drop constraint signals_resident_id_fkey`.execute(db);
  // After each insert statement: lock the referenced rows and fail when one is missing.
  await sql`
    create function signals_references_exist() returns trigger language plpgsql as $$
    begin
      perform 1 from partners p where p.id in (select partner_id from new_rows) for key share;
      if exists (select 1 from (select distinct partner_id from new_rows) n
                 where not exists (select 1 from partners p where p.id = n.partner_id)) then
        raise foreign_key_violation using message = 'signals.partner_id refers to a missing partner';
      end if;
      perform 1 from signal_batches b where b.id in (select batch_id from new_rows) for key share;
      if exists (select 1 from (select distinct batch_id from new_rows where batch_id is not null) n
                 where not exists (select 1 from signal_batches b where b.id = n.batch_id)) then
        raise foreign_key_violation using message = 'signals.batch_id refers to a missing batch';
      end if;
      -- A resident this transaction inserted cannot be deleted by another before it commits.
      perform 1 from residents r where r.id in (select resident_id from new_rows)
        and r.xmin <> pg_current_xact_id()::xid for key share;
      if exists (select 1 from (select distinct resident_id from new_rows where resident_id is not null) n
                 where not exists (select 1 from residents r where r.id = n.resident_id)) then
        raise foreign_key_violation using message = 'signals.resident_id refers to a missing resident';
      end if;
      return null;
    end $$`.execute(db);
  await statementTrigger(db, 'signals_references_insert', 'insert', 'signals', 'signals_references_exist');
  // An update that changes a reference (none in the application but the null below) is checked per row.
  await sql`
    create function signals_reference_changed() returns trigger language plpgsql as $$
    begin
      perform 1 from partners p where p.id = new.partner_id for key share;
      perform 1 from signal_batches b where b.id = new.batch_id for key share;
      perform 1 from residents r where r.id = new.resident_id for key share;
      if not exists (select 1 from partners p where p.id = new.partner_id)
         or (new.batch_id is not null and not exists (select 1 from signal_batches b where b.id = new.batch_id))
         or (new.resident_id is not null and not exists (select 1 from residents r where r.id = new.resident_id))
      then
        raise foreign_key_violation using message = 'a signal refers to a missing partner, batch or resident';
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger signals_references_update before update of partner_id, batch_id, resident_id on signals
    for each row when (new.partner_id is distinct from old.partner_id or new.batch_id is distinct from old.batch_id
      or new.resident_id is distinct from old.resident_id and new.resident_id is not null)
    execute function signals_reference_changed()`.execute(db);
  // Deleting a resident keeps their signals, anonymous (as ON DELETE SET NULL did).
  await sql`
    create function residents_deleted() returns trigger language plpgsql as $$
    begin
      update signals s set resident_id = null
      where s.case_key in (select case_key from old_rows)
        and s.resident_id in (select id from old_rows);
      return null;
    end $$`.execute(db);
  await statementTrigger(db, 'residents_delete_signals', 'delete', 'residents', 'residents_deleted');
  // A partner or batch that signals refer to stays (after the delete, so a concurrent intake is seen).
  await sql`
    create function signal_parent_deleted() returns trigger language plpgsql as $$
    begin
      if tg_table_name = 'partners' and exists (
           select 1 from signals s where s.partner_id in (select id from old_rows)) then
        raise foreign_key_violation using message = 'signals refer to this partner';
      end if;
      if tg_table_name = 'signal_batches' and exists (
           select 1 from signals s where s.batch_id in (select id from old_rows)) then
        raise foreign_key_violation using message = 'signals refer to this batch';
      end if;
      return null;
    end $$`.execute(db);
  for (const table of ['partners', 'signal_batches']) {
    await statementTrigger(db, `${table}_delete_signals`, 'delete', table, 'signal_parent_deleted');
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['partners', 'signal_batches']) {
    await sql`drop trigger if exists ${sql.id(`${table}_delete_signals`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop trigger if exists residents_delete_signals on residents`.execute(db);
  await sql`drop trigger if exists signals_references_update on signals`.execute(db);
  await sql`drop trigger if exists signals_references_insert on signals`.execute(db);
  await sql`drop function if exists signal_parent_deleted(), residents_deleted(),
    signals_reference_changed(), signals_references_exist()`.execute(db);
  await sql`alter table signals
    add constraint signals_partner_id_fkey foreign key (partner_id) references partners (id),
    add constraint signals_batch_id_fkey foreign key (batch_id) references signal_batches (id),
    add constraint signals_resident_id_fkey foreign key (resident_id) references residents (id)
      on delete set null`.execute(db);
  await sql`alter table signals reset (fillfactor)`.execute(db);
  await db.schema.dropIndex('signals_batch').ifExists().execute();
  await db.schema.createIndex('signals_batch').on('signals').column('batch_id').execute();
  await db.schema.createIndex('signals_resident').ifNotExists().on('signals').column('resident_id').execute();
  await sql`create index if not exists residents_postcode_area
    on residents (substr(postcode, 1, 4), postcode, house_number)`.execute(db);
  await db.schema.alterTable('signal_batches').dropColumn('consecutive').execute();
  await db.schema.alterTable('signals').dropColumn('classification').execute();
  await sql`drop type if exists signal_classification`.execute(db);
  await db.schema.dropIndex('residents_address_key').ifExists().execute();
  await db.schema.alterTable('residents').dropColumn('address_key').execute();
}
