/**
 * Inbox filters on the task row itself: the postcode area (the four digits of the resident's postcode, the
 * wijk: a coarse area, cleared with the resident's personal data) and the case's partner types. With them
 * the inbox pages and counts read `tasks` alone, through indexes of the open tasks that carry every filter
 * column (index-only scans), instead of joining each of 100,000 tasks to its case and resident.
 * Backfills existing rows from `residents` and `cases`. Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

/** The columns the inbox filters and counts on, carried in the open-task indexes. */
const FILTER_COLUMNS = sql`include (kind, priority, assigned_to, area, partner_types)`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('tasks')
    .addColumn('area', 'text')
    .addColumn('partner_types', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .execute();
  await sql`
    update tasks t
    set area = substr(r.postcode, 1, 4), partner_types = c.partner_types
    from cases c
    left join residents r on r.case_key = c.case_key
    where c.id = t.case_id`.execute(db);

  // Team list by due date (any filter but the area, and the grouped counts): replaces the team index of 0001.
  await sql`
    create index tasks_open_by_team_due on tasks (team, due_at, id) ${FILTER_COLUMNS}
    where status = 'open'`.execute(db);
  await db.schema.dropIndex('tasks_open_by_team').ifExists().execute();
  // The wijk filter: one postcode area of a team, by due date.
  await sql`
    create index tasks_open_by_team_area on tasks (team, area, due_at, id) ${FILTER_COLUMNS}
    where status = 'open'`.execute(db);
  // The crisis filter: few tasks, which the due-date index would have to search for.
  await sql`
    create index tasks_open_crisis on tasks (team, due_at, id)
    where status = 'open' and priority = 'crisis'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tasks_open_crisis').ifExists().execute();
  await db.schema.dropIndex('tasks_open_by_team_area').ifExists().execute();
  await db.schema
    .createIndex('tasks_open_by_team')
    .ifNotExists()
    .on('tasks')
    .columns(['team', 'due_at'])
    .where(sql.ref('status'), '=', 'open')
    .execute();
  await db.schema.dropIndex('tasks_open_by_team_due').ifExists().execute();
  await db.schema.alterTable('tasks').dropColumn('partner_types').dropColumn('area').execute();
}
