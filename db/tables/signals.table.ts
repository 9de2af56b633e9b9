import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * How a signal stands to the resident's other signals (PostgreSQL enum `signal_classification`):
 * `consecutive` when the same partner reported the resident in an earlier month, else `multiple` when
 * another partner reported them in the same month, else `single`.
 */
export const SIGNAL_CLASSIFICATIONS = ['single', 'multiple', 'consecutive'] as const;
export type SignalClassification = (typeof SIGNAL_CLASSIFICATIONS)[number];

/** The words caseworkers and managers read for each classification. */
export const SIGNAL_CLASSIFICATION_LABELS: Record<SignalClassification, string> = {
  single: 'Enkelvoudig',
  multiple: 'Meervoudig',
  consecutive: 'Opeenvolgend',
};

/**
 * The classification of each of one resident's signals as it stands now: a signal stored `single` is
 * `multiple` once another partner has reported the resident in the same month (the stored value is the
 * one known on arrival, see `SignalsTable.classification`).
 */
export function classificationsNow<
  T extends { partner_id: string; signal_date: string; classification: SignalClassification },
>(signals: readonly T[]): T[] {
  return signals.map((s) =>
    s.classification === 'single' &&
    signals.some(
      (o) => o.partner_id !== s.partner_id && o.signal_date.slice(0, 7) === s.signal_date.slice(0, 7),
    )
      ? { ...s, classification: 'multiple' as const }
      : s,
  );
}

/** One arrears signal from a partner; kept anonymously (resident_id nulled) after deletion. */
export interface SignalsTable {
  id: Generated<string>;
  municipality: string;
  partner_id: string;
  partner_type: string;
  partner_reference: string;
  resident_id: string | null;
  case_key: string;
  signal_date: ColumnType<string, string, string>;
  arrears_since: ColumnType<string, string, string>;
  /** numeric(12,2): pg returns it as a string to keep cents exact. */
  amount: ColumnType<string, string | number, string | number>;
  crisis: Generated<boolean>;
  warm_handover: Generated<boolean>;
  status: Generated<string>;
  received_at: ColumnType<Date, Date | undefined, never>;
  dispatched_at: Date | null;
  dispatch_attempts: Generated<number>;
  dispatch_error: string | null;
  /** Claimed by a dispatcher pass until then (a lease; see worker/dispatcher.ts). */
  dispatch_claimed_until: Date | null;
  /** The batch that delivered it; null for a single signal. */
  batch_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Keyed hash of the address (as residents.household_key), kept after deletion for household counts. */
  household_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** The case (vroegsignaalzaak) it belongs to, set when the case workflow records its status. */
  case_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The round of that case (`case_rounds.round`) it belongs to (migration 0011). */
  case_round: ColumnType<number | null, number | null | undefined, number | null>;
  /**
   * Single, multiple or consecutive as known when the signal arrived (migration 0009). A `single` signal
   * becomes multiple when another partner later reports the resident in its month; intake does not rewrite
   * it then, readers derive it (`classificationsNow`).
   */
  classification: Generated<SignalClassification>;
}
export type Signal = Selectable<SignalsTable>;
export type NewSignal = Insertable<SignalsTable>;
