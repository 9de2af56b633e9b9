import type { ColumnType, Generated, Selectable } from 'kysely';

/** A vaste-lastenpartner organisation (landlord, insurer, water or energy company). */
export interface PartnersTable {
  id: Generated<string>;
  name: string;
  partner_type: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}
export type Partner = Selectable<PartnersTable>;
