/**
 * Composes the running system from its parts: services, migrations, worker, dispatcher and API.
 * The same composition serves `npm start` (everything) and the separately scaled processes.
 */

import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { buildServer } from '../api/server.js';
import type { Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createPools, type PoolPart } from '../db/pools.js';
import { failAbandonedBatches } from '../db/repositories/batches.js';
import { startDispatcher } from '../worker/dispatcher.js';
import { createCaseWorker } from '../worker/worker.js';
import { type Config, ConfigError, isProduction } from './config.js';
import { IntakePriority } from './intake-priority.js';
import { startLetterServices } from './letters.js';
import type { Logger } from './logger.js';
import { encryptingDataConverter, loadPayloadKey } from './payload-codec.js';
import { loadPolicies } from './policy.js';
import { productionConfigProblems, productionDataProblems, refuseDevelopmentDefaults } from './production.js';
import { startServices } from './services.js';

/** A batch still `receiving` after this long was abandoned by a process that died (no delivery takes it). */
const ABANDONED_BATCH_MS = 30 * 60_000;

export interface AppParts {
  worker: boolean;
  api: boolean;
  /** Start embedded servers when DATABASE_URL / TEMPORAL_ADDRESS are unset (only `npm start`). */
  embedded: boolean;
}

export interface RunningApp {
  db: Db;
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  embeddedDatabase: boolean;
  stop(): Promise<void>;
}

export async function createApp(config: Config, logger: Logger, parts: AppParts): Promise<RunningApp> {
  // In production every development default stops the start here, before anything runs (lib/production.ts).
  refuseDevelopmentDefaults(config, productionConfigProblems(config, parts));
  if (!parts.embedded && (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)) {
    throw new ConfigError('DATABASE_URL and TEMPORAL_ADDRESS must be set when the worker or API runs alone');
  }
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err) => logger.error({ err }, 'stop step failed'));
  };
  // Validate the policy file before anything starts: a wrong value stops here, naming the field.
  const policyFor = loadPolicies(config.POLICY_FILE);
  try {
    const services = await startServices(config, logger);
    stops.push(() => services.stop());

    const poolParts: PoolPart[] = [
      ...(parts.api ? (['pages', 'intake'] as const) : []),
      ...(parts.worker ? (['dispatcher', 'activities'] as const) : []),
    ];
    const pools = createPools(services.databaseUrl, config.DATABASE_POOL_MAX, poolParts);
    stops.push(() => pools.destroy());
    const db = pools.pages;
    await migrateToLatest(db);
    if (isProduction(config)) refuseDevelopmentDefaults(config, await productionDataProblems(db, config));
    const intakePriority = new IntakePriority();
    const dataConverter = encryptingDataConverter(
      loadPayloadKey(config.PAYLOAD_ENCRYPTION_KEY, join(config.DATA_DIR, 'payload-key')),
    );

    if (parts.worker) {
      // Route the SDK's own logs through pino, warnings and up, so the terminal stays readable.
      Runtime.install({
        // Shutdown is ours (Ctrl-C stops the API and dispatcher too), not the SDK's own signal handler.
        shutdownSignals: [],
        // An error in the SDK's own lines goes through the serializer, which leaves out what may hold values.
        logger: new DefaultLogger('WARN', (entry) => {
          const { error, ...meta } = entry.meta ?? {};
          const fields = error === undefined ? { temporal: meta } : { temporal: meta, err: error };
          logger[entry.level === 'ERROR' ? 'error' : 'warn'](fields, entry.message);
        }),
      });
      const connection = await NativeConnection.connect({ address: services.temporalAddress });
      stops.push(() => connection.close());
      // Letters, e-mail and cards (and with `npm start` the local demo SMTP server).
      const letters = await startLetterServices(config, pools.activities, logger, parts.embedded);
      stops.push(() => letters.stop());
      const worker: Worker = await createCaseWorker({
        dataConverter,
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        db: pools.activities,
        channel: letters.channel,
        logger,
      });
      const running = worker.run();
      stops.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      });

      // The outbox dispatcher runs beside each worker; several of them share the queue safely.
      const clientConnection = await Connection.connect({ address: services.temporalAddress });
      stops.push(() => clientConnection.close());
      const dispatcher = startDispatcher({
        db: pools.dispatcher,
        client: new Client({
          connection: clientConnection,
          namespace: config.TEMPORAL_NAMESPACE,
          dataConverter,
        }),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        policyFor,
        logger,
        concurrency: 2,
        maxInFlight: config.DISPATCH_MAX_IN_FLIGHT,
        holding: () => intakePriority.holding(),
      });
      stops.push(() => dispatcher.stop());
    }

    let apiUrl = '';
    if (parts.api) {
      const connection = Connection.lazy({ address: services.temporalAddress });
      stops.push(() => connection.close());
      const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
      const server = await buildServer({
        db,
        intakeDb: pools.intake,
        intakePriority,
        temporal,
        logger,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        municipality: config.MUNICIPALITY_CODE,
        temporalUiUrl: services.temporalUiUrl,
        config,
        policyFor,
      });
      await server.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
      stops.push(() => server.close());
      // A delivery whose process died mid-way must not stay `receiving` for ever.
      const sweep = () =>
        failAbandonedBatches(pools.intake, ABANDONED_BATCH_MS)
          .then((n) => n > 0 && logger.warn({ batches: n }, 'batches abandoned mid-delivery marked failed'))
          .catch((err: unknown) => logger.error({ err }, 'sweeping abandoned batches failed'));
      await sweep();
      const sweeper = setInterval(sweep, ABANDONED_BATCH_MS / 3).unref();
      stops.push(async () => clearInterval(sweeper));
      const address = server.server.address();
      const port = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
      apiUrl = `http://${config.HTTP_HOST}:${port}`;
    }
    return {
      db,
      apiUrl,
      temporalAddress: services.temporalAddress,
      temporalUiUrl: services.temporalUiUrl,
      embeddedDatabase: services.embeddedDatabase,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
