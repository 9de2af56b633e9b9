/**
 * The case workflow: one per resident case, stepping the pure `caseMachine` and carrying out the actions
 * it returns. Temporal owns time (the machine keeps deadlines in its context; the workflow waits with
 * `condition` and feeds TIMEOUT), the snapshot is plain JSON and survives continue-as-new.
 *
 * Only ids, enums, amounts and dates enter this workflow; activities fetch personal data themselves.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { initialTransition, transition } from 'xstate';
import type { CaseActivities, StepEffect } from '../activities/case-activities.js';
import { type CaseEvent, caseMachine, type SignalFacts } from './case-machine.js';
import { effectOf } from './effects.js';
import {
  type CaseEventEnvelope,
  type CaseStart,
  type CaseView,
  type CaseWorkflowInput,
  completeTask,
  getCaseView,
  newSignal,
  newSignals,
  objectionRegistered,
  recordResidentContact,
} from './messages.js';
import {
  FOLLOW_UP_PATCH,
  GROUPED_SIGNALS_PATCH,
  OBJECTION_PATCH,
  OBJECTION_SCREENING_PATCH,
  ONE_ACTIVITY_PER_STEP_PATCH,
} from './patches.js';
import { projectionOf, stageOf } from './projection.js';

const activities = proxyActivities<CaseActivities>({
  // Database effects take milliseconds; a worker that died mid-activity is noticed after this long.
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/**
 * A step that answers a message (a signal, a caseworker's update) runs as one local activity in that
 * message's workflow task: no activity task to match and no second workflow task, so a month's cases reach
 * their first letter in one round trip each, and a partner's second signal costs one more. A retried task
 * (a worker died, or the task could not complete) carries its messages again in their order, so it takes
 * the same step first and the idempotent effects change nothing. A step that answers a timer does not: in
 * a retry a message that arrived meanwhile is handled before the timer, so those steps run as activities
 * (`runStep`), scheduled only once their workflow task has completed.
 */
const localActivities = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

type Snapshot = ReturnType<typeof initialTransition<typeof caseMachine>>[0];
type Action = ReturnType<typeof transition<typeof caseMachine>>[1][number];

/**
 * The machine event of a queued envelope. `objections` false drops a conversation's objection flag: the
 * machine then routes the conversation as it did before objections ended rounds (see `OBJECTION_PATCH`).
 */
function toEvent(envelope: CaseEventEnvelope, objections = true): CaseEvent {
  switch (envelope.kind) {
    case 'signal':
      return { type: 'SIGNAL', at: envelope.at, signal: envelope.signal };
    case 'task':
      return { type: 'TASK_COMPLETED', at: envelope.at, ...objectionKept(envelope.completion, objections) };
    case 'contact':
      return { type: 'RESIDENT_CONTACT', at: envelope.at, ...objectionKept(envelope.contact, objections) };
    case 'objection':
      return { type: 'OBJECTION', at: envelope.at };
  }
}

/** A caseworker's message with its objection flag only when it is set and honoured. */
function objectionKept<T extends { objection?: boolean }>({ objection, ...rest }: T, objections: boolean) {
  return objections && objection === true ? { ...rest, objection } : rest;
}

/** Whether a caseworker's message says the resident objected in the conversation. */
function carriesObjection(envelope: CaseEventEnvelope): boolean {
  if (envelope.kind === 'task') return envelope.completion.objection === true;
  if (envelope.kind === 'contact') return envelope.contact.objection === true;
  return false;
}

export async function caseWorkflow(input: CaseWorkflowInput): Promise<CaseView> {
  const info = workflowInfo();
  // The first run's id is stable across continue-as-new: it identifies this case (one outreach chain). A
  // follow-up case (signals that reached the previous case as it closed) takes its own first run's id.
  const caseId = input.caseId ?? (input.followUp ? info.runId : info.firstExecutionRunId);
  const maxEvents = input.maxEventsPerRun ?? 500;

  const inbox: CaseEventEnvelope[] = [...(input.carried?.inbox ?? []), ...(input.followUp?.inbox ?? [])];
  /**
   * Signals that reached the case once its machine had closed (and objection notices behind them): never
   * dropped, they start the next case when this one has closed (`FOLLOW_UP_PATCH`).
   */
  const nextCase: CaseEventEnvelope[] = [];
  let snapshot: Snapshot | undefined = input.carried
    ? (caseMachine.resolveState(
        input.carried.snapshot as Parameters<typeof caseMachine.resolveState>[0],
      ) as Snapshot)
    : undefined;
  // What queries show: the snapshot whose actions have all been carried out, so a caller that sees an
  // open task in the view also finds it in the inbox table.
  let published: Snapshot | undefined = snapshot;
  const settled = new Map<CaseEventEnvelope, string | null>();
  const queuedTaskIds = new Set<string>();
  let processedThisRun = 0;
  let projected = '';

  const view = (): CaseView => {
    const shown = published;
    const ctx = shown?.context;
    const open = ctx?.openTask ?? null;
    return {
      caseId,
      stage: shown ? stageOf(shown.value) : 'waitingForSignal',
      state: shown?.value ?? null,
      priority: ctx?.priority ?? 'normal',
      round: ctx?.round ?? 0,
      openTask: open
        ? { taskId: open.taskId, kind: open.kind, attempt: open.attempt, dueAt: open.dueAt }
        : null,
      nextDeadline: ctx?.deadline ?? null,
      result: ctx?.result ?? null,
      signals: ctx?.signals.length ?? 0,
      contactAttempts: ctx?.contactAttempts.length ?? 0,
      closed: shown?.status === 'done',
    };
  };

  /** Why the machine cannot take `envelope` now, in words a caseworker understands; null when it can. */
  const refusal = (envelope: CaseEventEnvelope): { type: string; message: string } | null => {
    if (!snapshot) return { type: 'CaseNotStarted', message: 'Deze zaak is nog niet gestart.' };
    if (snapshot.status === 'done') return { type: 'CaseClosed', message: 'Deze zaak is al afgesloten.' };
    if (envelope.kind === 'task') {
      const { taskId } = envelope.completion;
      if (queuedTaskIds.has(taskId) || snapshot.context.openTask?.taskId !== taskId) {
        return {
          type: 'TaskNotOpen',
          message: 'Deze taak is al afgerond door iemand anders, of bestaat niet meer.',
        };
      }
    }
    if (!snapshot.can(toEvent(envelope))) {
      return {
        type: 'OutcomeNotAllowed',
        message: 'Deze uitkomst kan in de huidige stap van de zaak niet worden vastgelegd.',
      };
    }
    return null;
  };

  const enqueueAndWait = async (envelope: CaseEventEnvelope): Promise<CaseView> => {
    inbox.push(envelope);
    if (envelope.kind === 'task') queuedTaskIds.add(envelope.completion.taskId);
    await condition(() => settled.has(envelope));
    const failure = settled.get(envelope);
    settled.delete(envelope);
    if (failure) throw ApplicationFailure.nonRetryable(failure, 'OutcomeNotAllowed');
    return view();
  };

  const receive = (signal: SignalFacts, start: CaseStart | undefined) => {
    // The dispatcher may hand a signal over twice after a crash: the second copy changes nothing.
    const seen =
      snapshot?.context.signals.some((s) => s.signalId === signal.signalId) ||
      input.followUp?.previousSignalIds?.includes(signal.signalId) ||
      [...inbox, ...nextCase].some((e) => e.kind === 'signal' && e.signal.signalId === signal.signalId);
    if (!seen) inbox.push({ kind: 'signal', at: Date.now(), signal, ...(start ? { start } : {}) });
  };
  setHandler(newSignal, receive);
  setHandler(newSignals, (signals, start) => {
    for (const signal of signals) receive(signal, start);
  });
  setHandler(objectionRegistered, (objection) => {
    const envelope: CaseEventEnvelope = { kind: 'objection', at: Date.now(), objection };
    // Nothing changes, not even a wake-up of the waiting loop, unless a round runs or queued events may
    // start one; a second notice while one is queued adds nothing.
    if (snapshot && inbox.length === 0 && nextCase.length === 0 && !snapshot.can(toEvent(envelope))) return;
    if ([...inbox, ...nextCase].some((e) => e.kind === 'objection')) return;
    // Histories from before objections ended rounds ignored this signal (it had no handler): so do replays.
    if (!patched(OBJECTION_PATCH)) return;
    inbox.push(envelope);
  });
  const validate = (envelope: CaseEventEnvelope) => {
    const reason = refusal(envelope);
    if (reason) throw ApplicationFailure.nonRetryable(reason.message, reason.type);
  };
  setHandler(completeTask, (completion) => enqueueAndWait({ kind: 'task', at: Date.now(), completion }), {
    validator: (completion) => validate({ kind: 'task', at: Date.now(), completion }),
  });
  setHandler(
    recordResidentContact,
    (contact) => enqueueAndWait({ kind: 'contact', at: Date.now(), contact }),
    {
      validator: (contact) => validate({ kind: 'contact', at: Date.now(), contact }),
    },
  );
  setHandler(getCaseView, view);

  /** Effects of steps taken in this workflow task and not yet carried out (`GROUPED_SIGNALS_PATCH`). */
  let deferred: { effects: StepEffect[]; at: number } | null = null;

  /**
   * Carries out one step: `before` (registration, a task's closing), the effects of the machine's `actions`,
   * and the read model when what others see changed; then the search attributes. All in one activity
   * (`runStep`), or, in histories recorded before that, one activity each, as they ran. With `defer`, the
   * step's effects wait for the next step's (signals queued together), or for `carryOutDeferred`.
   */
  const carryOut = async (
    actions: Action[],
    at: number,
    before: StepEffect[] = [],
    local = false,
    defer = false,
  ): Promise<void> => {
    const current = snapshot!;
    const scope = {
      caseId,
      caseKey: input.caseKey,
      workflowId: info.workflowId,
      team: input.team,
      at,
      context: current.context,
    };
    const effects = [...(deferred?.effects ?? []), ...before];
    deferred = null;
    for (const action of actions) {
      const effect = effectOf(action, scope);
      if (effect) effects.push(effect);
    }
    if (defer) {
      deferred = { effects, at };
      return;
    }
    const projection = projectionOf(
      { value: current.value, context: current.context, done: current.status === 'done' },
      { caseId, team: input.team, municipality: input.municipality, at },
    );
    const changed = projection.fingerprint !== projected;
    projected = projection.fingerprint;
    if (changed) effects.push({ activity: 'syncCase', input: projection.sync });
    if (input.steps === 'local' && local) {
      if (effects.length > 0) await localActivities.runStepLocally({ caseId, effects });
    } else if (input.steps === 'local' || patched(ONE_ACTIVITY_PER_STEP_PATCH)) {
      if (effects.length > 0) await activities.runStep({ caseId, effects });
    } else {
      for (const effect of effects) {
        const run = activities[effect.activity] as (given: StepEffect['input']) => Promise<unknown>;
        await run(effect.input);
      }
    }
    // Queries show a snapshot once its effects are done: an open task in the view is in the inbox table.
    published = current;
    if (changed) upsertSearchAttributes(projection.attributes);
  };

  /** Carries out the steps deferred in this workflow task, if any, with the read model once for all. */
  const carryOutDeferred = async (): Promise<void> => {
    if (deferred) await carryOut([], deferred.at, [], true);
  };

  /**
   * Whether the step of `envelope`, just taken from the inbox, waits to be carried out with the next one's:
   * a signal followed by another signal, in a case whose steps are local activities. Histories recorded
   * before `GROUPED_SIGNALS_PATCH` carried out each step on its own, as they replay.
   */
  const groupsWithNext = (envelope: CaseEventEnvelope): boolean =>
    envelope.kind === 'signal' &&
    inbox[0]?.kind === 'signal' &&
    input.steps === 'local' &&
    patched(GROUPED_SIGNALS_PATCH);

  /**
   * A signal that would start a round (the case's first, or one after the last round ended) while an
   * objection notice waits in the inbox behind it: the resident was on the register before this round
   * could begin, so the signal is screened as theirs (not picked up, as intake screens it) instead of
   * starting outreach whose first letter the notice would stop only after it went out. A signal that joins
   * a running round is left as it is: the notice ends that round. Histories recorded before this rule
   * (no `OBJECTION_SCREENING_PATCH` marker) replay as they ran.
   */
  const screenedWithQueuedObjection = (signal: SignalFacts, at: number): SignalFacts => {
    if (signal.screening.objected || !inbox.some((e) => e.kind === 'objection')) return signal;
    if (snapshot?.can({ type: 'OBJECTION', at })) return signal;
    if (!patched(OBJECTION_SCREENING_PATCH)) return signal;
    return { ...signal, screening: { ...signal.screening, objected: true } };
  };

  /**
   * Whether `envelope` waits for the next case: a signal that reaches a closed machine (it would ignore it),
   * or an objection notice that reaches it behind such a signal (it screens that signal in the next case).
   * Histories recorded before `FOLLOW_UP_PATCH` processed such a signal against the final state, as they ran.
   */
  const keptForNextCase = (envelope: CaseEventEnvelope): boolean => {
    if (snapshot?.status !== 'done') return false;
    const waiting = [...nextCase, ...inbox].some((e) => e.kind === 'signal');
    if (envelope.kind !== 'signal' && !(envelope.kind === 'objection' && waiting)) return false;
    return patched(FOLLOW_UP_PATCH);
  };

  /** Feeds one event to the machine and carries out what it returns (with `defer`: see `carryOut`). */
  const process = async (envelope: CaseEventEnvelope, defer = false): Promise<void> => {
    if (keptForNextCase(envelope)) {
      nextCase.push(envelope);
      return;
    }
    // An objection that queued behind an event which ended the round (or an empty case) changes nothing.
    if (envelope.kind === 'objection' && !snapshot?.can(toEvent(envelope))) return;
    processedThisRun += 1;
    if (!snapshot) {
      if (envelope.kind !== 'signal') {
        settled.set(envelope, 'Deze zaak is nog niet gestart.');
        return;
      }
      const [first, actions] = initialTransition(caseMachine, {
        policy: input.policy,
        at: envelope.at,
        signal: screenedWithQueuedObjection(envelope.signal, envelope.at),
      });
      snapshot = first;
      const register: StepEffect = {
        activity: 'registerCase',
        input: {
          caseId,
          workflowId: info.workflowId,
          municipality: input.municipality,
          caseKey: input.caseKey,
          team: input.team,
          stage: stageOf(first.value),
          priority: first.context.priority,
          partnerTypes: [envelope.signal.partnerType],
          policy: input.policy,
          startedAt: envelope.at,
        },
      };
      await carryOut(actions, envelope.at, [register], true, defer);
      return;
    }
    // Re-check: an earlier queued event may have changed what the machine accepts since validation.
    const failure =
      envelope.kind === 'signal' || envelope.kind === 'objection' ? null : refusalAfterQueue(envelope);
    if (failure) {
      settled.set(envelope, failure);
      return;
    }
    // Only code that knows the patch honours a conversation's objection; old histories replay without it.
    const objections = carriesObjection(envelope) && patched(OBJECTION_PATCH);
    const event =
      envelope.kind === 'signal'
        ? toEvent({ ...envelope, signal: screenedWithQueuedObjection(envelope.signal, envelope.at) })
        : toEvent(envelope, objections);
    const [next, actions] = transition(caseMachine, snapshot, event);
    snapshot = next;
    const before: StepEffect[] = [];
    if (envelope.kind === 'task') {
      const { completion } = envelope;
      queuedTaskIds.delete(completion.taskId);
      before.push({
        activity: 'closeTask',
        input: {
          caseId,
          taskId: completion.taskId,
          status: 'completed',
          outcome: completion.reached ? (completion.outcome?.kind ?? 'reached') : 'not_reached',
          at: envelope.at,
        },
      });
    }
    await carryOut(actions, envelope.at, before, true, defer && envelope.kind === 'signal');
    if (envelope.kind === 'task' || envelope.kind === 'contact') settled.set(envelope, null);
  };

  const refusalAfterQueue = (envelope: CaseEventEnvelope): string | null => {
    if (envelope.kind === 'task') queuedTaskIds.delete(envelope.completion.taskId);
    const reason = refusal(envelope);
    if (envelope.kind === 'task' && !reason) queuedTaskIds.add(envelope.completion.taskId);
    return reason?.message ?? null;
  };

  for (;;) {
    while (inbox.length > 0) {
      const envelope = inbox.shift()!;
      await process(envelope, groupsWithNext(envelope));
    }
    await carryOutDeferred();
    if (snapshot?.status === 'done') {
      // Updates still running settle first; what arrives meanwhile is looked at too (it may start a case).
      await condition(allHandlersFinished);
      if (inbox.length === 0) break;
      continue;
    }

    if (snapshot && (processedThisRun >= maxEvents || workflowInfo().continueAsNewSuggested)) {
      await condition(allHandlersFinished);
      if (inbox.length === 0) {
        const { followUp: _started, ...same } = input;
        await continueAsNew<typeof caseWorkflow>({
          ...same,
          ...(caseId === info.firstExecutionRunId ? {} : { caseId }),
          carried: { snapshot: { value: snapshot.value, context: snapshot.context }, inbox: [] },
        });
      }
      continue;
    }

    const deadline = snapshot?.context.deadline ?? null;
    if (deadline === null) {
      await condition(() => inbox.length > 0);
    } else if (!(await condition(() => inbox.length > 0, Math.max(deadline - Date.now(), 1)))) {
      // The timer fired, so the deadline has passed on the server's clock. The activation's clock can lag it:
      // a replacement worker that takes over after a crash may run the firing with the time of the task
      // that started the timer, and would then refuse the TIMEOUT and wait once more, while a replay of the
      // same history (with the later time) goes on: a non-determinism that would stall the case for good.
      // Never earlier than the deadline, so both agree; in every other case this is `Date.now()` itself.
      const at = Math.max(Date.now(), deadline);
      const timeout: CaseEvent = { type: 'TIMEOUT', at };
      if (snapshot!.can(timeout)) {
        const [next, actions] = transition(caseMachine, snapshot!, timeout);
        snapshot = next;
        processedThisRun += 1;
        await carryOut(actions, at);
      }
    }
  }
  // Signals that reached the case as it closed start the next case, with its own id, here and now: once
  // this run has completed, a signal would start one anyway (the dispatcher's signalWithStart).
  const first = nextCase.find(
    (e): e is Extract<CaseEventEnvelope, { kind: 'signal' }> => e.kind === 'signal',
  );
  if (first) {
    const { carried: _snapshot, followUp: _started, caseId: _previous, ...same } = input;
    await continueAsNew<typeof caseWorkflow>({
      ...same,
      team: first.start?.team ?? input.team,
      policy: first.start?.policy ?? input.policy,
      // The signal first: an objection notice kept with it screens it in the next case, and is dropped there
      // when it comes before any signal (no round to end). The signals this case had: a repeated hand-over
      // of one of them reaching the next case is not a new signal.
      followUp: {
        inbox: [first, ...nextCase.filter((e) => e !== first)],
        previousCaseId: caseId,
        previousSignalIds: snapshot?.context.signals.map((s) => s.signalId) ?? [],
      },
    });
  }
  return view();
}
