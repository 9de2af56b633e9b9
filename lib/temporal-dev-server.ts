/**
 * Starts `temporal server start-dev` as a child process: the embedded Temporal for `npm start` and tests.
 * SQLite persists to a file under the data folder (WAL, so a crash loses nothing committed), and the
 * project's custom search attributes are registered at start.
 */
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { CASE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';
import { spawnSupervised, stopLeftover } from './supervised-process.js';

const CLI_TYPE_NAMES: Record<string, string> = {
  KEYWORD: 'Keyword',
  KEYWORD_LIST: 'KeywordList',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
};

export interface DevServerOptions {
  cli: string;
  port: number;
  uiPort: number;
  /** SQLite file; omitted means in memory (tests). */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own output goes; default discarded. */
  onOutput?: (line: string) => void;
  /** A leftover dev server of an earlier start on the same SQLite file was found and stopped. */
  onLeftover?: (pid: number) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** Builds the command-line arguments; exported for tests. */
export function devServerArgs(options: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace ?? 'default',
    '--log-level',
    'warn',
  ];
  if (options.dbFile) {
    args.push(
      '--db-filename',
      options.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
    );
  }
  for (const key of CASE_SEARCH_ATTRIBUTES) {
    args.push('--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`);
  }
  return args;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The pid file of a dev server persisting to `dbFile`, beside that file. */
export function devServerPidFile(dbFile: string): string {
  return join(dirname(dbFile), 'dev-server.pid');
}

/**
 * Starts the dev server and resolves once its frontend port answers (at most `timeoutMs`). With a `dbFile`,
 * a leftover server of an earlier start on that file (pid file checked against its command line) is stopped
 * first; a port taken by anything else is reported, never freed.
 */
export async function startDevServer(options: DevServerOptions, timeoutMs = 60_000): Promise<DevServer> {
  const pidFile = options.dbFile ? devServerPidFile(options.dbFile) : undefined;
  if (options.dbFile && pidFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    const leftover = await stopLeftover(pidFile, ['start-dev', options.dbFile], 'SIGTERM');
    if (leftover !== null) options.onLeftover?.(leftover);
  }
  if (await portAnswers(options.port)) {
    throw new Error(`Port ${options.port} is already in use; set TEMPORAL_DEV_PORT or TEMPORAL_ADDRESS`);
  }
  const server = spawnSupervised({
    command: options.cli,
    args: devServerArgs(options),
    deathSignal: 'SIGTERM',
    // Cases may wait a moment; a partner's delivery or a caseworker's page should not (docs: benchmarks).
    nice: 10,
    ...(pidFile ? { pidFile } : {}),
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
  });

  const deadline = Date.now() + timeoutMs;
  while (!(await portAnswers(options.port))) {
    if (server.exitCode() !== null) {
      throw new Error(`Temporal dev server exited with code ${server.exitCode()}: ${server.tail()}`);
    }
    if (Date.now() > deadline) {
      await server.stop('SIGKILL', 1_000);
      throw new Error(
        `Temporal dev server did not answer on port ${options.port} within ${timeoutMs} ms: ${server.tail()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    stop: () => server.stop('SIGTERM', 10_000),
  };
}
