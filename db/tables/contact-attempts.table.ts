import type { Generated, Selectable } from 'kysely';

/** A DDAS contactpoging: soort, bereikt, datum, dagdeel. */
export interface ContactAttemptsTable {
  id: Generated<string>;
  idempotency_key: string;
  case_id: string;
  soort: string;
  bereikt: boolean;
  attempted_at: Date;
  dagdeel: string;
}
export type ContactAttempt = Selectable<ContactAttemptsTable>;
