/**
 * The intake use case: validated rows go to PostgreSQL in chunks (set-based, one transaction each), bad
 * rows are recorded with row, field and reason. Works on an async stream of rows, so a 100,000-row CSV
 * is never held in memory: at most two chunks of rows (one committing) and the problems found so far.
 *
 * Durability: a chunk commits while the next one is read and validated (never two commits at once, so a
 * repeat in a later chunk finds the earlier one), and the 202 only follows the last commit.
 * If an upload breaks off, the chunks committed so far stay (they are valid signals, and the dispatcher
 * starts their cases); the batch is marked `failed` and a re-send reports those rows as duplicates.
 */

import { type Db, inTransaction } from '../../../db/database.js';
import { addToBatch, createBatch, finishBatch, type RejectedRow } from '../../../db/repositories/batches.js';
import {
  type IntakeRow,
  keysOf,
  type ScreeningInput,
  storeSignals,
} from '../../../db/repositories/intake.js';
import type { AuthenticatedPartner } from '../../../db/repositories/partner-tokens.js';
import type { SignalClassification } from '../../../db/tables/signals.table.js';
import { screenSignal } from '../../../workflows/case-machine.js';
import type { Signaalpartner } from '../../../workflows/ddas.js';
import type { OutreachPolicy } from '../../../workflows/policy.js';
import { type Problem, validateSignal } from './signal-schema.js';

export interface IntakeContext {
  db: Db;
  municipality: string;
  secret: string;
  policy: OutreachPolicy;
  partner: AuthenticatedPartner;
}

/** One raw row from a delivery: its number and the unvalidated signal, or a problem found while parsing. */
export type RawRow = { row: number; input: unknown } | { row: number; problems: Problem[] };

export interface BatchResult {
  batchId: string;
  status: 'accepted' | 'rejected' | 'failed';
  received: number;
  accepted: number;
  rejected: number;
  duplicate: number;
  consecutive: number;
}

/** A delivery's counts as its partner sees them (the batch answer and report carry the same). */
export type DeliveryCounts = Pick<BatchResult, 'received' | 'accepted' | 'rejected' | 'duplicate'>;

/** What a delivery that failed part-way had stored before it failed (see `acceptBatch`). */
export interface StoredBeforeFailure {
  batchId: string;
  /** The chunks committed before the failure: the first `received` rows of the delivery. */
  counts: DeliveryCounts;
}

const STORED = Symbol('stored before failure');

/** The batch and counts `acceptBatch` attached to its error; null for an error from elsewhere. */
export function storedBeforeFailure(err: unknown): StoredBeforeFailure | null {
  return (err as { [STORED]?: StoredBeforeFailure } | null)?.[STORED] ?? null;
}

/** A signal's receipt as the partner may see it: never its DDAS status (see `acceptSignal`). */
export interface SignalReceipt {
  signalId: string;
  duplicate: boolean;
  classification: 'single' | 'consecutive';
}

/**
 * The classification as the partner may see it: whether it reported this resident in an earlier month
 * (`consecutive`) or not (`single`). That another partner reported them too (`multiple`) is never told.
 */
export function partnerClassification(c: SignalClassification): 'single' | 'consecutive' {
  return c === 'consecutive' ? 'consecutive' : 'single';
}

/**
 * Rows per transaction: big enough to amortise round trips and statement overhead (every statement takes
 * its rows as one array per column, so there is no parameter limit), small enough to bound memory.
 */
export const CHUNK_ROWS = 5_000;

/**
 * The smallest chunk sent while no other chunk is committing: PostgreSQL starts on a delivery after a few
 * milliseconds of parsing instead of waiting for a full chunk, and afterwards each chunk holds the rows read
 * while the previous one committed (between this and CHUNK_ROWS), so neither side waits for the other.
 */
export const MIN_CHUNK_ROWS = 500;

/**
 * Rows read between turns of the event loop. Rows of request bytes already buffered are read in microtasks
 * only, which never let a reply from PostgreSQL in: without a turn now and then the committing chunk's next
 * statement would wait until parsing stalls for network data, and PostgreSQL would sit idle meanwhile.
 */
const ROWS_PER_TURN = 16;

/** The DDAS status intake stores up front, by the same screening the case workflow applies. */
export function screenerFor(policy: OutreachPolicy): (input: ScreeningInput) => string {
  return (input) => {
    const verdict = screenSignal(
      policy,
      input.earlier,
      {
        signalId: '',
        partnerId: input.partnerId,
        partnerType: input.partnerType as Signaalpartner,
        amount: input.record.amount,
        arrearsSince: input.record.arrearsSince,
        signalDate: input.record.signalDate,
        crisis: input.record.crisis,
        warmHandover: input.record.warmHandover,
        screening: input.resident,
      },
      input.at,
    );
    return verdict === 'start' ? 'Nog niet opgepakt' : verdict;
  };
}

/** The chunk (or single signal) whose turn it is last, per municipality, in this process. */
const turns = new Map<string, Promise<void>>();

/**
 * Runs `work` when the municipality's earlier chunks of this process are done. Intake's advisory lock (see
 * `storeSignals`) already lets one chunk per municipality through at a time, across processes; waiting here
 * first means a chunk waits without holding one of the pool's connections, so a dozen deliveries at once
 * cannot take the whole pool while they queue and starve the caseworkers' requests.
 */
export async function inTurn<T>(municipality: string, work: () => Promise<T>): Promise<T> {
  const previous = turns.get(municipality) ?? Promise.resolve();
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  turns.set(municipality, done);
  await previous;
  try {
    return await work();
  } finally {
    release();
    if (turns.get(municipality) === done) turns.delete(municipality);
  }
}

/**
 * Marks a batch that stopped part-way `failed`, trying again for up to ~30 s: the failure may be the
 * database itself being busy, and a batch must never stay `receiving`.
 */
async function markFailed(db: Db, batchId: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await finishBatch(db, batchId, 'failed');
      return;
    } catch (err) {
      if (attempt >= 6) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
    }
  }
}

function storeOptions(ctx: IntakeContext, batchId: string | null) {
  return {
    municipality: ctx.municipality,
    partnerId: ctx.partner.partnerId,
    partnerType: ctx.partner.partnerType,
    secret: ctx.secret,
    batchId,
    screen: screenerFor(ctx.policy),
  };
}

/**
 * Stores one validated single signal; returns its id, whether it was a duplicate and its classification as
 * the partner may see it (`partnerClassification`). Not its DDAS status: that is screening's verdict
 * (objection register, known to debt help, deceased, ...), kept up to date by the case, and none of the
 * partner's business; a partner learns only "picked up or not" through its feedback.
 */
export async function acceptSignal(ctx: IntakeContext, row: IntakeRow): Promise<SignalReceipt> {
  const [outcome] = await inTurn(ctx.municipality, () =>
    inTransaction(ctx.db, (trx) => storeSignals(trx, storeOptions(ctx, null), [row])),
  );
  if (!outcome) throw new Error('signal was not stored');
  return {
    signalId: outcome.signalId,
    duplicate: outcome.duplicate,
    classification: partnerClassification(outcome.classification),
  };
}

/**
 * Takes a whole delivery: validates each row, commits the good ones chunk by chunk, records the bad ones.
 * `maxRows` bounds the delivery; rows beyond it are rejected as one problem and the rest is not read.
 */
export async function acceptBatch(
  ctx: IntakeContext,
  format: 'json' | 'csv',
  rows: AsyncIterable<RawRow> | Iterable<RawRow>,
  limits: { maxRows: number },
): Promise<BatchResult> {
  const batchId = await createBatch(ctx.db, {
    partnerId: ctx.partner.partnerId,
    municipality: ctx.municipality,
    format,
  });
  const totals = { received: 0, accepted: 0, rejected: 0, duplicate: 0, consecutive: 0 };
  let good: IntakeRow[] = [];
  let bad: RejectedRow[] = [];
  let badRows = 0;
  const leafOnly = format === 'csv';

  // One chunk commits while the next is read and validated (PostgreSQL and Node work side by side); at
  // most two chunks are in memory, and every commit is awaited before the batch finishes.
  let committing: Promise<void> | null = null;
  // True from the start of a commit until it has ended (or failed).
  let busy = false;
  let failure: { error: unknown } | null = null;
  const options = storeOptions(ctx, batchId);
  const commit = async (chunk: IntakeRow[], problems: RejectedRow[], rejected: number) => {
    const counts = await inTurn(ctx.municipality, () =>
      inTransaction(ctx.db, async (trx) => {
        const outcomes = await storeSignals(trx, options, chunk);
        let duplicate = 0;
        let consecutive = 0;
        for (const o of outcomes) {
          if (o.duplicate) duplicate += 1;
          else if (o.classification === 'consecutive') consecutive += 1;
        }
        const counts = {
          received: chunk.length + rejected,
          accepted: outcomes.length - duplicate,
          rejected,
          duplicate,
          consecutive,
        };
        await addToBatch(trx, batchId, counts, problems);
        return counts;
      }),
    );
    totals.received += counts.received;
    totals.accepted += counts.accepted;
    totals.rejected += counts.rejected;
    totals.duplicate += counts.duplicate;
    totals.consecutive += counts.consecutive;
  };
  const settle = async () => {
    if (committing) await committing;
    committing = null;
    if (failure) throw failure.error;
  };
  const flush = async () => {
    await settle();
    if (good.length === 0 && bad.length === 0) return;
    const chunk = good;
    const problems = bad;
    const rejected = badRows;
    good = [];
    bad = [];
    badRows = 0;
    busy = true;
    committing = commit(chunk, problems, rejected)
      .catch((error: unknown) => {
        failure = { error };
      })
      .finally(() => {
        busy = false;
      });
  };

  try {
    let count = 0;
    for await (const raw of rows) {
      count += 1;
      if (count > limits.maxRows) {
        bad.push({
          row: raw.row,
          field: '(batch)',
          reason: `te veel rijen: hoogstens ${limits.maxRows} per levering; deze en volgende rijen zijn niet gelezen`,
        });
        badRows += 1;
        break;
      }
      if ('problems' in raw) {
        for (const p of raw.problems) bad.push({ row: raw.row, field: p.field, reason: p.reason });
        badRows += 1;
      } else {
        const validated = validateSignal(raw.input, ctx.partner.partnerType, raw.row, leafOnly);
        // The keyed hashes too are made here, while the previous chunk commits.
        if (validated.ok)
          good.push({ row: raw.row, record: validated.record, keys: keysOf(ctx.secret, validated.record) });
        else {
          for (const p of validated.problems) bad.push({ row: raw.row, field: p.field, reason: p.reason });
          badRows += 1;
        }
      }
      if (
        good.length >= CHUNK_ROWS ||
        bad.length >= 2 * CHUNK_ROWS ||
        (!busy && good.length >= MIN_CHUNK_ROWS)
      )
        await flush();
      else if (count % ROWS_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await flush();
    await settle();
  } catch (err) {
    // A chunk still committing ends first (it never rejects: its error is kept in `failure`).
    await (committing as Promise<void> | null);
    // Still failing after ~30 s: the API's sweep (failAbandonedBatches) marks it later; the cause matters more.
    await markFailed(ctx.db, batchId).catch(() => {});
    // `totals` now holds every committed chunk: the partner is told what stays stored.
    const { received, accepted, rejected, duplicate } = totals;
    const stored: StoredBeforeFailure = { batchId, counts: { received, accepted, rejected, duplicate } };
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { [STORED]: stored });
  }
  const status = totals.accepted + totals.duplicate === 0 ? 'rejected' : 'accepted';
  await finishBatch(ctx.db, batchId, status);
  return { batchId, status, ...totals };
}
