/**
 * Errors as the logs see them: enough to diagnose (class, message, code, stack, cause) and nothing of what
 * a resident or partner sent. PostgreSQL errors carry the offending values in `detail`, `where`, `hint`,
 * `internalQuery` and often in quotes in the message (`invalid input syntax for type integer: "..."`), so
 * those fields are left out and quoted text in a pg error's message is masked.
 */

/** An error as logged: the `err` (and `error`) key of a log line. */
export interface SerializedError {
  /** The class (constructor name), e.g. `DatabaseError`, `TypeError`. */
  type: string;
  /** `name` when it differs from the class (e.g. a Fastify error). */
  name?: string;
  message: string;
  stack?: string;
  /** SQLSTATE for PostgreSQL errors; Node's or Fastify's code otherwise. */
  code?: string;
  statusCode?: number;
  /** PostgreSQL fields that name the place of an error, never a value. */
  severity?: string;
  routine?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  dataType?: string;
  /** A Temporal ApplicationFailure's type and retry flag (its `details` may hold data: left out). */
  failureType?: string;
  nonRetryable?: boolean;
  cause?: SerializedError;
  /** The first few errors of an AggregateError (e.g. each address a connection attempt tried). */
  errors?: SerializedError[];
}

/** PostgreSQL's fields that identify where an error arose; none of them holds a value from a row. */
const PG_FIELDS = ['severity', 'routine', 'schema', 'table', 'column', 'constraint', 'dataType'] as const;
const SQLSTATE = /^[0-9A-Z]{5}$/;
const MAX_DEPTH = 5;
const MAX_AGGREGATED = 5;

/** Whether `err` carries a PostgreSQL SQLSTATE code (pg's DatabaseError, or an error copying its code). */
export function hasSqlState(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SQLSTATE.test(code);
}

/**
 * Masks quoted text: PostgreSQL quotes input values as well as names. Everything from the first to the
 * last double quote goes, since a value may itself contain quotes; the code, table, column and constraint
 * fields still say where the error arose.
 */
export function maskQuoted(text: string): string {
  const first = text.indexOf('"');
  if (first < 0) return text;
  const last = text.lastIndexOf('"');
  return last === first ? `${text.slice(0, first)}"…` : `${text.slice(0, first)}"…"${text.slice(last + 1)}`;
}

/** The stack with its head (`Class: message`, up to the first frame) masked; the frames hold no values. */
function maskStackHead(stack: string): string {
  const frame = /\n\s+at /.exec(stack);
  if (!frame) return maskQuoted(stack);
  return maskQuoted(stack.slice(0, frame.index)) + stack.slice(frame.index);
}

/** Serializes an error for pino (`serializers: { err: serializeError }`) without personal data. */
export function serializeError(err: unknown): SerializedError {
  return serialize(err, 0, new Set());
}

function serialize(err: unknown, depth: number, seen: Set<unknown>): SerializedError {
  if (!(err instanceof Error)) {
    // A thrown string or object may be anything, a request body included: only its kind is logged.
    return { type: err === null ? 'null' : typeof err, message: '(a value that is not an Error was thrown)' };
  }
  seen.add(err);
  const fields = err as unknown as Record<string, unknown>;
  const type = err.constructor?.name || 'Error';
  const pg = hasSqlState(err);
  const out: SerializedError = { type, message: pg ? maskQuoted(err.message) : err.message };
  if (err.name && err.name !== type) out.name = err.name;
  if (typeof fields.code === 'string') out.code = fields.code;
  if (typeof fields.statusCode === 'number') out.statusCode = fields.statusCode;
  if (pg) {
    for (const key of PG_FIELDS) {
      const value = fields[key];
      if (typeof value === 'string' && value !== '') out[key] = value;
    }
  }
  if (type === 'ApplicationFailure') {
    if (typeof fields.type === 'string') out.failureType = fields.type;
    if (typeof fields.nonRetryable === 'boolean') out.nonRetryable = fields.nonRetryable;
  }
  if (typeof err.stack === 'string') out.stack = pg ? maskStackHead(err.stack) : err.stack;
  if (depth < MAX_DEPTH) {
    if (err.cause !== undefined && !seen.has(err.cause)) out.cause = serialize(err.cause, depth + 1, seen);
    if (err instanceof AggregateError && Array.isArray(err.errors)) {
      out.errors = err.errors
        .slice(0, MAX_AGGREGATED)
        .filter((e) => !seen.has(e))
        .map((e) => serialize(e, depth + 1, seen));
    }
  }
  return out;
}

/** Retry-After for a busy database when the error names no other value. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** The database has no connection free for this request now; the caller should try again shortly. */
export class DatabaseBusyError extends Error {
  override name = 'DatabaseBusyError';
  /** Which pool ran out (e.g. `api`, `worker`): each part of a process has its own share. */
  readonly pool: string;
  /** What to tell the client in `Retry-After`. */
  readonly retryAfterSeconds: number;

  constructor(pool: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(
      `no database connection free in pool ${pool}`,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.pool = pool;
    this.retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  }
}

/** pg-pool's message when no connection became free within `connectionTimeoutMillis`. */
const POOL_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';
/** too_many_connections, cannot_connect_now (the server is starting or shutting down). */
const BUSY_SQLSTATES = new Set(['53300', '57P03']);

/**
 * True when `err` means a real limit was reached (pool exhausted, server full or starting): answer 503 with
 * Retry-After rather than 500.
 */
export function isDatabaseBusy(err: unknown): boolean {
  if (err instanceof DatabaseBusyError) return true;
  if (!(err instanceof Error)) return false;
  if (err.message.includes(POOL_TIMEOUT_MESSAGE)) return true;
  return hasSqlState(err) && BUSY_SQLSTATES.has(err.code);
}

/** The seconds to put in Retry-After for a busy-database error. */
export function retryAfterSeconds(err: unknown): number {
  return err instanceof DatabaseBusyError ? err.retryAfterSeconds : DEFAULT_RETRY_AFTER_SECONDS;
}

/** A PostgreSQL error's fields that may quote a row, a parameter or the statement. */
const PG_VALUE_FIELDS = ['detail', 'hint', 'where', 'internalQuery', 'parameters'] as const;

/**
 * Removes what may hold values from a PostgreSQL error (and its causes), in place: the value fields go and
 * quoted text in the message and the stack's head is masked. For errors that leave this process as they are,
 * e.g. an activity's error, which the Temporal SDK logs itself and records as the failure in the history.
 */
export function scrubDatabaseError(err: unknown, depth = 0): void {
  if (!(err instanceof Error) || depth > MAX_DEPTH) return;
  if (hasSqlState(err)) {
    const fields = err as unknown as Record<string, unknown>;
    for (const key of PG_VALUE_FIELDS) delete fields[key];
    err.message = maskQuoted(err.message);
    if (typeof err.stack === 'string') err.stack = maskStackHead(err.stack);
  }
  scrubDatabaseError(err.cause, depth + 1);
}
