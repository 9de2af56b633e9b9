/**
 * The inbox use case: a page of open tasks plus counts per filter value. Counts come from one grouped scan
 * of the team's open tasks. From 5,000 open tasks on, that scan is cached per team for a few seconds
 * (stale-while-revalidate), so 50 caseworkers paging and filtering do not each count 100,000 rows; smaller
 * inboxes and "Mijn taken" are counted live and exactly. A claim, release or completion expires the cached
 * counts: the next request (at least a second after the last count) starts a recount and, like everyone until
 * it lands (a fraction of a second), still gets the previous counts, so no request ever waits for a recount
 * once a team has been counted.
 */
import type { Db } from '../../../db/database.js';
import {
  FILTER_BITS,
  failedFilters,
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
/**
 * After a claim, release or completion, a team's counts are recounted once they are this old: a recount of
 * 100,000 tasks takes a good part of a core for ~0.1 s, and with many claims a second it must not run
 * back to back.
 */
const RECOUNT_AFTER_CHANGE_MS = 1_000;
/** Below this many open tasks counting is cheap (a few ms): counts are exact, nothing is cached. */
const CACHE_FROM_TASKS = 5_000;
interface CacheEntry {
  at: number;
  groups: Promise<InboxGroup[]>;
  refreshing: boolean;
  /** Few tasks: recount on every request. */
  small: boolean;
  /** A task changed since (or while) these were counted: recount on the next request. */
  expired: boolean;
  /** The counts already derived from these groups, per filter (many caseworkers ask the same). */
  counted: Map<string, Counted>;
}
type Counted = ReturnType<typeof countsOf>;
/** Grouped open tasks, when they were counted, and (for a cached team list) the counts per filter so far. */
interface Grouped {
  groups: InboxGroup[];
  at: number;
  counted?: Map<string, Counted>;
}
/** Enough for the common filter combinations of a few seconds; beyond that, start over. */
const MAX_COUNTED = 500;
const countCache = new Map<string, CacheEntry>();
/** Raised by every invalidation, so a recount that started before it does not count as fresh. */
let generation = 0;

function newEntry(groups: Promise<InboxGroup[]>, at: number, expired: boolean): CacheEntry {
  return { at, groups, refreshing: false, small: false, expired, counted: new Map() };
}

async function teamGroups(db: Db, teams: readonly string[], now: number): Promise<Grouped> {
  const key = [...teams].sort().join(',');
  const entry = countCache.get(key);
  if (!entry || entry.small) {
    const groups = groupOpenTasks(db, { teams, scope: 'team', username: '' });
    const fresh = newEntry(groups, now, false);
    countCache.set(key, fresh);
    groups.catch(() => countCache.delete(key));
    const resolved = await groups;
    fresh.small = resolved.reduce((sum, g) => sum + g.count, 0) < CACHE_FROM_TASKS;
    return { groups: resolved, at: fresh.at, ...(fresh.small ? {} : { counted: fresh.counted }) };
  }
  const age = now - entry.at;
  if ((age > COUNT_TTL_MS || (entry.expired && age > RECOUNT_AFTER_CHANGE_MS)) && !entry.refreshing) {
    entry.refreshing = true;
    const startedIn = generation;
    const next = groupOpenTasks(db, { teams, scope: 'team', username: '' });
    next.then(
      () => countCache.set(key, newEntry(next, Date.now(), startedIn !== generation)),
      () => {
        entry.refreshing = false;
      },
    );
  }
  return { groups: await entry.groups, at: entry.at, counted: entry.counted };
}

/** Expires the cached counts after a claim, release or completion: the next request starts a recount. */
export function invalidateInboxCounts(): void {
  generation++;
  for (const entry of countCache.values()) entry.expired = true;
}

function add(sums: Map<string, number>, key: string, n: number) {
  sums.set(key, (sums.get(key) ?? 0) + n);
}

/**
 * Facet counts: each dimension counted under all other active filters. One pass without allocations: a
 * group that passes every filter counts everywhere, one that fails exactly one filter counts only in that
 * filter's own facet (where that filter is lifted), any other group nowhere.
 */
export function countsOf(
  groups: readonly InboxGroup[],
  f: InboxFilter,
): { counts: InboxCounts; total: number } {
  // Maps while adding up: postcode areas are numeric keys, which objects store slowly.
  const kind = new Map<string, number>();
  const crisis = new Map<string, number>();
  const area = new Map<string, number>();
  const partnerType = new Map<string, number>();
  let unassigned = 0;
  let total = 0;
  for (const g of groups) {
    const failed = failedFilters(g, f);
    // More than one filter failed: the group counts in no facet.
    if ((failed & (failed - 1)) !== 0) continue;
    const n = g.count;
    if (failed === 0) {
      total += n;
      if (g.unassigned) unassigned += n;
    }
    if (failed === 0 || failed === FILTER_BITS.kind) add(kind, g.kind, n);
    if (failed === 0 || failed === FILTER_BITS.crisis) add(crisis, g.crisis ? 'ja' : 'nee', n);
    if (failed === 0 || failed === FILTER_BITS.area) add(area, g.area ?? 'onbekend', n);
    if (failed === 0 || failed === FILTER_BITS.partnerType)
      for (const p of g.partnerTypes) add(partnerType, p, n);
  }
  const counts: InboxCounts = {
    kind: Object.fromEntries(kind),
    crisis: Object.fromEntries(crisis),
    area: Object.fromEntries(area),
    partnerType: Object.fromEntries(partnerType),
    unassigned,
  };
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
      : groupOpenTasks(options.db, scopeQuery).then((groups): Grouped => ({ groups, at: now })),
  ]);
  const f = options.filter;
  const filterKey = `${f.kind}|${f.crisis}|${f.area}|${f.partnerType}|${f.unassigned}`;
  let counted = grouped.counted?.get(filterKey);
  if (!counted) {
    counted = countsOf(grouped.groups, f);
    if (grouped.counted) {
      if (grouped.counted.size >= MAX_COUNTED) grouped.counted.clear();
      grouped.counted.set(filterKey, counted);
    }
  }
  const { counts, total } = counted;
  return {
    items,
    page: options.page,
    pageSize: options.pageSize,
    total,
    counts,
    countedAt: new Date(grouped.at).toISOString(),
  };
}
