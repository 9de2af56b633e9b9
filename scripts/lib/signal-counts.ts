/**
 * How far a running system is with a month: rows read, signals stored, signals handed over to their case
 * (`dispatched_at` set), read from its database the way `npm run admin` reaches it.
 */
import { sql } from 'kysely';
import { createDatabase, type Db } from '../../db/database.js';
import { loadConfig } from '../../lib/config.js';
import { commandDatabaseUrl } from '../../lib/embedded-postgres.js';

export interface SignalCounts {
  /** Rows of all deliveries read so far (good, bad and re-sent). */
  received: number;
  /** Signals stored (accepted). */
  stored: number;
  /** Signals handed over to Temporal. */
  handedOver: number;
}

/**
 * A small pool on the database of the system that `env` describes (DATABASE_URL, or the embedded server of a
 * running `npm start` on DATA_DIR / EMBEDDED_DB_PORT); never starts a server itself.
 */
export async function openSystemDatabase(env: NodeJS.ProcessEnv): Promise<Db> {
  const { url } = await commandDatabaseUrl(loadConfig(env), { requireRunning: true });
  return createDatabase(url, { max: 1, connectionTimeoutMillis: 2_000 });
}

/** The counts now, or null when the database does not answer within `timeoutMs` (it is down, say). */
export async function signalCounts(db: Db, timeoutMs = 5_000): Promise<SignalCounts | null> {
  let timer: NodeJS.Timeout | undefined;
  const query = sql<{ received: string; stored: string; handed_over: string }>`
    select (select coalesce(sum(received), 0) from signal_batches) as received,
           count(*) as stored,
           count(dispatched_at) as handed_over
      from signals`.execute(db);
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    const result = await Promise.race([query, timeout]);
    const row = result?.rows[0];
    if (!row) return null;
    return {
      received: Number(row.received),
      stored: Number(row.stored),
      handedOver: Number(row.handed_over),
    };
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    query.catch(() => {});
  }
}
