import { createHash, createHmac, generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { compactVerify, decodeProtectedHeader, exportJWK, SignJWT } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDelivery } from '../../api/ddas/delivery.js';
import { generateSelfSigned, materialFromPem, signBody } from '../../api/ddas/signing.js';
import { buildServer } from '../../api/server.js';
import { createDatabase } from '../../db/database.js';
import { type Config, loadConfig } from '../../lib/config.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import { CONTACTSOORTEN, DAGDELEN, EINDRESULTATEN, SIGNAALSTATUSSEN } from '../../workflows/ddas.js';
import { recordResidentContact } from '../../workflows/messages.js';
import { shortPolicy } from '../../workflows/policy.js';
import { startCase, viewOf, waitFor } from '../helpers/cases.js';
import { MUNICIPALITY, residentRecord, storeTestSignal } from '../helpers/fixtures.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';
import {
  DEMO_TOKEN_REQUEST,
  type Seed,
  seedQuarter,
  seedTwoRounds,
  uitwisselmodelValidator,
} from './ddas-fixtures.js';

const db = createDatabase(inject('databaseUrl'), { max: 4 });
const validate = uitwisselmodelValidator();
const dataDir = mkdtempSync(join(tmpdir(), 'ddas-test-'));
const Q1 = { aanleverperiodeStartdatum: '2026-01-01', aanleverperiodeEinddatum: '2026-03-31' };
let seed: Seed;
let connection: Connection;
const servers: FastifyInstance[] = [];

async function server(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const config: Config = loadConfig({ DATA_DIR: dataDir, MUNICIPALITY_CODE: seed.municipality, ...env });
  const app = await buildServer({
    db,
    temporal: new Client({ connection }),
    taskQueue: 't',
    municipality: seed.municipality,
    config,
  });
  servers.push(app);
  return app;
}

async function token(app: FastifyInstance): Promise<string> {
  const res = await app.inject(DEMO_TOKEN_REQUEST);
  expect(res.statusCode).toBe(200);
  return res.json().access_token;
}

async function post(app: FastifyInstance, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/ddas/v1/gegevens',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(app)}`, ...headers },
    payload: JSON.stringify(body),
  });
}

interface Vroegsignaal {
  ID: string;
  status?: string;
  client?: unknown;
}
interface Zaak {
  resultaat?: string;
  matchingsdatum?: string;
  startdatumMatchingperiode?: string;
  datumOpgepakt?: string;
  einddatumMatchingperiode?: string;
  vroegsignalen?: Array<{ ID: string }>;
  contactpogingen?: Array<{ soort?: string; bereikt?: boolean; datum?: string; dagdeel?: string }>;
}
interface Levering {
  gemeentecode: string;
  vroegsignalen?: Vroegsignaal[];
  vroegsignaalzaken?: Zaak[];
}
interface DeliveryJson {
  gegevens: { leveringen?: Levering[] };
}

function leveringOf(json: DeliveryJson, code: string): Levering {
  const levering = (json.gegevens.leveringen ?? []).find((l) => l.gemeentecode === code);
  expect(levering).toBeDefined();
  return levering!;
}

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  seed = await seedQuarter(db);
});

afterAll(async () => {
  for (const app of servers) await app.close();
  await connection.close();
  await db.destroy();
});

describe('POST /ddas/v1/gegevens: the delivery', () => {
  it('delivers one levering for the municipality that validates against the official v1.2 schema', async () => {
    const app = await server();
    const res = await post(app, Q1);
    expect(res.statusCode).toBe(200);
    const json = res.json();
    expect(validate(json.gegevens), JSON.stringify(validate.errors)).toBe(true);
    expect(json.paginering).toBeUndefined();
    expect(json.gegevens).toMatchObject({
      startdatumLevering: '2026-01-01',
      einddatumLevering: '2026-03-31',
      codeGegevensleverancier: 'vroegsignalering',
    });
    expect(json.gegevens.leveringen).toHaveLength(1);
    const levering = json.gegevens.leveringen[0];
    expect(levering).toMatchObject({
      teller: 1,
      gemeentecode: seed.municipality,
      aanleverendeOrganisatie: { naam: `Gemeente ${seed.municipality}` },
    });
  });

  it('reports every signal status, every end result and every kind of contact attempt of the period', async () => {
    const json = (await post(await server(), Q1)).json();
    const levering = leveringOf(json, seed.municipality);
    const statuses = new Set(levering.vroegsignalen!.map((s) => s.status));
    expect([...statuses].sort()).toEqual([...SIGNAALSTATUSSEN].sort());
    const results = new Set(levering.vroegsignaalzaken!.map((z) => z.resultaat).filter(Boolean));
    expect([...results].sort()).toEqual([...EINDRESULTATEN].sort());
    const pogingen = levering.vroegsignaalzaken!.flatMap((z) => z.contactpogingen ?? []);
    expect(new Set(pogingen.map((p) => p.soort))).toEqual(new Set(CONTACTSOORTEN));
    expect(new Set(pogingen.map((p) => p.dagdeel))).toEqual(new Set(DAGDELEN));
    // 16 closed + open + screening + 1 resident with two cases; the deleted resident's signal is left out,
    // the December signal is outside the period.
    expect(levering.vroegsignalen).toHaveLength(16 + 2 + 1 + 2);
    expect(levering.vroegsignaalzaken).toHaveLength(16 + 1 + 1 + 1 + 2);
  });

  it('identifies a client by BSN alone, or else by postcode and house number alone', async () => {
    const json = (await post(await server(), Q1)).json();
    const levering = leveringOf(json, seed.municipality);
    for (const seeded of seed.cases.filter((c) => c.residentId)) {
      for (const id of seeded.signalIds) {
        const signal = levering.vroegsignalen!.find((s) => s.ID === id);
        if (!signal) continue;
        expect(signal.client).toEqual(
          seeded.bsn ? { burgerservicenummer: seeded.bsn } : { postcode: '1771AB', huisnummer: '12' },
        );
      }
    }
    const text = JSON.stringify(json);
    for (const value of seed.personalValues) expect(text).not.toContain(value);
    expect(text).not.toContain('1971-03-14');
    expect(text).not.toContain('voorbeeld.nl');
  });

  it('keeps a case whose personal data was deleted, referring to its signal by id only', async () => {
    const json = (await post(await server(), Q1)).json();
    const levering = leveringOf(json, seed.municipality);
    const deleted = seed.cases.find((c) => !c.residentId)!;
    expect(levering.vroegsignalen!.some((s) => s.ID === deleted.signalIds[0])).toBe(false);
    const zaak = levering.vroegsignaalzaken!.find((z) => z.vroegsignalen?.[0]?.ID === deleted.signalIds[0]);
    expect(zaak).toEqual({
      resultaat: 'Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering',
      matchingsdatum: '2026-01-20',
      startdatumMatchingperiode: '2026-01-20',
      einddatumMatchingperiode: '2026-01-28',
      datumOpgepakt: '2026-01-27',
      vroegsignalen: [{ ID: deleted.signalIds[0] }],
      contactpogingen: [{ soort: 'Telefoon', bereikt: true, datum: '2026-01-27', dagdeel: 'Middag' }],
    });
  });

  it("links a resident's later signal to the later case, and reports a case as it stood at the period's end", async () => {
    const app = await server();
    const january = leveringOf(
      (
        await post(app, { aanleverperiodeStartdatum: '2026-01-01', aanleverperiodeEinddatum: '2026-01-31' })
      ).json(),
      seed.municipality,
    );
    const [first, second] = seed.cases.filter(
      (c, _, all) => all.filter((o) => o.caseKey === c.caseKey).length === 2,
    );
    const zaakOf = (l: Levering, id: string) =>
      l.vroegsignaalzaken!.find((z) => z.vroegsignalen?.[0]?.ID === id);
    expect(zaakOf(january, first!.signalIds[0]!)).toMatchObject({
      resultaat: 'Definitief geen contact kunnen krijgen',
      vroegsignalen: [{ ID: first!.signalIds[0] }],
    });
    // A case closed in March has no result yet at the end of January.
    const closedInMarch = seed.cases.find((c) => c.result === '(Budget)advies en/of quick fix')!;
    const zaak = zaakOf(january, closedInMarch.signalIds[0]!);
    expect(zaak).toBeDefined();
    expect(zaak!.resultaat).toBeUndefined();
    expect(zaak!.einddatumMatchingperiode).toBeUndefined();
    expect(zaak!.contactpogingen).toBeUndefined();

    const q1 = leveringOf((await post(app, Q1)).json(), seed.municipality);
    expect(zaakOf(q1, second!.signalIds[0]!)!.vroegsignalen).toEqual([{ ID: second!.signalIds[0] }]);
    expect(zaakOf(q1, second!.signalIds[0]!)!.resultaat).toBeUndefined();
  });

  it('delivers nothing for another organisation, and one municipality when asked by its code', async () => {
    const app = await server();
    const other = (await post(app, { ...Q1, aanleverende_organisatie: 'Gemeente Elders' })).json();
    expect(validate(other.gegevens)).toBe(true);
    expect(other.gegevens.leveringen).toBeUndefined();
    const byCode = (await post(app, { ...Q1, aanleverende_organisatie: seed.municipality })).json();
    expect(validate(byCode.gegevens)).toBe(true);
    expect(byCode.gegevens.leveringen).toHaveLength(1);
  });

  it('answers 422 for a period that ends before it starts, and 400 for a malformed request', async () => {
    const app = await server();
    const backwards = await post(app, {
      aanleverperiodeStartdatum: '2026-03-01',
      aanleverperiodeEinddatum: '2026-01-01',
    });
    expect(backwards.statusCode).toBe(422);
    expect(backwards.headers['content-type']).toContain('application/problem+json');
    for (const body of [
      { page: 0 },
      { pageSize: -1 },
      { aanleverperiodeStartdatum: '2026-02-30' },
      { extra: 1 },
    ]) {
      const res = await post(app, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ status: 400, title: 'Ongeldig request' });
    }
    const broken = await app.inject({
      method: 'POST',
      url: '/ddas/v1/gegevens',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(app)}` },
      payload: '{"page": 123456789 BSN',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.body).not.toContain('123456789');
  });
});

describe('POST /ddas/v1/gegevens: one vroegsignaalzaak per round of outreach', () => {
  // In 2025, so the 2026 figures of the other tests stay as they are.
  const Q1_2025 = { aanleverperiodeStartdatum: '2025-01-01', aanleverperiodeEinddatum: '2025-03-31' };

  it('delivers two zaken for a resident whose case ran two rounds, each with its own signals, attempts and result', async () => {
    const { seed: twice, seeded } = await seedTwoRounds(db);
    const app = await server();
    const res = await post(app, { ...Q1_2025, aanleverende_organisatie: twice.municipality });
    expect(res.statusCode).toBe(200);
    const json = res.json();
    expect(validate(json.gegevens), JSON.stringify(validate.errors)).toBe(true);
    const levering = leveringOf(json, twice.municipality);
    const [round1, round2] = seeded.roundSignalIds as [string[], string[]];
    expect(levering.vroegsignalen!.map((s) => s.ID).sort()).toEqual([...round1, ...round2].sort());
    const byStart = (a: Zaak, b: Zaak) =>
      (a.startdatumMatchingperiode ?? '').localeCompare(b.startdatumMatchingperiode ?? '');
    expect([...levering.vroegsignaalzaken!].sort(byStart)).toEqual([
      {
        resultaat: '(Budget)advies en/of quick fix',
        matchingsdatum: '2025-01-05',
        startdatumMatchingperiode: '2025-01-05',
        einddatumMatchingperiode: '2025-01-12',
        datumOpgepakt: '2025-01-05',
        vroegsignalen: round1.map((ID) => ({ ID })),
        contactpogingen: [
          { soort: 'Brief', bereikt: false, datum: '2025-01-05', dagdeel: 'Ochtend' },
          { soort: 'Telefoon', bereikt: true, datum: '2025-01-12', dagdeel: 'Middag' },
        ],
      },
      {
        resultaat: 'Definitief geen contact kunnen krijgen',
        matchingsdatum: '2025-02-10',
        startdatumMatchingperiode: '2025-02-10',
        einddatumMatchingperiode: '2025-03-15',
        datumOpgepakt: '2025-02-10',
        vroegsignalen: round2.map((ID) => ({ ID })),
        contactpogingen: [
          { soort: 'Brief', bereikt: false, datum: '2025-02-10', dagdeel: 'Ochtend' },
          { soort: 'Huisbezoek', bereikt: false, datum: '2025-02-20', dagdeel: 'Avond' },
          { soort: 'Kaartje', bereikt: false, datum: '2025-02-20', dagdeel: 'Avond' },
        ],
      },
    ]);
  });

  it('reports each round as it stood at the period end, and puts each zaak on the page of its first signal', async () => {
    const { seed: twice, seeded } = await seedTwoRounds(db);
    const app = await server();
    const month = async (start: string, end: string) =>
      leveringOf(
        (
          await post(app, {
            aanleverperiodeStartdatum: start,
            aanleverperiodeEinddatum: end,
            aanleverende_organisatie: twice.municipality,
          })
        ).json(),
        twice.municipality,
      );
    const january = await month('2025-01-01', '2025-01-31');
    // Round 2 had not started by the end of January.
    expect(january.vroegsignaalzaken).toHaveLength(1);
    expect(january.vroegsignaalzaken![0]).toMatchObject({ resultaat: '(Budget)advies en/of quick fix' });
    const february = await month('2025-02-01', '2025-02-28');
    // Round 1 ended in January: only round 2 runs in February, still without its result.
    expect(february.vroegsignaalzaken).toHaveLength(1);
    const running = february.vroegsignaalzaken![0]!;
    expect(running.vroegsignalen).toEqual([{ ID: seeded.roundSignalIds[1]![0] }]);
    expect(running.resultaat).toBeUndefined();
    expect(running.einddatumMatchingperiode).toBeUndefined();
    expect(running.contactpogingen).toHaveLength(3);

    // Three signals on pages of one: each zaak on the page of its first delivered signal, once.
    const zaken: Zaak[] = [];
    for (let page = 1; page <= 3; page++) {
      const json = (
        await post(app, { ...Q1_2025, page, pageSize: 1, aanleverende_organisatie: twice.municipality })
      ).json();
      expect(validate(json.gegevens), JSON.stringify(validate.errors)).toBe(true);
      expect(json.paginering).toEqual({ pageSize: 1, currentPage: page, totalPages: 3, totalRecords: 3 });
      zaken.push(...(leveringOf(json, twice.municipality).vroegsignaalzaken ?? []));
    }
    expect(zaken.map((z) => z.resultaat).sort()).toEqual([
      '(Budget)advies en/of quick fix',
      'Definitief geen contact kunnen krijgen',
    ]);
  });
});

describe('rounds recorded by the case workflow', () => {
  let h: TestHarness;
  beforeAll(async () => {
    h = await createHarness();
    await h.startWorker();
  });
  afterAll(async () => {
    await h.close();
  });

  it('makes a second vroegsignaalzaak when a new signal restarts outreach after a result', async () => {
    // Retention long enough for the case to wait, concluded, for the later signals.
    const policy = {
      ...shortPolicy(1_000),
      retention: { ...shortPolicy(1_000).retention, afterContactMs: 120_000 },
    };
    const record = residentRecord();
    const { handle, stored } = await startCase(h, { record, policy });
    await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'letter',
    );
    await handle.executeUpdate(recordResidentContact, {
      args: [{ channel: 'Telefoon', dagdeel: 'Ochtend', outcome: { kind: 'adviceQuickFix' } }],
    });
    const send = async (partner: { name: string; type: string }) => {
      const later = await storeTestSignal(
        h.db,
        { ...record, partnerReference: `REF-${randomUUID()}` },
        partner,
      );
      await dispatchPending({
        db: h.db,
        client: h.client,
        taskQueue: h.taskQueue,
        policyFor: () => policy,
        signalIds: [later.signalId],
      });
      return later.signalId;
    };
    // The same partner about the same arrears soon after: a repeat, not picked up; it stays in round 1.
    const repeat = await send({ name: 'Woningstichting Testdorp', type: 'Huur' });
    await waitFor(
      () => viewOf(handle),
      (v) => v.signals === 2,
    );
    // Another partner: picked up, a new round of outreach.
    const fresh = await send({ name: 'Zorgverzekeraar Test', type: 'Zorg' });
    await waitFor(
      () => viewOf(handle),
      (v) => v.signals === 3 && v.stage === 'letter',
    );
    const v = await handle.executeUpdate(recordResidentContact, {
      args: [{ channel: 'Mail', dagdeel: 'Middag', outcome: { kind: 'selfManaged' } }],
    });
    expect(v.stage).toBe('concluded');

    const rounds = await sql<{ round: number; result: string | null; ended: boolean }>`
      select round, result, ended_at is not null as ended from case_rounds where case_id = ${v.caseId}
      order by round`.execute(h.db);
    expect(rounds.rows).toEqual([
      { round: 1, result: '(Budget)advies en/of quick fix', ended: true },
      { round: 2, result: 'Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering', ended: true },
    ]);

    const now = new Date();
    const delivery = await buildDelivery(
      h.db,
      {
        aanleverperiodeStartdatum: record.signalDate,
        aanleverperiodeEinddatum: new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' }).format(
          now,
        ),
        aanleverende_organisatie: MUNICIPALITY,
      },
      { municipality: MUNICIPALITY, supplierCode: 'test', organisationName: 'Gemeente Test', now },
    );
    const json = JSON.parse(delivery.body.toString('utf8'));
    expect(validate(json.gegevens), JSON.stringify(validate.errors)).toBe(true);
    const zaken: Zaak[] = leveringOf(json, MUNICIPALITY).vroegsignaalzaken!.filter((z) =>
      z.vroegsignalen?.some((s) => [stored.signalId, repeat, fresh].includes(s.ID)),
    );
    expect(zaken).toHaveLength(2);
    const first = zaken.find((z) => z.vroegsignalen?.[0]?.ID === stored.signalId);
    const second = zaken.find((z) => z.vroegsignalen?.[0]?.ID === fresh);
    expect(first!.resultaat).toBe('(Budget)advies en/of quick fix');
    expect(first!.vroegsignalen).toEqual([{ ID: stored.signalId }, { ID: repeat }]);
    expect(first!.contactpogingen?.map((p) => `${p.soort}:${p.bereikt}`)).toEqual([
      'Brief:false',
      'Telefoon:true',
    ]);
    expect(second!.resultaat).toBe('Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering');
    expect(second!.vroegsignalen).toEqual([{ ID: fresh }]);
    expect(second!.contactpogingen?.map((p) => `${p.soort}:${p.bereikt}`)).toEqual([
      'Brief:false',
      'Mail:true',
    ]);
    await handle.terminate('test finished');
  });
});

describe('POST /ddas/v1/gegevens: pagination', () => {
  it('splits the delivery into pages that together hold every signal and every case exactly once', async () => {
    const app = await server();
    const firstPage = (await post(app, { ...Q1, pageSize: 4 })).json();
    expect(firstPage.paginering).toEqual({ pageSize: 4, currentPage: 1, totalPages: 6, totalRecords: 21 });
    const signals: string[] = [];
    const cases: string[] = [];
    for (let page = 1; page <= 6; page++) {
      const json = (await post(app, { ...Q1, page, pageSize: 4 })).json();
      expect(validate(json.gegevens), JSON.stringify(validate.errors)).toBe(true);
      expect(json.paginering).toEqual({ pageSize: 4, currentPage: page, totalPages: 6, totalRecords: 21 });
      const levering = leveringOf(json, seed.municipality);
      expect((levering.vroegsignalen ?? []).length).toBeLessThanOrEqual(4);
      signals.push(...(levering.vroegsignalen ?? []).map((s) => s.ID));
      cases.push(...(levering.vroegsignaalzaken ?? []).map((z) => JSON.stringify(z)));
    }
    expect(signals).toHaveLength(21);
    expect(new Set(signals).size).toBe(21);
    expect(cases).toHaveLength(21);
    expect(new Set(cases).size).toBe(21);
  });

  it('answers page 1 for a page that does not exist', async () => {
    const app = await server();
    const json = (await post(app, { ...Q1, page: 99, pageSize: 4 })).json();
    expect(json.paginering).toEqual({ pageSize: 4, currentPage: 1, totalPages: 6, totalRecords: 21 });
    const page1 = (await post(app, { ...Q1, page: 1, pageSize: 4 })).json();
    expect(leveringOf(json, seed.municipality).vroegsignalen).toEqual(
      leveringOf(page1, seed.municipality).vroegsignalen,
    );
  });

  it('never puts more than 50,000 vroegsignalen on a page, and paginates an empty period as one page', async () => {
    const app = await server();
    const big = (await post(app, { ...Q1, pageSize: 1_000_000 })).json();
    expect(big.paginering).toEqual({ pageSize: 50_000, currentPage: 1, totalPages: 1, totalRecords: 21 });
    const empty = (
      await post(app, {
        aanleverperiodeStartdatum: '2020-01-01',
        aanleverperiodeEinddatum: '2020-01-31',
        page: 2,
      })
    ).json();
    expect(validate(empty.gegevens)).toBe(true);
    expect(empty.paginering).toEqual({ pageSize: 50_000, currentPage: 1, totalPages: 1, totalRecords: 0 });
    expect(empty.gegevens.leveringen).toEqual([
      {
        teller: 1,
        gemeentecode: seed.municipality,
        aanleverendeOrganisatie: { naam: `Gemeente ${seed.municipality}` },
      },
    ]);
  });
});

describe('POST /ddas/v1/gegevens: JAdES signing', () => {
  it('signs the exact body with PS256 and the x5c certificate, which fails when one byte changes', async () => {
    const app = await server();
    const res = await post(app, Q1);
    const body = res.rawPayload;
    const sig = String(res.headers['nlgov-adr-payload-sig']);
    expect(res.headers.digest).toBe(`SHA-256=${createHash('sha256').update(body).digest('base64')}`);
    const [header, payload, signature] = sig.split('.');
    expect(payload).toBe('');
    const protectedHeader = decodeProtectedHeader(sig);
    expect(protectedHeader).toMatchObject({ alg: 'PS256', typ: 'JOSE' });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    const cert = new X509Certificate(Buffer.from(protectedHeader.x5c![0]!, 'base64'));
    expect(protectedHeader['x5t#S256']).toBe(createHash('sha256').update(cert.raw).digest('base64url'));

    const verify = (bytes: Buffer) =>
      compactVerify(`${header}.${bytes.toString('base64url')}.${signature}`, cert.publicKey, {
        algorithms: ['PS256'],
        crit: { sigT: true },
      });
    await expect(verify(body)).resolves.toBeDefined();
    const tampered = Buffer.from(body);
    const middle = Math.floor(tampered.length / 2);
    tampered[middle] = tampered[middle]! ^ 0x01;
    await expect(verify(tampered)).rejects.toThrow();
  });

  it('keeps the demo certificate across restarts (it lives in DATA_DIR)', async () => {
    const a = String((await post(await server(), Q1)).headers['nlgov-adr-payload-sig']);
    const b = String((await post(await server(), Q1)).headers['nlgov-adr-payload-sig']);
    expect(decodeProtectedHeader(a).x5c).toEqual(decodeProtectedHeader(b).x5c);
  });

  it('accepts a correctly signed request and refuses a tampered or, when required, unsigned one', async () => {
    const caller = generateSelfSigned('CBS test');
    const material = materialFromPem(caller.keyPem, caller.certPem);
    const trustedFile = join(dataDir, 'trusted.pem');
    writeFileSync(trustedFile, caller.certPem);
    const app = await server({ DDAS_REQUEST_SIGNATURE: 'required', DDAS_TRUSTED_CERTS_FILE: trustedFile });
    const body = Buffer.from(JSON.stringify(Q1));
    const headers = await signBody(body, material);
    const send = async (payload: Buffer, extra: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/ddas/v1/gegevens',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await token(app)}`,
          ...extra,
        },
        payload,
      });
    expect((await send(body, { ...headers })).statusCode).toBe(200);

    const tampered = Buffer.from(JSON.stringify({ ...Q1, aanleverperiodeStartdatum: '2026-01-02' }));
    const refused = await send(tampered, {
      'nlgov-adr-payload-sig': headers['nlgov-adr-payload-sig'],
      Digest: headers.Digest,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ title: 'Ongeldige handtekening' });
    const resigned = await send(tampered, {
      'nlgov-adr-payload-sig': headers['nlgov-adr-payload-sig'],
      Digest: `SHA-256=${createHash('sha256').update(tampered).digest('base64')}`,
    });
    expect(resigned.json()).toMatchObject({
      title: 'Ongeldige handtekening',
      detail: 'handtekening is ongeldig',
    });
    expect((await send(body, {})).statusCode).toBe(400);

    const stranger = generateSelfSigned('someone else');
    const strangerHeaders = await signBody(body, materialFromPem(stranger.keyPem, stranger.certPem));
    const untrusted = await send(body, { ...strangerHeaders });
    expect(untrusted.json()).toMatchObject({ detail: 'certificaatketen is niet vertrouwd' });
  });
});

describe('DDAS access: OAuth 2.0 client credentials and FSC errors', () => {
  const fsc = (
    res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
    status: number,
    code: string,
  ) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['fsc-error-code']).toBe(code);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code, domain: 'ERROR_DOMAIN_INWAY', status });
  };

  it('refuses a missing, malformed, foreign or expired token with 401, and a token without the scope with 403', async () => {
    const app = await server();
    const call = (authorization?: string) =>
      app.inject({
        method: 'POST',
        url: '/ddas/v1/gegevens',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        payload: '{}',
      });
    const missing = await call();
    fsc(missing, 401, 'ERROR_CODE_ACCESS_TOKEN_MISSING');
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    fsc(await call('Bearer not-a-jwt'), 401, 'ERROR_CODE_ACCESS_TOKEN_INVALID');
    fsc(await call('Basic abc'), 401, 'ERROR_CODE_ACCESS_TOKEN_MISSING');

    const demoKey = createHmac('sha256', 'development-only-ddas-client-secret')
      .update('ddas-demo-token-key')
      .digest();
    const make = (claims: Record<string, unknown>, exp: string | number, key: Uint8Array = demoKey) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('vroegsignalering-demo')
        .setAudience('ddas')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(exp)
        .sign(key);
    fsc(
      await call(`Bearer ${await make({ scope: 'read' }, Math.floor(Date.now() / 1000) - 60)}`),
      401,
      'ERROR_CODE_ACCESS_TOKEN_EXPIRED',
    );
    fsc(
      await call(`Bearer ${await make({ scope: 'read' }, '1h', new Uint8Array(32))}`),
      401,
      'ERROR_CODE_ACCESS_TOKEN_INVALID',
    );
    fsc(
      await call(`Bearer ${await make({ scope: 'write' }, '1h')}`),
      403,
      'ERROR_CODE_WRONG_GROUP_ID_IN_TOKEN',
    );
    expect((await call(`Bearer ${await make({ scope: 'read' }, '1h')}`)).statusCode).toBe(200);
  });

  it('issues tokens only for the configured client and the client_credentials grant', async () => {
    const app = await server();
    const ask = (payload: string, authorization?: string) =>
      app.inject({
        method: 'POST',
        url: '/ddas/v1/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(authorization ? { authorization } : {}),
        },
        payload,
      });
    const ok = await ask(
      'grant_type=client_credentials&client_id=cbs-demo&client_secret=development-only-ddas-client-secret',
    );
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read' });
    const wrong = await ask(
      'grant_type=client_credentials&client_id=cbs-demo&client_secret=wrong-secret-wrong-secret',
    );
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: 'invalid_client' });
    expect((await ask('grant_type=password&username=a&password=b')).json()).toEqual({
      error: 'unsupported_grant_type',
    });
  });

  it('answers 404 and 405 with FSC codes', async () => {
    const app = await server();
    fsc(await app.inject({ method: 'POST', url: '/ddas/v1/onbekend' }), 404, 'ERROR_CODE_SERVICE_NOT_FOUND');
    const get = await app.inject({ method: 'GET', url: '/ddas/v1/gegevens' });
    fsc(get, 405, 'ERROR_CODE_METHOD_UNSUPPORTED');
    expect(get.headers.allow).toBe('POST');
    fsc(
      await app.inject({ method: 'DELETE', url: '/ddas/v1/gegevens' }),
      405,
      'ERROR_CODE_METHOD_UNSUPPORTED',
    );
  });

  describe('with an external authorisation server (issuer + JWKS)', () => {
    let jwksServer: Server;
    let jwksUrl: string;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

    beforeAll(async () => {
      const jwk = { ...(await exportJWK(publicKey)), kid: 'as-1', alg: 'RS256', use: 'sig' };
      jwksServer = createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
      jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    });
    afterAll(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())));

    const issue = (issuer: string, scope = 'read') =>
      new SignJWT({ scope })
        .setProtectedHeader({ alg: 'RS256', kid: 'as-1' })
        .setIssuer(issuer)
        .setAudience('ddas-gm')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);

    it("accepts the issuer's tokens, refuses others, and has no token endpoint of its own", async () => {
      const app = await server({
        DDAS_OAUTH_JWKS_URL: jwksUrl,
        DDAS_OAUTH_ISSUER: 'https://auth.example',
        DDAS_OAUTH_AUDIENCE: 'ddas-gm',
      });
      const call = async (jwt: string) =>
        app.inject({
          method: 'POST',
          url: '/ddas/v1/gegevens',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
          payload: JSON.stringify(Q1),
        });
      const ok = await call(await issue('https://auth.example'));
      expect(ok.statusCode).toBe(200);
      expect(validate(ok.json().gegevens)).toBe(true);
      fsc(await call(await issue('https://evil.example')), 401, 'ERROR_CODE_ACCESS_TOKEN_INVALID');
      fsc(
        await call(await issue('https://auth.example', 'other')),
        403,
        'ERROR_CODE_WRONG_GROUP_ID_IN_TOKEN',
      );
      fsc(
        await app.inject({ method: 'POST', url: '/ddas/v1/oauth/token' }),
        404,
        'ERROR_CODE_SERVICE_NOT_FOUND',
      );
    });
  });
});
