/** `npm run worker`: a worker alone, against the Temporal and PostgreSQL given by the environment. */
import { createApp } from '../lib/app.js';
import { runMain } from '../lib/main.js';

await runMain('worker', async ({ config, logger }) => {
  const app = await createApp(config, logger, { worker: true, api: false, embedded: false });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
  return app.stop;
});
