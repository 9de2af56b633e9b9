/**
 * `npm start`: the whole system in one process tree with no configuration. Starts (or connects to)
 * Temporal and PostgreSQL, migrates, runs a worker and the HTTP API, prints the URLs; Ctrl-C stops all.
 */
import { createApp } from '../lib/app.js';
import { isProduction } from '../lib/config.js';
import { seedDemo } from '../lib/demo.js';
import { runMain } from '../lib/main.js';

await runMain('start', async ({ config, logger }) => {
  const app = await createApp(config, logger, { worker: true, api: true, embedded: true });
  // Demo users and the demo partner token only on the embedded database, never in production: real
  // accounts come from `npm run admin -- user:add` and `partner:add`. A start that fails after this point
  // still stops what it started.
  const demo =
    app.embeddedDatabase && !isProduction(config)
      ? await seedDemo(app.db, config).catch(async (err: unknown) => {
          await app.stop();
          throw err;
        })
      : [];
  const lines = [
    '',
    'Vroegsignalering is running:',
    `  API and pages     ${app.apiUrl}`,
    `  Health            ${app.apiUrl}/health`,
    `  Temporal Web UI   ${app.temporalUiUrl ?? '(external Temporal: see your cluster)'}`,
    `  Temporal server   ${app.temporalAddress}`,
    `  Database          ${app.embeddedDatabase ? `embedded PostgreSQL 17 in ${config.DATA_DIR}/postgres (port ${config.EMBEDDED_DB_PORT})` : 'DATABASE_URL'}`,
    ...demo,
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return app.stop;
});
