/**
 * Entry-point harness: validates the configuration (a wrong value stops with a message naming the
 * variable), creates the logger, runs `body`, and on SIGINT/SIGTERM calls the stop function it returned.
 */
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** Ctrl-C stops everything within this time, whatever is still running. */
const STOP_DEADLINE_MS = 14_000;

export async function runMain(
  name: string,
  body: (ctx: { config: Config; logger: Logger }) => Promise<(() => Promise<void>) | null>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example for every variable.\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, name, format: config.LOG_FORMAT });
  let stop: (() => Promise<void>) | null = null;
  let stopping = false;
  const shutdown = async (signal: string) => {
    // A second Ctrl-C stops at once; the embedded servers stop with this process (supervised-process.ts).
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal }, 'stopping');
    // The worker's grace time is 10 s; nothing may keep the process past STOP_DEADLINE_MS.
    setTimeout(() => {
      logger.error({ signal }, `not stopped within ${STOP_DEADLINE_MS / 1000} s; exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    try {
      await stop?.();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    stop = await body({ config, logger });
  } catch (err) {
    // A configuration refused after loading (production mode's checks) is the operator's to fix: no stack.
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err }, `${name} failed to start`);
    process.exit(1);
  }
}
