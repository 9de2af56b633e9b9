/**
 * `signals.dispatch_claimed_until`: a dispatcher claims a batch of queued signals for a short lease in one
 * statement, then hands them to Temporal with no transaction open; a lease that runs out (the dispatcher
 * died mid-pass) makes the signals claimable again. Frozen in time: never import application code here.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('signals').addColumn('dispatch_claimed_until', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('signals').dropColumn('dispatch_claimed_until').execute();
}
