/**
 * Outbound messages (letters, cards, e-mails): each recorded once under its idempotency key, so a retried
 * activity finds the first attempt's row instead of sending again.
 */
import type { Insertable } from 'kysely';
import type { Db } from '../database.js';
import type { OutboundMessagesTable } from '../tables/outbound.table.js';

/** Inserts the message unless its idempotency key is already recorded; its id, or null when it was. */
export async function recordOutboundOnce(
  db: Db,
  message: Insertable<OutboundMessagesTable>,
): Promise<string | null> {
  const inserted = await db
    .insertInto('outbound_messages')
    .values(message)
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id ?? null;
}
