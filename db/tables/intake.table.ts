import type { ColumnType, Generated, Selectable } from 'kysely';

/** A partner's bearer token: only its SHA-256 is stored; revoked tokens stay for the audit trail. */
export interface PartnerTokensTable {
  id: Generated<string>;
  partner_id: string;
  token_hash: string;
  label: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  revoked_at: Date | null;
}
export type PartnerToken = Selectable<PartnerTokensTable>;

/** One delivery of signals (JSON or CSV) with its counts; `status` receiving, accepted, rejected (no row taken) or failed. */
export interface SignalBatchesTable {
  id: Generated<string>;
  partner_id: string;
  municipality: string;
  format: 'json' | 'csv';
  status: 'receiving' | 'accepted' | 'rejected' | 'failed';
  received: Generated<number>;
  accepted: Generated<number>;
  rejected: Generated<number>;
  duplicate: Generated<number>;
  /** Accepted signals that repeat this partner's signal about the resident from an earlier month (0009). */
  consecutive: Generated<number>;
  received_at: ColumnType<Date, Date | undefined, never>;
  completed_at: Date | null;
}
export type SignalBatch = Selectable<SignalBatchesTable>;

/** A rejected row of a batch: where and why, never the row's values. */
export interface SignalBatchRejectionsTable {
  batch_id: string;
  row_number: number;
  field: string;
  reason: string;
}

/** The objection register: residents (by keyed identity hash) whose signals start no outreach. */
export interface ObjectionsTable {
  municipality: string;
  match_key: string;
  /** Where the objection came from: `partner` or `visit`. */
  source: string;
  recorded_at: ColumnType<Date, Date | undefined, never>;
}

/** How an objection delivery was settled: the workflow was signalled, no case ran, or it was withdrawn first. */
export type ObjectionDeliveryOutcome = 'signalled' | 'no_case' | 'withdrawn';

/**
 * The objection outbox (migration 0013): one row per resident case to tell that the resident went on the
 * objection register, so a running round of outreach ends. Ids and keys only.
 */
export interface ObjectionDeliveriesTable {
  id: Generated<string>;
  municipality: string;
  case_key: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  /** Not before this moment: a caseworker's own update goes first; a failed hand-over backs off. */
  deliver_after: ColumnType<Date, Date | undefined, Date>;
  attempts: Generated<number>;
  last_error: string | null;
  delivered_at: Date | null;
  outcome: ObjectionDeliveryOutcome | null;
}
export type ObjectionDelivery = Selectable<ObjectionDeliveriesTable>;
