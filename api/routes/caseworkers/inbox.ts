/**
 * The inbox use case: a page of open tasks plus counts per filter value. Counts come from one grouped scan
 * of the team's open tasks. From 5,000 open tasks on, that scan is cached per team for a few seconds
 * (stale-while-revalidate), so 50 caseworkers paging and filtering do not each count 100,000 rows; smaller
 * inboxes and "Mijn taken" are counted live and exactly.
 */
import type { Db } from '../../../db/database.js';
import {
  groupMatches,
  groupOpenTasks,
  type InboxFilter,
  type InboxGroup,
  type InboxRow,
  type InboxScope,
  listInbox,
} from '../../../db/repositories/tasks.js';

/** Counts of open tasks per value of each filter, given the other active filters (facets). */
export interface InboxCounts {
  kind: Record<string, number>;
  crisis: Record<string, number>;
  area: Record<string, number>;
  partnerType: Record<string, number>;
  unassigned: number;
}

export interface InboxPage {
  items: InboxRow[];
  page: number;
  pageSize: number;
  total: number;
  counts: InboxCounts;
  /** When the counts were computed (they may lag a few seconds behind for team lists). */
  countedAt: string;
}

const COUNT_TTL_MS = 5_000;
/** Below this many open tasks counting is cheap (a few ms): counts are exact, nothing is cached. */
const CACHE_FROM_TASKS = 5_000;
interface CacheEntry {
  at: number;
  groups: Promise<InboxGroup[]>;
  refreshing: boolean;
  /** Few tasks: recount on every request. */
  small: boolean;
}
const countCache = new Map<string, CacheEntry>();

async function teamGroups(
  db: Db,
  teams: readonly string[],
  now: number,
): Promise<{ groups: InboxGroup[]; at: number }> {
  const key = [...teams].sort().join(',');
  const entry = countCache.get(key);
  if (!entry || entry.small) {
    const groups = groupOpenTasks(db, { teams, scope: 'team', username: '' });
    const fresh: CacheEntry = { at: now, groups, refreshing: false, small: false };
    countCache.set(key, fresh);
    groups.catch(() => countCache.delete(key));
    const resolved = await groups;
    fresh.small = resolved.reduce((sum, g) => sum + g.count, 0) < CACHE_FROM_TASKS;
    return { groups: resolved, at: fresh.at };
  }
  if (now - entry.at > COUNT_TTL_MS && !entry.refreshing) {
    entry.refreshing = true;
    const next = groupOpenTasks(db, { teams, scope: 'team', username: '' });
    next.then(
      () => countCache.set(key, { at: Date.now(), groups: next, refreshing: false, small: false }),
      () => {
        entry.refreshing = false;
      },
    );
  }
  return { groups: await entry.groups, at: entry.at };
}

/** Forgets cached counts (after a claim, release or completion the caller's next page is exact). */
export function invalidateInboxCounts(): void {
  countCache.clear();
}

function add(record: Record<string, number>, key: string, n: number) {
  record[key] = (record[key] ?? 0) + n;
}

/** Facet counts: each dimension counted under all other active filters. */
export function countsOf(groups: InboxGroup[], f: InboxFilter): { counts: InboxCounts; total: number } {
  const counts: InboxCounts = { kind: {}, crisis: {}, area: {}, partnerType: {}, unassigned: 0 };
  let total = 0;
  for (const g of groups) {
    if (groupMatches(g, f)) total += g.count;
    if (groupMatches(g, { ...f, kind: undefined })) add(counts.kind, g.kind, g.count);
    if (groupMatches(g, { ...f, crisis: undefined })) add(counts.crisis, g.crisis ? 'ja' : 'nee', g.count);
    if (groupMatches(g, { ...f, area: undefined })) add(counts.area, g.area ?? 'onbekend', g.count);
    if (groupMatches(g, { ...f, partnerType: undefined }))
      for (const p of g.partnerTypes) add(counts.partnerType, p, g.count);
    if (g.unassigned && groupMatches(g, { ...f, unassigned: undefined })) counts.unassigned += g.count;
  }
  return { counts, total };
}

export interface InboxOptions {
  db: Db;
  teams: readonly string[];
  username: string;
  scope: InboxScope;
  filter: InboxFilter;
  page: number;
  pageSize: number;
}

/** One inbox page with its counts. */
export async function loadInbox(options: InboxOptions): Promise<InboxPage> {
  const now = Date.now();
  const scopeQuery = { teams: options.teams, scope: options.scope, username: options.username };
  const [items, grouped] = await Promise.all([
    listInbox(options.db, {
      ...scopeQuery,
      filter: options.filter,
      page: options.page,
      pageSize: options.pageSize,
    }),
    options.scope === 'team'
      ? teamGroups(options.db, options.teams, now)
      : groupOpenTasks(options.db, scopeQuery).then((groups) => ({ groups, at: now })),
  ]);
  const { counts, total } = countsOf(grouped.groups, options.filter);
  return {
    items,
    page: options.page,
    pageSize: options.pageSize,
    total,
    counts,
    countedAt: new Date(grouped.at).toISOString(),
  };
}
