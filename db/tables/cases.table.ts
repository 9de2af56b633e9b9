import type { ColumnType, Insertable, Selectable } from 'kysely';

/**
 * Read model of one case (one workflow chain, id = its first run id); holds no personal data. `result` is
 * that of the current round; each round (DDAS vroegsignaalzaak) is kept in `case_rounds`.
 */
export interface CasesTable {
  id: string;
  workflow_id: string;
  municipality: string;
  case_key: string;
  team: string;
  stage: string;
  priority: string;
  /** The machine's ladder run (a re-contact also counts); not the DDAS round, see `case_rounds`. */
  round: ColumnType<number, number | undefined, number>;
  partner_types: string[];
  next_deadline: Date | null;
  result: string | null;
  policy: ColumnType<unknown, string, string>;
  started_at: Date;
  first_contact_at: Date | null;
  closed_at: Date | null;
  personal_data_deleted_at: Date | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
export type Case = Selectable<CasesTable>;
export type NewCase = Insertable<CasesTable>;
