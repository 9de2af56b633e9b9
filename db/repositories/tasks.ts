/**
 * The caseworkers' task inbox over the `tasks` read model (filled by the case workflow): paged lists,
 * counts per filter, claim / release / reassign, and the free-text note (never sent to Temporal).
 * Every function takes the teams the caller may see; a task of another team is simply not found.
 */
import { type ExpressionBuilder, sql } from 'kysely';
import type { Database, Db } from '../database.js';

export type InboxScope = 'mine' | 'team';

/** Filters of the inbox; each narrows the list (undefined = all). */
export interface InboxFilter {
  kind?: 'phone' | 'visit' | undefined;
  /** Postcode area: the four digits of the postcode (the wijk). */
  area?: string | undefined;
  partnerType?: string | undefined;
  crisis?: boolean | undefined;
  unassigned?: boolean | undefined;
}

export interface InboxQuery {
  teams: readonly string[];
  scope: InboxScope;
  username: string;
  filter: InboxFilter;
  page: number;
  pageSize: number;
}

/** One row of the inbox: the task, with the resident's name and address for the caseworker. */
export interface InboxRow {
  id: string;
  caseId: string;
  kind: 'phone' | 'visit';
  attempt: number;
  team: string;
  priority: string;
  preferredDagdeel: string | null;
  dueAt: Date;
  assignedTo: string | null;
  partnerTypes: string[];
  residentName: string | null;
  postcode: string | null;
  houseNumber: number | null;
  houseNumberAddition: string | null;
  street: string | null;
  city: string | null;
  phone: string | null;
}

/** The full name as a letter would write it. */
export function fullName(r: { first_names: string; surname_prefix: string | null; surname: string }): string {
  return [r.first_names, r.surname_prefix, r.surname].filter(Boolean).join(' ');
}

/** The open tasks in scope: `tasks` alone (the filters live on the task row, see migration 0006). */
function openTasksOf(db: Db, q: Pick<InboxQuery, 'teams' | 'scope' | 'username'>) {
  let query = db
    .selectFrom('tasks')
    .where('status', '=', 'open')
    .where('team', 'in', [...q.teams]);
  if (q.scope === 'mine') query = query.where('assigned_to', '=', q.username);
  return query;
}

type InboxEb = ExpressionBuilder<Database, 'tasks'>;

function filterWhere(eb: InboxEb, f: InboxFilter) {
  const parts = [];
  if (f.kind) parts.push(eb('kind', '=', f.kind));
  if (f.area) parts.push(eb('area', '=', f.area));
  if (f.partnerType) parts.push(eb(eb.val(f.partnerType), '=', eb.fn.any('partner_types')));
  if (f.crisis !== undefined) parts.push(eb('priority', f.crisis ? '=' : '<>', 'crisis'));
  if (f.unassigned) parts.push(eb('assigned_to', 'is', null));
  return eb.and(parts);
}

/**
 * One page of open tasks, soonest due first. The page's task ids come from `tasks` alone (an index-only
 * walk of the team's open tasks by due date, or by area and due date, skipping the earlier pages); only
 * those rows are then joined to their case and resident.
 */
export async function listInbox(db: Db, q: InboxQuery): Promise<InboxRow[]> {
  if (q.teams.length === 0) return [];
  const page = openTasksOf(db, q)
    .where((eb) => filterWhere(eb, q.filter))
    .select(['id', 'due_at'])
    .orderBy('due_at')
    .orderBy('id')
    .limit(q.pageSize)
    .offset((q.page - 1) * q.pageSize);
  const rows = await db
    .selectFrom(page.as('p'))
    .innerJoin('tasks as t', 't.id', 'p.id')
    .innerJoin('cases as c', 'c.id', 't.case_id')
    .leftJoin('residents as r', 'r.case_key', 'c.case_key')
    .select([
      't.id',
      't.case_id',
      't.kind',
      't.attempt',
      't.team',
      't.priority',
      't.preferred_dagdeel',
      't.due_at',
      't.assigned_to',
      'c.partner_types',
      'r.first_names',
      'r.surname_prefix',
      'r.surname',
      'r.postcode',
      'r.house_number',
      'r.house_number_addition',
      'r.street',
      'r.city',
      'r.phone',
    ])
    .orderBy('p.due_at')
    .orderBy('p.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    caseId: r.case_id,
    kind: r.kind,
    attempt: r.attempt,
    team: r.team,
    priority: r.priority,
    preferredDagdeel: r.preferred_dagdeel,
    dueAt: r.due_at,
    assignedTo: r.assigned_to,
    partnerTypes: r.partner_types,
    residentName: r.surname
      ? fullName({ first_names: r.first_names ?? '', surname_prefix: r.surname_prefix, surname: r.surname })
      : null,
    postcode: r.postcode,
    houseNumber: r.house_number,
    houseNumberAddition: r.house_number_addition,
    street: r.street,
    city: r.city,
    phone: r.phone,
  }));
}

/** Open tasks grouped by every filter dimension: the inbox derives all its counts from these groups. */
export interface InboxGroup {
  kind: 'phone' | 'visit';
  crisis: boolean;
  unassigned: boolean;
  area: string | null;
  partnerTypes: string[];
  count: number;
}

/**
 * Counts open tasks per combination of filter values: one grouped query over `tasks` alone, which the
 * open-task indexes cover (an index-only scan), however many filters the page shows.
 */
export async function groupOpenTasks(
  db: Db,
  q: Pick<InboxQuery, 'teams' | 'scope' | 'username'>,
): Promise<InboxGroup[]> {
  if (q.teams.length === 0) return [];
  const rows = await openTasksOf(db, q)
    .select([
      'kind',
      sql<boolean>`priority = 'crisis'`.as('crisis'),
      sql<boolean>`assigned_to is null`.as('unassigned'),
      'area',
      'partner_types',
      sql<string>`count(*)`.as('count'),
    ])
    .groupBy(['kind', sql`2`, sql`3`, 'area', 'partner_types'])
    .execute();
  return rows.map((r) => ({
    kind: r.kind,
    crisis: r.crisis,
    unassigned: r.unassigned,
    area: r.area,
    partnerTypes: r.partner_types,
    count: Number(r.count),
  }));
}

/** The inbox filters as bits, for `failedFilters`. */
export const FILTER_BITS = { kind: 1, crisis: 2, area: 4, partnerType: 8, unassigned: 16 } as const;

/**
 * Which filters a group fails, as `FILTER_BITS` (0: it passes them all); the same rules as the SQL of
 * `listInbox`.
 */
export function failedFilters(g: InboxGroup, f: InboxFilter): number {
  let failed = 0;
  if (f.kind && g.kind !== f.kind) failed |= FILTER_BITS.kind;
  if (f.crisis !== undefined && g.crisis !== f.crisis) failed |= FILTER_BITS.crisis;
  if (f.area && g.area !== f.area) failed |= FILTER_BITS.area;
  if (f.partnerType && !g.partnerTypes.includes(f.partnerType)) failed |= FILTER_BITS.partnerType;
  if (f.unassigned && !g.unassigned) failed |= FILTER_BITS.unassigned;
  return failed;
}

/** Whether a group passes a filter (the same rules as the SQL of `listInbox`). */
export function groupMatches(g: InboxGroup, f: InboxFilter): boolean {
  return failedFilters(g, f) === 0;
}

/** A task of one of `teams`, with what its pages need; undefined when absent or of another team. */
export async function findTaskForTeams(db: Db, id: string, teams: readonly string[]) {
  if (teams.length === 0 || !isUuid(id)) return undefined;
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('id', '=', id)
    .where('team', 'in', [...teams])
    .executeTakeFirst();
}

/** Whether a string is a UUID (other ids cannot match a row, and PostgreSQL would reject them). */
export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

export type AssignResult = 'ok' | 'not-found' | 'not-open' | 'taken';

/**
 * Sets who works on an open task. `expectedAssignee`: the assignee the change requires
 * (claim: null or me; release: me), or 'any' for a team lead.
 */
export async function assignTask(
  db: Db,
  input: {
    id: string;
    teams: readonly string[];
    assignTo: string | null;
    allowedCurrent: 'any' | readonly (string | null)[];
  },
): Promise<AssignResult> {
  const task = await findTaskForTeams(db, input.id, input.teams);
  if (!task) return 'not-found';
  let update = db
    .updateTable('tasks')
    .set({ assigned_to: input.assignTo })
    .where('id', '=', input.id)
    .where('status', '=', 'open');
  if (input.allowedCurrent !== 'any') {
    const names = input.allowedCurrent.filter((v): v is string => v !== null);
    const allowNull = input.allowedCurrent.includes(null);
    update = update.where((eb) =>
      eb.or([
        ...(names.length ? [eb('assigned_to', 'in', names)] : []),
        ...(allowNull ? [eb('assigned_to', 'is', null)] : []),
      ]),
    );
  }
  const result = await update.executeTakeFirst();
  if (Number(result.numUpdatedRows) === 1) return 'ok';
  return task.status !== 'open' ? 'not-open' : 'taken';
}

/** A reassignment's result: 'not-member' when the assignee is no active member of the task's team. */
export type ReassignResult = { status: AssignResult } | { status: 'not-member'; team: string };

/**
 * A team lead gives an open task of one of `teams` to `assignee`, who must be an active member of the
 * task's team: the one rule behind the reassign page and `POST /api/v1/tasks/{id}/reassign`.
 */
export async function reassignTask(
  db: Db,
  input: { id: string; teams: readonly string[]; assignee: string },
): Promise<ReassignResult> {
  const task = await findTaskForTeams(db, input.id, input.teams);
  if (!task) return { status: 'not-found' };
  if (!(await isTeamMember(db, task.team, input.assignee))) return { status: 'not-member', team: task.team };
  return {
    status: await assignTask(db, {
      id: input.id,
      teams: input.teams,
      assignTo: input.assignee,
      allowedCurrent: 'any',
    }),
  };
}

/** Stores the caseworker's note and name on a task (the note stays out of Temporal). */
export async function recordTaskNote(
  db: Db,
  id: string,
  note: string | null,
  completedBy: string,
): Promise<void> {
  await db.updateTable('tasks').set({ note, completed_by: completedBy }).where('id', '=', id).execute();
}

/** Waits until the workflow has closed the task in the read model (its closeTask activity). */
export async function waitForTaskClosed(db: Db, id: string, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db.selectFrom('tasks').select('status').where('id', '=', id).executeTakeFirst();
    if (row && row.status !== 'open') return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Home visits of `teams` due before `until`, in walking order: postcode area, postcode, house number. */
export async function listVisits(db: Db, teams: readonly string[], until: Date) {
  if (teams.length === 0) return [];
  return db
    .selectFrom('tasks as t')
    .innerJoin('cases as c', 'c.id', 't.case_id')
    .innerJoin('residents as r', 'r.case_key', 'c.case_key')
    .where('t.status', '=', 'open')
    .where('t.kind', '=', 'visit')
    .where('t.team', 'in', [...teams])
    .where('t.due_at', '<', until)
    .select([
      't.id',
      't.case_id',
      't.attempt',
      't.due_at',
      't.assigned_to',
      't.preferred_dagdeel',
      't.priority',
      'r.first_names',
      'r.surname_prefix',
      'r.surname',
      'r.street',
      'r.postcode',
      'r.house_number',
      'r.house_number_addition',
      'r.city',
    ])
    .orderBy(sql`substr(r.postcode, 1, 4)`)
    .orderBy('r.postcode')
    .orderBy('r.street')
    .orderBy('r.house_number')
    .orderBy('r.house_number_addition')
    .limit(1000)
    .execute();
}

/** Active users of a team: the people a team lead may assign its tasks to. */
function activeMembersOf(db: Db, team: string) {
  return db
    .selectFrom('users')
    .where('active', '=', true)
    .where((eb) => eb(eb.val(team), '=', eb.fn.any('teams')));
}

/** Active users of a team, to whom a team lead may assign its tasks. */
export async function teamMembersOf(db: Db, team: string) {
  return activeMembersOf(db, team)
    .select(['username', 'display_name as displayName'])
    .orderBy('display_name')
    .execute();
}

/** Whether `username` is an active member of `team` (may be assigned its tasks). */
export async function isTeamMember(db: Db, team: string, username: string): Promise<boolean> {
  const row = await activeMembersOf(db, team)
    .select('username')
    .where('username', '=', username)
    .executeTakeFirst();
  return row !== undefined;
}
