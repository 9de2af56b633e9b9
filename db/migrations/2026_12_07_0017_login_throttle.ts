/**
 * `login_throttle`: sign-in attempts per login name (known or not, so the lock says nothing about which
 * names exist), counted before the password is checked, and until when that name is locked. A successful sign-in removes its row; rows of names
 * nobody tried for a day are purged. Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_throttle')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    // The attempt the lock was set at: once it runs out, only the next attempt is checked.
    .addColumn('lock_failures', 'integer')
    .addColumn('last_failure_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('login_throttle').execute();
}
