/**
 * "Mijn taken" from the index alone: the open tasks assigned to a caseworker, per team by due date, carrying
 * the inbox's filter columns (as the team indexes of 0006 do), so the page and its counts are index-only
 * scans instead of one heap fetch per assigned task. Replaces `tasks_open_by_assignee` of 0005.
 * Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index tasks_open_by_assignee_team_due on tasks (assigned_to, team, due_at, id)
    include (kind, priority, area, partner_types)
    where status = 'open'`.execute(db);
  await db.schema.dropIndex('tasks_open_by_assignee').ifExists().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('tasks_open_by_assignee')
    .ifNotExists()
    .on('tasks')
    .columns(['assigned_to', 'due_at'])
    .where(sql.ref('status'), '=', 'open')
    .execute();
  await db.schema.dropIndex('tasks_open_by_assignee_team_due').ifExists().execute();
}
