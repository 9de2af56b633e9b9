/**
 * Memory and CPU of a running system from /proc (Linux): the resident set of one process, sampled every
 * second, and the CPU seconds of the Temporal dev server, PostgreSQL and the Node application, each as a
 * process tree.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { listProcesses, type ProcessInfo, treeOf } from './processes.js';

/** VmRSS of `pid` in bytes, or null once it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/** The resident set of one process, read every `everyMs`: the latest value and the peak since `resetPeak`. */
export class RssSampler {
  latest: number | null = null;
  peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    everyMs = 1_000,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  /** Reads it now (also between the timer's samples). */
  sample(): number | null {
    this.latest = rssBytes(this.pid);
    if (this.latest !== null) this.peak = Math.max(this.peak, this.latest);
    return this.latest;
  }

  /** Starts a new peak from the current value. */
  resetPeak(): void {
    this.peak = 0;
    this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds of `pid` and of its children that ended and were waited for (utime, stime, cutime, cstime):
 * summed over a tree's living processes, this keeps the time of PostgreSQL backends that ended meanwhile.
 */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name; index 0 is field 3 (state), so utime (field 14) is index 11.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return ticks / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** CPU seconds so far of the three parts of a system. */
export interface SystemCpu {
  temporal: number;
  postgres: number;
  node: number;
}

/** Which processes below the application are which server (by the data folder in their command lines). */
function partsOf(appPid: number, dataDir: string) {
  const list = listProcesses();
  // treeOf lists breadth first: the first process that names a server's folder is that server's root.
  const tree = treeOf(appPid, list);
  const temporalRoot = tree.find((p) => p.commandLine.includes(`${dataDir}/temporal`));
  const postgresRoot = tree.find((p) => p.commandLine.includes(`${dataDir}/postgres`));
  const temporal = temporalRoot ? treeOf(temporalRoot.pid, list) : [];
  const postgres = postgresRoot ? treeOf(postgresRoot.pid, list) : [];
  const servers = new Set([...temporal, ...postgres].map((p) => p.pid));
  return { temporal, postgres, node: tree.filter((p) => !servers.has(p.pid)) };
}

/**
 * The CPU seconds used so far by the Temporal dev server, PostgreSQL (postmaster and its children) and the
 * Node application (the rest of `appPid`'s tree), each summed over its process tree as it is now.
 */
export function systemCpu(appPid: number, dataDir: string): SystemCpu {
  const parts = partsOf(appPid, dataDir);
  const sum = (tree: ProcessInfo[]) => tree.reduce((s, p) => s + cpuSeconds(p.pid), 0);
  return { temporal: sum(parts.temporal), postgres: sum(parts.postgres), node: sum(parts.node) };
}

/** How many processes each part has now (to show what was measured). */
export function systemParts(appPid: number, dataDir: string): Record<keyof SystemCpu, number> {
  const parts = partsOf(appPid, dataDir);
  return { temporal: parts.temporal.length, postgres: parts.postgres.length, node: parts.node.length };
}
