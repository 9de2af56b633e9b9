import { Client, Connection } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerMonitorRoutes } from '../../api/routes/managers/monitor.js';
import type { MonitorFigures } from '../../api/routes/managers/monitor-figures.js';
import { buildServer } from '../../api/server.js';
import { createDatabase } from '../../db/database.js';
import { loadConfig } from '../../lib/config.js';
import { insertCase, type Seed, seedQuarter, seedTwoRounds, testMunicipality } from './ddas-fixtures.js';

const db = createDatabase(inject('databaseUrl'), { max: 4 });
const Q1 = 'from=2026-01-01&to=2026-03-31';
let seed: Seed;
let app: FastifyInstance;

async function figures(query = Q1): Promise<MonitorFigures> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/monitor?${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

beforeAll(async () => {
  seed = await seedQuarter(db);
  app = Fastify();
  await registerMonitorRoutes(app, {
    db,
    municipality: seed.municipality,
    config: loadConfig({ MUNICIPALITY_CODE: seed.municipality, MUNICIPALITY_INHABITANTS: '50000' }),
    monitorPreHandler: async () => {},
  });
});

afterAll(async () => {
  await app.close();
  await db.destroy();
});

describe('GET /api/v1/monitor', () => {
  it('counts signals, residents and households of the period, picked up or not by reason', async () => {
    const f = await figures();
    expect(f.period).toEqual({ from: '2026-01-01', to: '2026-03-31' });
    expect(f.signals).toEqual({
      received: 22,
      uniqueResidents: 20,
      uniqueHouseholds: 19,
      pickedUp: 15,
      notPickedUp: 6,
      pending: 1,
      totalAmount: expect.any(Number),
    });
    const byStatus = Object.fromEntries(f.signalsByStatus.map((s) => [s.status, s.count]));
    expect(byStatus).toEqual({
      'Inwoner al bekend bij schuldhulpverlening': 1,
      'Inwoner is overleden': 1,
      'Niet opgepakt: andere reden': 1,
      'Niet opgepakt: herhaalde melding': 1,
      'Niet opgepakt: onterecht signaal': 1,
      'Nog niet opgepakt': 1,
      Opgepakt: 15,
      'Persoon is geen inwoner (meer) in de gemeente': 1,
    });
    const water = f.signalsByPartnerType.find((p) => p.partnerType === 'Water');
    expect(water).toEqual({ partnerType: 'Water', received: 4, pickedUp: 2, notPickedUp: 1, pending: 1 });
  });

  it('reports reach, accepted help, results and the median days to first contact of the cases started', async () => {
    const f = await figures();
    expect(f.cases).toEqual({
      started: 21,
      pickedUp: 14,
      reached: 11,
      reachedPct: 78.6,
      helpAccepted: 4,
      helpAcceptedPct: 36.4,
      medianDaysToFirstContact: 31.4,
    });
    const results = Object.fromEntries(f.results.map((r) => [r.result, r.count]));
    expect(Object.keys(results)).toHaveLength(16);
    expect(results['Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering']).toBe(2);
    expect(results['Definitief geen contact kunnen krijgen']).toBe(2);
    expect(results['Verwijzing zonder tussenkomst inwoner']).toBe(1);
    expect(f.openCases).toBe(3);
  });

  it('counts contact attempts by kind with how many reached the resident', async () => {
    const f = await figures();
    const by = Object.fromEntries(f.contactAttempts.map((a) => [a.soort, [a.attempts, a.reached]]));
    expect(by).toEqual({
      Administratief: [3, 1],
      'Afspraak op locatie': [3, 1],
      Brief: [4, 1],
      Huisbezoek: [4, 1],
      Kaartje: [3, 1],
      Mail: [3, 1],
      Onbekend: [3, 1],
      Overige: [3, 1],
      'SMS/Whatsapp': [3, 1],
      Telefoon: [4, 2],
    });
  });

  it('gives rates per 1,000 inhabitants when the number of inhabitants is configured', async () => {
    const f = await figures();
    expect(f.inhabitants).toBe(50_000);
    expect(f.ratesPer1000).toEqual({
      signals: 0.44,
      residents: 0.4,
      households: 0.38,
      reached: 0.22,
      helpAccepted: 0.08,
    });
  });

  it('filters by partner type and by period', async () => {
    const water = await figures(`${Q1}&partnerType=Water`);
    expect(water.signals.received).toBe(4);
    expect(water.signalsByPartnerType.map((p) => p.partnerType)).toEqual(['Water']);
    const february = await figures('from=2026-02-01&to=2026-02-28');
    expect(february.signals.received).toBe(1);
    expect(february.perMonth).toEqual([{ month: '2026-02', signals: 1, residents: 1, pickedUp: 1 }]);
    const q1 = await figures();
    expect(q1.perMonth.map((m) => m.month)).toEqual(['2026-01', '2026-02', '2026-03']);
  });

  it('refuses a malformed or backwards period and an unknown partner type', async () => {
    for (const query of ['from=2026-13-01', 'from=2026-03-01&to=2026-01-01', 'partnerType=Telefoon']) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/monitor?${query}` });
      expect(res.statusCode, query).toBe(400);
    }
  });

  it('refuses a date outside the years 2000 to 9999 with 400 naming the field', async () => {
    for (const [query, field] of [
      ['from=0000-01-01&to=2026-01-01', 'from'],
      ['to=0000-12-31', 'to'],
      ['from=1999-12-31', 'from'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/monitor?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json(), query).toEqual({ error: `${field}: moet tussen de jaren 2000 en 9999 liggen` });
    }
  });

  it('offers every table as a CSV download', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/monitor/results.csv?${Q1}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="monitor-results-2026-01-01-2026-03-31.csv"',
    );
    const lines = res.body
      .replace(/^\ufeff/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe('result,cases,help_accepted');
    expect(lines).toHaveLength(1 + 16 + 1);
    expect(lines).toContain('Definitief geen contact kunnen krijgen,2,false');
    expect(lines).toContain('(Budget)advies en/of quick fix,1,true');
    for (const table of [
      'summary',
      'signals-by-status',
      'signals-by-partner-type',
      'contact-attempts',
      'per-month',
    ]) {
      const csv = await app.inject({ method: 'GET', url: `/api/v1/monitor/${table}.csv?${Q1}` });
      expect(csv.statusCode, table).toBe(200);
    }
    const summary = await app.inject({ method: 'GET', url: `/api/v1/monitor/summary.csv?${Q1}` });
    expect(summary.body).toContain('\r\nsignals_received,22\r\n');
    expect((await app.inject({ method: 'GET', url: `/api/v1/monitor/nothing.csv?${Q1}` })).statusCode).toBe(
      404,
    );
  });

  it('gives the same figures after every resident of the period has had their personal data deleted', async () => {
    const before = await figures();
    const csvBefore = (await app.inject({ method: 'GET', url: `/api/v1/monitor/summary.csv?${Q1}` })).body;
    const deleted = await db.deleteFrom('residents').where('municipality', '=', seed.municipality).execute();
    expect(Number(deleted[0]?.numDeletedRows)).toBeGreaterThan(0);
    expect(await figures()).toEqual(before);
    expect((await app.inject({ method: 'GET', url: `/api/v1/monitor/summary.csv?${Q1}` })).body).toBe(
      csvBefore,
    );
  });
});

describe('GET /api/v1/monitor: vroegsignaalzaken are rounds of outreach', () => {
  it('counts each round of one resident as its own zaak, with its own result, reach and days to contact', async () => {
    const { seed: twice } = await seedTwoRounds(db);
    const own = Fastify();
    await registerMonitorRoutes(own, {
      db,
      municipality: twice.municipality,
      config: loadConfig({ MUNICIPALITY_CODE: twice.municipality }),
      monitorPreHandler: async () => {},
    });
    const res = await own.inject({ method: 'GET', url: '/api/v1/monitor?from=2025-01-01&to=2025-03-31' });
    expect(res.statusCode, res.body).toBe(200);
    const f: MonitorFigures = res.json();
    expect(f.signals).toMatchObject({ received: 3, uniqueResidents: 1, pickedUp: 2, notPickedUp: 1 });
    // Round 1 reached by phone after 7.2 days; round 2 never reached.
    expect(f.cases).toEqual({
      started: 2,
      pickedUp: 2,
      reached: 1,
      reachedPct: 50,
      helpAccepted: 1,
      helpAcceptedPct: 100,
      medianDaysToFirstContact: 7.2,
    });
    const results = Object.fromEntries(f.results.filter((r) => r.count > 0).map((r) => [r.result, r.count]));
    expect(results).toEqual({
      '(Budget)advies en/of quick fix': 1,
      'Definitief geen contact kunnen krijgen': 1,
    });
    expect(f.openCases).toBe(0);
    // A period with only the second round: one zaak, started in February.
    const february = (
      await own.inject({ method: 'GET', url: '/api/v1/monitor?from=2025-02-01&to=2025-02-28' })
    ).json() as MonitorFigures;
    expect(february.cases.started).toBe(1);
    expect(february.results.find((r) => r.count > 0)?.result).toBe('Definitief geen contact kunnen krijgen');
    await own.close();
  });
});

describe('GET /api/v1/monitor: a round ended by an objection', () => {
  it('counts it as ended, picked up (its letter went out), with the result "Niet opgepakt: andere reden"', async () => {
    const own = Fastify();
    const municipality = testMunicipality();
    const partner = await db
      .insertInto('partners')
      .values({ name: `Partner ${municipality} objected`, partner_type: 'Huur' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const objectedSeed: Seed = { municipality, partnerId: partner.id, cases: [], personalValues: [] };
    // As the workflow leaves it: stage objected, the round ended with its result, data not yet deleted.
    await insertCase(db, objectedSeed, {
      result: 'Niet opgepakt: andere reden',
      stage: 'objected',
      signals: [{ status: 'Opgepakt', date: '2025-05-06', partnerType: 'Huur' }],
      startedAt: '2025-05-06T10:00:00+02:00',
      firstRoundEndedAt: '2025-05-12T09:00:00+02:00',
      attempts: [{ soort: 'Brief', bereikt: false, at: '2025-05-06T10:00:00+02:00', dagdeel: 'Ochtend' }],
    });
    await registerMonitorRoutes(own, {
      db,
      municipality,
      config: loadConfig({ MUNICIPALITY_CODE: municipality }),
      monitorPreHandler: async () => {},
    });
    const res = await own.inject({ method: 'GET', url: '/api/v1/monitor?from=2025-05-01&to=2025-05-31' });
    expect(res.statusCode, res.body).toBe(200);
    const f: MonitorFigures = res.json();
    expect(f.openCases).toBe(0);
    expect(f.cases).toMatchObject({ started: 1, pickedUp: 1, reached: 0, helpAccepted: 0 });
    const results = Object.fromEntries(f.results.filter((r) => r.count > 0).map((r) => [r.result, r.count]));
    expect(results).toEqual({ 'Niet opgepakt: andere reden': 1 });
    expect(f.signals).toMatchObject({ received: 1, pickedUp: 1, notPickedUp: 0, pending: 0 });
    await own.close();
  });
});

describe('GET /api/v1/monitor access', () => {
  it('is refused without a signed-in manager', async () => {
    const connection = Connection.lazy({ address: inject('temporalAddress') });
    const server = await buildServer({
      db,
      temporal: new Client({ connection }),
      taskQueue: 't',
      municipality: seed.municipality,
      config: loadConfig({}),
    });
    const res = await server.inject({ method: 'GET', url: `/api/v1/monitor?${Q1}` });
    expect(res.statusCode).toBe(401);
    const csv = await server.inject({ method: 'GET', url: `/api/v1/monitor/results.csv?${Q1}` });
    expect(csv.statusCode).toBe(401);
    await server.close();
    await connection.close();
  });
});
