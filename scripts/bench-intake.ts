/**
 * `npm run bench:intake [-- rows]`: the intake benchmark (not a test). On its own in-memory Temporal dev
 * server and a fresh PostgreSQL database (on TEST_DATABASE_ADMIN_URL's server, dropped afterwards):
 *   1. generates a realistic month (41% Zorg, 20% Huur, 20% Energie, 18% Water, with repeats and residents
 *      reported by several partners) as one CSV file per partner, and streams them to the real HTTP API,
 *      each from a process of its own (the partners' side);
 *      prints the time until every row is committed, rows/s, and the peak memory of the process meanwhile;
 *   2. runs the outbox dispatcher (DISPATCHERS parallel loops) until every signal is handed to its case
 *      with signalWithStart; prints the time and starts/s;
 *   3. baseline: starts the same number of no-op workflows with the plain client at the same concurrency;
 *      prints its rate and the ratio. Goals: acceptance >= 10,000 rows/s; case starts >= 80% of baseline.
 * No worker runs: both sides measure the start path of the same Temporal server.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { registerPartnerRoutes } from '../api/routes/partners/index.js';
import { resolveDependencies } from '../api/server.js';
import { createDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { ensurePartner } from '../db/repositories/intake.js';
import { createPartnerToken } from '../db/repositories/partner-tokens.js';
import { loadConfig } from '../lib/config.js';
import { ensureTemporalCli } from '../lib/temporal-cli.js';
import { startDevServer } from '../lib/temporal-dev-server.js';
import { dispatchPending } from '../worker/dispatcher.js';
import { DEFAULT_POLICY } from '../workflows/policy.js';
import { generateMonth, type PartnerMix } from './lib/month.js';
import { freePort } from './lib/ports.js';
import { progress } from './lib/timing.js';
import { uploadCsvBatch } from './lib/upload.js';

const ROWS = Number(process.argv[2] ?? process.env.BENCH_ROWS ?? 100_000);
const CONCURRENCY = Number(process.env.DISPATCHERS ?? 16);
/**
 * BENCH_SEQUENTIAL=1: the partners' files one after another. By default they arrive at the same time, as
 * they do at the start of a month (each partner uploads its own file; the API takes them side by side).
 */
const SEQUENTIAL = process.env.BENCH_SEQUENTIAL === '1';
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The four partner types of the national mix (the benchmark's figures have always used this month). */
const MIX: PartnerMix = [
  ['Zorg', 0.41],
  ['Huur', 0.2],
  ['Energie', 0.2],
  ['Water', 0.19],
];

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/**
 * CPU time (ms) the PostgreSQL backends of database `name` have used, from /proc (same machine only; 0
 * elsewhere): with the process's own CPU it shows which side of intake is the bottleneck.
 */
async function postgresCpuMs(db: Db, name: string): Promise<number> {
  const { rows } = await sql<{
    pid: number;
  }>`select pid from pg_stat_activity where datname = ${name}`.execute(db);
  let ms = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ms += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // Not on this machine, or the backend has gone.
    }
  }
  return ms;
}
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')} /s`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-intake-'));
  const dbName = `vroeg_bench_${process.pid}`;
  const admin = createDatabase(ADMIN_URL, { max: 1 });
  await sql`create database ${sql.id(dbName)}`.execute(admin);
  const db = createDatabase(ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`), { max: CONCURRENCY + 4 });
  const cli = await ensureTemporalCli((line) => process.stderr.write(`${line}\n`));
  const temporalServer = await startDevServer({ cli, port: await freePort(), uiPort: await freePort() });
  const connection = await Connection.connect({ address: temporalServer.address });
  const client = new Client({ connection });
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  // The partner routes alone (as buildServer registers them), so only intake is measured.
  const api = Fastify();
  await registerPartnerRoutes(
    api,
    resolveDependencies({ db, temporal: client, taskQueue: 'bench', municipality: 'GM1911', config }),
  );
  try {
    await migrateToLatest(db);
    await api.listen({ host: '127.0.0.1', port: 0 });
    const address = api.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;

    process.stdout.write(`Generating ${ROWS.toLocaleString('en-US')} signals ...\n`);
    const files = await generateMonth({ rows: ROWS, dir, mix: MIX });
    const tokens = new Map<string, string>();
    for (const { type } of files) {
      const partnerId = await ensurePartner(db, `Bench ${type}`, type);
      tokens.set(type, (await createPartnerToken(db, partnerId, 'bench')).token);
    }

    // 1. Acceptance, with the process's memory sampled while the CSV streams in.
    global.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 50);
    const pgBefore = await postgresCpuMs(db, dbName);
    const nodeBefore = process.cpuUsage();
    const t0 = performance.now();
    const totals = { accepted: 0, duplicate: 0, rejected: 0 };
    // Progress every 2 s: rows committed so far (the batches' counts grow as chunks commit).
    const acceptProgress = progress(async () => {
      const row = await db
        .selectFrom('signal_batches')
        .select((eb) => eb.fn.sum<string>('received').as('n'))
        .executeTakeFirst();
      const n = Number(row?.n ?? 0);
      return `${n.toLocaleString('en-US')} rows committed, RSS ${mib(process.memoryUsage().rss)}`;
    }, t0);
    const send = async (file: (typeof files)[number]) => {
      const res = await uploadCsvBatch(port, tokens.get(file.type)!, file.path);
      if (res.status !== 202)
        throw new Error(`upload of ${file.type} answered ${res.status}: ${res.body.slice(0, 300)}`);
      const body = JSON.parse(res.body) as typeof totals;
      totals.accepted += body.accepted;
      totals.duplicate += body.duplicate;
      totals.rejected += body.rejected;
    };
    if (SEQUENTIAL) for (const file of files) await send(file);
    else await Promise.all(files.map(send));
    const acceptMs = performance.now() - t0;
    acceptProgress.stop();
    clearInterval(sampler);
    const nodeCpu = process.cpuUsage(nodeBefore);
    const pgCpuMs = (await postgresCpuMs(db, dbName)) - pgBefore;
    const cases = await db
      .selectFrom('signals')
      .select((eb) => eb.fn.count<string>('case_key').distinct().as('n'))
      .executeTakeFirstOrThrow();
    // The acceptance figures now: the case starts below take much longer on a busy machine.
    process.stdout.write(
      `  accepted (committed, ${SEQUENTIAL ? 'files one after another' : 'files at the same time'}) ${(acceptMs / 1000).toFixed(1)} s  ${rate(ROWS, acceptMs)}; peak RSS ${mib(peakRss)}` +
        ` (before ${mib(before.rss)}), peak heap ${mib(peakHeap)}; CPU PostgreSQL ${(pgCpuMs / 1000).toFixed(1)} s,` +
        ` this process ${((nodeCpu.user + nodeCpu.system) / 1e6).toFixed(1)} s\n`,
    );
    // BENCH_ACCEPT_ONLY=1: acceptance alone (while working on intake; the case starts take minutes).
    if (process.env.BENCH_ACCEPT_ONLY === '1') return;
    process.stdout.write('  starting cases ...\n');

    // 2. Case starts through the outbox dispatcher.
    const t1 = performance.now();
    const options = {
      db,
      client,
      taskQueue: 'bench-cases',
      policyFor: () => DEFAULT_POLICY,
      batchSize: 100,
    };
    let handed = 0;
    const dispatchProgress = progress(async () => `${handed.toLocaleString('en-US')} cases started`, t1);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const n = await dispatchPending(options);
          handed += n;
          if (n === 0) return;
        }
      }),
    );
    const dispatchMs = performance.now() - t1;
    dispatchProgress.stop();
    const left = await db
      .selectFrom('signals')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('dispatched_at', 'is', null)
      .executeTakeFirstOrThrow();

    // 3. Baseline: the same number of plain workflow starts at the same concurrency.
    process.stdout.write(`  baseline: ${handed.toLocaleString('en-US')} no-op workflow starts ...\n`);
    const t2 = performance.now();
    let next = 0;
    let done = 0;
    const baselineProgress = progress(async () => `${done.toLocaleString('en-US')} no-op starts`, t2);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < handed) {
          next += 1;
          await client.workflow.start('noop', {
            taskQueue: 'bench-noop',
            workflowId: `noop-${randomUUID()}`,
            args: [],
          });
          done += 1;
        }
      }),
    );
    const baselineMs = performance.now() - t2;
    baselineProgress.stop();
    const caseRate = handed / dispatchMs;
    const baseRate = handed / baselineMs;

    const lines = [
      '',
      `Intake benchmark: ${ROWS.toLocaleString('en-US')} signals in ${files.length} CSV batches (${files
        .map((f) => `${f.type} ${f.rows}`)
        .join(', ')}), ${SEQUENTIAL ? 'one after another' : 'sent at the same time'}`,
      `  accepted (committed)  ${(acceptMs / 1000).toFixed(1)} s  ${rate(ROWS, acceptMs)}  ` +
        `(new ${totals.accepted}, duplicate ${totals.duplicate}, rejected ${totals.rejected}; ${cases.n} cases)`,
      `  memory while streaming: peak RSS ${mib(peakRss)} (before ${mib(before.rss)}), peak heap ${mib(peakHeap)}`,
      `  CPU while accepting: PostgreSQL ${(pgCpuMs / 1000).toFixed(1)} s, this process (API and upload) ${(
        (nodeCpu.user + nodeCpu.system) / 1e6
      ).toFixed(1)} s`,
      `  cases started         ${(dispatchMs / 1000).toFixed(1)} s  ${rate(handed, dispatchMs)}  ` +
        `(${handed} signalWithStart, ${CONCURRENCY} dispatchers, ${left.n} left)`,
      `  baseline (no-op starts) ${(baselineMs / 1000).toFixed(1)} s  ${rate(handed, baselineMs)}`,
      `  ratio case starts / baseline: ${((caseRate / baseRate) * 100).toFixed(0)}%  (goal >= 80%)`,
      `  acceptance goal >= 10,000 rows/s: ${ROWS / (acceptMs / 1000) >= 10_000 ? 'met' : 'NOT met'}`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await api.close();
    await connection.close();
    await temporalServer.stop();
    await db.destroy();
    await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin);
    await admin.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
