/**
 * The case as others see it without asking the workflow: the read model row the pages list (`syncCase`)
 * and the search attributes managers filter on. Both follow the machine's stage, priority, partner types,
 * deadline and result, and are written only when one of those changed (the fingerprint).
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { SyncCaseInput } from '../activities/case-activities.js';
import type { CaseContext } from './case-machine.js';
import {
  CaseMunicipality,
  CaseNextDeadline,
  CaseOutcome,
  CasePartnerTypes,
  CasePriority,
  CaseStage,
  CaseTeam,
} from './search-attributes.js';

/** Top-level state name: the case's stage in lists, search attributes and the read model. */
export function stageOf(value: unknown): string {
  return typeof value === 'string' ? value : (Object.keys(value as object)[0] ?? 'unknown');
}

export interface Projection {
  /** Equal for two snapshots that look the same from outside. */
  fingerprint: string;
  sync: SyncCaseInput;
  attributes: SearchAttributeUpdatePair[];
}

/** The projection of a snapshot (`value`, `context`, `done`) of case `caseId`. */
export function projectionOf(
  snapshot: { value: unknown; context: CaseContext; done: boolean },
  scope: { caseId: string; team: string; municipality: string; at: number },
): Projection {
  const ctx = snapshot.context;
  const stage = stageOf(snapshot.value);
  const partnerTypes = [...new Set(ctx.signals.map((s) => s.partnerType))].sort();
  const facts = {
    stage,
    priority: ctx.priority,
    round: ctx.round,
    partnerTypes,
    deadline: ctx.deadline,
    result: ctx.result,
    closed: snapshot.done,
  };
  return {
    fingerprint: JSON.stringify(facts),
    sync: {
      caseId: scope.caseId,
      stage,
      priority: ctx.priority,
      round: ctx.round,
      partnerTypes,
      nextDeadline: ctx.deadline,
      result: ctx.result,
      closed: snapshot.done,
      at: scope.at,
    },
    attributes: [
      { key: CaseStage, value: stage },
      { key: CaseTeam, value: scope.team },
      { key: CaseMunicipality, value: scope.municipality },
      { key: CasePriority, value: ctx.priority },
      { key: CasePartnerTypes, value: partnerTypes },
      { key: CaseNextDeadline, value: ctx.deadline === null ? null : new Date(ctx.deadline) },
      { key: CaseOutcome, value: ctx.result },
    ],
  };
}
