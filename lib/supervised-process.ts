/**
 * Child servers of `npm start` (PostgreSQL, the Temporal dev server) that never outlive their parent:
 * - each runs in a process group of its own, so a Ctrl-C in the terminal reaches only the app, which then
 *   stops its children in order (worker first, database last);
 * - on Linux each is started through util-linux's `setpriv --pdeathsig`, so the kernel signals it when
 *   the app dies, also by kill -9;
 * - each records its pid in a file under DATA_DIR, so the next start finds a leftover that escaped both
 *   (`setpriv` missing, say) and stops it, but only after checking that the pid's command line is that
 *   server's on this data folder: a process it did not start is never touched.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';

export interface SupervisedOptions {
  command: string;
  args: string[];
  /** Where the pid is recorded, for `stopLeftover` at the next start. */
  pidFile?: string;
  /** The signal the kernel sends the child when this process dies (its fast, clean shutdown). */
  deathSignal: NodeJS.Signals;
  /** Runs the child as this user (PostgreSQL refuses to run as root). */
  runAs?: { uid: number; gid: number };
  env?: NodeJS.ProcessEnv;
  /** Each line the child writes to stdout or stderr. */
  onOutput?: (line: string) => void;
  /** A CPU priority below the app's (nice 1..19): background work that must not slow pages down. */
  nice?: number;
}

export interface Supervised {
  child: ChildProcess;
  /** The exit code (or -1 for a signal) once it has exited, else null. */
  exitCode(): number | null;
  /** The last 2,000 characters of its output, for error messages. */
  tail(): string;
  exited: Promise<void>;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILL; resolves once it has exited. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

let setprivPath: string | null | undefined;

/** util-linux's setpriv, when this is Linux and it is installed. */
function setpriv(): string | null {
  if (setprivPath === undefined) {
    const found = process.platform === 'linux' ? spawnSync('sh', ['-c', 'command -v setpriv']) : null;
    setprivPath = found?.status === 0 ? found.stdout.toString().trim() || null : null;
  }
  return setprivPath;
}

/** Starts `command` as a supervised child (see the module comment). */
export function spawnSupervised(options: SupervisedOptions): Supervised {
  const wrapper = setpriv();
  let command = options.command;
  let args = options.args;
  let ids: { uid?: number; gid?: number } = options.runAs ?? {};
  if (wrapper) {
    // setpriv switches the user first: a change of credentials clears the death signal, so it is set last.
    const as = options.runAs
      ? ['--reuid', String(options.runAs.uid), '--regid', String(options.runAs.gid), '--init-groups']
      : [];
    args = [...as, '--pdeathsig', options.deathSignal, '--', command, ...args];
    command = wrapper;
    ids = {};
  }
  const child = spawn(command, args, {
    ...ids,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let code: number | null = null;
  let tail = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-2000);
    for (const line of text.split('\n')) if (line.trim()) options.onOutput?.(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (exitCode) => {
      code = exitCode ?? -1;
      if (options.pidFile) rmSync(options.pidFile, { force: true });
      resolve();
    });
    child.once('error', (err) => {
      code = -1;
      tail += `\n${err.message}`;
      resolve();
    });
  });
  if (options.nice && child.pid !== undefined) {
    try {
      os.setPriority(child.pid, options.nice);
    } catch {
      // Not allowed here: it runs at the app's priority, which is only slower for pages under load.
    }
  }
  if (options.pidFile && child.pid !== undefined) {
    mkdirSync(dirname(options.pidFile), { recursive: true });
    writeFileSync(options.pidFile, `${child.pid}\n`);
  }
  return {
    child,
    exitCode: () => code,
    tail: () => tail,
    exited,
    async stop(signal, graceMs) {
      if (code !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The command line of a running process, or null when there is none with that pid. */
export function commandLineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    try {
      process.kill(pid, 0);
      return ''; // alive, but no /proc here: unknown command line, so never ours to stop
    } catch {
      return null;
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops a leftover of an earlier start: the pid on the first line of `pidFile`, if that process still runs
 * and its command line contains every one of `marks` (the server's binary name and this data folder).
 * Returns the pid it stopped, or null. Never signals a process whose command line does not match.
 */
export async function stopLeftover(
  pidFile: string,
  marks: string[],
  signal: NodeJS.Signals,
  graceMs = 10_000,
): Promise<number | null> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1) return null;
  const commandLine = commandLineOf(pid);
  if (!commandLine || !marks.every((mark) => commandLine.includes(mark))) return null;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  return pid;
}
