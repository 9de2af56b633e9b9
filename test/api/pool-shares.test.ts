/**
 * One process, several parts, one database: each part has its own share of connections (db/pools.ts), so
 * a saturated worker pool does not delay a partner's delivery or a page, and where a share really runs out
 * the answer is 503 with Retry-After, and a delivery stopped part-way says what stays stored.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildServer } from '../../api/server.js';
import { createDatabase, type Db } from '../../db/database.js';
import { createPools, type DatabasePools, poolShares } from '../../db/pools.js';
import { ensurePartner } from '../../db/repositories/intake.js';
import { createPartnerToken } from '../../db/repositories/partner-tokens.js';
import { loadConfig } from '../../lib/config.js';
import { MUNICIPALITY } from '../helpers/fixtures.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

const header =
  'partnerReference;signalDate;arrearsSince;amount;crisis;bsn;firstNames;surnamePrefix;surname;birthDate;postcode;houseNumber;houseNumberAddition;street;city';
const csvRow = (ref: string) =>
  `${ref};2026-11-01;2026-08-01;412,50;nee;;Jantine;van der;Zwaluw${ref};1971-03-14;1761 AB;12;;Zwaluwstraat;Anna Paulowna`;

/** Holds `n` connections of `db` busy for `ms` (a worker with every connection in an activity). */
function saturate(db: Db, n: number, ms: number): Promise<unknown> {
  return Promise.all(Array.from({ length: n }, () => sql`select pg_sleep(${ms / 1000})`.execute(db)));
}

/** The API over the harness's Temporal, with the given pages' and intake pools. */
function serverOver(h: TestHarness, db: Db, intakeDb: Db): Promise<FastifyInstance> {
  return buildServer({
    db,
    intakeDb,
    temporal: h.client,
    taskQueue: h.taskQueue,
    municipality: MUNICIPALITY,
    config: loadConfig({ MATCHING_SECRET: 'test-matching-secret' }),
  });
}

async function partnerAuth(db: Db) {
  const partnerId = await ensurePartner(db, `Partner ${randomUUID()}`, 'Zorg');
  const { token } = await createPartnerToken(db, partnerId, 'test');
  return { partnerId, auth: { authorization: `Bearer ${token}` } };
}

describe('pool shares', () => {
  it('splits DATABASE_POOL_MAX over the parts present, each at least its floor', () => {
    expect(poolShares(20, ['pages', 'intake', 'dispatcher', 'activities'])).toEqual({
      pages: 5,
      intake: 5,
      dispatcher: 3,
      activities: 7,
    });
    expect(poolShares(10, ['pages', 'intake'])).toEqual({
      pages: 5,
      intake: 5,
      dispatcher: 0,
      activities: 0,
    });
    const tiny = poolShares(3, ['pages', 'intake', 'dispatcher', 'activities']);
    expect(tiny).toEqual({ pages: 2, intake: 2, dispatcher: 1, activities: 2 });
  });
});

describe('a process whose worker keeps every one of its connections busy', () => {
  let h: TestHarness;
  let pools: DatabasePools;
  let app: FastifyInstance;
  beforeAll(async () => {
    h = await createHarness();
    pools = createPools(inject('databaseUrl'), 12, ['pages', 'intake', 'dispatcher', 'activities']);
    app = await serverOver(h, pools.pages, pools.intake);
  });
  afterAll(async () => {
    await app.close();
    await pools.destroy();
    await h.close();
  });

  it('still takes a delivery and answers a page at once', async () => {
    const p = await partnerAuth(h.db);
    const shares = poolShares(12, ['pages', 'intake', 'dispatcher', 'activities']);
    // Twice its share: every activity connection busy and as many activities again queueing for one.
    const busy = saturate(pools.activities, 2 * shares.activities, 3_000);
    await new Promise((r) => setTimeout(r, 200));
    const began = Date.now();
    const rows = Array.from({ length: 50 }, (_, i) => csvRow(`P${i}`)).join('\n');
    const [delivery, health] = await Promise.all([
      app.inject({
        method: 'POST',
        url: '/api/v1/signal-batches',
        headers: { ...p.auth, 'content-type': 'text/csv' },
        payload: `${header}\n${rows}\n`,
      }),
      app.inject({ method: 'GET', url: '/health' }),
    ]);
    const took = Date.now() - began;
    expect(delivery.statusCode).toBe(202);
    expect(delivery.json()).toMatchObject({ accepted: 50 });
    expect(health.statusCode).toBe(200);
    // Far below the 3 s the worker's connections stay busy: neither waited for them.
    expect(took).toBeLessThan(1_500);
    await busy;
  });
});

describe('a share that really runs out', () => {
  let h: TestHarness;
  let intakeDb: Db;
  let app: FastifyInstance;
  beforeAll(async () => {
    h = await createHarness();
    // A small intake share that gives up waiting quickly.
    intakeDb = createDatabase(inject('databaseUrl'), {
      max: 2,
      name: 'intake',
      connectionTimeoutMillis: 300,
    });
    app = await serverOver(h, h.db, intakeDb);
  });
  afterAll(async () => {
    await app.close();
    await intakeDb.destroy();
    await h.close();
  });

  it('stops a delivery part-way with 503, Retry-After, its batch id and what stays stored', async () => {
    const p = await partnerAuth(h.db);
    const stored = async () =>
      Number(
        (
          await h.db
            .selectFrom('signals')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('partner_id', '=', p.partnerId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    let busy: Promise<unknown> | null = null;
    async function* body() {
      yield `${header}\n`;
      yield `${Array.from({ length: 600 }, (_, i) => csvRow(`A${i}`)).join('\n')}\n`;
      // The first chunk (500 rows) has committed: now every intake connection is taken for a while.
      const until = Date.now() + 20_000;
      while ((await stored()) < 500 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      busy = saturate(intakeDb, 2, 2_500);
      await new Promise((r) => setTimeout(r, 100));
      yield `${Array.from({ length: 600 }, (_, i) => csvRow(`B${i}`)).join('\n')}\n`;
    }
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...p.auth, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' },
      payload: Readable.from(body()),
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    const answer = res.json();
    expect(answer).toMatchObject({
      error: 'unavailable',
      batchId: expect.any(String),
      received: 500,
      accepted: 500,
    });
    expect(answer.message).toContain('de eerste 500 rijen zijn wel verwerkt en blijven bewaard');
    await busy;
    expect(await stored()).toBe(500);
    // Marked failed (once a connection was free again), never left `receiving`.
    const until = Date.now() + 15_000;
    let status = '';
    while (Date.now() < until) {
      status = (
        await h.db
          .selectFrom('signal_batches')
          .select('status')
          .where('id', '=', answer.batchId)
          .executeTakeFirstOrThrow()
      ).status;
      if (status !== 'receiving') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('failed');
  });

  it('answers a single signal 503 with Retry-After while every intake connection is taken', async () => {
    const p = await partnerAuth(h.db);
    const busy = saturate(intakeDb, 2, 1_500);
    await new Promise((r) => setTimeout(r, 100));
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: { ...p.auth, 'content-type': 'application/json' },
      payload: {},
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    await busy;
  });
});
