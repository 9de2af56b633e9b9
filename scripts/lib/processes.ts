/**
 * The processes of this machine as /proc shows them (Linux): enough to find the processes a run started,
 * and those still alive afterwards. A process is known by pid and start time, so a reused pid never passes
 * for one of ours.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTime: string;
  /** The command line, arguments joined by spaces. */
  commandLine: string;
}

function read(pid: number): ProcessInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, ppid: Number(fields[1]), startTime: fields[19] ?? '', commandLine };
  } catch {
    return null; // gone meanwhile
  }
}

/** Every process now. */
export function listProcesses(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = read(Number(name));
    if (info) list.push(info);
  }
  return list;
}

/** `root` and every process below it. */
export function treeOf(rootPid: number, list = listProcesses()): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of list) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const tree = list.filter((p) => p.pid === rootPid);
  for (let i = 0; i < tree.length; i += 1) tree.push(...(children.get(tree[i]!.pid) ?? []));
  return tree;
}

/** Whether that very process (same pid, same start time) still runs; a zombie counts as gone. */
export function stillRunning(p: ProcessInfo): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] === p.startTime && fields[0] !== 'Z';
  } catch {
    return false;
  }
}

/** An environment variable of a process (null when unreadable or unset). */
export function environmentValue(pid: number, name: string): string | null {
  try {
    const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const entry = entries.find((e) => e.startsWith(`${name}=`));
    return entry ? entry.slice(name.length + 1) : null;
  } catch {
    return null;
  }
}

/** Collects what a child writes to stdout and stderr. */
export function outputOf(child: ChildProcessByStdio<null, Readable, Readable>): {
  out(): string;
  err(): string;
} {
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  return { out: () => out, err: () => err };
}
