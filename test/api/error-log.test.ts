import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildServer } from '../../api/server.js';
import { createDatabase, type Db } from '../../db/database.js';
import { ensurePartner } from '../../db/repositories/intake.js';
import { createPartnerToken } from '../../db/repositories/partner-tokens.js';
import { DatabaseBusyError } from '../../lib/errors.js';
import { memoryLogger } from '../helpers/logs.js';
import { DEMO_TOKEN_REQUEST } from './ddas-fixtures.js';

/** A surname the database below refuses, quoting it in its message as PostgreSQL quotes input values. */
const SURNAME = 'Fuzzkowski';
const BUSY = 'de dienst is even druk; probeer het over enkele seconden opnieuw';

const db = createDatabase(inject('databaseUrl'), { max: 3 });
let connection: Connection;
let auth: { authorization: string };

function serverWith(logger: ReturnType<typeof memoryLogger>['logger'], database: Db = db) {
  return buildServer({
    db: database,
    temporal: new Client({ connection }),
    taskQueue: 't',
    municipality: 'GM1911',
    logger,
  });
}

/** A valid signal about a resident named SURNAME. */
function signal() {
  return {
    partnerReference: `ERR-${randomUUID()}`,
    signalDate: '2026-11-01',
    arrearsSince: '2026-08-15',
    amount: 212.5,
    resident: {
      firstNames: 'Jantine',
      surname: SURNAME,
      birthDate: '1971-03-14',
    },
    address: { postcode: '1761AB', houseNumber: 12, street: 'Zwaluwstraat', city: 'Anna Paulowna' },
  };
}

/** A database whose only connection is held while `run` runs: every other query waits and times out. */
async function withPoolExhausted<T>(run: (busy: Db) => Promise<T>): Promise<T> {
  const busy = createDatabase(inject('databaseUrl'), { max: 1, connectionTimeoutMillis: 200 });
  try {
    return await busy.connection().execute(() => run(busy));
  } finally {
    await busy.destroy();
  }
}

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  const partnerId = await ensurePartner(db, `Partner ${randomUUID()}`, 'Huur');
  const { token } = await createPartnerToken(db, partnerId, 'test');
  auth = { authorization: `Bearer ${token}` };
  // PostgreSQL refuses this one resident with a real cast error, quoting the surname in its message:
  // `invalid input syntax for type integer: "Fuzzkowski"`. Other test files never use the name.
  await sql`
    create or replace function error_log_refuse_resident() returns trigger language plpgsql as $$
    begin
      perform new.surname::integer;
      return new;
    end $$`.execute(db);
  await sql`drop trigger if exists error_log_refuse_resident on residents`.execute(db);
  await sql`
    create trigger error_log_refuse_resident before insert or update on residents for each row
    when (new.surname = ${sql.lit(SURNAME)}) execute function error_log_refuse_resident()`.execute(db);
});
afterAll(async () => {
  await sql`drop trigger if exists error_log_refuse_resident on residents`.execute(db);
  await sql`drop function if exists error_log_refuse_resident()`.execute(db);
  await connection.close();
  await db.destroy();
});

describe('a failing partner request', () => {
  let server: FastifyInstance;
  let log: ReturnType<typeof memoryLogger>;
  beforeAll(async () => {
    log = memoryLogger();
    server = await serverWith(log.logger);
  });
  afterAll(() => server.close());

  it('answers 500 with the generic body and logs the error once, without the surname', async () => {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: auth,
      payload: signal(),
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal', message: 'interne fout; probeer het later opnieuw' });

    const errors = log.errors();
    expect(errors).toHaveLength(1);
    const [entry] = errors;
    expect(entry).toMatchObject({
      msg: 'partner request failed',
      route: '/api/v1/signals',
      method: 'POST',
      reqId: expect.any(String),
      err: {
        type: 'DatabaseError',
        code: '22P02',
        message: 'invalid input syntax for type integer: "…"',
        stack: expect.stringMatching(/\n\s+at /),
      },
    });
    expect(entry).not.toHaveProperty('err.where');
    expect(log.lines.length).toBeGreaterThan(1);
    for (const line of log.lines) expect(line).not.toContain(SURNAME);
  });

  it('logs a failing batch the same way and leaves no surname in any line', async () => {
    const before = log.errors().length;
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: auth,
      payload: { signals: [signal()] },
    });
    expect(res.statusCode).toBe(500);
    // A batch that stopped tells the partner what stayed stored; still no word of the cause.
    expect(res.json()).toMatchObject({ error: 'internal', message: expect.any(String) });
    expect(res.body).not.toContain(SURNAME);
    expect(res.body).not.toContain('invalid input');
    const errors = log.errors().slice(before);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ route: '/api/v1/signal-batches', err: { code: '22P02' } });
    for (const line of log.lines) expect(line).not.toContain(SURNAME);
  });

  it('answers 503 with Retry-After when no database connection comes free', async () => {
    const busyLog = memoryLogger();
    const res = await withPoolExhausted(async (busy) => {
      const busyServer = await serverWith(busyLog.logger, busy);
      try {
        return await busyServer.inject({
          method: 'POST',
          url: '/api/v1/signals',
          headers: auth,
          payload: signal(),
        });
      } finally {
        await busyServer.close();
      }
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({ error: 'unavailable', message: BUSY });
    const warnings = busyLog.entries().filter((e) => e.msg === 'partner request failed');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      level: 40,
      route: '/api/v1/signals',
      err: { type: expect.any(String) },
    });
    for (const line of busyLog.lines) expect(line).not.toContain(SURNAME);
  });
});

describe('the root error handler', () => {
  let server: FastifyInstance;
  let log: ReturnType<typeof memoryLogger>;
  beforeAll(async () => {
    log = memoryLogger();
    server = await serverWith(log.logger);
    // Routes outside the partner and DDAS scopes inherit the root handler, as these two do.
    server.get('/test/residents/:id', async () => {
      await sql`select ${SURNAME}::integer`.execute(db);
      return {};
    });
    server.get('/test/busy', async () => {
      throw new DatabaseBusyError('pages', { retryAfterSeconds: 7 });
    });
  });
  afterAll(() => server.close());

  it('answers 500 without the error message, and logs the route pattern, not the URL with its query', async () => {
    const res = await server.inject({ method: 'GET', url: `/test/residents/${randomUUID()}?page=2` });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'interne fout; probeer het later opnieuw',
    });
    const errors = log.errors();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      route: '/test/residents/:id',
      method: 'GET',
      err: { type: 'DatabaseError', code: '22P02', message: 'invalid input syntax for type integer: "…"' },
    });
    expect(JSON.stringify(errors[0])).not.toContain('page=2');
    for (const line of log.lines) expect(line).not.toContain(SURNAME);
  });

  it("answers 503 with the error's Retry-After when it throws DatabaseBusyError", async () => {
    const res = await server.inject({ method: 'GET', url: '/test/busy' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json()).toEqual({ statusCode: 503, error: 'Service Unavailable', message: BUSY });
    // The failure once, besides the answer's own line (route and status, api/server.ts).
    const logged = log.entries().filter((e) => e.route === '/test/busy' && e.err);
    expect(logged).toHaveLength(1);
    expect(log.entries().filter((e) => e.route === '/test/busy' && e.statusCode === 503)).toHaveLength(1);
    expect(logged[0]).toMatchObject({ err: { type: 'DatabaseBusyError', message: expect.any(String) } });
  });

  it("keeps Fastify's own answer for a client error", async () => {
    const res = await server.inject({ method: 'GET', url: '/nothing-here' });
    expect(res.statusCode).toBe(404);
  });
});

describe('a DDAS request while the database is busy', () => {
  it('answers 503 problem+json with Retry-After', async () => {
    const log = memoryLogger();
    const res = await withPoolExhausted(async (busy) => {
      const server = await serverWith(log.logger, busy);
      try {
        const issued = await server.inject(DEMO_TOKEN_REQUEST);
        expect(issued.statusCode).toBe(200);
        return await server.inject({
          method: 'POST',
          url: '/ddas/v1/gegevens',
          headers: {
            authorization: `Bearer ${issued.json().access_token}`,
            'content-type': 'application/json',
          },
          payload: {},
        });
      } finally {
        await server.close();
      }
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 503, detail: BUSY });
    expect(log.entries().filter((e) => e.msg === 'DDAS request failed')).toHaveLength(1);
  });
});
