/**
 * The check of a signal insert's references (partner, batch, resident; migration 0009) in fewer, steadier
 * steps: one pass over the statement's new rows collects the distinct ids, then each referenced table is
 * probed by primary key (`id = any(ids)`) to lock and count the rows. The 0009 version joined the
 * transition table to each table twice (lock, then check); with the statistics of a table that a delivery
 * had since doubled, the planner chose to scan all residents there, once per chunk, while other partners'
 * deliveries were committing too: a tenth of a second per 1,000 signals.
 * Same guarantees: a missing or concurrently deleted partner, batch or resident fails the whole statement
 * (foreign_key_violation), and the residents it refers to (other than those this transaction created) are
 * locked against deletion until it commits.
 * Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function signals_references_exist() returns trigger language plpgsql as $$
    declare
      partner_ids uuid[];
      batch_ids uuid[];
      resident_ids uuid[];
      n bigint;
    begin
      select array_agg(distinct partner_id),
             array_agg(distinct batch_id) filter (where batch_id is not null),
             array_agg(distinct resident_id) filter (where resident_id is not null)
        into partner_ids, batch_ids, resident_ids
        from new_rows;
      -- A row that is missing, or deleted meanwhile, is not locked: fewer rows than ids.
      perform 1 from partners p where p.id = any(partner_ids) for key share;
      get diagnostics n = row_count;
      if n < coalesce(cardinality(partner_ids), 0) then
        raise foreign_key_violation using message = 'signals.partner_id refers to a missing partner';
      end if;
      if batch_ids is not null then
        perform 1 from signal_batches b where b.id = any(batch_ids) for key share;
        get diagnostics n = row_count;
        if n < cardinality(batch_ids) then
          raise foreign_key_violation using message = 'signals.batch_id refers to a missing batch';
        end if;
      end if;
      if resident_ids is not null then
        -- Lock first (a resident this transaction inserted cannot be deleted by another before it commits),
        -- then count: a resident deleted before the lock is missing from the count, none can go after it.
        perform 1 from residents r
          where r.id = any(resident_ids) and r.xmin <> pg_current_xact_id()::xid for key share;
        select count(*) into n from residents r where r.id = any(resident_ids);
        if n < cardinality(resident_ids) then
          raise foreign_key_violation using message = 'signals.resident_id refers to a missing resident';
        end if;
      end if;
      return null;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function signals_references_exist() returns trigger language plpgsql as $$
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
      perform 1 from residents r where r.id in (select resident_id from new_rows)
        and r.xmin <> pg_current_xact_id()::xid for key share;
      if exists (select 1 from (select distinct resident_id from new_rows where resident_id is not null) n
                 where not exists (select 1 from residents r where r.id = n.resident_id)) then
        raise foreign_key_violation using message = 'signals.resident_id refers to a missing resident';
      end if;
      return null;
    end $$`.execute(db);
}
