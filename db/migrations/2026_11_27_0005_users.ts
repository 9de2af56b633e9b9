/**
 * Caseworker workspace: users (with their roles and teams), browser sessions, and the indexes the task
 * inbox needs to stay fast with 100,000 open tasks. Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('roles', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('teams', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('user_sessions')
    // SHA-256 of the cookie value: a leaked table does not yield usable sessions.
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('user_sessions_user').on('user_sessions').column('user_id').execute();

  // Inbox: "Mijn taken" (open tasks assigned to me, by due date) next to the team index of 0001.
  await db.schema
    .createIndex('tasks_open_by_assignee')
    .on('tasks')
    .columns(['assigned_to', 'due_at'])
    .where(sql.ref('status'), '=', 'open')
    .execute();
  // Inbox filter by postcode area (the four digits of the postcode) and the walking-order visit list.
  await sql`create index residents_postcode_area on residents (substr(postcode, 1, 4), postcode, house_number)`.execute(
    db,
  );
  await db.schema.createIndex('cases_case_key').ifNotExists().on('cases').column('case_key').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('residents_postcode_area').ifExists().execute();
  await db.schema.dropIndex('tasks_open_by_assignee').ifExists().execute();
  await db.schema.dropTable('user_sessions').ifExists().execute();
  await db.schema.dropTable('users').ifExists().execute();
}
