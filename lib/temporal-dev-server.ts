/**
 * Starts `temporal server start-dev` as a child process: the embedded Temporal for `npm start` and tests.
 * SQLite persists to a file under the data folder (WAL, so a crash loses nothing committed), and the
 * project's custom search attributes are registered at start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { CASE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

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

/** Starts the dev server and resolves once its frontend port answers (at most `timeoutMs`). */
export async function startDevServer(options: DevServerOptions, timeoutMs = 60_000): Promise<DevServer> {
  if (options.dbFile) mkdirSync(dirname(options.dbFile), { recursive: true });
  if (await portAnswers(options.port)) {
    throw new Error(`Port ${options.port} is already in use; set TEMPORAL_DEV_PORT or TEMPORAL_ADDRESS`);
  }
  const child: ChildProcess = spawn(options.cli, devServerArgs(options), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited: number | null = null;
  let tail = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-2000);
    for (const line of text.split('\n')) if (line.trim()) options.onOutput?.(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code ?? -1;
      resolve();
    }),
  );

  const deadline = Date.now() + timeoutMs;
  while (!(await portAnswers(options.port))) {
    if (exited !== null) throw new Error(`Temporal dev server exited with code ${exited}: ${tail}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `Temporal dev server did not answer on port ${options.port} within ${timeoutMs} ms: ${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    async stop() {
      if (exited !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
