/**
 * `npm run bench:inbox [-- seconds]`: the caseworkers' inbox under load. Seeds 100,000 open tasks (with
 * their cases and residents, plus 50,000 completed tasks) over both teams, task kinds, 40 postcode areas,
 * partner types, priorities and due dates; starts the real API (`buildServer`) in a child process on a
 * free port of 127.0.0.1; signs in 50 caseworkers; then 50 concurrent connections (autocannon) page and
 * filter `GET /api/v1/tasks` for `seconds` (default 20), each request with the session cookie of one of the
 * 50 users in turn: once closed loop (saturation), once paced at 50 requests/s (each user once a second). Prints p50/p90/p99/max latency and requests/s, next to a baseline measured the same way
 * on a trivial signed-in route (`GET /api/v1/cases/<unknown id>`: session lookup and one primary-key
 * query, 404), and whether the goal p99 < 50 ms is met.
 *
 * Runs on a temporary database it creates (and drops) on BENCH_DATABASE_ADMIN_URL, else
 * TEST_DATABASE_ADMIN_URL, else postgres://postgres@127.0.0.1:5432/postgres. The inbox never calls
 * Temporal: the server gets a lazy client to an unused local port.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { hashPassword } from '../api/auth/index.js';
import { buildServer } from '../api/server.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createUserIfMissing } from '../db/repositories/users.js';

const OPEN_TASKS = 100_000;
const USERS = 50;
/** Users 1..30 work in the debt team, 31..50 in the wijkteam (tasks are split 60/40 alike). */
const DEBT_TEAM_USERS = 30;
const AREAS = 40;
const FIRST_AREA = 1760;
const PARTNER_TYPES = ['Huur', 'Zorg', 'Energie', 'Water'];
const GOAL_P99_MS = 50;
const MUNICIPALITY = 'GM1911';
const PASSWORD = 'bench-wachtwoord-123';
const seconds = Number(process.argv[2] ?? 20);

/** The child process: the real API server on a free port, until the parent disconnects. */
async function serve(databaseUrl: string): Promise<void> {
  const db = createDatabase(databaseUrl);
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  const app = await buildServer({
    db,
    temporal: new Client({ connection }),
    taskQueue: 'bench-inbox',
    municipality: MUNICIPALITY,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  process.on('disconnect', () => {
    void app
      .close()
      .then(() => db.destroy())
      .finally(() => process.exit(0));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const username = (i: number) => `bench-${String(i).padStart(2, '0')}`;

if (process.argv[2] === '--serve') {
  await serve(process.argv[3] ?? '');
} else {
  await main();
}

async function main(): Promise<void> {
  if (!Number.isFinite(seconds) || seconds < 1) throw new Error('usage: bench-inbox.ts [seconds]');
  const adminUrl =
    process.env.BENCH_DATABASE_ADMIN_URL ??
    process.env.TEST_DATABASE_ADMIN_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `vroeg_bench_inbox_${process.pid}`;
  const dbUrl = adminUrl.replace(/\/[^/]*$/, `/${dbName}`);
  const admin = createDatabase(adminUrl, { max: 1 });
  await sql`create database ${sql.id(dbName)}`.execute(admin);
  const db = createDatabase(dbUrl, { max: 2 });
  let child: ReturnType<typeof fork> | undefined;
  try {
    await migrateToLatest(db);
    await seed(db);

    child = fork(fileURLToPath(import.meta.url), ['--serve', dbUrl], { stdio: 'inherit' });
    const server = child;
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (m) => resolve((m as { port: number }).port));
      server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const base = `http://127.0.0.1:${port}`;

    const cookies: string[] = [];
    for (let i = 1; i <= USERS; i++) cookies.push(await signIn(base, username(i)));
    console.log(`signed in ${cookies.length} users; server on ${base}`);

    let n = 0;
    const nextCookie = () => cookies[n++ % cookies.length] ?? '';
    const baselinePath = '/api/v1/cases/00000000-0000-4000-8000-000000000000';
    const random = mulberry32(42);

    // Warm-up: fills the team counts and the connection pool, so the runs measure the steady state.
    await load(base, 3, () => inboxPath(random), nextCookie);
    const baseSeconds = Math.max(5, Math.round(seconds / 2));
    // Closed loop: every connection sends its next request as soon as the answer is in (saturation;
    // latency is then about connections / throughput). Paced: 50 users each asking once a second.
    const runs = {
      baseline: await load(base, baseSeconds, () => baselinePath, nextCookie),
      inbox: await load(base, seconds, () => inboxPath(random), nextCookie),
      baselinePaced: await load(base, baseSeconds, () => baselinePath, nextCookie, USERS),
      inboxPaced: await load(base, seconds, () => inboxPath(random), nextCookie, USERS),
    };

    console.log(
      `load average before the runs: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    report('baseline, closed loop  GET /api/v1/cases/<unknown> (404)', runs.baseline);
    report('inbox,    closed loop  GET /api/v1/tasks (paging, filters)', runs.inbox);
    report(`baseline, ${USERS} req/s     GET /api/v1/cases/<unknown> (404)`, runs.baselinePaced);
    report(`inbox,    ${USERS} req/s     GET /api/v1/tasks (paging, filters)`, runs.inboxPaced);
    for (const r of [runs.inbox, runs.inboxPaced]) {
      if (r.errors > 0 || r.non2xx > 0 || r.timeouts > 0) {
        throw new Error(`inbox answered ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
      }
    }
    for (const [label, r] of [
      [`${USERS} users, 1 request/s each`, runs.inboxPaced],
      [`${USERS} connections, closed loop`, runs.inbox],
    ] as const) {
      const met = r.latency.p99 < GOAL_P99_MS;
      console.log(
        `goal p99 < ${GOAL_P99_MS} ms, ${label}: ${met ? 'met' : 'NOT met'} (p99 ${r.latency.p99} ms)`,
      );
    }
  } finally {
    if (child?.connected) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.disconnect();
      await exited;
    }
    await db.destroy();
    await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin);
    await admin.destroy();
  }
}

async function seed(db: ReturnType<typeof createDatabase>): Promise<void> {
  const started = performance.now();
  // One row of random choices per case; teams, kinds, areas, partner types and due dates spread evenly.
  await sql`
    create unlogged table bench_seed as
    select g, team, kind, area, partner_types, priority, due_at, attempt,
      case when random() < 0.3 then
        case team when 'schulddienstverlening' then 1 + floor(random() * ${DEBT_TEAM_USERS})::int
          else ${DEBT_TEAM_USERS + 1} + floor(random() * ${USERS - DEBT_TEAM_USERS})::int end
      end as assignee
    from (
      select g,
        case when random() < 0.6 then 'schulddienstverlening' else 'wijkteam' end as team,
        case when random() < 0.7 then 'phone' else 'visit' end as kind,
        ${FIRST_AREA} + floor(random() * ${AREAS})::int as area,
        (array['{Huur}', '{Zorg}', '{Energie}', '{Water}', '{Huur,Energie}', '{Zorg,Water}', '{Huur,Zorg}'])
          [1 + floor(random() * 7)::int]::text[] as partner_types,
        case when random() < 0.03 then 'crisis' when random() < 0.15 then 'high' else 'normal' end as priority,
        now() - interval '30 days' + random() * interval '90 days' as due_at,
        1 + floor(random() * 3)::int as attempt
      from generate_series(1, ${OPEN_TASKS}) g
    ) s`.execute(db);
  await sql`
    insert into residents (municipality, case_key, match_key, household_key, first_names, surname_prefix,
      surname, birth_date, phone, postcode, house_number, street, city)
    select ${MUNICIPALITY}, 'bench-ck-' || g, 'mk-' || g, 'hh-' || (g / 2),
      (array['Anna', 'Bram', 'Cor', 'Daan', 'Eva', 'Fatima', 'Gerrit', 'Hanna'])[1 + g % 8],
      case when g % 5 = 0 then 'van' end,
      (array['Jansen', 'Bakker', 'Visser', 'Smit', 'Meijer', 'Dekker', 'Bos', 'Yilmaz'])[1 + (g / 8) % 8],
      date '1950-01-01' + g % 20000, '06' || lpad((g * 7919 % 100000000)::text, 8, '0'),
      area::text || ' ' || chr(65 + g % 26) || chr(65 + (g / 26) % 26), 1 + g % 250,
      (array['Dorpsstraat', 'Kerkweg', 'Molenlaan', 'Zuiderdijk', 'Stationsweg', 'Koggenland'])[1 + g % 6],
      (array['Anna Paulowna', 'Wieringerwerf', 'Hippolytushoef', 'Middenmeer'])[1 + (area - ${FIRST_AREA}) % 4]
    from bench_seed`.execute(db);
  await sql`
    insert into cases (id, workflow_id, municipality, case_key, team, stage, priority, partner_types,
      policy, started_at)
    select md5('bench-case-' || g)::uuid, 'case:' || ${MUNICIPALITY} || ':bench-ck-' || g, ${MUNICIPALITY},
      'bench-ck-' || g, team, kind, priority, partner_types, '{}', due_at - interval '21 days'
    from bench_seed`.execute(db);
  await sql`
    insert into tasks (idempotency_key, case_id, workflow_id, machine_task_id, kind, attempt, team, priority,
      preferred_dagdeel, status, due_at, assigned_to, area, partner_types)
    select 'bench:' || g || ':' || kind || ':' || attempt, md5('bench-case-' || g)::uuid,
      'case:' || ${MUNICIPALITY} || ':bench-ck-' || g, kind || '-' || attempt, kind, attempt, team, priority,
      case when g % 4 = 0 then 'Ochtend' end, 'open', due_at,
      case when assignee is not null then 'bench-' || lpad(assignee::text, 2, '0') end, area::text, partner_types
    from bench_seed`.execute(db);
  // Earlier attempts, completed: they share the table but not the open-task indexes.
  await sql`
    insert into tasks (idempotency_key, case_id, workflow_id, machine_task_id, kind, attempt, team, priority,
      status, due_at, outcome, completed_at, completed_by, area, partner_types)
    select 'bench:' || g || ':done', md5('bench-case-' || g)::uuid, 'case:' || ${MUNICIPALITY} || ':bench-ck-' || g,
      'phone-0', 'phone', 0, team, priority, 'completed', due_at - interval '14 days', 'not_reached',
      due_at - interval '14 days', 'bench-01', area::text, partner_types
    from bench_seed where g % 2 = 0`.execute(db);
  await sql`drop table bench_seed`.execute(db);
  // The state autovacuum reaches a minute after a bulk load (statistics and visibility map), so the runs
  // do not depend on whether it happens to start during them.
  await sql`vacuum analyze`.execute(db);

  const passwordHash = await hashPassword(PASSWORD);
  for (let i = 1; i <= USERS; i++) {
    await createUserIfMissing(db, {
      username: username(i),
      displayName: `Medewerker ${i}`,
      passwordHash,
      roles: ['caseworker'],
      teams: [i <= DEBT_TEAM_USERS ? 'schulddienstverlening' : 'wijkteam'],
    });
  }
  console.log(
    `seeded ${OPEN_TASKS} open tasks (+${OPEN_TASKS / 2} completed), cases, residents and ${USERS} users ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** Signs in through the login form; returns the session cookie. */
async function signIn(base: string, user: string): Promise<string> {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, password: PASSWORD, next: '/taken' }).toString(),
    redirect: 'manual',
  });
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  if (res.status !== 303 || !cookie) throw new Error(`login of ${user} failed: HTTP ${res.status}`);
  return cookie;
}

/** A caseworker's inbox request: mostly the first pages of the team list, with one or two filters. */
function inboxPath(random: () => number): string {
  const q = new URLSearchParams();
  if (random() < 0.15) q.set('scope', 'mine');
  if (random() < 0.3) q.set('kind', random() < 0.6 ? 'phone' : 'visit');
  if (random() < 0.3) q.set('area', String(FIRST_AREA + Math.floor(random() * AREAS)));
  if (random() < 0.2) q.set('partnerType', PARTNER_TYPES[Math.floor(random() * PARTNER_TYPES.length)] ?? '');
  if (random() < 0.1) q.set('crisis', 'true');
  if (random() < 0.1) q.set('unassigned', 'true');
  const r = random();
  const page = r < 0.6 ? 1 : r < 0.9 ? 2 + Math.floor(random() * 4) : 6 + Math.floor(random() * 35);
  if (page > 1) q.set('page', String(page));
  const query = q.toString();
  return `/api/v1/tasks${query ? `?${query}` : ''}`;
}

/**
 * 50 connections for `duration` seconds, closed loop or at `overallRate` requests/s in all; each request
 * gets the next path and the next user's cookie.
 */
function load(
  base: string,
  duration: number,
  path: () => string,
  cookie: () => string,
  overallRate?: number,
): Promise<autocannon.Result> {
  return autocannon({
    url: base,
    connections: USERS,
    duration,
    ...(overallRate ? { overallRate } : {}),
    requests: [
      { method: 'GET', setupRequest: (req) => ({ ...req, path: path(), headers: { cookie: cookie() } }) },
    ],
  });
}

function report(label: string, r: autocannon.Result): void {
  const l = r.latency;
  console.log(
    `${label}: p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms; ` +
      `${r.requests.average.toFixed(0)} req/s (${r.requests.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`,
  );
}

/** A small seeded PRNG, so every run asks the same mix. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
