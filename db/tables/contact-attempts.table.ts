import type { ColumnType, Generated, Selectable } from 'kysely';

/** A DDAS contactpoging: soort, bereikt, datum, dagdeel. */
export interface ContactAttemptsTable {
  id: Generated<string>;
  idempotency_key: string;
  case_id: string;
  soort: string;
  bereikt: boolean;
  attempted_at: Date;
  dagdeel: string;
  /** The round of the case (vroegsignaalzaak, `case_rounds.round`) it belongs to; null only before 0011. */
  round: ColumnType<number | null, number | null | undefined, number | null>;
}
export type ContactAttempt = Selectable<ContactAttemptsTable>;
