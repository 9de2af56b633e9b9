import { sql } from 'kysely';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { migrations } from '../../db/migrations/index.js';

describe('migrations', () => {
  const admin = createDatabase(inject('adminDatabaseUrl'), { max: 1 });
  const name = `vroeg_migrate_${process.pid}_${Date.now()}`;
  afterAll(async () => {
    await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
    await admin.destroy();
  });

  it('builds the whole schema on an empty database, and a second run changes nothing', async () => {
    await sql`create database ${sql.id(name)}`.execute(admin);
    const db = createDatabase(inject('adminDatabaseUrl').replace(/\/[^/]*$/, `/${name}`), { max: 1 });
    try {
      const first = await migrateToLatest(db);
      expect(first.results?.map((r) => r.status)).toEqual(Object.keys(migrations).map(() => 'Success'));
      const tables = await db.introspection.getTables();
      expect(tables.map((t) => t.name).sort()).toEqual(
        expect.arrayContaining([
          'cases',
          'contact_attempts',
          'residents',
          'signals',
          'tasks',
          'partner_notifications',
        ]),
      );
      const second = await migrateToLatest(db);
      expect(second.results).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});
