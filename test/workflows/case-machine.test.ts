import { getShortestPaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { initialTransition, type SnapshotFrom, transition } from 'xstate';
import {
  CASE_ACTION_TYPES,
  type CaseAction,
  type CaseEvent,
  type CaseInput,
  caseMachine,
  END_STAGES,
  OBJECTION_RESULT,
  type Outcome,
  type SignalFacts,
  screenSignal,
} from '../../workflows/case-machine.js';
import { dagdeelOf, EINDRESULTATEN } from '../../workflows/ddas.js';
import { DAY_MS, DEFAULT_POLICY, HOUR_MS, type OutreachPolicy, shortPolicy } from '../../workflows/policy.js';

type CaseSnapshot = SnapshotFrom<typeof caseMachine>;

/** Monday 3 March 2025, 10:00 in Amsterdam. */
const T0 = Date.UTC(2025, 2, 3, 9, 0);

function aSignal(overrides: Partial<SignalFacts> = {}): SignalFacts {
  return {
    signalId: 'sig-1',
    partnerId: 'woningcorporatie-1',
    partnerType: 'Huur',
    amount: 450,
    arrearsSince: '2025-01-01',
    signalDate: '2025-02-28',
    crisis: false,
    warmHandover: false,
    screening: { objected: false, movedAway: false, deceased: false, knownToDebtHelp: false },
    ...overrides,
  };
}

const isoDate = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);
const consent = (at: number): Outcome => ({
  kind: 'consent',
  consentDate: isoDate(at),
  consentReference: 'TF-77',
});

/** Top-level state name: the case's stage. */
function stageOf(snapshot: CaseSnapshot): string {
  return typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value)[0]!;
}

/**
 * The checks every emitted action must pass: a known type for the workflow, plain-JSON params,
 * and a step never used before in this case (it is the workflow's idempotency key).
 */
function checkEmitted(
  actions: readonly { type: string; params?: unknown }[],
  steps: Set<string>,
): CaseAction[] {
  const emitted: CaseAction[] = [];
  for (const action of actions) {
    expect(CASE_ACTION_TYPES).toContain(action.type);
    expect(JSON.parse(JSON.stringify(action.params))).toEqual(action.params);
    const step = (action.params as { step: string }).step;
    expect(steps.has(step), `step ${step} used twice`).toBe(false);
    steps.add(step);
    emitted.push({ type: action.type, params: action.params } as CaseAction);
  }
  return emitted;
}

/** Drives one case purely, as the workflow does: every event must be accepted (`can`) first. */
function openCase(signal = aSignal(), policy: OutreachPolicy = DEFAULT_POLICY, at = T0) {
  const steps = new Set<string>();
  const [first, firstActions] = initialTransition(caseMachine, { policy, at, signal } satisfies CaseInput);
  let snapshot = first;
  let last = checkEmitted(firstActions, steps);
  const drive = {
    get snapshot() {
      return snapshot;
    },
    get context() {
      return snapshot.context;
    },
    get stage() {
      return stageOf(snapshot);
    },
    /** Actions emitted by the last step. */
    get actions() {
      return last;
    },
    send(event: CaseEvent) {
      expect(snapshot.can(event), `${event.type} refused in ${JSON.stringify(snapshot.value)}`).toBe(true);
      const [next, actions] = transition(caseMachine, snapshot, event);
      snapshot = next;
      last = checkEmitted(actions, steps);
      return drive;
    },
    /** The workflow's timer fires exactly at the deadline. */
    timeout() {
      return drive.send({ type: 'TIMEOUT', at: snapshot.context.deadline! });
    },
    /** The caseworker reports the open task, done in the dagdeel the machine suggested. */
    completeTask(reached: boolean, outcome?: Outcome, at = drive.now() + HOUR_MS) {
      const { taskId, preferredDagdeel: dagdeel } = snapshot.context.openTask!;
      return drive.send({ type: 'TASK_COMPLETED', at, taskId, reached, dagdeel, outcome });
    },
    residentContact(outcome: Outcome, at = drive.now() + HOUR_MS) {
      return drive.send({
        type: 'RESIDENT_CONTACT',
        at,
        channel: 'Telefoon',
        dagdeel: dagdeelOf(at),
        outcome,
      });
    },
    /** The latest moment the case knows of. */
    now() {
      const c = snapshot.context;
      const taskCreated = c.openTask ? c.openTask.dueAt - policy[c.openTask.kind].taskDueMs : 0;
      return Math.max(c.lastSignalAt, c.contactAttempts.at(-1)?.at ?? 0, taskCreated);
    },
    restore(json: unknown) {
      snapshot = caseMachine.resolveState(json as CaseSnapshot);
      return drive;
    },
  };
  return drive;
}

const types = (actions: readonly CaseAction[]) => actions.map((a) => a.type);
const find = <T extends CaseAction['type']>(actions: readonly CaseAction[], type: T) =>
  actions.find((a): a is Extract<CaseAction, { type: T }> => a.type === type)?.params;

describe('the outreach ladder', () => {
  it('records the signal, sends a first letter and waits a week before calling', () => {
    const c = openCase();
    expect(c.stage).toBe('letter');
    expect(types(c.actions)).toEqual(['recordSignal', 'sendLetter', 'recordContactAttempt']);
    expect(find(c.actions, 'recordSignal')).toEqual({
      step: 'signal-1',
      signalId: 'sig-1',
      status: 'Opgepakt',
    });
    expect(find(c.actions, 'sendLetter')).toEqual({ step: 'r1-letter', template: 'first' });
    expect(c.context.contactAttempts).toEqual([
      { soort: 'Brief', bereikt: false, at: T0, dagdeel: 'Ochtend' },
    ]);
    expect(c.context.deadline).toBe(T0 + 7 * DAY_MS);
  });

  it('refuses a TIMEOUT before the deadline and accepts it from the deadline on', () => {
    const c = openCase();
    const deadline = c.context.deadline!;
    expect(c.snapshot.can({ type: 'TIMEOUT', at: deadline - 1 })).toBe(false);
    expect(c.snapshot.can({ type: 'TIMEOUT', at: deadline })).toBe(true);
  });

  it('hands over to debt help after consent on the second call', () => {
    const c = openCase().timeout();
    expect(c.snapshot.value).toEqual({ phone: 'calling' });
    expect(find(c.actions, 'createTask')).toMatchObject({
      taskId: 'r1-phone-1',
      kind: 'phone',
      attempt: 1,
      preferredDagdeel: 'Ochtend',
      priority: 'normal',
    });
    expect(c.context.deadline).toBeNull();

    c.completeTask(false);
    expect(c.snapshot.value).toEqual({ phone: 'waiting' });
    expect(c.context.contactAttempts.at(-1)).toMatchObject({
      soort: 'Telefoon',
      bereikt: false,
      dagdeel: 'Ochtend',
    });

    c.timeout();
    // A different dagdeel than the failed morning call.
    expect(find(c.actions, 'createTask')).toMatchObject({ taskId: 'r1-phone-2', preferredDagdeel: 'Middag' });

    const at = c.now() + 5 * HOUR_MS;
    c.completeTask(true, consent(at), at);
    expect(c.stage).toBe('handedOver');
    expect(c.snapshot.status).toBe('done');
    expect(c.context.result).toBe('Vervolghulp en/of verwijzing financieel');
    expect(c.context.consent).toEqual({ consentDate: isoDate(at), consentReference: 'TF-77' });
    expect(types(c.actions)).toEqual(['recordContactAttempt', 'handOver', 'notifyPartner']);
    expect(find(c.actions, 'notifyPartner')).toEqual({
      step: 'r1-feedback',
      signalIds: ['sig-1'],
      message: 'picked_up',
    });
  });

  it('leaves a card when nobody is home and tries again', () => {
    const warm = openCase(aSignal({ warmHandover: true }), { ...DEFAULT_POLICY, warmHandoverStart: 'visit' });
    expect(warm.snapshot.value).toEqual({ visit: 'visiting' });

    warm.completeTask(false);
    expect(warm.snapshot.value).toEqual({ visit: 'waiting' });
    expect(types(warm.actions)).toEqual(['recordContactAttempt', 'recordContactAttempt', 'leaveCard']);
    expect(warm.context.contactAttempts.map((a) => [a.soort, a.bereikt])).toEqual([
      ['Huisbezoek', false],
      ['Kaartje', false],
    ]);
    expect(warm.context.deadline).toBe(warm.now() + DEFAULT_POLICY.visit.retryWaitMs);

    warm.timeout();
    expect(warm.snapshot.value).toEqual({ visit: 'visiting' });
    expect(find(warm.actions, 'createTask')).toMatchObject({ taskId: 'r1-visit-2', attempt: 2 });
  });

  it('marks the resident unreachable after the full ladder, and deletes the data a year after the last signal', () => {
    const c = openCase().timeout();
    for (let call = 1; call <= 3; call++) {
      c.completeTask(false);
      if (call < 3) c.timeout();
    }
    expect(c.snapshot.value).toEqual({ visit: 'visiting' });
    c.completeTask(false).timeout().completeTask(false);
    expect(c.stage).toBe('awaitingResponse');
    expect(c.context.deadline).toBe(c.now() + DEFAULT_POLICY.afterLastCardWaitMs);

    c.timeout();
    expect(c.stage).toBe('unreachable');
    expect(c.context.result).toBe('Definitief geen contact kunnen krijgen');
    expect(find(c.actions, 'notifyPartner')).toMatchObject({ message: 'no_contact', signalIds: ['sig-1'] });
    // Brief + 3 calls + 2 x (visit + card)
    expect(c.context.contactAttempts.map((a) => a.soort)).toEqual([
      'Brief',
      'Telefoon',
      'Telefoon',
      'Telefoon',
      'Huisbezoek',
      'Kaartje',
      'Huisbezoek',
      'Kaartje',
    ]);
    expect(
      new Set(c.context.contactAttempts.filter((a) => a.soort === 'Telefoon').map((a) => a.dagdeel)).size,
    ).toBe(3);
    expect(c.context.deadline).toBe(c.context.lastSignalAt + DEFAULT_POLICY.retention.noContactMs);

    c.timeout();
    expect(c.stage).toBe('closed');
    expect(c.snapshot.status).toBe('done');
    expect(c.actions).toEqual([{ type: 'deletePersonalData', params: { step: 'r1-delete' } }]);
    expect(c.context.result).toBe('Definitief geen contact kunnen krijgen');
  });

  it('ends in "declined" when the resident declines at the door; the partner is told and the data deleted after 14 days', () => {
    const c = openCase(aSignal({ crisis: true }), { ...DEFAULT_POLICY, crisisStart: 'visit' });
    c.completeTask(true, { kind: 'declined' });
    expect(c.stage).toBe('declined');
    expect(c.context.result).toBe('Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering');
    expect(find(c.actions, 'notifyPartner')).toMatchObject({ message: 'declined' });
    expect(c.context.deadline).toBe(c.now() + 14 * DAY_MS);
    c.timeout();
    expect(c.stage).toBe('closed');
    expect(types(c.actions)).toEqual(['deletePersonalData']);
  });

  it('goes straight to the conversation when the resident responds to the letter', () => {
    const c = openCase();
    c.send({
      type: 'RESIDENT_CONTACT',
      at: T0 + DAY_MS,
      channel: 'Mail',
      dagdeel: 'Avond',
      outcome: { kind: 'alreadyPaid' },
    });
    expect(c.stage).toBe('concluded');
    expect(c.context.result).toBe('Inwoner heeft zelf al betaald/betalingsregeling getroffen');
    expect(c.context.contactAttempts.at(-1)).toEqual({
      soort: 'Mail',
      bereikt: true,
      at: T0 + DAY_MS,
      dagdeel: 'Avond',
    });
    expect(find(c.actions, 'notifyPartner')).toMatchObject({ message: 'picked_up' });
    expect(c.context.deadline).toBe(T0 + DAY_MS + DEFAULT_POLICY.retention.afterContactMs);
    c.timeout();
    expect(c.stage).toBe('closed');
  });

  it('cancels the open task when the resident calls in while a call is planned', () => {
    const c = openCase().timeout();
    c.residentContact({ kind: 'adviceQuickFix' });
    expect(types(c.actions)).toEqual(['cancelTask', 'recordContactAttempt', 'notifyPartner']);
    expect(find(c.actions, 'cancelTask')).toEqual({ step: 'r1-phone-1-cancel', taskId: 'r1-phone-1' });
    expect(c.context.openTask).toBeNull();
    expect(c.context.result).toBe('(Budget)advies en/of quick fix');
  });

  it('re-contacts at the agreed date with a second ladder after "not now", and can end in consent', () => {
    const c = openCase().timeout();
    const recontactDate = isoDate(T0 + 60 * DAY_MS);
    c.completeTask(true, { kind: 'notNow', recontactDate });
    expect(c.stage).toBe('notNow');
    expect(c.context.result).toBeNull();
    expect(find(c.actions, 'sendLetter')).toMatchObject({ template: 'recontactConfirmation' });
    expect(c.context.deadline).toBe(Date.parse(`${recontactDate}T08:00:00Z`));

    c.timeout();
    expect(c.stage).toBe('letter');
    expect(c.context.round).toBe(2);
    expect(c.context.phoneAttempts).toBe(0);
    expect(find(c.actions, 'sendLetter')).toEqual({ step: 'r2-letter', template: 'reminder' });

    c.timeout();
    expect(find(c.actions, 'createTask')).toMatchObject({ taskId: 'r2-phone-1', attempt: 1 });
    c.completeTask(true, consent(c.now() + HOUR_MS));
    expect(c.stage).toBe('handedOver');
    expect(c.context.result).toBe('Vervolghulp en/of verwijzing financieel');
  });

  it('calls a second unreachable run "no response after earlier contact"', () => {
    const c = openCase().timeout();
    c.completeTask(true, { kind: 'notNow', recontactDate: isoDate(T0 + 30 * DAY_MS) })
      .timeout()
      .timeout();
    for (let call = 1; call <= 3; call++) {
      c.completeTask(false);
      if (call < 3) c.timeout();
    }
    c.completeTask(false).timeout().completeTask(false).timeout();
    expect(c.stage).toBe('unreachable');
    expect(c.context.result).toBe('Geen reactie na eerder contact');
  });
});

describe('where outreach starts', () => {
  it('starts a crisis signal with a call, at crisis priority', () => {
    const c = openCase(aSignal({ crisis: true, amount: 10, arrearsSince: '2025-02-20' }));
    expect(c.snapshot.value).toEqual({ phone: 'calling' });
    expect(c.context.priority).toBe('crisis');
    expect(find(c.actions, 'createTask')).toMatchObject({ priority: 'crisis' });
    expect(types(c.actions)).not.toContain('sendLetter');
  });

  it('starts a warm handover where the policy says, at high priority', () => {
    expect(openCase(aSignal({ warmHandover: true })).snapshot.value).toEqual({ phone: 'calling' });
    const c = openCase(aSignal({ warmHandover: true }), { ...DEFAULT_POLICY, warmHandoverStart: 'visit' });
    expect(c.snapshot.value).toEqual({ visit: 'visiting' });
    expect(c.context.priority).toBe('high');
  });
});

describe('signals that are not picked up', () => {
  it.each([
    [
      'objection',
      { screening: { objected: true, movedAway: false, deceased: false, knownToDebtHelp: false } },
      'Niet opgepakt: andere reden',
    ],
    ['below the minimum amount', { amount: 50 }, 'Niet opgepakt: onterecht signaal'],
    ['too few days in arrears', { arrearsSince: '2025-02-10' }, 'Niet opgepakt: onterecht signaal'],
    ['a partner type that is switched off', { partnerType: 'DUO' }, 'Niet opgepakt: onterecht signaal'],
    [
      'death',
      { screening: { objected: false, movedAway: false, deceased: true, knownToDebtHelp: false } },
      'Inwoner is overleden',
    ],
  ] as const)('ends without outreach after %s', (_, overrides, status) => {
    const c = openCase(aSignal(overrides as Partial<SignalFacts>));
    expect(c.stage).toBe('notPickedUp');
    expect(c.context.result).toBe(status);
    expect(c.context.signals[0]!.status).toBe(status);
    expect(types(c.actions)).toEqual(['recordSignal', 'notifyPartner']);
    // The partner learns only that it was not picked up, never why.
    expect(find(c.actions, 'notifyPartner')).toEqual({
      step: 'r1-feedback',
      signalIds: ['sig-1'],
      message: 'not_picked_up',
    });
    expect(c.context.deadline).toBe(T0 + DEFAULT_POLICY.retention.notPickedUpMs);
    c.timeout();
    expect(c.stage).toBe('closed');
  });

  it('applies the CAK rule: any amount, but six months in arrears', () => {
    const cak = { partnerType: 'CAK Zorgverzekeringen', amount: 20 } as const;
    expect(screenSignal(DEFAULT_POLICY, [], aSignal({ ...cak, arrearsSince: '2024-06-01' }), T0)).toBe(
      'start',
    );
    expect(screenSignal(DEFAULT_POLICY, [], aSignal({ ...cak, arrearsSince: '2024-12-01' }), T0)).toBe(
      'Niet opgepakt: onterecht signaal',
    );
  });

  it('treats the same arrears from the same partner as a repeat, unless the amount rose', () => {
    const earlier = [
      { partnerId: 'woningcorporatie-1', arrearsSince: '2025-01-01', amount: 450, receivedAt: T0 },
    ];
    const later = T0 + 30 * DAY_MS;
    expect(screenSignal(DEFAULT_POLICY, earlier, aSignal(), later)).toBe('Niet opgepakt: herhaalde melding');
    expect(screenSignal(DEFAULT_POLICY, earlier, aSignal({ amount: 600 }), later)).toBe('start');
    expect(screenSignal(DEFAULT_POLICY, earlier, aSignal(), T0 + 120 * DAY_MS)).toBe('start');
  });

  it('records a repeat signal during outreach without starting anything, telling only its partner', () => {
    const c = openCase().timeout();
    c.send({ type: 'SIGNAL', at: T0 + 8 * DAY_MS, signal: aSignal({ signalId: 'sig-2' }) });
    expect(c.snapshot.value).toEqual({ phone: 'calling' });
    expect(c.context.signals[1]!.status).toBe('Niet opgepakt: herhaalde melding');
    expect(c.actions).toEqual([
      {
        type: 'recordSignal',
        params: { step: 'signal-2', signalId: 'sig-2', status: 'Niet opgepakt: herhaalde melding' },
      },
      {
        type: 'notifyPartner',
        params: { step: 'signal-2-feedback', signalIds: ['sig-2'], message: 'not_picked_up' },
      },
    ]);
  });

  it('refuses a signal it already has', () => {
    const c = openCase();
    expect(c.snapshot.can({ type: 'SIGNAL', at: T0 + DAY_MS, signal: aSignal() })).toBe(false);
  });
});

describe('more signals for the same resident', () => {
  it('lets a second partner join the running outreach without a second ladder', () => {
    const c = openCase().timeout();
    c.send({
      type: 'SIGNAL',
      at: T0 + 8 * DAY_MS,
      signal: aSignal({
        signalId: 'sig-2',
        partnerId: 'zorgverzekeraar-1',
        partnerType: 'Zorg',
        amount: 180,
      }),
    });
    expect(c.snapshot.value).toEqual({ phone: 'calling' });
    expect(types(c.actions)).toEqual(['recordSignal']);
    expect(c.context.signals.map((s) => s.status)).toEqual(['Opgepakt', 'Opgepakt']);
    expect(c.context.priority).toBe('high');

    c.completeTask(true, { kind: 'referralNonFinancial' });
    expect(c.context.result).toBe('Vervolghulp en/of verwijzing niet financieel');
    expect(find(c.actions, 'notifyPartner')).toMatchObject({
      signalIds: ['sig-1', 'sig-2'],
      message: 'picked_up',
    });
  });

  it('starts a new run for a new signal after a concluded case, but not for one that fails screening', () => {
    const c = openCase();
    c.residentContact({ kind: 'selfManaged' });
    const concludedDeadline = c.context.deadline!;

    c.send({ type: 'SIGNAL', at: T0 + 10 * DAY_MS, signal: aSignal({ signalId: 'sig-2', amount: 20 }) });
    expect(c.stage).toBe('concluded');
    expect(c.context.deadline).toBe(
      Math.max(concludedDeadline, T0 + 10 * DAY_MS + DEFAULT_POLICY.retention.notPickedUpMs),
    );

    c.send({ type: 'SIGNAL', at: T0 + 40 * DAY_MS, signal: aSignal({ signalId: 'sig-3', amount: 900 }) });
    expect(c.stage).toBe('letter');
    expect(c.context.round).toBe(2);
    expect(c.context.result).toBeNull();
    expect(find(c.actions, 'sendLetter')).toEqual({ step: 'r2-letter', template: 'reminder' });
  });
});

describe('what the machine refuses (the Update validator)', () => {
  it('refuses a stale TASK_COMPLETED for a task that is no longer open', () => {
    const c = openCase().timeout().completeTask(false).timeout();
    const at = c.now() + HOUR_MS;
    const stale = {
      type: 'TASK_COMPLETED',
      at,
      taskId: 'r1-phone-1',
      reached: false,
      dagdeel: 'Middag',
    } as const;
    expect(c.snapshot.can(stale)).toBe(false);
    expect(c.snapshot.can({ ...stale, taskId: 'r1-phone-2' })).toBe(true);
  });

  it('refuses a reached resident without an outcome, and an outcome without reaching anyone', () => {
    const c = openCase().timeout();
    const base = {
      type: 'TASK_COMPLETED',
      at: c.now() + HOUR_MS,
      taskId: 'r1-phone-1',
      dagdeel: 'Middag',
    } as const;
    expect(c.snapshot.can({ ...base, reached: true })).toBe(false);
    expect(c.snapshot.can({ ...base, reached: false, outcome: { kind: 'declined' } })).toBe(false);
    expect(c.snapshot.can({ ...base, reached: true, outcome: { kind: 'declined' } })).toBe(true);
  });

  it('refuses consent without a date or reference, and a re-contact date in the past or too far ahead', () => {
    const c = openCase().timeout();
    const at = c.now() + HOUR_MS;
    const task = (outcome: Outcome) =>
      c.snapshot.can({
        type: 'TASK_COMPLETED',
        at,
        taskId: 'r1-phone-1',
        reached: true,
        dagdeel: 'Middag',
        outcome,
      });
    expect(task({ kind: 'consent', consentDate: '', consentReference: 'TF-1' })).toBe(false);
    expect(task({ kind: 'consent', consentDate: isoDate(at), consentReference: ' ' })).toBe(false);
    expect(task({ kind: 'notNow', recontactDate: isoDate(at - DAY_MS) })).toBe(false);
    expect(task({ kind: 'notNow', recontactDate: isoDate(at + 400 * DAY_MS) })).toBe(false);
    expect(task({ kind: 'notNow', recontactDate: isoDate(at + 40 * DAY_MS) })).toBe(true);
  });

  it('accepts no resident contact or task once the case has ended', () => {
    const c = openCase(aSignal({ amount: 10 }));
    const contact = {
      type: 'RESIDENT_CONTACT',
      at: T0 + DAY_MS,
      channel: 'Mail',
      dagdeel: 'Ochtend',
    } as const;
    expect(c.snapshot.can({ ...contact, outcome: { kind: 'declined' } })).toBe(false);
  });
});

describe('an objection while outreach runs', () => {
  it('ends the round at the letter: no call follows, the partner hears "not picked up", data goes after 14 days', () => {
    const c = openCase();
    const at = T0 + DAY_MS;
    c.send({ type: 'OBJECTION', at });
    expect(c.stage).toBe('objected');
    expect(c.context.result).toBe(OBJECTION_RESULT);
    expect(OBJECTION_RESULT).toBe('Niet opgepakt: andere reden');
    expect(types(c.actions)).toEqual(['notifyPartner']);
    expect(find(c.actions, 'notifyPartner')).toEqual({
      step: 'r1-feedback',
      signalIds: ['sig-1'],
      message: 'not_picked_up',
    });
    expect(c.context.deadline).toBe(at + DEFAULT_POLICY.retention.afterDeclineMs);
    // The letter's wait is over, yet no call is planned: only the deletion follows.
    expect(c.snapshot.can({ type: 'TIMEOUT', at: T0 + 7 * DAY_MS })).toBe(false);
    c.timeout();
    expect(c.stage).toBe('closed');
    expect(types(c.actions)).toEqual(['deletePersonalData']);
  });

  it('cancels the open phone task, and the task can no longer be completed', () => {
    const c = openCase().timeout();
    const taskId = c.context.openTask!.taskId;
    c.send({ type: 'OBJECTION', at: c.now() + HOUR_MS });
    expect(c.stage).toBe('objected');
    expect(types(c.actions)).toEqual(['cancelTask', 'notifyPartner']);
    expect(find(c.actions, 'cancelTask')).toEqual({ step: `${taskId}-cancel`, taskId });
    expect(c.context.openTask).toBeNull();
    const late = {
      type: 'TASK_COMPLETED',
      at: c.now() + HOUR_MS,
      taskId,
      reached: false,
      dagdeel: 'Middag',
    } as const;
    expect(c.snapshot.can(late)).toBe(false);
  });

  it('ends the round between calls, at a home visit, after the last card and during a "not now" wait', () => {
    const betweenCalls = openCase().timeout().completeTask(false);
    expect(betweenCalls.snapshot.value).toEqual({ phone: 'waiting' });
    betweenCalls.send({ type: 'OBJECTION', at: betweenCalls.now() + HOUR_MS });
    expect(types(betweenCalls.actions)).toEqual(['notifyPartner']);

    const atVisit = openCase(aSignal({ crisis: true }), { ...DEFAULT_POLICY, crisisStart: 'visit' });
    atVisit.send({ type: 'OBJECTION', at: atVisit.now() + HOUR_MS });
    expect(types(atVisit.actions)).toEqual(['cancelTask', 'notifyPartner']);

    const policy = { ...DEFAULT_POLICY, phone: { ...DEFAULT_POLICY.phone, maxAttempts: 1 } };
    const afterCards = openCase(aSignal(), { ...policy, visit: { ...policy.visit, maxAttempts: 1 } })
      .timeout()
      .completeTask(false)
      .completeTask(false);
    expect(afterCards.stage).toBe('awaitingResponse');
    afterCards.send({ type: 'OBJECTION', at: afterCards.now() + HOUR_MS });

    const later = openCase().timeout();
    later.completeTask(true, { kind: 'notNow', recontactDate: isoDate(T0 + 60 * DAY_MS) });
    later.send({ type: 'OBJECTION', at: later.now() + HOUR_MS });
    expect(types(later.actions)).toEqual(['notifyPartner']);
    for (const c of [betweenCalls, atVisit, afterCards, later]) {
      expect(c.stage).toBe('objected');
      expect(c.context.result).toBe(OBJECTION_RESULT);
      expect(c.context.openTask).toBeNull();
    }
  });

  it('lists as end stages exactly the stages an objection no longer ends (and no transient one)', () => {
    const stages = Object.values(caseMachine.root.states).filter((s) => s.key !== 'screening');
    const ended = stages.filter((s) => !s.events.includes('OBJECTION')).map((s) => s.key);
    expect([...END_STAGES].sort()).toEqual(ended.sort());
    expect(END_STAGES).toContain('objected');
  });

  it('changes nothing once the round has ended', () => {
    const concluded = openCase().residentContact({ kind: 'alreadyPaid' });
    const notPickedUp = openCase(aSignal({ amount: 10 }));
    for (const c of [concluded, notPickedUp]) {
      expect(c.snapshot.can({ type: 'OBJECTION', at: c.now() + HOUR_MS })).toBe(false);
    }
  });

  it('ends the round as objected when the resident objects in the conversation itself', () => {
    const c = openCase().timeout();
    const { taskId, preferredDagdeel: dagdeel } = c.context.openTask!;
    const at = c.now() + HOUR_MS;
    c.send({
      type: 'TASK_COMPLETED',
      at,
      taskId,
      reached: true,
      dagdeel,
      outcome: { kind: 'declined' },
      objection: true,
    });
    expect(c.stage).toBe('objected');
    expect(c.context.result).toBe(OBJECTION_RESULT);
    expect(c.context.contactAttempts.at(-1)).toEqual({ soort: 'Telefoon', bereikt: true, at, dagdeel });
    expect(types(c.actions)).toEqual(['recordContactAttempt', 'notifyPartner']);
    expect(find(c.actions, 'notifyPartner')).toMatchObject({ message: 'not_picked_up' });
  });

  it('ignores the objection flag with consent, which the forms refuse anyway', () => {
    const c = openCase();
    c.send({
      type: 'RESIDENT_CONTACT',
      at: T0 + DAY_MS,
      channel: 'Telefoon',
      dagdeel: 'Ochtend',
      outcome: consent(T0 + DAY_MS),
      objection: true,
    });
    expect(c.stage).toBe('handedOver');
  });
});

describe('durability', () => {
  it('continues from a snapshot that went through JSON (continue-as-new)', () => {
    const c = openCase().timeout().completeTask(false);
    const json = JSON.parse(JSON.stringify(c.snapshot));
    expect(json).toEqual(JSON.parse(JSON.stringify(c.snapshot)));
    c.restore(json).timeout();
    expect(c.snapshot.value).toEqual({ phone: 'calling' });
    expect(find(c.actions, 'createTask')).toMatchObject({ taskId: 'r1-phone-2' });
    c.completeTask(true, consent(c.now() + HOUR_MS));
    expect(c.stage).toBe('handedOver');
  });

  it('keeps no personal data: a signal carries only the declared facts', () => {
    const withName = { ...aSignal(), name: 'J. Jansen', bsn: '123456782' } as SignalFacts;
    const c = openCase(withName);
    expect(JSON.stringify(c.context)).not.toMatch(/Jansen|123456782/);
  });
});

describe('dagdeelOf', () => {
  it('splits the day in Amsterdam time at 12:00 and 18:00, also in summer time', () => {
    expect(dagdeelOf(Date.UTC(2025, 0, 15, 10, 59))).toBe('Ochtend'); // 11:59 CET
    expect(dagdeelOf(Date.UTC(2025, 0, 15, 11, 0))).toBe('Middag'); // 12:00 CET
    expect(dagdeelOf(Date.UTC(2025, 6, 15, 15, 59))).toBe('Middag'); // 17:59 CEST
    expect(dagdeelOf(Date.UTC(2025, 6, 15, 16, 0))).toBe('Avond'); // 18:00 CEST
    expect(dagdeelOf(Date.UTC(2025, 0, 14, 23, 0))).toBe('Ochtend'); // midnight
    expect(dagdeelOf(Date.UTC(2025, 0, 15, 11, 0), 'UTC')).toBe('Ochtend');
  });
});

describe('shortPolicy', () => {
  it('shrinks every wait to a few units, keeping the thresholds', () => {
    const p = shortPolicy(1000);
    expect(p.letterWaitMs).toBeLessThanOrEqual(5000);
    expect(p.phone.retryWaitMs).toBeLessThanOrEqual(5000);
    expect(p.retention.afterDeclineMs).toBeLessThanOrEqual(5000);
    expect(p.selection).toEqual(DEFAULT_POLICY.selection);
  });
});

// -------------------------------------------------------------------------------------------------
// Model-based: every path through the statechart, driven by representative events.
// -------------------------------------------------------------------------------------------------

/** The machine's own list of end stages: a path that stops elsewhere did not end. */
const ENDED = new Set<string>(END_STAGES);

/** Representative events for a snapshot, at a plausible moment after the last known one. */
function sampleEvents(snapshot: CaseSnapshot): CaseEvent[] {
  const c = snapshot.context;
  const taskCreated = c.openTask ? c.openTask.dueAt - c.policy[c.openTask.kind].taskDueMs : 0;
  const at = Math.max(c.lastSignalAt, c.contactAttempts.at(-1)?.at ?? 0, taskCreated) + HOUR_MS;
  const dagdeel = dagdeelOf(at);
  const outcomes: Outcome[] = [consent(at), { kind: 'declined' }, { kind: 'adviceQuickFix' }];
  if (c.round < 2) outcomes.push({ kind: 'notNow', recontactDate: isoDate(at + 30 * DAY_MS) });

  const events: CaseEvent[] = [];
  if (c.deadline !== null) events.push({ type: 'TIMEOUT', at: c.deadline });
  if (c.openTask) {
    const taskId = c.openTask.taskId;
    events.push({ type: 'TASK_COMPLETED', at, taskId, reached: false, dagdeel });
    for (const outcome of outcomes)
      events.push({ type: 'TASK_COMPLETED', at, taskId, reached: true, dagdeel, outcome });
  }
  events.push({ type: 'RESIDENT_CONTACT', at, channel: 'Mail', dagdeel, outcome: { kind: 'selfManaged' } });
  events.push({ type: 'OBJECTION', at });
  if (c.signals.length < 2) {
    const second = { signalId: 'sig-2', partnerId: 'waterbedrijf-1', partnerType: 'Water' } as const;
    events.push({ type: 'SIGNAL', at, signal: aSignal(second) });
    events.push({ type: 'SIGNAL', at, signal: aSignal({ ...second, amount: 5 }) });
  }
  return events.filter((event) => snapshot.can(event));
}

/** Abstracts time away, so "the same state" means same place, counters, signals and result. */
function serializeState(snapshot: CaseSnapshot): string {
  const c = snapshot.context;
  return JSON.stringify([
    snapshot.value,
    c.round,
    c.phoneAttempts,
    c.visitAttempts,
    c.signals.length,
    c.result,
  ]);
}

/** What is wrong with a step's actions; a plain function, since this runs for every step of every path. */
function actionProblems(
  actions: readonly { type: string; params?: unknown }[],
  steps: Set<string>,
): string[] {
  const problems: string[] = [];
  for (const { type, params } of actions) {
    if (!(CASE_ACTION_TYPES as readonly string[]).includes(type)) problems.push(`unknown action ${type}`);
    if (
      JSON.stringify(JSON.parse(JSON.stringify(params))) !== JSON.stringify(params) ||
      hasFunction(params)
    ) {
      problems.push(`${type} params are not plain JSON`);
    }
    const step = (params as { step: string }).step;
    if (steps.has(step)) problems.push(`step ${step} used twice`);
    steps.add(step);
  }
  return problems;
}

function hasFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  return typeof value === 'object' && value !== null && Object.values(value).some(hasFunction);
}

const INPUTS = [
  ['an ordinary signal', aSignal()],
  ['a crisis signal', aSignal({ crisis: true })],
  ['a signal below the threshold', aSignal({ amount: 10 })],
] as const;

describe('every path through the statechart (model-based)', () => {
  it.each(INPUTS)('ends every path from %s with exactly one DDAS end result', (label, signal) => {
    // Depth-first over concrete snapshots; a path stops when it would revisit an abstract state.
    let paths = 0;
    let ended = 0;
    const problems: string[] = [];
    const explore = (snapshot: CaseSnapshot, seen: Set<string>, steps: Set<string>, trail: string[]) => {
      const stage = stageOf(snapshot);
      const result = snapshot.context.result;
      if (ENDED.has(stage) ? !EINDRESULTATEN.includes(result!) : result !== null) {
        problems.push(`${trail.join(' > ')}: ${stage} with result ${result}`);
      }
      const next = sampleEvents(snapshot)
        .map((event) => ({ event, step: transition(caseMachine, snapshot, event) }))
        .filter(({ step: [s] }) => !seen.has(serializeState(s)));
      if (next.length === 0) {
        paths++;
        if (ENDED.has(stage)) ended++;
        return;
      }
      for (const { event, step } of next) {
        const [s, actions] = step;
        const stepsSoFar = new Set(steps);
        problems.push(...actionProblems(actions, stepsSoFar));
        explore(s, new Set(seen).add(serializeState(s)), stepsSoFar, [...trail, event.type]);
      }
    };
    const input: CaseInput = { policy: DEFAULT_POLICY, at: T0, signal };
    const [initial, actions] = initialTransition(caseMachine, input);
    const steps = new Set<string>();
    problems.push(...actionProblems(actions, steps));
    explore(initial, new Set([serializeState(initial)]), steps, []);

    console.log(`model-based, ${label}: ${paths} paths covered, ${ended} of them ending in an end state`);
    expect(problems).toEqual([]);
    expect(ended).toBeGreaterThan(0);
  });

  it('reaches every state of the chart with those events (@xstate/graph)', () => {
    const reached = new Set<string>();
    for (const [, signal] of INPUTS) {
      const input: CaseInput = { policy: DEFAULT_POLICY, at: T0, signal };
      for (const path of getShortestPaths(caseMachine, { input, events: sampleEvents, serializeState })) {
        const result = path.state.context.result;
        if (ENDED.has(stageOf(path.state))) expect(EINDRESULTATEN).toContain(result);
        for (const id of path.state._nodes.map((n) => n.id)) reached.add(id);
      }
    }
    const transient = ['case.screening', 'case.deleting'];
    const all = caseMachine.root.states;
    const expected = Object.values(all)
      .flatMap((n) => [n.id, ...Object.values(n.states).map((c) => c.id)])
      .filter((id) => !transient.includes(id));
    expect([...reached].filter((id) => id !== 'case').sort()).toEqual(expected.sort());
  });
});
