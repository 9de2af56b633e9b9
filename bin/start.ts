/**
 * `npm start`: the whole system in one process tree with no configuration. Starts (or connects to)
 * Temporal and PostgreSQL, migrates, runs a worker and the HTTP API, prints the URLs; Ctrl-C stops all.
 */
import { createApp } from '../lib/app.js';
import { seedDemo } from '../lib/demo.js';
import { runMain } from '../lib/main.js';

await runMain('start', async ({ config, logger }) => {
  const app = await createApp(config, logger, { worker: true, api: true, embedded: true });
  const demo = await seedDemo(app.db, config);
  const lines = [
    '',
    'Vroegsignalering is running:',
    `  API and pages     ${app.apiUrl}`,
    `  Health            ${app.apiUrl}/health`,
    `  Temporal Web UI   ${app.temporalUiUrl ?? '(external Temporal: see your cluster)'}`,
    `  Temporal server   ${app.temporalAddress}`,
    `  Database          ${app.embeddedDatabase ? `embedded PostgreSQL (PGlite) in ${config.DATA_DIR}/pglite` : 'DATABASE_URL'}`,
    ...demo,
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return app.stop;
});
