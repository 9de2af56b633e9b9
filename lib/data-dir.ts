/** The one process that runs the embedded servers on a DATA_DIR, recorded in `<DATA_DIR>/start.pid`. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLineOf } from './supervised-process.js';

/**
 * Claims DATA_DIR for this process: refuses when another live process holds it (its pid file names a running
 * process whose command line is an entry point of ours that starts embedded servers), takes it over from a
 * dead one. Returns the release.
 */
export function claimDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'start.pid');
  mkdirSync(dataDir, { recursive: true });
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    const commandLine = Number.isInteger(pid) && pid !== process.pid ? commandLineOf(pid) : null;
    if (commandLine && /bin\/(start|admin|migrate|ddas-export)\.ts/.test(commandLine)) {
      throw new Error(
        `Another start (pid ${pid}) is running on ${dataDir}; stop it first, or set DATA_DIR to another folder`,
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (Number.parseInt(readFileSync(file, 'utf8'), 10) === process.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}
