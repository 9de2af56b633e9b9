import type { Selectable } from 'kysely';

/**
 * One round of outreach of a case: a DDAS vroegsignaalzaak. Round 1 starts with the case; a round ends
 * when it gets its result, and a new signal that passes screening after that starts the next round.
 */
export interface CaseRoundsTable {
  case_id: string;
  /** 1-based; signals (`case_round`) and contact attempts (`round`) refer to it with the case id. */
  round: number;
  municipality: string;
  started_at: Date;
  /** When the round got its result; null while it runs. */
  ended_at: Date | null;
  result: string | null;
}
export type CaseRound = Selectable<CaseRoundsTable>;
