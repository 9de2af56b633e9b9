/**
 * `npm run bench:inbox [-- seconds] [--tasks n] [--cpu-prof] [--keep-database]`: the caseworkers' inbox
 * under load.
 *
 * Seeds `--tasks` (default 100,000) open tasks with their cases and residents (plus half as many completed
 * tasks) over both teams, task kinds, 40 postcode areas, partner types, priorities and due dates, on a
 * temporary database. Starts the real API (`buildServer`) in a child process the way `npm run api` runs it
 * in production: the production logger at `LOG_LEVEL` (default info, one line per request in and out, written
 * to /dev/null here), the pool of `DATABASE_POOL_MAX` (default 10) connections. Signs in 50 caseworkers, each
 * with a session of their own and a keep-alive agent of their own (like a browser).
 *
 * The load is an open model: each user asks at random moments (a Poisson process, on average once a second),
 * whether or not an earlier answer is still on its way, and each latency is measured from the moment the
 * request was due, not from when it left (no coordinated omission: a stalled server or load generator counts
 * against the figures). In one run, each phase `seconds` long (default 20):
 * - baseline: a trivial signed-in route (`GET /api/v1/cases/<unknown id>`: session lookup and one
 *   primary-key query, 404) at 50 requests/s;
 * - inbox: `GET /api/v1/tasks`, paging and filtering, at 50 requests/s (the goal: p99 < 50 ms);
 * - the same with 5% of the requests claiming or releasing a task (each expires the cached team counts):
 *   the inbox reads' figures, and the claims' and releases' apart;
 * - inbox at 100 and 200 requests/s (head-room);
 * - closed loop for a third of `seconds` (every user asks again as soon as the answer is in): throughput.
 * Prints p50/p90/p99/max, the requests made and the load generator's own timer lag per phase.
 *
 * Runs on a temporary database it creates (and drops) on BENCH_DATABASE_ADMIN_URL, else
 * TEST_DATABASE_ADMIN_URL, else postgres://postgres@127.0.0.1:5432/postgres. The inbox never calls
 * Temporal: the server gets a lazy client to an unused local port. `--cpu-prof` writes the server's CPU
 * profile to a temporary folder, `--keep-database` keeps the database for a closer look (both printed at the
 * end).
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import { hashPassword } from '../api/auth/index.js';
import { buildServer } from '../api/server.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createUserIfMissing } from '../db/repositories/users.js';
import { loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';

const USERS = 50;
/** Users 1..30 work in the debt team, 31..50 in the wijkteam (tasks are split 60/40 alike). */
const DEBT_TEAM_USERS = 30;
const AREAS = 40;
const FIRST_AREA = 1760;
const PARTNER_TYPES = ['Huur', 'Zorg', 'Energie', 'Water'];
const GOAL_P99_MS = 50;
/** Each user asks on average once a second: 50 requests/s in all. */
const GOAL_RATE = USERS;
const MUNICIPALITY = 'GM1911';
const PASSWORD = 'bench-wachtwoord-123';
const BASELINE_PATH = '/api/v1/cases/00000000-0000-4000-8000-000000000000';

/** The child process: the real API server, configured as `npm run api` is, until the parent disconnects. */
async function serve(databaseUrl: string): Promise<void> {
  const config = loadConfig();
  const db = createDatabase(databaseUrl, { max: config.DATABASE_POOL_MAX });
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  const app = await buildServer({
    db,
    temporal: new Client({ connection }),
    logger: createLogger(config.LOG_LEVEL),
    taskQueue: 'bench-inbox',
    municipality: MUNICIPALITY,
    config,
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
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tasks: { type: 'string', default: '100000' },
      'cpu-prof': { type: 'boolean', default: false },
      'keep-database': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(positionals[0] ?? 20);
  const openTasks = Number(values.tasks);
  if (!Number.isFinite(seconds) || seconds < 1 || !Number.isInteger(openTasks) || openTasks < 1) {
    throw new Error('usage: bench-inbox.ts [seconds] [--tasks n] [--cpu-prof] [--keep-database]');
  }
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
  const profileDir = values['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'bench-inbox-prof-')) : undefined;
  try {
    await migrateToLatest(db);
    await seed(db, openTasks);

    child = fork(fileURLToPath(import.meta.url), ['--serve', dbUrl], {
      // Production logs go to a collector; here to /dev/null (the cost of writing them stays).
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [...process.execArgv, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    });
    const server = child;
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (m) => resolve((m as { port: number }).port));
      server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const target: Target = { host: '127.0.0.1', port };

    const users: User[] = [];
    for (let i = 1; i <= USERS; i++) {
      const team = i <= DEBT_TEAM_USERS ? 'schulddienstverlening' : 'wijkteam';
      users.push({
        ...(await signIn(`http://127.0.0.1:${port}`, username(i))),
        agent: new Agent({ keepAlive: true, maxSockets: 6 }),
        // Unassigned tasks of the user's team, a few of their own to claim and release in the mixed phase.
        tasks: (
          await db
            .selectFrom('tasks')
            .select('id')
            .where('status', '=', 'open')
            .where('team', '=', team)
            .where('assigned_to', 'is', null)
            .orderBy('id')
            .offset(i * 10)
            .limit(10)
            .execute()
        ).map((t) => t.id),
        claimed: null,
      });
    }
    console.log(`signed in ${users.length} users, each with a session and connections of their own`);

    const random = mulberry32(42);
    const inbox = (): Ask => ({ method: 'GET', path: inboxPath(random), expected: [200] });
    const baseline = (): Ask => ({ method: 'GET', path: BASELINE_PATH, expected: [404] });
    // 5% of the asks claim one of the user's tasks or release it again (409 when a colleague was first).
    const mixed = (user: User): Ask => {
      if (random() >= 0.05) return inbox();
      if (user.claimed) {
        const id = user.claimed;
        user.claimed = null;
        return { method: 'POST', path: `/api/v1/tasks/${id}/release`, expected: [200, 409], write: true };
      }
      const id = user.tasks[Math.floor(random() * user.tasks.length)] ?? '';
      user.claimed = id;
      return { method: 'POST', path: `/api/v1/tasks/${id}/claim`, expected: [200, 409], write: true };
    };
    const loadBefore = loadavg();
    // Warm-up (discarded): fills the team counts, the pool and the JIT, so the phases measure the steady state.
    await openLoad(target, users, GOAL_RATE, 5, inbox, 1);
    const closedSeconds = Math.max(5, Math.round(seconds / 3));
    const phases: Array<[string, Phase]> = [
      [`baseline ${GOAL_RATE} req/s`, await openLoad(target, users, GOAL_RATE, seconds, baseline, 2)],
      [`inbox    ${GOAL_RATE} req/s`, await openLoad(target, users, GOAL_RATE, seconds, inbox, 3)],
      [`inbox+5% claims ${GOAL_RATE}/s`, await openLoad(target, users, GOAL_RATE, seconds, mixed, 6)],
      [`inbox   ${GOAL_RATE * 2} req/s`, await openLoad(target, users, GOAL_RATE * 2, seconds, inbox, 4)],
      [`inbox   ${GOAL_RATE * 4} req/s`, await openLoad(target, users, GOAL_RATE * 4, seconds, inbox, 5)],
      ['baseline closed loop', await closedLoad(target, users, closedSeconds, baseline)],
      ['inbox    closed loop', await closedLoad(target, users, closedSeconds, inbox)],
    ];
    for (const user of users) user.agent.destroy();

    const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(`load average before the runs: ${fmt(loadBefore)}, after: ${fmt(loadavg())}`);
    console.log(
      `${openTasks} open tasks, ${USERS} users; open model (Poisson arrivals), latency from the due moment`,
    );
    console.log(
      'phase                   p50      p90      p99      max   requests  req/s  wrong  gen. lag p99',
    );
    for (const [label, p] of phases) console.log(formatPhase(label, p));
    const writes = phases[2]?.[1].writes;
    if (writes) {
      console.log(
        `claims and releases in the mixed phase (not in its figures above): ${writes.count}, ` +
          `p50 ${writes.p50.toFixed(1)} ms, p99 ${writes.p99.toFixed(1)} ms, max ${writes.max.toFixed(1)} ms`,
      );
    }
    const failed = phases.filter(([label, p]) => label.startsWith('inbox') && p.wrong > 0);
    if (failed.length > 0) throw new Error(`inbox answered wrongly in: ${failed.map(([l]) => l).join(', ')}`);
    const goal = phases[1]?.[1];
    if (goal) {
      const met = goal.p99 < GOAL_P99_MS;
      console.log(
        `goal p99 < ${GOAL_P99_MS} ms, ${USERS} users asking once a second: ${met ? 'met' : 'NOT met'} ` +
          `(p99 ${goal.p99.toFixed(1)} ms)`,
      );
    }
  } finally {
    if (child?.connected) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.disconnect();
      await exited;
    }
    await db.destroy();
    if (values['keep-database']) console.log(`database kept: ${dbUrl}`);
    else await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin);
    await admin.destroy();
    if (profileDir) console.log(`server CPU profile in ${profileDir}`);
  }
}

async function seed(db: ReturnType<typeof createDatabase>, openTasks: number): Promise<void> {
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
      from generate_series(1, ${openTasks}) g
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
    `seeded ${openTasks} open tasks (+${Math.floor(openTasks / 2)} completed), cases, residents and ${USERS} users ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** Signs in through the login form; returns the session cookie and the CSRF token of the session. */
async function signIn(base: string, user: string): Promise<{ cookie: string; csrf: string }> {
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
  const page = await (await fetch(`${base}/taken`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error(`no CSRF token for ${user}`);
  return { cookie, csrf };
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

interface Target {
  host: string;
  port: number;
}

/** A signed-in caseworker: the session and a keep-alive agent of their own (a browser has one). */
interface User {
  cookie: string;
  csrf: string;
  agent: Agent;
  /** Open tasks this user may claim in the mixed phase, and the one claimed now. */
  tasks: string[];
  claimed: string | null;
}

/** One request of a user: what to ask, the statuses that are right, and whether it changes something. */
interface Ask {
  method: 'GET' | 'POST';
  path: string;
  expected: number[];
  write?: boolean;
}

interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

interface Phase {
  count: number;
  /** Answers with another status than expected, errors and time-outs. */
  wrong: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Requests answered per second of the phase. */
  rate: number;
  /** How late the load generator sent requests after their due moment (its own delay), p99. */
  lagP99: number;
  /** Claims and releases of a mixed phase, apart from the inbox reads above. */
  writes?: Latencies;
}

/** One request; resolves with the status once the whole body is in (0 on an error or after 10 s). */
function send(target: Target, user: User, ask: Ask): Promise<number> {
  return new Promise((resolve) => {
    const headers =
      ask.method === 'POST' ? { cookie: user.cookie, 'x-csrf-token': user.csrf } : { cookie: user.cookie };
    const req = request(
      {
        host: target.host,
        port: target.port,
        method: ask.method,
        path: ask.path,
        agent: user.agent,
        headers,
      },
      (res) => {
        res.on('error', () => resolve(0));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * Open model: every user asks at the moments of a Poisson process (`rate` / users per second each) for
 * `seconds`, whether or not its previous answer is in; each latency counts from the due moment.
 */
async function openLoad(
  target: Target,
  users: User[],
  rate: number,
  seconds: number,
  ask: (user: User) => Ask,
  seed: number,
): Promise<Phase> {
  const random = mulberry32(seed);
  const perUserMs = (users.length / rate) * 1000;
  const arrivals: Array<{ at: number; user: User }> = [];
  for (const user of users) {
    for (let at = -Math.log(1 - random()) * perUserMs; at < seconds * 1000; ) {
      arrivals.push({ at, user });
      at += -Math.log(1 - random()) * perUserMs;
    }
  }
  arrivals.sort((a, b) => a.at - b.at);
  const latencies: number[] = [];
  const writeLatencies: number[] = [];
  const lags: number[] = [];
  const answers: Array<Promise<void>> = [];
  let wrong = 0;
  const start = performance.now() + 20;
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      for (let a = arrivals[next]; a && start + a.at <= now; a = arrivals[++next]) {
        const due = start + a.at;
        lags.push(now - due);
        const asked = ask(a.user);
        answers.push(
          send(target, a.user, asked).then((status) => {
            (asked.write ? writeLatencies : latencies).push(performance.now() - due);
            if (!asked.expected.includes(status)) wrong++;
          }),
        );
      }
      const upcoming = arrivals[next];
      if (!upcoming) return done();
      setTimeout(tick, Math.max(0, start + upcoming.at - performance.now()));
    };
    tick();
  });
  await Promise.all(answers);
  const phase = summarise(latencies, lags, wrong, (performance.now() - start) / 1000);
  if (writeLatencies.length === 0) return phase;
  const w = summarise(writeLatencies, [0], 0, 1);
  return { ...phase, writes: { count: w.count, p50: w.p50, p99: w.p99, max: w.max } };
}

/** Closed loop: every user asks again as soon as its answer is in (saturation: throughput). */
async function closedLoad(target: Target, users: User[], seconds: number, next: () => Ask): Promise<Phase> {
  const latencies: number[] = [];
  let wrong = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    users.map(async (user) => {
      while (performance.now() < end) {
        const sent = performance.now();
        const ask = next();
        const status = await send(target, user, ask);
        latencies.push(performance.now() - sent);
        if (!ask.expected.includes(status)) wrong++;
      }
    }),
  );
  return summarise(latencies, [0], wrong, (performance.now() - start) / 1000);
}

function summarise(latencies: number[], lags: number[], wrong: number, seconds: number): Phase {
  const sorted = Float64Array.from(latencies).sort();
  const lagSorted = Float64Array.from(lags).sort();
  const at = (values: Float64Array, q: number) => values[Math.max(0, Math.ceil(q * values.length) - 1)] ?? 0;
  return {
    count: sorted.length,
    wrong,
    p50: at(sorted, 0.5),
    p90: at(sorted, 0.9),
    p99: at(sorted, 0.99),
    max: at(sorted, 1),
    rate: sorted.length / seconds,
    lagP99: at(lagSorted, 0.99),
  };
}

function formatPhase(label: string, p: Phase): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`.padStart(9);
  return (
    `${label.padEnd(22)}${ms(p.p50)}${ms(p.p90)}${ms(p.p99)}${ms(p.max)}` +
    `${String(p.count).padStart(11)}${p.rate.toFixed(0).padStart(7)}${String(p.wrong).padStart(7)}${ms(p.lagP99)}`
  );
}

/** A small seeded PRNG, so every run asks the same mix at the same moments. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
