/**
 * The embedded servers' lifecycle: a supervised child dies with its parent (kill -9 included), and the next
 * start stops a leftover only when the pid file's process really is that server on that folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandLineOf, stopLeftover } from '../../lib/supervised-process.js';

const dir = mkdtempSync(join(tmpdir(), 'vroeg-supervised-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in server: `sleep` under a name that carries the marks. */
function leftover(marker: string) {
  const child = spawn('bash', ['-c', `exec -a "fake-server ${marker}" sleep 60`], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const line = commandLineOf(pid);
    if (line === null || line === '') return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('leftover servers of an earlier start', () => {
  it('stops the process its pid file names when the command line is that server on this folder', async () => {
    const child = leftover(join(dir, 'data'));
    await new Promise((r) => setTimeout(r, 200));
    const pidFile = join(dir, 'server.pid');
    writeFileSync(pidFile, `${child.pid}\n`);
    expect(await stopLeftover(pidFile, ['fake-server', join(dir, 'data')], 'SIGTERM')).toBe(child.pid);
    expect(await gone(child.pid ?? 0)).toBe(true);
  });

  it('never touches a process whose command line is not that server', async () => {
    const child = leftover(join(dir, 'other-folder'));
    await new Promise((r) => setTimeout(r, 200));
    const pidFile = join(dir, 'reused.pid');
    writeFileSync(pidFile, `${child.pid}\n`);
    expect(await stopLeftover(pidFile, ['fake-server', join(dir, 'data')], 'SIGTERM')).toBeNull();
    expect(commandLineOf(child.pid ?? 0)).toContain('other-folder');
    process.kill(child.pid ?? 0, 'SIGKILL');
  });

  it('does nothing for a pid file whose process is gone', async () => {
    const done = spawnSync('true');
    const pidFile = join(dir, 'stale.pid');
    writeFileSync(pidFile, `${done.pid}\n`);
    expect(await stopLeftover(pidFile, ['fake-server'], 'SIGTERM')).toBeNull();
  });
});
