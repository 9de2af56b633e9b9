/**
 * Signal intake: partner bearer tokens (hashed), monthly batches with their rejected rows, the objection
 * register, and the link from a signal to the batch that brought it. Frozen in time: no application imports.
 * Rejected rows keep only row number, field and reason, never the row's values (they may hold a BSN).
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('partner_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('partner_id', 'uuid', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('signal_batches')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('partner_id', 'uuid', (c) => c.notNull().references('partners.id'))
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('received', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('accepted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rejected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duplicate', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('signal_batches_partner')
    .on('signal_batches')
    .columns(['partner_id', 'received_at'])
    .execute();

  await db.schema
    .createTable('signal_batch_rejections')
    .addColumn('batch_id', 'uuid', (c) => c.notNull().references('signal_batches.id').onDelete('cascade'))
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('signal_batch_rejections_batch')
    .on('signal_batch_rejections')
    .columns(['batch_id', 'row_number'])
    .execute();

  await db.schema
    .alterTable('signals')
    .addColumn('batch_id', 'uuid', (c) => c.references('signal_batches.id'))
    .execute();
  await db.schema.createIndex('signals_batch').on('signals').column('batch_id').execute();
  await db.schema.createIndex('signals_resident').on('signals').column('resident_id').execute();

  // One resident per identity, also under concurrent intake (insert ... on conflict).
  await db.schema.dropIndex('residents_match_key').execute();
  await db.schema
    .createIndex('residents_match_key')
    .on('residents')
    .columns(['municipality', 'match_key'])
    .unique()
    .execute();

  // Residents who objected to sharing, by keyed hash of their identity: survives deletion of their data.
  await db.schema
    .createTable('objections')
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('match_key', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('objections_pkey', ['municipality', 'match_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('objections').ifExists().execute();
  await db.schema.dropIndex('residents_match_key').execute();
  await db.schema
    .createIndex('residents_match_key')
    .on('residents')
    .columns(['municipality', 'match_key'])
    .execute();
  await db.schema.dropIndex('signals_resident').ifExists().execute();
  await db.schema.dropIndex('signals_batch').ifExists().execute();
  await db.schema.alterTable('signals').dropColumn('batch_id').execute();
  await db.schema.dropTable('signal_batch_rejections').ifExists().execute();
  await db.schema.dropTable('signal_batches').ifExists().execute();
  await db.schema.dropTable('partner_tokens').ifExists().execute();
}
