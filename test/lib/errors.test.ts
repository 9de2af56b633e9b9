import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../db/database.js';
import {
  DatabaseBusyError,
  isDatabaseBusy,
  maskQuoted,
  retryAfterSeconds,
  scrubDatabaseError,
  serializeError,
} from '../../lib/errors.js';

const SURNAME = 'Fuzzkowski';
const db = createDatabase(inject('databaseUrl'), { max: 2 });
afterAll(() => db.destroy());

/** The error PostgreSQL raises for `run`, as pg hands it over. */
async function pgError(run: () => Promise<unknown>): Promise<Error> {
  const err = await run().then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected PostgreSQL to refuse');
  return err;
}

describe('serializeError', () => {
  it('keeps the class, code, stack and masked message of a PostgreSQL error that quotes a value', async () => {
    const err = await pgError(() => sql`select ${SURNAME}::integer`.execute(db));
    expect(err.message).toContain(SURNAME);

    const out = serializeError(err);
    expect(out.type).toBe('DatabaseError');
    expect(out.code).toBe('22P02');
    expect(out.severity).toBe('ERROR');
    expect(out.routine).toEqual(expect.any(String));
    expect(out.message).toBe('invalid input syntax for type integer: "…"');
    expect(out.stack?.split('\n')[0]).toBe('error: invalid input syntax for type integer: "…"');
    expect(out.stack).toMatch(/\n\s+at /);
    expect(JSON.stringify(out)).not.toContain(SURNAME);
  });

  it("names a violated constraint's table and constraint but leaves out the failing row (detail)", async () => {
    const err = await pgError(() =>
      // The transaction rolls back, the temporary table with it.
      db.transaction().execute(async (trx) => {
        await sql`create temp table error_log_probe (surname text check (surname <> ${sql.lit(SURNAME)}))`.execute(
          trx,
        );
        await sql`insert into error_log_probe values (${SURNAME})`.execute(trx);
      }),
    );
    expect((err as pg.DatabaseError).detail).toContain(SURNAME);

    const out = serializeError(err);
    expect(out).toMatchObject({
      type: 'DatabaseError',
      code: '23514',
      table: 'error_log_probe',
      constraint: 'error_log_probe_surname_check',
    });
    expect(out).not.toHaveProperty('detail');
    expect(JSON.stringify(out)).not.toContain(SURNAME);
  });

  it('never copies detail, hint, where, internalQuery or parameters', () => {
    const err = Object.assign(new pg.DatabaseError(`value "${SURNAME}" is out of range`, 0, 'error'), {
      code: '22003',
      detail: SURNAME,
      hint: SURNAME,
      where: SURNAME,
      internalQuery: SURNAME,
      parameters: [SURNAME],
      table: 'residents',
      column: 'house_number',
      dataType: 'integer',
      schema: 'public',
    });
    const out = serializeError(err);
    for (const key of ['detail', 'hint', 'where', 'internalQuery', 'parameters']) {
      expect(out).not.toHaveProperty(key);
    }
    expect(out).toMatchObject({
      table: 'residents',
      column: 'house_number',
      dataType: 'integer',
      schema: 'public',
    });
    expect(JSON.stringify(out)).not.toContain(SURNAME);
  });

  it('keeps the message of an error without a SQLSTATE as it is', () => {
    const out = serializeError(new TypeError('cannot read "letters" of undefined'));
    expect(out.type).toBe('TypeError');
    expect(out.message).toBe('cannot read "letters" of undefined');
    expect(out.stack).toContain('TypeError: cannot read "letters" of undefined');
  });

  it('follows causes, masking a PostgreSQL cause, and stops at a cycle and a depth bound', async () => {
    const root = await pgError(() => sql`select ${SURNAME}::integer`.execute(db));
    const out = serializeError(new Error('intake chunk failed', { cause: root }));
    expect(out.cause).toMatchObject({ type: 'DatabaseError', code: '22P02' });
    expect(JSON.stringify(out)).not.toContain(SURNAME);

    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(serializeError(a).cause?.message).toBe('b');
    expect(serializeError(a).cause?.cause).toBeUndefined();

    let deep = new Error('0');
    for (let i = 1; i < 20; i += 1) deep = new Error(String(i), { cause: deep });
    let depth = 0;
    for (let node = serializeError(deep).cause; node; node = node.cause) depth += 1;
    expect(depth).toBe(5);
  });

  it('logs only the kind of a thrown value that is not an Error', () => {
    expect(serializeError({ surname: SURNAME })).toEqual({
      type: 'object',
      message: '(a value that is not an Error was thrown)',
    });
    expect(JSON.stringify(serializeError(SURNAME))).not.toContain(SURNAME);
  });
});

describe('maskQuoted', () => {
  it('masks from the first to the last quote, so a value holding quotes leaks nothing', () => {
    expect(maskQuoted('invalid input syntax for type integer: "Fuzz"kow"ski"')).toBe(
      'invalid input syntax for type integer: "…"',
    );
    expect(maskQuoted('unterminated: "Fuzzkowski')).toBe('unterminated: "…');
    expect(maskQuoted('no quotes here')).toBe('no quotes here');
  });
});

describe('scrubDatabaseError', () => {
  it('removes the value fields from a PostgreSQL error in place and masks its message and stack', async () => {
    const err = await pgError(() => sql`select ${SURNAME}::integer`.execute(db));
    Object.assign(err, { detail: SURNAME, where: SURNAME });
    scrubDatabaseError(err);
    expect(err.message).toBe('invalid input syntax for type integer: "…"');
    expect(err.stack).not.toContain(SURNAME);
    expect(JSON.stringify(err)).not.toContain(SURNAME);
    expect((err as pg.DatabaseError).code).toBe('22P02');
  });
});

describe('isDatabaseBusy', () => {
  it("is true for DatabaseBusyError, with the error's Retry-After", () => {
    const err = new DatabaseBusyError('intake', { retryAfterSeconds: 7 });
    expect(err.name).toBe('DatabaseBusyError');
    expect(err.pool).toBe('intake');
    expect(isDatabaseBusy(err)).toBe(true);
    expect(retryAfterSeconds(err)).toBe(7);
    expect(retryAfterSeconds(new DatabaseBusyError('pages'))).toBe(5);
  });

  it("is true for pg-pool's timeout when every connection is in use", async () => {
    const pool = new pg.Pool({
      connectionString: inject('databaseUrl'),
      max: 1,
      connectionTimeoutMillis: 100,
    });
    const held = await pool.connect();
    try {
      const err = await pgError(() => pool.connect());
      expect(err.message).toBe('timeout exceeded when trying to connect');
      expect(isDatabaseBusy(err)).toBe(true);
      expect(retryAfterSeconds(err)).toBe(5);
    } finally {
      held.release();
      await pool.end();
    }
  });

  it('is true for too_many_connections and cannot_connect_now, false for other errors', async () => {
    const withCode = (code: string) => Object.assign(new pg.DatabaseError('refused', 0, 'error'), { code });
    expect(isDatabaseBusy(withCode('53300'))).toBe(true);
    expect(isDatabaseBusy(withCode('57P03'))).toBe(true);
    expect(isDatabaseBusy(withCode('23505'))).toBe(false);
    expect(isDatabaseBusy(await pgError(() => sql`select ${SURNAME}::integer`.execute(db)))).toBe(false);
    expect(isDatabaseBusy(new Error('boom'))).toBe(false);
    expect(isDatabaseBusy('timeout exceeded when trying to connect')).toBe(false);
  });
});
