/**
 * `npm run bench:ddas`: one DDAS page of 50,000 vroegsignalen (40,000 vroegsignaalzaken, ~80,000 contact attempts)
 * generated and signed through `POST /ddas/v1/gegevens`, measured end to end (query, build, serialise,
 * sign); prints the time of each run and the peak memory. Goal: under 3 s. Each signal carries
 * its case and round, as the case workflow stores them.
 *
 * Runs on a temporary database it creates (and drops) on BENCH_DATABASE_ADMIN_URL, else
 * TEST_DATABASE_ADMIN_URL, else postgres://postgres@127.0.0.1:5432/postgres.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { registerDdasRoutes } from '../api/ddas/routes.js';
import { generateSelfSigned, materialFromPem, verifyBody } from '../api/ddas/signing.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { loadConfig } from '../lib/config.js';

const SIGNALS = 50_000;
const CASES = 40_000;
const RUNS = 3;
const GOAL_MS = 3_000;
const MUNICIPALITY = 'GM1911';

const adminUrl =
  process.env.BENCH_DATABASE_ADMIN_URL ??
  process.env.TEST_DATABASE_ADMIN_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `vroeg_bench_ddas_${process.pid}`;
const admin = createDatabase(adminUrl, { max: 1 });
await sql`create database ${sql.id(dbName)}`.execute(admin);
const db = createDatabase(adminUrl.replace(/\/[^/]*$/, `/${dbName}`), { max: 4 });
const dataDir = mkdtempSync(join(tmpdir(), 'bench-ddas-'));

let peakHeap = 0;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 5);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

try {
  await migrateToLatest(db);
  const seedStart = performance.now();
  await sql`insert into partners (name, partner_type) values ('Bench partner', 'Huur')`.execute(db);
  await sql`
    insert into residents (municipality, case_key, match_key, household_key, bsn, first_names, surname,
      birth_date, sex, postcode, house_number, street, city)
    select ${MUNICIPALITY}, 'ck-' || g, 'mk-' || g, 'hh-' || (g / 2),
      case when g % 2 = 0 then lpad(g::text, 9, '1') end, 'Voornaam', 'Achternaam',
      date '1960-01-01' + (g % 15000), 'Vrouw', (1000 + g % 8999)::text || 'AB', 1 + g % 300, 'Straat', 'Stad'
    from generate_series(1, ${CASES}) g`.execute(db);
  await sql`
    insert into cases (id, workflow_id, municipality, case_key, team, stage, priority, partner_types, result,
      policy, started_at, first_contact_at, closed_at)
    select gen_random_uuid(), 'case:' || ${MUNICIPALITY} || ':ck-' || g, ${MUNICIPALITY}, 'ck-' || g,
      'schulddienstverlening', case when g % 3 = 0 then 'letter' else 'closed' end, 'normal', '{Huur}',
      case when g % 3 = 0 then null else (array['Vervolghulp en/of verwijzing financieel',
        'Definitief geen contact kunnen krijgen', 'Niet opgepakt: onterecht signaal'])[1 + g % 3] end,
      '{}', timestamptz '2026-01-02 10:00+01' + (g % 80) * interval '1 day',
      timestamptz '2026-01-09 10:00+01' + (g % 80) * interval '1 day',
      case when g % 3 = 0 then null else timestamptz '2026-03-30 10:00+02' end
    from generate_series(1, ${CASES}) g`.execute(db);
  await sql`
    insert into signals (municipality, partner_id, partner_type, partner_reference, resident_id, case_key,
      signal_date, arrears_since, amount, crisis, warm_handover, status, received_at, household_key, case_id,
      case_round)
    select ${MUNICIPALITY}, p.id,
      (array['Huur','Zorg','Energie','Water'])[1 + g % 4], 'REF-' || g, r.id, r.case_key,
      date '2026-01-01' + (g % 80), date '2025-11-01', 100 + g % 900, g % 50 = 0, false,
      case when g % 10 = 0 then 'Niet opgepakt: onterecht signaal' else 'Opgepakt' end,
      timestamptz '2026-01-02 09:59+01' + (g % 80) * interval '1 day', r.household_key, c.id, 1
    from generate_series(1, ${SIGNALS}) g
    cross join (select id from partners limit 1) p
    join residents r on r.case_key = 'ck-' || (1 + (g - 1) % ${CASES})
    join cases c on c.case_key = r.case_key`.execute(db);
  // One round (vroegsignaalzaak) per case, as the case activities keep them.
  await sql`
    insert into case_rounds (case_id, round, municipality, started_at, ended_at, result)
    select id, 1, municipality, started_at, closed_at, result from cases`.execute(db);
  await sql`
    insert into contact_attempts (idempotency_key, case_id, soort, bereikt, attempted_at, dagdeel, round)
    select c.id || ':' || k, c.id, (array['Brief','Telefoon','Huisbezoek'])[1 + k % 3], k = 2,
      c.started_at + k * interval '2 days' + interval '1 hour', 'Ochtend', 1
    from cases c cross join generate_series(0, 2) k where c.stage <> 'closed' or c.result not like 'Niet%'`.execute(
    db,
  );
  await sql`analyze`.execute(db);
  const attempts = await sql<{ n: string }>`select count(*) as n from contact_attempts`.execute(db);
  console.log(
    `seeded ${SIGNALS} signals, ${CASES} cases, ${attempts.rows[0]?.n} contact attempts in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  const pair = generateSelfSigned('bench');
  const signing = materialFromPem(pair.keyPem, pair.certPem);
  const app = Fastify();
  registerDdasRoutes(app, {
    db,
    municipality: MUNICIPALITY,
    config: loadConfig({ DATA_DIR: dataDir, MUNICIPALITY_CODE: MUNICIPALITY }),
    signing,
  });
  const tokenResponse = await app.inject({
    method: 'POST',
    url: '/ddas/v1/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload:
      'grant_type=client_credentials&client_id=cbs-demo&client_secret=development-only-ddas-client-secret',
  });
  const token = tokenResponse.json().access_token as string;

  const times: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const started = performance.now();
    const res = await app.inject({
      method: 'POST',
      url: '/ddas/v1/gegevens',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: JSON.stringify({
        aanleverperiodeStartdatum: '2026-01-01',
        aanleverperiodeEinddatum: '2026-03-31',
        pageSize: SIGNALS,
      }),
    });
    const ms = performance.now() - started;
    times.push(ms);
    if (res.statusCode !== 200) throw new Error(`run ${run}: HTTP ${res.statusCode}`);
    const body = res.rawPayload;
    const verified = await verifyBody(body, {
      signature: String(res.headers['nlgov-adr-payload-sig']),
      digest: String(res.headers.digest),
    });
    const json = JSON.parse(body.toString('utf8'));
    const levering = json.gegevens.leveringen[0];
    console.log(
      `run ${run}: ${ms.toFixed(0)} ms, ${levering.vroegsignalen.length} vroegsignalen, ` +
        `${levering.vroegsignaalzaken.length} vroegsignaalzaken, ${mb(body.length)} body, ` +
        `signature ${verified.ok ? 'valid' : 'INVALID'}, paginering ${JSON.stringify(json.paginering)}`,
    );
    if (!verified.ok || levering.vroegsignalen.length !== SIGNALS) throw new Error('wrong delivery');
  }
  await app.close();
  clearInterval(sampler);
  const best = Math.min(...times);
  console.log(
    `best ${best.toFixed(0)} ms (goal < ${GOAL_MS} ms: ${best < GOAL_MS ? 'met' : 'NOT met'}); ` +
      `peak heap ${mb(peakHeap)}, peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}`,
  );
} finally {
  clearInterval(sampler);
  await db.destroy();
  await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin);
  await admin.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
