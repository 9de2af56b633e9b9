import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

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
  /** The batch that delivered it; null for a single signal. */
  batch_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Keyed hash of the address (as residents.household_key), kept after deletion for household counts. */
  household_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** The case (vroegsignaalzaak) it belongs to, set when the case workflow records its status. */
  case_id: ColumnType<string | null, string | null | undefined, string | null>;
}
export type Signal = Selectable<SignalsTable>;
export type NewSignal = Insertable<SignalsTable>;
