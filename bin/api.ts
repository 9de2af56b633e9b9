/** `npm run api`: the HTTP API alone, against the Temporal and PostgreSQL given by the environment. */
import { createApp } from '../lib/app.js';
import { runMain } from '../lib/main.js';

await runMain('api', async ({ config, logger }) => {
  const app = await createApp(config, logger, { worker: false, api: true, embedded: false });
  logger.info({ url: app.apiUrl }, 'API listening');
  return app.stop;
});
