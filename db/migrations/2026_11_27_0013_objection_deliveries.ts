/**
 * The objection outbox: when a resident goes on the objection register, one row per stored resident (their
 * case key) is written in the same transaction as the register entry. The dispatcher beside each worker
 * hands it to the resident's case workflow (signal `objectionRegistered`), so a running round of outreach
 * ends; a Temporal outage delays that but loses nothing. Ids and keys only, no personal data.
 * - `deliver_after`: not before this moment (a caseworker's own update goes first; retries back off).
 * - `delivered_at` / `outcome`: when and how it was settled (`signalled`, `no_case`, `withdrawn`).
 * Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('objection_deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('case_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deliver_after', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('outcome', 'text')
    .execute();
  // The dispatcher's queue: only rows still to deliver, in the order they may go.
  await sql`
    create index objection_deliveries_pending on objection_deliveries (deliver_after)
    where delivered_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('objection_deliveries').ifExists().execute();
}
