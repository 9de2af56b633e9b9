/** `npm run db:migrate`: migrates DATABASE_URL (or the embedded database under data/) to the latest schema. */

import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { commandDatabaseUrl } from '../lib/embedded-postgres.js';
import { runMain } from '../lib/main.js';

await runMain('migrate', async ({ config, logger }) => {
  const database = await commandDatabaseUrl(config);
  const db = createDatabase(database.url, { max: 1 });
  try {
    const result = await migrateToLatest(db);
    const applied = result.results?.map((r) => r.migrationName) ?? [];
    logger.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date');
  } finally {
    await db.destroy();
    await database.stop();
  }
  return null;
});
