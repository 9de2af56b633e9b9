/**
 * The system as a user runs it: `npm start` on its embedded defaults (fresh DATA_DIR, free ports), the
 * `npm run admin` commands beside it, and the processes that belong to one data folder. Only processes
 * started here are ever signalled.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './ports.js';
import {
  environmentValue,
  listProcesses,
  outputOf,
  type ProcessInfo,
  stillRunning,
  treeOf,
} from './processes.js';
import { type LatencyLog, sleep, within } from './timing.js';

/** The ports of one system. */
export interface SystemPorts {
  http: number;
  temporal: number;
  temporalUi: number;
  database: number;
  smtp: number;
}

/** The environment of `npm start` and `npm run admin` for one system. */
export interface SystemEnvironment {
  env: NodeJS.ProcessEnv;
  ports: SystemPorts;
  /** Absolute; every embedded server keeps its data below it. */
  dataDir: string;
  apiUrl: string;
}

/** Variables that would point the system at servers of its own instead of the embedded ones. */
const EXTERNAL = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'SMTP_URL', 'PRINT_OUTBOX_DIR'];

/** `npm start`'s defaults with `dataDir` (absolute) and free ports, so a run shares nothing with another. */
export async function embeddedEnvironment(dataDir: string): Promise<SystemEnvironment> {
  const [http, temporal, temporalUi, database, smtp] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of EXTERNAL) delete env[name];
  Object.assign(env, {
    DATA_DIR: dataDir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(http),
    TEMPORAL_DEV_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(temporalUi),
    EMBEDDED_DB_PORT: String(database),
    DEMO_SMTP_PORT: String(smtp),
    // The load comes from one address here but stands for many caseworkers and partners at their own: the
    // per-address limits (api/security.ts) would answer 429 and hide the latency being measured.
    LOGIN_RATE_LIMIT: '100000',
    PARTNER_RATE_LIMIT: '100000',
  });
  return {
    env,
    ports: { http, temporal, temporalUi, database, smtp },
    dataDir,
    apiUrl: `http://127.0.0.1:${http}`,
  };
}

/** A running `npm start`. */
export interface NpmStart {
  /** npm's pid; it leads a process group of its own (as a terminal's foreground job would). */
  pid: number;
  /** `performance.now()` at the spawn. */
  startedAt: number;
  /** Resolves once it printed "is running"; rejects if it ends first. */
  running: Promise<void>;
  /** Resolves when npm has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** The last lines of its output (for error messages). */
  tail(lines?: number): string;
  /** Ctrl-C: SIGINT to its process group; resolves true once npm exited within `graceMs`. */
  interrupt(graceMs: number): Promise<boolean>;
}

/** Runs `npm start` in `cwd` with `env`; its output goes to `logFile`. */
export function startNpmStart(cwd: string, env: NodeJS.ProcessEnv, logFile: string): NpmStart {
  const log = createWriteStream(logFile);
  const child = spawn('npm', ['start'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const startedAt = performance.now();
  const lines: string[] = [];
  let done = false;
  let announced!: () => void;
  let failed!: (err: Error) => void;
  const running = new Promise<void>((resolve, reject) => {
    announced = resolve;
    failed = reject;
  });
  // A caller that stops waiting for `running` must not leave an unhandled rejection behind.
  running.catch(() => {});
  // Each stream's unfinished last line waits for the rest of it.
  const onOutput = () => {
    let pending = '';
    return (chunk: Buffer) => {
      log.write(chunk);
      const parts = (pending + chunk.toString()).split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        lines.push(line);
        if (lines.length > 200) lines.shift();
        if (line.includes('is running')) announced();
      }
    };
  };
  child.stdout.on('data', onOutput());
  child.stderr.on('data', onOutput());
  child.once('close', () => log.end());
  // 'exit', not 'close': a leftover that inherited npm's output would hold 'close' back.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      failed(new Error(`npm start ended (${signal ?? `code ${code}`}) before it was running`));
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      done = true;
      failed(err);
      resolve({ code: null, signal: null });
    });
  });
  if (child.pid === undefined) throw new Error('npm start could not be spawned');
  const pid = child.pid;
  return {
    pid,
    startedAt,
    running,
    exited,
    hasExited: () => done,
    tail: (n = 40) => lines.slice(-n).join('\n'),
    async interrupt(graceMs) {
      if (done) return true;
      try {
        process.kill(-pid, 'SIGINT');
      } catch {
        return done; // the group has gone already
      }
      return within(
        exited.then(() => true),
        graceMs,
        false,
      );
    },
  };
}

/**
 * Polls GET /health every 100 ms until it answers 200; resolves with the ms since `since`, or null after
 * `timeoutMs` or once `givenUp()` says the server will not come (its process ended). Answers go to `log`.
 */
export async function waitForHealth(
  apiUrl: string,
  since: number,
  timeoutMs: number,
  givenUp: () => boolean = () => false,
  log?: LatencyLog,
): Promise<number | null> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline && !givenUp()) {
    const asked = performance.now();
    try {
      const res = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      log?.add(performance.now() - asked, res.status);
      if (res.status === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  return null;
}

/**
 * Waits until `start` printed "is running" and /health answers 200 (within `timeoutMs` of its spawn);
 * resolves with the ms since the spawn, or throws with its last output.
 */
export async function untilHealthy(start: NpmStart, apiUrl: string, timeoutMs: number): Promise<number> {
  try {
    const wait = timeoutMs - (performance.now() - start.startedAt);
    const announced = await within(
      start.running.then(() => true),
      wait,
      false,
    );
    if (!announced) throw new Error(`npm start printed no "is running" within ${timeoutMs / 1000} s`);
    const healthy = await waitForHealth(apiUrl, start.startedAt, timeoutMs, () => start.hasExited());
    if (healthy === null)
      throw new Error(`/health did not answer 200 within ${timeoutMs / 1000} s of npm start`);
    return healthy;
  } catch (err) {
    throw new Error(`${(err as Error).message}; the last output of npm start:\n${start.tail()}`);
  }
}

/** `npm run admin -- <args>` with the system's environment (it reaches the running embedded database); its stdout. */
export function runAdmin(
  cwd: string,
  env: NodeJS.ProcessEnv,
  args: string[],
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'admin', '--', ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = outputOf(child);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output.out());
      else
        reject(
          new Error(
            `npm run admin -- ${args.join(' ')}: ${signal ?? `code ${code}`}: ${output.err().trim().slice(-600)}`,
          ),
        );
    });
  });
}

/** Makes each partner organisation and a token for it with `npm run admin`; returns the tokens by name. */
export async function createPartnerTokens(
  cwd: string,
  env: NodeJS.ProcessEnv,
  partners: ReadonlyArray<{ name: string; type: string }>,
  timeoutMs = 120_000,
): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const { name, type } of partners) {
    await runAdmin(cwd, env, ['partner:add', name, type], timeoutMs);
    const printed = await runAdmin(cwd, env, ['token:create', name], timeoutMs);
    const token = /\bvsp_[A-Za-z0-9_-]+/.exec(printed)?.[0];
    if (!token) throw new Error(`token:create printed no token for ${name}`);
    tokens.set(name, token);
  }
  return tokens;
}

/**
 * The application process of a running `npm start` (the node process that runs bin/start.ts): the pid in
 * `<DATA_DIR>/start.pid` when it is below `npmPid`, else the innermost process below it whose command line
 * runs bin/start.ts with this DATA_DIR.
 */
export function appProcessOf(npmPid: number, dataDir: string): ProcessInfo | null {
  const tree = treeOf(npmPid);
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, 'start.pid'), 'utf8'), 10);
    const found = tree.find((p) => p.pid === pid);
    if (found) return found;
  } catch {
    // No pid file (yet): look at the command lines.
  }
  const candidates = tree.filter(
    (p) => p.commandLine.includes('bin/start.ts') && environmentValue(p.pid, 'DATA_DIR') === dataDir,
  );
  return candidates.find((c) => !candidates.some((o) => o.ppid === c.pid)) ?? null;
}

/**
 * The processes of `known` that still run, and every process whose command line names `dataDir` (the
 * embedded servers: `postgres -D <DATA_DIR>/...`, `temporal ... <DATA_DIR>/temporal/...`).
 */
export function processesLeft(known: readonly ProcessInfo[], dataDir: string): ProcessInfo[] {
  const left = new Map<number, ProcessInfo>();
  for (const p of known) if (stillRunning(p)) left.set(p.pid, p);
  for (const p of listProcesses()) {
    if (p.pid !== process.pid && p.commandLine.includes(dataDir) && !left.has(p.pid)) left.set(p.pid, p);
  }
  return [...left.values()];
}

/**
 * Stops what a run left behind (`processesLeft` of what it started): SIGINT (PostgreSQL's fast shutdown,
 * the others' clean one), SIGKILL after `graceMs`. Returns how many had to be killed.
 */
export async function stopLeftovers(
  known: readonly ProcessInfo[],
  dataDir: string,
  graceMs = 10_000,
): Promise<number> {
  const send = (p: ProcessInfo, signal: NodeJS.Signals) => {
    try {
      process.kill(p.pid, signal);
    } catch {
      // Gone meanwhile.
    }
  };
  const left = processesLeft(known, dataDir);
  for (const p of left) send(p, 'SIGINT');
  const deadline = performance.now() + graceMs;
  while (left.some(stillRunning) && performance.now() < deadline) await sleep(100);
  const stubborn = left.filter(stillRunning);
  for (const p of stubborn) send(p, 'SIGKILL');
  return stubborn.length;
}

/**
 * Stops the `npm start`s of a run with Ctrl-C (each within `stopMs`), then whatever of the run is left
 * (`known` and the processes on `dataDir`), saying so through `out`.
 */
export async function stopRun(
  started: readonly NpmStart[],
  known: ProcessInfo[],
  dataDir: string,
  stopMs: number,
  out: (line: string) => void,
): Promise<void> {
  for (const start of started) {
    if (start.hasExited()) continue;
    known.push(...treeOf(start.pid));
    if (!(await start.interrupt(stopMs))) out(`  npm start (pid ${start.pid}) did not stop in time`);
  }
  const killed = await stopLeftovers(known, dataDir);
  if (killed > 0) out(`  ${killed} processes of this run had to be killed at the end`);
}
