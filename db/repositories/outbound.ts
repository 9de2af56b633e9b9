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

/** Whether the resident of `caseKey` is on the objection register (flagged): nothing more may reach them. */
export async function residentObjected(db: Db, caseKey: string): Promise<boolean> {
  const row = await db
    .selectFrom('residents')
    .select('objected')
    .where('case_key', '=', caseKey)
    .executeTakeFirst();
  return row?.objected === true;
}

/**
 * Records a letter, e-mail or card withheld because the resident is on the objection register: once, without
 * content, status `objected`. `withheld`, also for a retry that finds it; `already-sent` when the key was
 * recorded as sent before (the objection came after).
 */
export async function recordWithheld(
  db: Db,
  message: { key: string; caseId: string; channel: 'letter' | 'card'; template: string },
): Promise<'withheld' | 'already-sent'> {
  const inserted = await recordOutboundOnce(db, {
    idempotency_key: message.key,
    case_id: message.caseId,
    channel: message.channel,
    template: message.template,
    status: 'objected',
    detail: 'objected',
  });
  if (inserted) return 'withheld';
  const earlier = await db
    .selectFrom('outbound_messages')
    .select('status')
    .where('idempotency_key', '=', message.key)
    .executeTakeFirst();
  return earlier?.status === 'objected' ? 'withheld' : 'already-sent';
}
