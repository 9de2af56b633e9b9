/**
 * Initial schema. Frozen in time: never import application code here.
 * Personal data lives only in `residents` (and free-text task notes); every other table holds ids, enums,
 * amounts and dates, so deleting a resident leaves anonymous facts for the monitor and DDAS.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('partners')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('partner_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('residents')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('case_key', 'text', (c) => c.notNull().unique())
    .addColumn('match_key', 'text', (c) => c.notNull())
    .addColumn('household_key', 'text', (c) => c.notNull())
    .addColumn('bsn', 'text')
    .addColumn('first_names', 'text', (c) => c.notNull())
    .addColumn('surname_prefix', 'text')
    .addColumn('surname', 'text', (c) => c.notNull())
    .addColumn('birth_date', 'date', (c) => c.notNull())
    .addColumn('sex', 'text')
    .addColumn('phone', 'text')
    .addColumn('email', 'text')
    .addColumn('postcode', 'text', (c) => c.notNull())
    .addColumn('house_number', 'integer', (c) => c.notNull())
    .addColumn('house_number_addition', 'text')
    .addColumn('street', 'text', (c) => c.notNull())
    .addColumn('city', 'text', (c) => c.notNull())
    .addColumn('objected', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('moved_away', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('deceased', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('known_to_debt_help', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('residents_match_key')
    .on('residents')
    .columns(['municipality', 'match_key'])
    .execute();
  await db.schema.createIndex('residents_household_key').on('residents').column('household_key').execute();

  await db.schema
    .createTable('signals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('partner_id', 'uuid', (c) => c.notNull().references('partners.id'))
    .addColumn('partner_type', 'text', (c) => c.notNull())
    .addColumn('partner_reference', 'text', (c) => c.notNull())
    .addColumn('resident_id', 'uuid', (c) => c.references('residents.id').onDelete('set null'))
    .addColumn('case_key', 'text', (c) => c.notNull())
    .addColumn('signal_date', 'date', (c) => c.notNull())
    .addColumn('arrears_since', 'date', (c) => c.notNull())
    .addColumn('amount', 'numeric(12, 2)', (c) => c.notNull())
    .addColumn('crisis', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('warm_handover', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('Nog niet opgepakt'))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('dispatched_at', 'timestamptz')
    .addColumn('dispatch_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('dispatch_error', 'text')
    .addUniqueConstraint('signals_partner_reference', ['partner_id', 'partner_reference'])
    .execute();
  await db.schema
    .createIndex('signals_undispatched')
    .on('signals')
    .column('received_at')
    .where(sql.ref('dispatched_at'), 'is', null)
    .execute();
  await db.schema.createIndex('signals_case_key').on('signals').column('case_key').execute();

  await db.schema
    .createTable('cases')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('case_key', 'text', (c) => c.notNull())
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('round', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('partner_types', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('next_deadline', 'timestamptz')
    .addColumn('result', 'text')
    .addColumn('policy', 'jsonb', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('first_contact_at', 'timestamptz')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('personal_data_deleted_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('cases_workflow_id').on('cases').column('workflow_id').execute();
  await db.schema.createIndex('cases_stage').on('cases').columns(['municipality', 'stage']).execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('machine_task_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('preferred_dagdeel', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('assigned_to', 'text')
    .addColumn('outcome', 'text')
    .addColumn('note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addColumn('completed_by', 'text')
    .execute();
  await db.schema
    .createIndex('tasks_open_by_team')
    .on('tasks')
    .columns(['team', 'due_at'])
    .where(sql.ref('status'), '=', 'open')
    .execute();
  await db.schema.createIndex('tasks_case').on('tasks').column('case_id').execute();

  await db.schema
    .createTable('contact_attempts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('soort', 'text', (c) => c.notNull())
    .addColumn('bereikt', 'boolean', (c) => c.notNull())
    .addColumn('attempted_at', 'timestamptz', (c) => c.notNull())
    .addColumn('dagdeel', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('contact_attempts_case').on('contact_attempts').column('case_id').execute();

  await db.schema
    .createTable('outbound_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('content', 'bytea')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('partner_notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('signal_id', 'uuid', (c) => c.notNull().references('signals.id'))
    .addColumn('partner_id', 'uuid', (c) => c.notNull().references('partners.id'))
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('dossiers')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('resident_id', 'uuid', (c) => c.references('residents.id').onDelete('set null'))
    .addColumn('consent_date', 'date', (c) => c.notNull())
    .addColumn('consent_reference', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'dossiers',
    'partner_notifications',
    'outbound_messages',
    'contact_attempts',
    'tasks',
    'cases',
    'signals',
    'residents',
    'partners',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
