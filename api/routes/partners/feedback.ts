/**
 * Partner feedback: for a partner's own signals only, whether the municipality took them up and whether the
 * resident declined contact. Built from the notifications the case workflow records; the message set has
 * no reasons, so "not picked up: other reason" reaches the partner as just "not picked up".
 */
import { sql } from 'kysely';
import type { Db } from '../../../db/database.js';

export interface FeedbackItem {
  signalId: string;
  partnerReference: string;
  pickedUp: boolean;
  declined: boolean;
  at: string;
}

/**
 * How old a notification must be before a partner is given it. `created_at` is when its insert began
 * (`now()`), not when it committed: a notification that began before a row already handed out but committed
 * after that poll would lie behind the partner's `since`, and be skipped for good. Rows younger than this
 * are held back, so `next` never passes a row that may still commit. The inserts (`notifyPartner`) are
 * single autocommit statements that take milliseconds; the margin is far longer.
 */
export const SETTLE_SECONDS = 5;

/** Feedback recorded after `since` and settled (`SETTLE_SECONDS`), oldest first, for `partnerId`'s signals only. */
export async function partnerFeedback(
  db: Db,
  partnerId: string,
  query: { since?: string | undefined; limit: number },
): Promise<{ feedback: FeedbackItem[]; next: string | null }> {
  let q = db
    .selectFrom('partner_notifications as n')
    .innerJoin('signals as s', 's.id', 'n.signal_id')
    .select([
      'n.signal_id',
      's.partner_reference',
      'n.message',
      // Microseconds, so `next` as `since` neither repeats nor skips a row.
      sql<string>`to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('at'),
    ])
    // Both conditions: a notification row names its partner, and the signal must be that partner's too.
    .where('n.partner_id', '=', partnerId)
    .where('s.partner_id', '=', partnerId)
    .where('n.created_at', '<=', sql<Date>`now() - make_interval(secs => ${SETTLE_SECONDS})`)
    .orderBy('n.created_at')
    .orderBy('n.id')
    .limit(query.limit);
  if (query.since) q = q.where('n.created_at', '>', sql<Date>`${query.since}::timestamptz`);
  const rows = await q.execute();
  // A full page must not end inside one instant (one statement notifies several signals at once):
  // the rest of that instant would be skipped by the next `since`.
  if (rows.length === query.limit) {
    const last = rows.at(-1)!.at;
    const kept = rows.filter((r) => r.at !== last);
    if (kept.length > 0) rows.splice(kept.length);
  }
  const feedback = rows.map((r) => ({
    signalId: r.signal_id,
    partnerReference: r.partner_reference,
    pickedUp: r.message !== 'not_picked_up',
    declined: r.message === 'declined',
    at: r.at,
  }));
  return { feedback, next: feedback.at(-1)?.at ?? null };
}
