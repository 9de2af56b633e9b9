/**
 * Brings up the two servers the application needs: PostgreSQL and Temporal. With DATABASE_URL /
 * TEMPORAL_ADDRESS set it only connects; without them it starts the embedded ones under DATA_DIR, after
 * making sure no other start runs on that folder (`start.pid`).
 */
import { join, resolve } from 'node:path';
import type { Config } from './config.js';
import { claimDataDir } from './data-dir.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import type { Logger } from './logger.js';
import { ensureTemporalCli } from './temporal-cli.js';
import { startDevServer } from './temporal-dev-server.js';

/** Connections the embedded server allows: every pool of `npm start` plus admin commands and tests. */
const EMBEDDED_MAX_CONNECTIONS = 200;

export interface Services {
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  embeddedDatabase: boolean;
  /** Stops whatever was started here, in reverse order. */
  stop(): Promise<void>;
}

/** Starts or connects the database and Temporal server described by `config`. */
export async function startServices(config: Config, logger: Logger): Promise<Services> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse())
      await fn().catch((err) => logger.error({ err }, 'stopping a service failed'));
  };
  try {
    if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL) {
      const release = claimDataDir(resolve(config.DATA_DIR));
      stops.push(async () => release());
    }
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl = config.TEMPORAL_UI_URL ?? null;
    if (!temporalAddress) {
      const cli = await ensureTemporalCli((line) => logger.info(line));
      const dbFile = resolve(join(config.DATA_DIR, 'temporal', 'temporal.sqlite'));
      logger.info({ dbFile }, 'starting the Temporal dev server');
      const server = await startDevServer({
        cli,
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFile,
        namespace: config.TEMPORAL_NAMESPACE,
        onOutput: (line) => logger.debug({ temporal: line }, 'temporal dev server'),
        onLeftover: (pid) =>
          logger.warn({ pid }, 'stopped a Temporal dev server left over from an earlier start'),
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
    }

    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const dataDir = resolve(join(config.DATA_DIR, 'postgres'));
      logger.info({ dataDir }, 'starting the embedded PostgreSQL');
      const pg = await startEmbeddedPostgres({
        dataDir,
        port: config.EMBEDDED_DB_PORT,
        maxConnections: EMBEDDED_MAX_CONNECTIONS,
        onOutput: (line) => logger.debug({ postgres: line }, 'embedded PostgreSQL'),
        onLeftover: (pid) =>
          logger.warn({ pid }, 'stopped an embedded PostgreSQL left over from an earlier start'),
      });
      stops.push(() => pg.stop());
      databaseUrl = pg.url;
    }
    return {
      databaseUrl,
      temporalAddress,
      temporalUiUrl,
      embeddedDatabase: !config.DATABASE_URL,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
