/**
 * What each action of the machine does outside the workflow: the effect (an activity and its input) it
 * turns into. The workflow carries a step's effects out together (`runStep`), or one activity each in
 * histories recorded before that (`ONE_ACTIVITY_PER_STEP_PATCH`); the table is the same for both.
 */
import type { StepEffect } from '../activities/case-activities.js';
import type { CaseActionParams, CaseContext } from './case-machine.js';

/** Where a step runs: the case, and the context after the transition that emitted the actions. */
export interface StepScope {
  caseId: string;
  caseKey: string;
  workflowId: string;
  team: string;
  /** The moment of the event the step answers (epoch ms). */
  at: number;
  context: CaseContext;
}

/** An effect's idempotency key: the case and the machine's step (unique and deterministic within a case). */
const keyOf = (scope: StepScope, step: string) => `${scope.caseId}:${step}`;

const EFFECTS: {
  [K in keyof CaseActionParams]: (params: CaseActionParams[K], scope: StepScope) => StepEffect;
} = {
  sendLetter: (p, s) => ({
    activity: 'sendOutbound',
    input: {
      key: keyOf(s, p.step),
      caseId: s.caseId,
      caseKey: s.caseKey,
      channel: 'letter',
      template: p.template,
      recontactAt: p.recontactAt ?? null,
    },
  }),
  leaveCard: (p, s) => ({
    activity: 'sendOutbound',
    input: { key: keyOf(s, p.step), caseId: s.caseId, caseKey: s.caseKey, channel: 'card', template: 'card' },
  }),
  recordContactAttempt: (p, s) => ({
    activity: 'recordContactAttempt',
    input: {
      key: keyOf(s, p.step),
      caseId: s.caseId,
      soort: p.soort,
      bereikt: p.bereikt,
      at: p.at,
      dagdeel: p.dagdeel,
    },
  }),
  createTask: (p, s) => ({
    activity: 'createTask',
    input: {
      key: keyOf(s, p.taskId),
      caseId: s.caseId,
      workflowId: s.workflowId,
      taskId: p.taskId,
      kind: p.kind,
      attempt: p.attempt,
      team: s.team,
      priority: p.priority ?? s.context.priority,
      preferredDagdeel: p.preferredDagdeel ?? null,
      dueAt: p.dueAt,
    },
  }),
  cancelTask: (p, s) => ({
    activity: 'closeTask',
    input: { caseId: s.caseId, taskId: p.taskId, status: 'cancelled', outcome: null, at: s.at },
  }),
  notifyPartner: (p, s) => ({
    activity: 'notifyPartner',
    input: { key: keyOf(s, p.step), caseId: s.caseId, signalIds: p.signalIds, message: p.message },
  }),
  handOver: (p, s) => ({
    activity: 'handOver',
    input: {
      key: keyOf(s, p.step),
      caseId: s.caseId,
      caseKey: s.caseKey,
      consentDate: p.consentDate,
      consentFormId: p.consentFormId,
      consentReference: p.consentReference,
    },
  }),
  // The signals this case knows: the resident's row stays while another one still needs it.
  deletePersonalData: (_p, s) => ({
    activity: 'deletePersonalData',
    input: {
      caseId: s.caseId,
      caseKey: s.caseKey,
      at: s.at,
      signalIds: s.context.signals.map((x) => x.signalId),
    },
  }),
  recordSignal: (p, s) => ({
    activity: 'recordSignalStatus',
    input: { caseId: s.caseId, signalId: p.signalId, status: p.status },
  }),
};

/**
 * The effect of one emitted action, or null for XState's own bookkeeping actions (which carry nothing to
 * do). Any other action is a mismatch between machine and workflow, and fails the workflow task loudly.
 */
export function effectOf(action: { type: string; params?: unknown }, scope: StepScope): StepEffect | null {
  if (Object.hasOwn(EFFECTS, action.type)) {
    // The machine emits each action with that action's params (`CaseAction`), so the pairing holds.
    const make = EFFECTS[action.type as keyof CaseActionParams] as (
      params: unknown,
      scope: StepScope,
    ) => StepEffect;
    return make(action.params, scope);
  }
  if (action.type.startsWith('xstate.')) return null;
  throw new Error(`Unknown machine action: ${action.type}`);
}
