/** `npm run db:migrate`: migrates DATABASE_URL (or the embedded database under data/) to the latest schema. */

import { join, resolve } from 'node:path';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { startEmbeddedPostgres } from '../lib/embedded-postgres.js';
import { runMain } from '../lib/main.js';

await runMain('migrate', async ({ config, logger }) => {
  const embedded = config.DATABASE_URL
    ? null
    : await startEmbeddedPostgres(resolve(join(config.DATA_DIR, 'pglite')), config.EMBEDDED_DB_PORT);
  const db = createDatabase(config.DATABASE_URL ?? embedded!.url, { max: 1 });
  try {
    const result = await migrateToLatest(db);
    const applied = result.results?.map((r) => r.migrationName) ?? [];
    logger.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date');
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
  return null;
});
