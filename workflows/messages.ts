/**
 * The case workflow's messages, shared by the workflow and its callers (API, dispatcher, tests).
 * They carry ids, enums, amounts and dates only: never names, addresses, birth dates or contact details.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Contactsoort, Dagdeel, Eindresultaat } from './ddas.js';
import type { OutreachPolicy } from './policy.js';

export type { Outcome, SignalFacts } from './case-machine.js';

import type { Outcome, SignalFacts } from './case-machine.js';

export const CASE_WORKFLOW_TYPE = 'caseWorkflow';

/** The workflow id of a resident's case: opaque key only. */
export function caseWorkflowId(municipality: string, caseKey: string): string {
  return `case:${municipality}:${caseKey}`;
}

/** Start arguments. The first signal arrives through `newSignal` (signalWithStart). */
export interface CaseWorkflowInput {
  municipality: string;
  caseKey: string;
  team: string;
  policy: OutreachPolicy;
  /** Continue-as-new after this many processed events (default 500); tests set it low. */
  maxEventsPerRun?: number;
  /** Set by continue-as-new: the machine snapshot and anything not yet processed. */
  carried?: { snapshot: { value: unknown; context: unknown }; inbox: CaseEventEnvelope[] };
  /**
   * Set when a case that closed continues as new for the signals that reached it as it closed (see
   * `FOLLOW_UP_PATCH`): this run is a new case, with its own id (the run's own id), for those signals.
   */
  followUp?: { inbox: CaseEventEnvelope[]; previousCaseId: string; previousSignalIds?: string[] };
  /** The case's id when it is not the first run's id: a follow-up case that continued as new again. */
  caseId?: string;
  /**
   * How a step's effects run: `local`, one local activity in the step's own workflow task (set by the
   * dispatcher for every case it starts). Absent in histories recorded before: one activity per step
   * (`ONE_ACTIVITY_PER_STEP_PATCH`), or one activity per effect before that.
   */
  steps?: 'local';
}

/** What a new case starts with, sent along with each signal: a signal may start the next case. */
export type CaseStart = Pick<CaseWorkflowInput, 'team' | 'policy'>;

/** A queued machine event, stamped with the workflow time it arrived. */
export type CaseEventEnvelope =
  | { kind: 'signal'; at: number; signal: SignalFacts; start?: CaseStart }
  | { kind: 'task'; at: number; completion: TaskCompletion }
  | { kind: 'contact'; at: number; contact: ResidentContact }
  | { kind: 'objection'; at: number; objection: ObjectionNotice };

/** What a caseworker recorded for a task. */
export interface TaskCompletion {
  taskId: string;
  reached: boolean;
  dagdeel: Dagdeel;
  outcome?: Outcome;
  /** The resident objected in this conversation to creditors sharing their data: the round ends objected. */
  objection?: boolean;
}

/** The resident contacted the team (by phone, e-mail, at the desk) and what came of it. */
export interface ResidentContact {
  channel: Contactsoort;
  dagdeel: Dagdeel;
  outcome: Outcome;
  /** As in `TaskCompletion`. */
  objection?: boolean;
}

/** The resident was put on the objection register; only the id of the delivery, never who or why. */
export interface ObjectionNotice {
  /** The id of the objection delivery (outbox row) that sent it. */
  deliveryId: string;
}

/** What callers see of a case. */
export interface CaseView {
  caseId: string;
  stage: string;
  state: unknown;
  priority: string;
  round: number;
  openTask: { taskId: string; kind: 'phone' | 'visit'; attempt: number; dueAt: number } | null;
  nextDeadline: number | null;
  result: Eindresultaat | null;
  signals: number;
  contactAttempts: number;
  closed: boolean;
}

/**
 * A new arrears signal for the resident (also the start signal), with what a case it starts begins with
 * (absent from dispatchers before it was sent: the running case's own team and policy are used then).
 */
export const newSignal = defineSignal<[SignalFacts, CaseStart?]>('newSignal');
/**
 * Several new signals for the resident at once, in the order they were received, with what a case they
 * start begins with: the dispatcher hands over all of a case's waiting signals in one signalWithStart, so a
 * resident reported by three partners costs one workflow task and one step, not three.
 */
export const newSignals = defineSignal<[SignalFacts[], CaseStart]>('newSignals');
/**
 * The resident is on the objection register: a running round ends as objected (open task cancelled, no
 * further outreach); a signal queued with it that would start a round (the case's first, or one after an
 * end) is screened as objected, so it is not picked up; after the round ended it changes nothing. Sent by
 * the objection outbox (`worker/objection-dispatcher.ts`), possibly more than once.
 */
export const objectionRegistered = defineSignal<[ObjectionNotice]>('objectionRegistered');
/** A caseworker completes a phone or visit task; refused when the task is not open. */
export const completeTask = defineUpdate<CaseView, [TaskCompletion]>('completeTask');
/** The resident responded on their own; refused when the case can no longer take it. */
export const recordResidentContact = defineUpdate<CaseView, [ResidentContact]>('recordResidentContact');
/** The case's current state, open task and next deadline. */
export const getCaseView = defineQuery<CaseView>('getCaseView');
