/**
 * Rounds of outreach (DDAS vroegsignaalzaken). One case workflow may run several rounds: after a round
 * ends with its result, a new signal that passes screening starts the next. Each round is its own
 * vroegsignaalzaak, with its own start, end, result, contact attempts and signals, so:
 * - `case_rounds` holds one row per round (case id + 1-based round number);
 * - `signals.case_round` and `contact_attempts.round` say which round of their case they belong to.
 * Existing data is backfilled as one round per case (earlier rounds of a case are not recoverable from the
 * read model), and signals without a case get it by the rule of migration 0008.
 *
 * The delivery reads signals in the order (municipality in byte order, signal_date, id); `signals_delivery`
 * gives that order and the period's range, and replaces `signals_period` (queries by municipality and
 * signal date compare the municipality with collate "C" to use it).
 * Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('case_rounds')
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .addColumn('result', 'text')
    .addPrimaryKeyConstraint('case_rounds_pkey', ['case_id', 'round'])
    .execute();
  await db.schema
    .createIndex('case_rounds_period')
    .on('case_rounds')
    .columns(['municipality', 'started_at'])
    .execute();
  await db.schema.alterTable('signals').addColumn('case_round', 'integer').execute();
  await db.schema.alterTable('contact_attempts').addColumn('round', 'integer').execute();

  await sql`
    update signals s set case_id = m.case_id
    from (
      select distinct on (s.id) s.id, c.id as case_id
      from signals s
      join cases c on c.municipality = s.municipality and c.case_key = s.case_key
        and (c.closed_at is null or c.closed_at >= s.received_at)
      where s.case_id is null
      order by s.id, c.started_at
    ) m
    where m.id = s.id`.execute(db);
  // A case that has its result but still waits (retention) ended its round at its last update.
  await sql`
    insert into case_rounds (case_id, round, municipality, started_at, ended_at, result)
    select id, 1, municipality, started_at,
      coalesce(closed_at, case when result is not null then updated_at end), result
    from cases`.execute(db);
  await sql`update signals set case_round = 1 where case_id is not null`.execute(db);
  await sql`update contact_attempts set round = 1`.execute(db);

  // Byte order ("C") on the municipality: the delivery sorts and filters in it, never in a language order.
  await sql`create index signals_delivery on signals (municipality collate "C", signal_date, id)`.execute(db);
  await db.schema.dropIndex('signals_period').ifExists().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('signals_period')
    .ifNotExists()
    .on('signals')
    .columns(['municipality', 'signal_date'])
    .execute();
  await db.schema.dropIndex('signals_delivery').ifExists().execute();
  await db.schema.alterTable('contact_attempts').dropColumn('round').execute();
  await db.schema.alterTable('signals').dropColumn('case_round').execute();
  await db.schema.dropTable('case_rounds').execute();
}
