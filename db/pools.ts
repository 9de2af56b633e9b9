/**
 * One process runs several parts over one database: partner intake, the pages and their JSON routes, the
 * outbox dispatcher, the worker's activities. Each part gets a pool of its own, a share of
 * DATABASE_POOL_MAX, so a busy part queues for its own connections only: a worker with a hundred
 * activities in flight can never make a partner's delivery or a caseworker's page wait for a connection.
 */
import { createDatabase, type Db } from './database.js';

/** The parts of a process that use the database. */
export type PoolPart = 'pages' | 'intake' | 'dispatcher' | 'activities';

/** Relative weight and floor of each part's share, and how long a request of it waits for a connection. */
const PARTS: Record<PoolPart, { weight: number; min: number; waitMs: number }> = {
  // A page answers 503 (Retry-After) rather than hang when its share is really exhausted.
  pages: { weight: 3, min: 2, waitMs: 5_000 },
  // Intake chunks of one municipality already take turns (inTurn), so they rarely queue here.
  intake: { weight: 3, min: 2, waitMs: 15_000 },
  dispatcher: { weight: 2, min: 1, waitMs: 10_000 },
  // An activity that waits too long fails and is retried by Temporal: nothing is lost, only delayed.
  activities: { weight: 4, min: 2, waitMs: 30_000 },
};

/**
 * Splits `max` connections over `parts` by weight (each at least its floor; what rounding leaves goes to
 * the activities, then the pages). Exported for tests.
 */
export function poolShares(max: number, parts: PoolPart[]): Record<PoolPart, number> {
  const shares: Record<PoolPart, number> = { pages: 0, intake: 0, dispatcher: 0, activities: 0 };
  const total = parts.reduce((sum, part) => sum + PARTS[part].weight, 0);
  for (const part of parts)
    shares[part] = Math.max(PARTS[part].min, Math.floor((max * PARTS[part].weight) / total));
  const spare = max - parts.reduce((sum, part) => sum + shares[part], 0);
  const receiver = parts.includes('activities') ? 'activities' : parts[0];
  if (receiver && spare > 0) shares[receiver] += spare;
  return shares;
}

export type DatabasePools = Record<PoolPart, Db> & {
  /** Closes every pool. */
  destroy(): Promise<void>;
};

/**
 * Opens one pool per part in `parts` (the others share the pages' pool, which always exists), sized by
 * `poolShares(max, parts)`.
 */
export function createPools(url: string, max: number, parts: PoolPart[]): DatabasePools {
  const wanted: PoolPart[] = parts.includes('pages') ? parts : ['pages', ...parts];
  const shares = poolShares(max, wanted);
  const open = new Map<PoolPart, Db>();
  for (const part of wanted) {
    open.set(
      part,
      createDatabase(url, { max: shares[part], name: part, connectionTimeoutMillis: PARTS[part].waitMs }),
    );
  }
  const pages = open.get('pages') as Db;
  const of = (part: PoolPart) => open.get(part) ?? pages;
  return {
    pages,
    intake: of('intake'),
    dispatcher: of('dispatcher'),
    activities: of('activities'),
    async destroy() {
      await Promise.all([...open.values()].map((db) => db.destroy()));
    },
  };
}
