/** Signal batches: their counts, their rejected rows (where and why, never the values), their progress. */
import { sql } from 'kysely';
import type { Db } from '../database.js';
import type { SignalBatch } from '../tables/intake.table.js';

export interface BatchCounts {
  received: number;
  accepted: number;
  rejected: number;
  duplicate: number;
  /** Accepted signals that repeat this partner's signal about the resident from an earlier month. */
  consecutive: number;
}

export interface RejectedRow {
  row: number;
  field: string;
  reason: string;
}

/** Opens a batch for a partner; its counts grow as chunks commit. */
export async function createBatch(
  db: Db,
  values: { partnerId: string; municipality: string; format: 'json' | 'csv' },
): Promise<string> {
  const row = await db
    .insertInto('signal_batches')
    .values({
      partner_id: values.partnerId,
      municipality: values.municipality,
      format: values.format,
      status: 'receiving',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Adds a committed chunk's counts and rejected rows to the batch (call inside the chunk's transaction):
 * one statement, the rejected rows passed as one array per column, so any number fits.
 */
export async function addToBatch(
  db: Db,
  batchId: string,
  counts: BatchCounts,
  rejections: readonly RejectedRow[],
): Promise<void> {
  const rows: number[] = new Array(rejections.length);
  const fields: string[] = new Array(rejections.length);
  const reasons: string[] = new Array(rejections.length);
  rejections.forEach((r, i) => {
    rows[i] = r.row;
    fields[i] = r.field;
    reasons[i] = r.reason;
  });
  await sql`
    with counted as (
      update signal_batches set
        received = received + ${counts.received}::int, accepted = accepted + ${counts.accepted}::int,
        rejected = rejected + ${counts.rejected}::int, duplicate = duplicate + ${counts.duplicate}::int,
        consecutive = consecutive + ${counts.consecutive}::int
      where id = ${batchId}::uuid
    )
    insert into signal_batch_rejections (batch_id, row_number, field, reason)
    select ${batchId}::uuid, t.row_number, t.field, t.reason
    from unnest(${rows}::int[], ${fields}::text[], ${reasons}::text[]) as t(row_number, field, reason)`.execute(
    db,
  );
}

/** Marks the batch finished: `accepted` (some rows taken), `rejected` (none) or `failed` (upload broke off). */
export async function finishBatch(db: Db, batchId: string, status: SignalBatch['status']): Promise<void> {
  await db
    .updateTable('signal_batches')
    .set({ status, completed_at: new Date() })
    .where('id', '=', batchId)
    .execute();
}

/**
 * Marks `failed` the batches still `receiving` after `olderThanMs`: their process died mid-delivery (no
 * delivery takes that long; what they committed stays stored). Returns how many.
 */
export async function failAbandonedBatches(db: Db, olderThanMs: number): Promise<number> {
  const result = await db
    .updateTable('signal_batches')
    .set({ status: 'failed', completed_at: new Date() })
    .where('status', '=', 'receiving')
    .where('received_at', '<', new Date(Date.now() - olderThanMs))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface BatchReport extends BatchCounts {
  batchId: string;
  status: SignalBatch['status'];
  format: SignalBatch['format'];
  receivedAt: string;
  completedAt: string | null;
  /** Accepted signals already handed to their case workflow. */
  started: number;
  rejectedRows: RejectedRow[];
}

/** The batch as its partner may see it; null when it does not exist or belongs to another partner. */
export async function getBatchReport(
  db: Db,
  partnerId: string,
  batchId: string,
): Promise<BatchReport | null> {
  const batch = await db
    .selectFrom('signal_batches')
    .selectAll()
    .where('id', '=', batchId)
    .where('partner_id', '=', partnerId)
    .executeTakeFirst();
  if (!batch) return null;
  const started = await db
    .selectFrom('signals')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('batch_id', '=', batchId)
    .where('dispatched_at', 'is not', null)
    .executeTakeFirstOrThrow();
  const rejectedRows = await db
    .selectFrom('signal_batch_rejections')
    .select(['row_number as row', 'field', 'reason'])
    .where('batch_id', '=', batchId)
    .orderBy('row_number')
    .execute();
  return {
    batchId: batch.id,
    status: batch.status,
    format: batch.format,
    receivedAt: batch.received_at.toISOString(),
    completedAt: batch.completed_at?.toISOString() ?? null,
    received: batch.received,
    accepted: batch.accepted,
    rejected: batch.rejected,
    duplicate: batch.duplicate,
    consecutive: batch.consecutive,
    started: Number(started.n),
    rejectedRows,
  };
}
