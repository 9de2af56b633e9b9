/**
 * The kysely database handle over `pg`, the same for a PostgreSQL server given by DATABASE_URL and for
 * the embedded one.
 */
import { Kysely, PostgresDialect, type PostgresPool, type Transaction } from 'kysely';
import pg from 'pg';
import { DatabaseBusyError } from '../lib/errors.js';
import type { CaseRoundsTable } from './tables/case-rounds.table.js';
import type { CasesTable } from './tables/cases.table.js';
import type { ContactAttemptsTable } from './tables/contact-attempts.table.js';
import type {
  ObjectionDeliveriesTable,
  ObjectionsTable,
  PartnerTokensTable,
  SignalBatchesTable,
  SignalBatchRejectionsTable,
} from './tables/intake.table.js';
import type {
  ConsentFormsTable,
  DossiersTable,
  OutboundMessagesTable,
  PartnerNotificationsTable,
} from './tables/outbound.table.js';
import type { PartnersTable } from './tables/partners.table.js';
import type { ResidentReportsTable, ResidentsTable } from './tables/residents.table.js';
import type { SignalsTable } from './tables/signals.table.js';
import type { TasksTable } from './tables/tasks.table.js';
import type { LoginThrottleTable, UserSessionsTable, UsersTable } from './tables/users.table.js';

export interface Database {
  partners: PartnersTable;
  residents: ResidentsTable;
  resident_reports: ResidentReportsTable;
  signals: SignalsTable;
  cases: CasesTable;
  case_rounds: CaseRoundsTable;
  tasks: TasksTable;
  contact_attempts: ContactAttemptsTable;
  outbound_messages: OutboundMessagesTable;
  partner_notifications: PartnerNotificationsTable;
  dossiers: DossiersTable;
  consent_forms: ConsentFormsTable;
  partner_tokens: PartnerTokensTable;
  signal_batches: SignalBatchesTable;
  signal_batch_rejections: SignalBatchRejectionsTable;
  objections: ObjectionsTable;
  objection_deliveries: ObjectionDeliveriesTable;
  users: UsersTable;
  user_sessions: UserSessionsTable;
  login_throttle: LoginThrottleTable;
}

export type Db = Kysely<Database>;

// Dates stay ISO strings (YYYY-MM-DD): a DATE has no time zone, and a JS Date would invent one.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);

export interface DatabaseOptions {
  max?: number;
  /**
   * Gives up waiting for a connection after this many ms (all in use, or the server slow to accept), so a
   * request answers 503 instead of hanging.
   */
  connectionTimeoutMillis?: number;
  /** The pool's name in errors and logs (`pages`, `intake`, ...; see pools.ts). */
  name?: string;
}

/** pg-pool's own error when no connection came within connectionTimeoutMillis. */
const POOL_TIMEOUT = 'timeout exceeded when trying to connect';

/** Opens a pooled connection to `url`; call `destroy()` to close it. */
export function createDatabase(url: string, options: DatabaseOptions = {}): Db {
  const waitMs = options.connectionTimeoutMillis ?? 5_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: waitMs,
  });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const name = options.name ?? 'default';
  // A wait that ran out is a real limit reached, told apart from a failing query (503, not 500).
  const busyAware: PostgresPool = {
    async connect() {
      try {
        return await pool.connect();
      } catch (err) {
        if (err instanceof Error && err.message.includes(POOL_TIMEOUT)) {
          throw new DatabaseBusyError(name, { cause: err });
        }
        throw err;
      }
    },
    end: () => pool.end(),
  };
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: busyAware }) });
}

/** PostgreSQL's codes for a transaction that lost a deadlock or a serialization conflict: run it again. */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 4;

/**
 * Runs `work` in a transaction, again (up to ATTEMPTS times, after a short random pause) when PostgreSQL
 * aborted it to break a deadlock: intake chunks take turns per municipality, but other writers of residents
 * (objections, deletions) lock the same rows in their own order. The aborted attempt left nothing behind, so
 * running it again is safe.
 */
export async function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction().execute(work);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40 * attempt));
    }
  }
}
