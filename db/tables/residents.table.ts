import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Phone, e-mail and address: as a resident row holds them, and as each partner last reported them. */
export interface ContactColumns {
  phone: string | null;
  email: string | null;
  postcode: string;
  house_number: number;
  house_number_addition: string | null;
  street: string;
  city: string;
}

/** The only table with personal data; a row is deleted when the retention period ends. */
export interface ResidentsTable extends ContactColumns {
  id: Generated<string>;
  municipality: string;
  /** Opaque key of the resident's case workflow; never derived from personal data. */
  case_key: string;
  /** Keyed hash of the matching identity (BSN when known, else birth date + address + surname); unique. */
  match_key: string;
  /**
   * Keyed hash of birth date + address + normalised surname (migration 0009), also for a resident known by
   * BSN, so a later signal without BSN finds them. Null only on rows with a BSN stored before 0009.
   * Follows the resident (with `household_key` and the address) when a signal with their BSN reports
   * another address: they moved.
   */
  address_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** Keyed hash of the address, linking a household. */
  household_key: string;
  bsn: string | null;
  first_names: string;
  surname_prefix: string | null;
  surname: string;
  birth_date: ColumnType<string, string, string>;
  sex: string | null;
  /**
   * Signal date of the most recent report the details (phone, e-mail, address) are known from (migration
   * 0015); intake applies a signal's details only when its date is on or after it (and after the resident's
   * latest signal). It moves when the row is written for other reasons too; a later signal that changes
   * nothing leaves the row as it is. Null when no signal reported the resident (rows stored otherwise).
   */
  details_reported_on: ColumnType<string | null, string | null | undefined, string | null>;
  /** The partner whose report the current details come from (migration 0019); null for older rows. */
  details_partner_id: ColumnType<string | null, string | null | undefined, string | null>;
  objected: Generated<boolean>;
  moved_away: Generated<boolean>;
  deceased: Generated<boolean>;
  known_to_debt_help: Generated<boolean>;
  created_at: ColumnType<Date, Date | undefined, never>;
}
export type Resident = Selectable<ResidentsTable>;
export type NewResident = Insertable<ResidentsTable>;

/** What each partner last reported of a resident's contact details (migration 0019). */
export interface ResidentReportsTable extends ContactColumns {
  resident_id: string;
  partner_id: string;
  signal_date: ColumnType<string, string, string>;
}
