/**
 * `npm run bench:month [-- rows] [--open n] [--minutes m]`: how soon every resident of a month's signals
 * has their first letter, on the system as `npm start` runs it (a measurement, not a test):
 *   1. generates the month (default 20,000 rows, the mix of `npm run soak`: five partners, 4% with a wrong
 *      field, 2% re-sent, repeats, residents reported by several partners); runs `npm start` on a fresh
 *      DATA_DIR with free ports; makes each partner and its token with `npm run admin`;
 *   2. with `--open n`: first posts n rows of distinct residents (batches of one partner) and waits until
 *      their cases have their first letter (they then wait on timers), and prints the app's RSS with them;
 *   3. posts the month's five files at the same time and follows accepted, handed over, cases and first
 *      letters until every case has done its first step (first letter, or ended as not picked up);
 *   4. samples ~50 case histories (events and activities before the first timer);
 *   5. the baseline in the same run: as many empty workflows as the month made cases, run by a worker of
 *      the case worker's options in this process against the same dev server;
 *   6. stops everything it started, removes the temporary folder, prints the figures, each goal of issue 16
 *      with met / NOT met, and a last `MONTH-BENCH ...` line for scripts.
 * Every wait is bounded by the overall limit (`--minutes`, default 40); what was reached is printed when it
 * hits. Exit code 0 also when a goal is missed. All traffic goes to 127.0.0.1. BENCH_KEEP=1 keeps the folder.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Db } from '../db/database.js';
import { encryptingDataConverter, loadPayloadKey } from '../lib/payload-codec.js';
import { runBaseline } from './lib/baseline.js';
import { type HistoryShape, sampleHistories } from './lib/case-histories.js';
import {
  caseFirstSteps,
  lastStart,
  type PipelineCounts,
  pipelineCounts,
  sampleLetterCases,
} from './lib/first-letters.js';
import { generateMonth, MONTH_MIX, MONTH_PARTNER_NAMES, type MonthFile } from './lib/month.js';
import { formatMonthReport, int, mb, monthFigures, seconds } from './lib/month-report.js';
import { generateOpenCases } from './lib/open-cases.js';
import { type Probe, startProbe } from './lib/probe.js';
import { RssSampler, type SystemCpu, systemCpu, systemParts } from './lib/process-usage.js';
import { type ProcessInfo, treeOf } from './lib/processes.js';
import { openSystemDatabase } from './lib/signal-counts.js';
import {
  appProcessOf,
  createPartnerTokens,
  embeddedEnvironment,
  type NpmStart,
  type SystemEnvironment,
  startNpmStart,
  stopRun,
  untilHealthy,
} from './lib/system.js';
import { LatencyLog, sleep, within } from './lib/timing.js';
import { type BatchOutcome, postCsvBatch } from './lib/upload.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Time limits (ms) of the waits that have one of their own; all are also bounded by the overall limit. */
const LIMITS = {
  firstStart: 300_000,
  admin: 120_000,
  /** Kept for the baseline at the end of the overall limit (it measures what completed when cut). */
  baselineReserve: 5 * 60_000,
  /** Everything handed over and every case done but signals without a case: given up after this long. */
  unassignedStall: 60_000,
  /** Everything handed over and in its case, yet some cases never finish their first step: given up after this long. */
  casesStall: 180_000,
  stop: 60_000,
};

/** Case histories sampled. */
const HISTORY_SAMPLE = 50;

interface Arguments {
  rows: number;
  open: number;
  minutes: number;
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = { rows: 20_000, open: 0, minutes: 40 };
  const number = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be a whole number >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--open') parsed.open = number('--open', argv[++i], 0);
    else if (arg === '--minutes') parsed.minutes = number('--minutes', argv[++i], 1);
    else if (/^\d+$/.test(arg)) parsed.rows = number('rows', arg, 100);
    else throw new Error(`unknown argument ${arg}; usage: bench:month [-- rows] [--open n] [--minutes m]`);
  }
  return parsed;
}

const out = (line = '') => process.stdout.write(`${line}\n`);

/** One run: what it started (to stop it all at the end) and what it measured. */
class Bench {
  readonly started: NpmStart[] = [];
  readonly known: ProcessInfo[] = [];
  db: Db | null = null;
  rss: RssSampler | null = null;
  health: Probe | null = null;
  readonly healthLog = new LatencyLog();
  uploads5xx = 0;
  private cleaned: Promise<void> | null = null;

  constructor(
    readonly system: SystemEnvironment,
    readonly work: string,
    /** `performance.now()` at which every wait ends. */
    readonly deadline: number,
  ) {}

  get serverErrors(): number {
    return this.uploads5xx + this.healthLog.serverErrors;
  }

  left(): number {
    return this.deadline - performance.now();
  }

  /** Stops the probe, npm start (Ctrl-C) and what it left; removes the folder. Once. */
  cleanup(): Promise<void> {
    this.cleaned ??= (async () => {
      this.rss?.stop();
      await this.health?.stop();
      await this.db?.destroy().catch(() => {});
      this.db = null;
      await stopRun(this.started, this.known, this.system.dataDir, LIMITS.stop, out);
      if (process.env.BENCH_KEEP === '1') out(`  kept ${this.work}`);
      else rmSync(this.work, { recursive: true, force: true });
    })();
    return this.cleaned;
  }
}

/** `npm start` until it runs and /health answers 200; the app's pid, the dev server's address, the tokens. */
async function startSystem(bench: Bench, files: readonly MonthFile[]) {
  const { system } = bench;
  out(`Starting npm start (DATA_DIR ${system.dataDir}, API ${system.apiUrl}) ...`);
  const start = startNpmStart(REPO, system.env, join(bench.work, 'npm-start.log'));
  bench.started.push(start);
  const healthy = await untilHealthy(start, system.apiUrl, Math.min(LIMITS.firstStart, bench.left()));
  bench.known.push(...treeOf(start.pid));
  const app = appProcessOf(start.pid, system.dataDir);
  if (!app) throw new Error('found no application process (<DATA_DIR>/start.pid) below npm start');
  // The address npm start prints ("Temporal server   127.0.0.1:7233").
  const printed = /Temporal server\s+(\S+:\d+)/.exec(start.tail(200))?.[1];
  const temporalAddress = printed ?? `127.0.0.1:${system.ports.temporal}`;
  const parts = systemParts(app.pid, system.dataDir);
  out(
    `  running, healthy ${seconds(healthy)} after npm start; app pid ${app.pid}, Temporal ${temporalAddress}; ` +
      `processes: Temporal ${parts.temporal}, PostgreSQL ${parts.postgres}, Node ${parts.node}`,
  );
  bench.db = await openSystemDatabase(system.env);
  const partners = files.map(({ type }) => ({ type, name: MONTH_PARTNER_NAMES[type] ?? `Partner ${type}` }));
  const byName = await createPartnerTokens(REPO, system.env, partners, LIMITS.admin);
  const tokens = new Map(partners.map(({ type, name }) => [type, byName.get(name)!]));
  out(`  ${tokens.size} partner organisations with a token each (npm run admin)`);
  bench.rss = new RssSampler(app.pid);
  bench.health = startProbe({
    log: bench.healthLog,
    everyMs: 1_000,
    request: async (signal) => {
      const res = await fetch(`${system.apiUrl}/health`, { signal });
      await res.arrayBuffer();
      return res.status;
    },
  });
  return { appPid: app.pid, temporalAddress, tokens };
}

/** A progress line: accepted, handed over, cases, first steps, the app's RSS. */
function progressLine(
  since: number,
  label: string,
  c: PipelineCounts | null,
  bench: Bench,
  extra = '',
): string {
  const counts = c
    ? `accepted ${int(c.stored)}, handed over ${int(c.handedOver)}, cases ${int(c.cases)}, ` +
      `first letters ${int(c.firstLetters)} (first steps done ${int(c.firstSteps)})`
    : 'database did not answer';
  const rss = bench.rss?.latest ? `; app RSS ${mb(bench.rss.latest)} MB` : '';
  return `  ${((performance.now() - since) / 1000).toFixed(0).padStart(5)} s ${label}: ${counts}${extra}${rss}`;
}

/** Where a wait for the pipeline ended. */
interface PipelineWait {
  /** ms from `since` until every signal was handed over and recorded by its case (null: not reached). */
  allStartedMs: number | null;
  /** ms from `since` until every case had done its first step (null: not reached). */
  allDoneMs: number | null;
  last: PipelineCounts | null;
  note: string | null;
}

/**
 * Follows the signals received since `sinceWall` until every one is handed over and in its case and every
 * case has done its first step; `delivered()` says whether every batch has been answered (before that the
 * counts may still grow). Prints a progress line every 5 s; ends at `until` (performance.now()).
 */
async function followPipeline(
  bench: Bench,
  sinceWall: Date,
  since: number,
  label: string,
  delivered: () => boolean,
  until: number,
  describeExtra: () => string = () => '',
): Promise<PipelineWait> {
  const wait: PipelineWait = { allStartedMs: null, allDoneMs: null, last: null, note: null };
  let lastPrint = performance.now();
  let stalledSince: number | null = null;
  // The last counts that changed and when; nothing moving for `LIMITS.casesStall` ends the wait.
  let moved = { key: '', at: performance.now() };
  for (;;) {
    const c = await pipelineCounts(bench.db!, sinceWall);
    if (c) wait.last = c;
    const now = performance.now();
    if (now - lastPrint >= 5_000) {
      out(progressLine(since, label, wait.last, bench, describeExtra()));
      lastPrint = now;
    }
    if (c && delivered() && c.stored > 0 && c.handedOver >= c.stored) {
      if (c.unassigned === 0) {
        wait.allStartedMs ??= now - since;
        if (c.firstSteps >= c.cases) {
          wait.allDoneMs = now - since;
          return wait;
        }
        stalledSince = null;
        const key = `${c.cases}/${c.firstSteps}`;
        if (key !== moved.key) moved = { key, at: now };
        else if (now - moved.at > LIMITS.casesStall) {
          wait.note = `${int(c.cases - c.firstSteps)} cases did not finish their first step (nothing moved for ${seconds(now - moved.at)})`;
          return wait;
        }
      } else if (c.firstSteps >= c.cases) {
        // Every case done, everything handed over, yet signals without a case: wait a while, then say so.
        stalledSince ??= now;
        if (now - stalledSince > LIMITS.unassignedStall) {
          wait.note = `${int(c.unassigned)} handed-over signals never reached a case`;
          wait.allDoneMs = stalledSince - since;
          return wait;
        }
      } else stalledSince = null;
    }
    if (now >= until) {
      wait.note = `time limit reached after ${seconds(now - since)}`;
      out(progressLine(since, `${label}, limit`, wait.last, bench));
      return wait;
    }
    await sleep(1_000);
  }
}

/** Step 2: `n` open cases waiting on timers; the app's RSS with them. */
async function fillOpenCases(bench: Bench, n: number, token: string, type: string) {
  const dir = join(bench.work, 'open');
  mkdirSync(dir);
  const files = await generateOpenCases({ rows: n, dir, type });
  out(`Filling the system with ${int(n)} open cases (${files.length} batches of distinct residents) ...`);
  const sinceWall = new Date();
  const since = performance.now();
  let posted = 0;
  const outcomes: BatchOutcome<MonthFile>[] = [];
  const posting = (async () => {
    for (const file of files) {
      if (bench.left() <= 0) break;
      const outcome = await postCsvBatch(bench.system.ports.http, token, file, since);
      if ((outcome.status ?? 0) >= 500) bench.uploads5xx += 1;
      outcomes.push(outcome);
      posted += 1;
    }
  })();
  const until = bench.deadline - LIMITS.baselineReserve;
  const wait = await followPipeline(
    bench,
    sinceWall,
    since,
    'open cases',
    () => posted === files.length,
    until,
    () => `; ${posted}/${files.length} batches posted`,
  );
  await posting;
  const refused = outcomes.filter((o) => o.status !== 202);
  for (const o of refused) out(`  open batch ${o.file.path}: ${o.status ?? 'no answer'} ${o.error ?? ''}`);
  await sleep(3_000);
  const rss = bench.rss!.sample() ?? 0;
  const done = wait.last?.firstLetters ?? 0;
  out(
    `  ${int(done)} open cases with their first letter after ${seconds(performance.now() - since)}` +
      `${wait.note ? ` (${wait.note})` : ''}; app RSS with them ${mb(rss)} MB (peak while filling ${mb(bench.rss!.peak)} MB)`,
  );
  return { rss, open: done, complete: wait.allDoneMs !== null };
}

function cpuDelta(before: SystemCpu, after: SystemCpu): SystemCpu {
  return {
    temporal: after.temporal - before.temporal,
    postgres: after.postgres - before.postgres,
    node: after.node - before.node,
  };
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  // The baseline worker runs in this process: its log only when something is wrong.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const work = mkdtempSync(join(tmpdir(), 'bench-month-'));
  // mkdtemp makes it 0700; run as root, the embedded PostgreSQL runs as user postgres and must reach its folder.
  chmodSync(work, 0o755);
  const bench = new Bench(
    await embeddedEnvironment(join(work, 'data')),
    work,
    performance.now() + args.minutes * 60_000,
  );
  // Every Ctrl-C (a terminal, or tsx passing one on) leads to the one clean-up: nothing it started stays.
  process.on('SIGINT', () => {
    out('\ninterrupted: stopping what the benchmark started ...');
    void bench.cleanup().finally(() => process.exit(130));
  });
  let report: string;
  try {
    report = await run(bench, args);
  } finally {
    out('Stopping (Ctrl-C to npm start) ...');
    await bench.cleanup();
  }
  out(report);
}

/** Steps 1 to 5; returns the report (printed once everything is stopped). */
async function run(bench: Bench, args: Arguments): Promise<string> {
  // 1. The month and the system.
  const monthDir = join(bench.work, 'month');
  mkdirSync(monthDir);
  out(`Month benchmark: ${int(args.rows)} rows from ${MONTH_MIX.length} partners; limit ${args.minutes} min`);
  const files = await generateMonth({
    rows: args.rows,
    dir: monthDir,
    mix: MONTH_MIX,
    badEvery: 25,
    resentEvery: 50,
    validPostcodes: true,
  });
  const bad = files.reduce((n, f) => n + f.bad, 0);
  const resent = files.reduce((n, f) => n + f.resent, 0);
  out(
    `  ${files.map((f) => `${f.type} ${int(f.rows)}`).join(', ')}; ${int(bad)} with a wrong field, ${int(resent)} re-sent`,
  );
  const { appPid, temporalAddress, tokens } = await startSystem(bench, files);
  const dataConverter = encryptingDataConverter(
    loadPayloadKey(undefined, join(bench.system.dataDir, 'payload-key')),
  );

  // 2. Open cases first.
  let openRss: { rss: number; open: number; complete: boolean } | null = null;
  if (args.open > 0) {
    const [type] = MONTH_MIX[0]!;
    openRss = await fillOpenCases(bench, args.open, tokens.get(type)!, type);
  }

  // 3. The month, all partners at once.
  bench.rss!.resetPeak();
  const cpuBefore = systemCpu(appPid, bench.system.dataDir);
  const firstPostWall = Date.now();
  const firstPost = performance.now();
  let answered = 0;
  out(`Posting ${files.length} CSV batches at the same time (progress every 5 s) ...`);
  const deliveries = Promise.all(
    files.map(async (file) => {
      const outcome = await postCsvBatch(bench.system.ports.http, tokens.get(file.type)!, file, firstPost);
      answered += 1;
      if ((outcome.status ?? 0) >= 500) bench.uploads5xx += 1;
      return outcome;
    }),
  );
  const wait = await followPipeline(
    bench,
    new Date(firstPostWall),
    firstPost,
    'month',
    () => answered === files.length,
    bench.deadline - LIMITS.baselineReserve,
    () => `; ${answered}/${files.length} batches answered`,
  );
  const cpu = cpuDelta(cpuBefore, systemCpu(appPid, bench.system.dataDir));
  const monthMs = performance.now() - firstPost;
  const peakRss = bench.rss!.peak;
  // An upload still unanswered at the limit is reported as such.
  const batches =
    (await within(deliveries, 60_000, null)) ??
    files.map(
      (file): BatchOutcome<MonthFile> => ({
        file,
        status: null,
        answeredAfter: null,
        counts: null,
        error: 'no answer in time',
      }),
    );
  if (wait.note) out(`  ${wait.note}`);

  const steps = await caseFirstSteps(bench.db!, new Date(firstPostWall));
  const figures = monthFigures(steps, firstPostWall);
  // Seen by the 1 s polls; the moment itself from the database.
  const startedAt = wait.allStartedMs === null ? null : await lastStart(bench.db!, new Date(firstPostWall));
  const allStartedMs = startedAt === null ? null : startedAt.getTime() - firstPostWall;

  // 4. Case histories.
  const connection = await Connection.connect({ address: temporalAddress });
  let shapes: HistoryShape[] = [];
  try {
    const client = new Client({ connection, namespace: bench.system.env.TEMPORAL_NAMESPACE ?? 'default' });
    const ids = await sampleLetterCases(bench.db!, new Date(firstPostWall), HISTORY_SAMPLE);
    shapes = (await within(sampleHistories(client, ids), 120_000, null)) ?? [];
  } finally {
    await connection.close();
  }

  // 5. The baseline: as many empty workflows as the month made cases.
  const count = figures.cases;
  out(
    `Baseline: ${int(count)} empty workflows, 32 in flight, a worker with CASE_WORKER_TUNING in this process ...`,
  );
  const baselineSince = performance.now();
  const baseline =
    count > 0 && bench.left() > 0
      ? await runBaseline({
          address: temporalAddress,
          namespace: bench.system.env.TEMPORAL_NAMESPACE ?? 'default',
          dataConverter,
          count,
          deadline: bench.deadline,
          onProgress: (completed, elapsed) =>
            out(
              `  ${(elapsed / 1000).toFixed(0).padStart(5)} s baseline: ${int(completed)} of ${int(count)} completed`,
            ),
        })
      : null;
  if (baseline?.cut) out(`  time limit reached after ${seconds(performance.now() - baselineSince)}`);

  return formatMonthReport({
    rows: args.rows,
    batches,
    wait,
    allStartedMs,
    figures,
    shapes,
    cpu,
    monthMs,
    peakRss,
    openRss,
    baseline,
    uploads5xx: bench.uploads5xx,
    health: bench.healthLog,
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench:month failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
