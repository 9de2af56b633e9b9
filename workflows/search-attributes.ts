/**
 * Custom search attributes of case workflows: the listing facts managers filter on.
 * Never personal data: stages, teams, enums, dates of the next step.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CaseStage = defineSearchAttributeKey('CaseStage', SearchAttributeType.KEYWORD);
export const CaseTeam = defineSearchAttributeKey('CaseTeam', SearchAttributeType.KEYWORD);
export const CasePartnerTypes = defineSearchAttributeKey(
  'CasePartnerTypes',
  SearchAttributeType.KEYWORD_LIST,
);
export const CaseNextDeadline = defineSearchAttributeKey('CaseNextDeadline', SearchAttributeType.DATETIME);
export const CaseOutcome = defineSearchAttributeKey('CaseOutcome', SearchAttributeType.KEYWORD);
export const CasePriority = defineSearchAttributeKey('CasePriority', SearchAttributeType.KEYWORD);
export const CaseMunicipality = defineSearchAttributeKey('CaseMunicipality', SearchAttributeType.KEYWORD);

/** All keys, for registering them on a server (`--search-attribute Name=Type`). */
export const CASE_SEARCH_ATTRIBUTES = [
  CaseStage,
  CaseTeam,
  CasePartnerTypes,
  CaseNextDeadline,
  CaseOutcome,
  CasePriority,
  CaseMunicipality,
] as const;
