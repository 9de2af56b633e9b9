/**
 * The vroegsignaalzaak as a pure XState v5 statechart: one resident, one outreach ladder
 * (letter -> phone -> home visit -> unreachable), the conversation outcomes and the retention
 * period that ends every case with deleting its personal data.
 *
 * The Temporal workflow steps it with `initialTransition` / `transition` and carries out the
 * returned actions itself; nothing here runs a timer, an actor or any I/O (see architecture.md,
 * "Running XState under Temporal"). Time comes in with every event as `at`; a wait is
 * `context.deadline`, and the workflow feeds `TIMEOUT` once it has passed.
 *
 * No personal data lives here: only ids, DDAS enums, amounts and dates of arrears.
 */
import { assign, setup } from 'xstate';
import {
  CONTACTSOORTEN,
  type Contactsoort,
  DAGDELEN,
  type Dagdeel,
  dagdeelOf,
  EINDRESULTATEN,
  type Eindresultaat,
  type Signaalpartner,
  type Signaalstatus,
} from './ddas.js';
import { DAY_MS, type OutreachPolicy } from './policy.js';

// ---------------------------------------------------------------------------------------------
// Contract: input, events, context, emitted actions
// ---------------------------------------------------------------------------------------------

/** What the case needs to know about one signal; intake has already done the screening checks. */
export interface SignalFacts {
  signalId: string;
  partnerId: string;
  partnerType: Signaalpartner;
  /** Arrears in whole euros. */
  amount: number;
  /** ISO date (YYYY-MM-DD) the arrears began (DDAS ontstaansdatum). */
  arrearsSince: string;
  /** ISO date (YYYY-MM-DD) of the signal (DDAS signaaldatum). */
  signalDate: string;
  crisis: boolean;
  warmHandover: boolean;
  screening: { objected: boolean; movedAway: boolean; deceased: boolean; knownToDebtHelp: boolean };
}

/** Every conversation outcome a caseworker (or the resident) can report. */
export const OUTCOME_KINDS = [
  'consent',
  'declined',
  'selfManaged',
  'alreadyPaid',
  'knownToDebtHelp',
  'otherProgramme',
  'adviceQuickFix',
  'referralFinancial',
  'referralNonFinancial',
  'notNow',
] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

/** A signed consent form: its date, and its row in PostgreSQL (or, in older histories, its reference). */
export interface ConsentForm {
  consentDate: string;
  consentFormId?: string;
  consentReference?: string;
}

/** The outcome of a conversation with the resident. */
export type Outcome =
  | {
      kind: 'consent';
      consentDate: string;
      /**
       * The consent form's row in PostgreSQL (consent_forms): its free-text reference stays out of Temporal.
       * Histories from before 2026-12-07 carry `consentReference` itself instead; they replay as they ran.
       */
      consentFormId?: string;
      consentReference?: string;
    }
  | { kind: 'declined' }
  | { kind: 'selfManaged' }
  | { kind: 'alreadyPaid' }
  | { kind: 'knownToDebtHelp' }
  | { kind: 'otherProgramme' }
  | { kind: 'adviceQuickFix' }
  | { kind: 'referralFinancial' }
  | { kind: 'referralNonFinancial' }
  /** `recontactDate` is YYYY-MM-DD (re-contact at 08:00 UTC) or a full ISO timestamp. */
  | { kind: 'notNow'; recontactDate: string };

/**
 * Everything that can happen to a case; `at` is the workflow's deterministic clock (epoch ms).
 * `objection` on a conversation: the resident objected, in that conversation, to creditors sharing their
 * data; `OBJECTION`: the resident was put on the objection register (by a partner, a caseworker or the
 * municipality) while the case runs. Both end the running round as objected.
 */
export type CaseEvent =
  | { type: 'SIGNAL'; at: number; signal: SignalFacts }
  | { type: 'TIMEOUT'; at: number }
  | {
      type: 'TASK_COMPLETED';
      at: number;
      taskId: string;
      reached: boolean;
      dagdeel: Dagdeel;
      outcome?: Outcome;
      objection?: boolean;
    }
  | {
      type: 'RESIDENT_CONTACT';
      at: number;
      channel: Contactsoort;
      dagdeel: Dagdeel;
      outcome: Outcome;
      objection?: boolean;
    }
  | { type: 'OBJECTION'; at: number };

/** Input of `initialTransition(caseMachine, input)`. */
export interface CaseInput {
  policy: OutreachPolicy;
  at: number;
  signal: SignalFacts;
}

export type Priority = 'normal' | 'high' | 'crisis';
export type TaskKind = 'phone' | 'visit';

/** A signal as the case keeps it. `partnerNotified` marks that the partner got its feedback. */
export type CaseSignal = SignalFacts & {
  receivedAt: number;
  status: Signaalstatus;
  partnerNotified: boolean;
};

/** The caseworker task (phone call or home visit) the case is waiting for. */
export interface OpenTask {
  taskId: string;
  kind: TaskKind;
  attempt: number;
  dueAt: number;
  preferredDagdeel: Dagdeel;
}

/** One DDAS contactpoging. */
export interface ContactAttempt {
  soort: Contactsoort;
  bereikt: boolean;
  at: number;
  dagdeel: Dagdeel;
}

/** The machine's context: plain JSON, carried through continue-as-new. */
export interface CaseContext {
  policy: OutreachPolicy;
  /** 1-based run of the ladder; a re-contact or a new signal after an end starts the next. */
  round: number;
  signals: CaseSignal[];
  /** Raised by crisis, warm handover or a second partner; never lowered. */
  priority: Priority;
  phoneAttempts: number;
  visitAttempts: number;
  openTask: OpenTask | null;
  contactAttempts: ContactAttempt[];
  /** When the current wait ends (epoch ms); null while waiting on people, not on time. */
  deadline: number | null;
  result: Eindresultaat | null;
  consent: ConsentForm | null;
  recontactAt: number | null;
  lastSignalAt: number;
}

/** Partner feedback; for signals not picked up the partner never learns the reason. */
export type PartnerMessage = 'picked_up' | 'declined' | 'no_contact' | 'not_picked_up';

/**
 * The params of every action the machine emits, by action type. Each `step` is unique and
 * deterministic within a case, so `<workflowId>:<step>` serves as the idempotency key.
 */
export interface CaseActionParams {
  /** `recontactAt` (epoch ms) only for the re-contact confirmation: the date the letter names. */
  sendLetter: {
    step: string;
    template: 'first' | 'reminder' | 'recontactConfirmation';
    recontactAt?: number | null;
  };
  recordContactAttempt: { step: string } & ContactAttempt;
  createTask: { step: string; priority: Priority } & OpenTask;
  cancelTask: { step: string; taskId: string };
  leaveCard: { step: string; taskId: string };
  notifyPartner: { step: string; signalIds: string[]; message: PartnerMessage };
  handOver: { step: string } & ConsentForm;
  deletePersonalData: { step: string };
  recordSignal: { step: string; signalId: string; status: Signaalstatus };
}

/** An emitted action as the workflow executes it: `{ type, params }`. */
export type CaseAction = {
  [K in keyof CaseActionParams]: { type: K; params: CaseActionParams[K] };
}[keyof CaseActionParams];

/** Action types the workflow must carry out (every other emitted action is XState-internal). */
export const CASE_ACTION_TYPES = [
  'sendLetter',
  'recordContactAttempt',
  'createTask',
  'cancelTask',
  'leaveCard',
  'notifyPartner',
  'handOver',
  'deletePersonalData',
  'recordSignal',
] as const satisfies readonly (keyof CaseActionParams)[];

// ---------------------------------------------------------------------------------------------
// Pure rules, shared with intake
// ---------------------------------------------------------------------------------------------

/** A signal status that means: no outreach for this signal. */
export type RejectionStatus = Exclude<Signaalstatus, 'Opgepakt' | 'Nog niet opgepakt'>;

/**
 * What DDAS records for a resident on the objection register: a signal about them is not picked up, and a
 * round they object in ends with the same value. DDAS v1.2 has no objection ("bezwaar") value in
 * EnumSignaalstatus or EnumEindresultaat; "Niet opgepakt: andere reden" is the documented value for a
 * signal the municipality does not act on for a reason outside the list, in both enums, so an objection
 * counts the same whether it came before the signal or during the outreach, and a partner learns only
 * "not picked up", never that (or where) the resident objected.
 */
export const OBJECTION_RESULT = 'Niet opgepakt: andere reden' satisfies Eindresultaat & Signaalstatus;

/** An earlier signal as far as the repeat rule needs it. */
export type EarlierSignal = Pick<CaseSignal, 'partnerId' | 'arrearsSince' | 'amount' | 'receivedAt'>;

/**
 * Screens one signal: the DDAS status that stops it, or `'start'` when it may be picked up.
 * Checks in order: objection, deceased, moved away, known to debt help, selection rules of the
 * partner type (crisis signals skip amount and days), repeat of an earlier signal.
 */
export function screenSignal(
  policy: OutreachPolicy,
  previousSignals: readonly EarlierSignal[],
  signal: SignalFacts,
  at: number,
): RejectionStatus | 'start' {
  const { screening } = signal;
  if (screening.objected) return OBJECTION_RESULT;
  if (screening.deceased) return 'Inwoner is overleden';
  if (screening.movedAway) return 'Persoon is geen inwoner (meer) in de gemeente';
  if (screening.knownToDebtHelp) return 'Inwoner al bekend bij schuldhulpverlening';

  const rule = policy.selection[signal.partnerType];
  if (!rule?.enabled) return 'Niet opgepakt: onterecht signaal';
  if (!signal.crisis) {
    const days = (Date.parse(signal.signalDate) - Date.parse(signal.arrearsSince)) / DAY_MS;
    // Written as !(x >= min) so an unparsable date (NaN) fails the rule instead of passing it.
    if (!(signal.amount >= rule.minAmount) || !(days >= rule.minDaysInArrears)) {
      return 'Niet opgepakt: onterecht signaal';
    }
  }

  const repeat = previousSignals.some(
    (earlier) =>
      earlier.partnerId === signal.partnerId &&
      earlier.arrearsSince === signal.arrearsSince &&
      at - earlier.receivedAt <= policy.repeatWindowMs &&
      signal.amount <= earlier.amount,
  );
  if (repeat) return 'Niet opgepakt: herhaalde melding';
  return 'start';
}

/** The DDAS end result of a conversation outcome; null for `notNow`, which ends nothing yet. */
export function eindresultaatOf(outcome: Outcome): Eindresultaat | null {
  switch (outcome.kind) {
    case 'consent':
    case 'referralFinancial':
      return 'Vervolghulp en/of verwijzing financieel';
    case 'declined':
    case 'selfManaged':
      return 'Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering';
    case 'alreadyPaid':
      return 'Inwoner heeft zelf al betaald/betalingsregeling getroffen';
    case 'knownToDebtHelp':
      return 'Inwoner al bekend bij schuldhulpverlening';
    case 'otherProgramme':
      return 'Inwoner heeft al een ander lopend traject';
    case 'adviceQuickFix':
      return '(Budget)advies en/of quick fix';
    case 'referralNonFinancial':
      return 'Vervolghulp en/of verwijzing niet financieel';
    case 'notNow':
      return null;
  }
}

/**
 * The instant a `notNow` re-contact date stands for: a plain date means 08:00 UTC that day
 * (morning in Amsterdam); a full ISO timestamp is taken as is, which lets short-policy tests
 * re-contact within seconds. NaN when unparsable.
 */
export function recontactAtOf(recontactDate: string): number {
  return ISO_DATE.test(recontactDate) ? Date.parse(`${recontactDate}T08:00:00Z`) : Date.parse(recontactDate);
}

/** Whether the machine accepts this outcome at `at`; the Update validator relies on it. */
export function isValidOutcome(outcome: Outcome, at: number, policy: OutreachPolicy): boolean {
  if (!(OUTCOME_KINDS as readonly string[]).includes(outcome?.kind)) return false;
  if (outcome.kind === 'consent') {
    const form = outcome.consentFormId ?? outcome.consentReference;
    return ISO_DATE.test(outcome.consentDate ?? '') && typeof form === 'string' && form.trim() !== '';
  }
  if (outcome.kind === 'notNow') {
    const recontactAt = recontactAtOf(outcome.recontactDate ?? '');
    return recontactAt > at && recontactAt <= at + policy.recontactMaxMs;
  }
  return true;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

// ---------------------------------------------------------------------------------------------
// Helpers over context and events
// ---------------------------------------------------------------------------------------------

type InitEvent = { type: 'xstate.init'; input: CaseInput };
type Args = { context: CaseContext; event: CaseEvent };

/** The clock of the event being processed; the init event carries it in its input. */
function atOf(event: CaseEvent): number {
  const e = event as CaseEvent | InitEvent;
  return e.type === 'xstate.init' ? e.input.at : e.at;
}

function latestSignal(context: CaseContext): CaseSignal {
  return context.signals.at(-1)!;
}

/** Copies only the declared fields, so no extra (personal) property of a caller slips into the case. */
function signalFacts(signal: SignalFacts): SignalFacts {
  const { screening } = signal;
  return {
    signalId: signal.signalId,
    partnerId: signal.partnerId,
    partnerType: signal.partnerType,
    amount: signal.amount,
    arrearsSince: signal.arrearsSince,
    signalDate: signal.signalDate,
    crisis: signal.crisis,
    warmHandover: signal.warmHandover,
    screening: {
      objected: screening.objected,
      movedAway: screening.movedAway,
      deceased: screening.deceased,
      knownToDebtHelp: screening.knownToDebtHelp,
    },
  };
}

function screenAgainstCase(context: CaseContext, signal: SignalFacts, at: number): RejectionStatus | 'start' {
  return screenSignal(context.policy, context.signals, signal, at);
}

function isKnownSignal(context: CaseContext, signalId: string): boolean {
  return context.signals.some((s) => s.signalId === signalId);
}

/** Crisis beats high beats normal; only signals that are picked up count, and it never drops. */
function raisePriority(current: Priority, signals: readonly CaseSignal[]): Priority {
  const active = signals.filter((s) => s.status === 'Opgepakt');
  if (current === 'crisis' || active.some((s) => s.crisis)) return 'crisis';
  const partners = new Set(active.map((s) => s.partnerId));
  if (current === 'high' || active.some((s) => s.warmHandover) || partners.size >= 2) return 'high';
  return 'normal';
}

/** Where a (new) run of the ladder starts, decided by the latest signal. */
function startStage(context: CaseContext): 'letter' | 'phone' | 'visit' {
  const signal = latestSignal(context);
  if (signal.crisis) return context.policy.crisisStart;
  if (signal.warmHandover) return context.policy.warmHandoverStart;
  return 'letter';
}

const SOORT_OF_TASK: Record<TaskKind, Contactsoort> = { phone: 'Telefoon', visit: 'Huisbezoek' };

/** A dagdeel the earlier attempts of this run did not try yet, so residents who work are reached. */
function preferredDagdeel(context: CaseContext, kind: TaskKind, attempt: number): Dagdeel {
  // The failed attempts of this run are the last `attempt - 1` of their kind.
  const failed = context.contactAttempts.filter((c) => c.soort === SOORT_OF_TASK[kind] && !c.bereikt);
  const tried = attempt > 1 ? failed.slice(-(attempt - 1)).map((c) => c.dagdeel) : [];
  return DAGDELEN.find((d) => !tried.includes(d)) ?? DAGDELEN[(attempt - 1) % DAGDELEN.length]!;
}

function isOpenTask(context: CaseContext, event: CaseEvent): boolean {
  return (
    event.type === 'TASK_COMPLETED' && context.openTask !== null && event.taskId === context.openTask.taskId
  );
}

/** The validated outcome of a conversation event, or null when the event carries none we accept. */
function conversationOutcome(context: CaseContext, event: CaseEvent): Outcome | null {
  let outcome: Outcome | undefined;
  if (event.type === 'RESIDENT_CONTACT') {
    if (!(CONTACTSOORTEN as readonly string[]).includes(event.channel)) return null;
    outcome = event.outcome;
  } else if (event.type === 'TASK_COMPLETED') {
    if (!isOpenTask(context, event) || !event.reached) return null;
    outcome = event.outcome;
  } else {
    return null;
  }
  if (!outcome || !DAGDELEN.includes(event.dagdeel)) return null;
  return isValidOutcome(outcome, event.at, context.policy) ? outcome : null;
}

function lastContactAttempt(context: CaseContext): CaseActionParams['recordContactAttempt'] {
  const attempt = context.contactAttempts.at(-1)!;
  return { step: `contact-${context.contactAttempts.length}`, ...attempt };
}

function unnotifiedSignalIds(context: CaseContext): string[] {
  return context.signals.filter((s) => !s.partnerNotified).map((s) => s.signalId);
}

/** The screening status as end result; the rejection statuses are spelled alike in both enums. */
function rejectionResult(status: Signaalstatus): Eindresultaat {
  return EINDRESULTATEN.find((r) => r === status) ?? 'Niet opgepakt: andere reden';
}

// Reusable action objects. Params are resolved in the config, so the emitted actions carry plain JSON.

const recordSignal = {
  type: 'recordSignal',
  params: ({ context }: Args): CaseActionParams['recordSignal'] => {
    const signal = latestSignal(context);
    return { step: `signal-${context.signals.length}`, signalId: signal.signalId, status: signal.status };
  },
} as const;

const recordContactAttempt = {
  type: 'recordContactAttempt',
  params: ({ context }: Args) => lastContactAttempt(context),
} as const;

const notifyPartner = (message: PartnerMessage) =>
  ({
    type: 'notifyPartner',
    params: ({ context }: Args): CaseActionParams['notifyPartner'] => ({
      step: `r${context.round}-feedback`,
      signalIds: unnotifiedSignalIds(context),
      message,
    }),
  }) as const;

/** Feedback for a later signal that is not picked up; only that signal, never the reason. */
const notifyRejectedSignal = {
  type: 'notifyPartner',
  params: ({ context }: Args): CaseActionParams['notifyPartner'] => ({
    step: `signal-${context.signals.length}-feedback`,
    signalIds: [latestSignal(context).signalId],
    message: 'not_picked_up',
  }),
} as const;

const waitFor = (duration: (policy: OutreachPolicy) => number) =>
  ({
    type: 'setDeadline',
    params: ({ context, event }: Args) => ({ deadline: atOf(event) + duration(context.policy) }),
  }) as const;

const startTask = (kind: TaskKind) => [{ type: 'openTask', params: { kind } } as const, createTask] as const;

const createTask = {
  type: 'createTask',
  params: ({ context }: Args): CaseActionParams['createTask'] => ({
    step: context.openTask!.taskId,
    ...context.openTask!,
    priority: context.priority,
  }),
} as const;

const cancelTask = {
  type: 'cancelTask',
  params: ({ context }: Args): CaseActionParams['cancelTask'] => ({
    step: `${context.openTask!.taskId}-cancel`,
    taskId: context.openTask!.taskId,
  }),
} as const;

const leaveCard = {
  type: 'leaveCard',
  params: ({ context }: Args): CaseActionParams['leaveCard'] => ({
    step: `${context.openTask!.taskId}-card`,
    taskId: context.openTask!.taskId,
  }),
} as const;

const CONCLUDING_KINDS = OUTCOME_KINDS.filter((k) => k !== 'consent' && k !== 'declined' && k !== 'notNow');

/**
 * Outcomes an objection cannot come with (help accepted, or contact agreed): the machine ignores the flag
 * with them, and the caseworker forms refuse it.
 */
export const NO_OBJECTION_WITH: readonly OutcomeKind[] = ['consent', 'notNow'];

/**
 * Routes a conversation (a completed task that reached the resident, or the resident's own
 * contact) to its outcome, or to `objected` when the resident objected in it. When the resident gets
 * in touch while a task is open, that task is cancelled first.
 */
function conversation(cancelsOpenTask: boolean) {
  const actions = [
    ...(cancelsOpenTask ? [cancelTask] : []),
    'recordConversation',
    recordContactAttempt,
    'applyOutcome',
  ] as const;
  return [
    // An objection voiced in the conversation ends the round as objected, whatever else was said.
    { guard: 'objection', target: '#case.objected', actions },
    { guard: { type: 'outcomeIs', params: { kinds: ['consent'] } }, target: '#case.handedOver', actions },
    { guard: { type: 'outcomeIs', params: { kinds: ['declined'] } }, target: '#case.declined', actions },
    { guard: { type: 'outcomeIs', params: { kinds: ['notNow'] } }, target: '#case.notNow', actions },
    { guard: { type: 'outcomeIs', params: { kinds: CONCLUDING_KINDS } }, target: '#case.concluded', actions },
  ] as const;
}

/**
 * A new signal at an end (concluded, unreachable, declined, not picked up): one that passes
 * screening starts the next run; one that does not is recorded, reported to its partner, and
 * keeps the data at least as long as a signal not picked up is kept.
 */
function signalAtEnd(retentionMs: (policy: OutreachPolicy) => number) {
  return [
    {
      guard: 'signalPasses',
      target: '#case.screening',
      actions: ['appendSignal', recordSignal, 'startNewRound'],
    },
    {
      guard: 'signalRejected',
      actions: [
        'appendSignal',
        recordSignal,
        notifyRejectedSignal,
        'markLatestNotified',
        {
          type: 'extendDeadline',
          params: ({ context, event }: Args) => ({ deadline: atOf(event) + retentionMs(context.policy) }),
        },
      ],
    },
  ] as const;
}

/**
 * The resident was put on the objection register while this round runs: the round ends as objected,
 * cancelling the caseworker task that is open (as a resident's own contact does).
 */
const objectionCancellingTask = {
  OBJECTION: { target: '#case.objected', actions: [cancelTask, 'closeTask'] },
} as const;
const objectionWithoutTask = { OBJECTION: { target: '#case.objected' } } as const;

/**
 * Top-level states (stages) in which no outreach runs: the round has its result (or the case is being
 * closed), so nothing is waited for from a caseworker and an objection changes nothing. The case page
 * offers no actions in them, and lists show them as ended.
 */
export const END_STAGES = [
  'handedOver',
  'declined',
  'concluded',
  'unreachable',
  'notPickedUp',
  'objected',
  'deleting',
  'closed',
] as const;

/** TIMEOUT is accepted only once the deadline has passed, so an early or stray timer changes nothing. */
const timeoutTo = (target: string) => ({ guard: 'deadlinePassed', target }) as const;

/** An effect the workflow carries out; the machine only describes it through `params`. */
const effect =
  <P>() =>
  (_args: unknown, _params: P): void => {};

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

/** The vroegsignaalzaak statechart; top-level state names are the case's stage. */
export const caseMachine = setup({
  types: {
    context: {} as CaseContext,
    events: {} as CaseEvent,
    input: {} as CaseInput,
  },
  actions: {
    sendLetter: effect<CaseActionParams['sendLetter']>(),
    recordContactAttempt: effect<CaseActionParams['recordContactAttempt']>(),
    createTask: effect<CaseActionParams['createTask']>(),
    cancelTask: effect<CaseActionParams['cancelTask']>(),
    leaveCard: effect<CaseActionParams['leaveCard']>(),
    notifyPartner: effect<CaseActionParams['notifyPartner']>(),
    handOver: effect<CaseActionParams['handOver']>(),
    deletePersonalData: effect<CaseActionParams['deletePersonalData']>(),
    recordSignal: effect<CaseActionParams['recordSignal']>(),

    appendSignal: assign(({ context, event }) => {
      if (event.type !== 'SIGNAL') return {};
      const screened = screenAgainstCase(context, event.signal, event.at);
      const signal: CaseSignal = {
        ...signalFacts(event.signal),
        receivedAt: event.at,
        status: screened === 'start' ? 'Opgepakt' : screened,
        partnerNotified: false,
      };
      const signals = [...context.signals, signal];
      return { signals, lastSignalAt: event.at, priority: raisePriority(context.priority, signals) };
    }),
    markLatestNotified: assign({
      signals: ({ context }) =>
        context.signals.map((s, i) =>
          i === context.signals.length - 1 ? { ...s, partnerNotified: true } : s,
        ),
    }),
    markAllNotified: assign({
      signals: ({ context }) => context.signals.map((s) => ({ ...s, partnerNotified: true })),
    }),
    startNewRound: assign({
      round: ({ context }) => context.round + 1,
      phoneAttempts: 0,
      visitAttempts: 0,
      openTask: null,
      result: null,
      recontactAt: null,
      deadline: null,
    }),
    setDeadline: assign((_, params: { deadline: number }) => ({ deadline: params.deadline })),
    extendDeadline: assign(({ context }, params: { deadline: number }) => ({
      deadline: Math.max(context.deadline ?? 0, params.deadline),
    })),
    clearDeadline: assign({ deadline: null }),
    addContactAttempt: assign(({ context, event }, params: { soort: Contactsoort; bereikt: boolean }) => {
      const at = atOf(event);
      const dagdeel = 'dagdeel' in event ? event.dagdeel : dagdeelOf(at);
      return { contactAttempts: [...context.contactAttempts, { ...params, at, dagdeel }] };
    }),
    recordConversation: assign(({ context, event }) => {
      if (event.type !== 'RESIDENT_CONTACT' && event.type !== 'TASK_COMPLETED') return {};
      const soort = event.type === 'RESIDENT_CONTACT' ? event.channel : SOORT_OF_TASK[context.openTask!.kind];
      const attempt: ContactAttempt = { soort, bereikt: true, at: event.at, dagdeel: event.dagdeel };
      return { contactAttempts: [...context.contactAttempts, attempt] };
    }),
    applyOutcome: assign(({ context, event }) => {
      const outcome = conversationOutcome(context, event)!;
      return {
        openTask: null,
        result: eindresultaatOf(outcome),
        consent:
          outcome.kind === 'consent'
            ? {
                consentDate: outcome.consentDate,
                ...(outcome.consentFormId === undefined ? {} : { consentFormId: outcome.consentFormId }),
                ...(outcome.consentReference === undefined
                  ? {}
                  : { consentReference: outcome.consentReference }),
              }
            : null,
        recontactAt: outcome.kind === 'notNow' ? recontactAtOf(outcome.recontactDate) : null,
      };
    }),
    openTask: assign(({ context, event }, params: { kind: TaskKind }) => {
      const at = atOf(event);
      const counter = params.kind === 'phone' ? 'phoneAttempts' : 'visitAttempts';
      const attempt = context[counter] + 1;
      const openTask: OpenTask = {
        taskId: `r${context.round}-${params.kind}-${attempt}`,
        kind: params.kind,
        attempt,
        dueAt: at + context.policy[params.kind].taskDueMs,
        preferredDagdeel: preferredDagdeel(context, params.kind, attempt),
      };
      return { [counter]: attempt, openTask };
    }),
    closeTask: assign({ openTask: null }),
    setUnreachableResult: assign({
      // Residents spoken to before (a run that ended in "not now", a concluded case) did respond once.
      result: ({ context }) =>
        context.contactAttempts.some((c) => c.bereikt)
          ? 'Geen reactie na eerder contact'
          : 'Definitief geen contact kunnen krijgen',
    }),
    setRejectionResult: assign({ result: ({ context }) => rejectionResult(latestSignal(context).status) }),
    setObjectionResult: assign({ result: OBJECTION_RESULT, openTask: null }),
  },
  guards: {
    deadlinePassed: ({ context, event }) =>
      event.type === 'TIMEOUT' && context.deadline !== null && event.at >= context.deadline,
    outcomeIs: ({ context, event }, params: { kinds: readonly OutcomeKind[] }) => {
      const outcome = conversationOutcome(context, event);
      return outcome !== null && params.kinds.includes(outcome.kind);
    },
    notReached: ({ context, event }, params: { attemptsLeft: boolean }) => {
      if (event.type !== 'TASK_COMPLETED' || !isOpenTask(context, event)) return false;
      if (event.reached || event.outcome !== undefined || !DAGDELEN.includes(event.dagdeel)) return false;
      const task = context.openTask!;
      return task.attempt < context.policy[task.kind].maxAttempts === params.attemptsLeft;
    },
    /** The resident objected in this conversation (an outcome that ends contact, with the flag). */
    objection: ({ context, event }) => {
      if (!('objection' in event) || event.objection !== true) return false;
      const outcome = conversationOutcome(context, event);
      return outcome !== null && !NO_OBJECTION_WITH.includes(outcome.kind);
    },
    signalIsNew: ({ context, event }) =>
      event.type === 'SIGNAL' && !isKnownSignal(context, event.signal.signalId),
    signalPasses: ({ context, event }) =>
      event.type === 'SIGNAL' &&
      !isKnownSignal(context, event.signal.signalId) &&
      screenAgainstCase(context, event.signal, event.at) === 'start',
    signalRejected: ({ context, event }) =>
      event.type === 'SIGNAL' &&
      !isKnownSignal(context, event.signal.signalId) &&
      screenAgainstCase(context, event.signal, event.at) !== 'start',
    latestSignalRejected: ({ context }) => latestSignal(context).status !== 'Opgepakt',
    startsAt: ({ context }, params: { stage: 'letter' | 'phone' | 'visit' }) =>
      startStage(context) === params.stage,
  },
}).createMachine({
  id: 'case',
  context: ({ input }) => {
    const screened = screenSignal(input.policy, [], input.signal, input.at);
    const signals: CaseSignal[] = [
      {
        ...signalFacts(input.signal),
        receivedAt: input.at,
        status: screened === 'start' ? 'Opgepakt' : screened,
        partnerNotified: false,
      },
    ];
    return {
      policy: input.policy,
      round: 1,
      signals,
      priority: raisePriority('normal', signals),
      phoneAttempts: 0,
      visitAttempts: 0,
      openTask: null,
      contactAttempts: [],
      deadline: null,
      result: null,
      consent: null,
      recontactAt: null,
      lastSignalAt: input.at,
    };
  },
  entry: [recordSignal],
  initial: 'screening',
  // A new signal is welcome in every state; while outreach runs it joins that outreach.
  on: {
    SIGNAL: [
      {
        guard: 'signalRejected',
        actions: ['appendSignal', recordSignal, notifyRejectedSignal, 'markLatestNotified'],
      },
      { guard: 'signalIsNew', actions: ['appendSignal', recordSignal] },
    ],
  },
  states: {
    /** Transient: decides from the latest signal whether and where outreach starts. */
    screening: {
      always: [
        { guard: 'latestSignalRejected', target: 'notPickedUp' },
        { guard: { type: 'startsAt', params: { stage: 'phone' } }, target: 'phone' },
        { guard: { type: 'startsAt', params: { stage: 'visit' } }, target: 'visit' },
        { target: 'letter' },
      ],
    },
    letter: {
      entry: [
        {
          type: 'sendLetter',
          params: ({ context }) => ({
            step: `r${context.round}-letter`,
            template: context.round === 1 ? 'first' : 'reminder',
          }),
        },
        { type: 'addContactAttempt', params: { soort: 'Brief', bereikt: false } },
        recordContactAttempt,
        waitFor((p) => p.letterWaitMs),
      ],
      exit: 'clearDeadline',
      on: { TIMEOUT: timeoutTo('phone'), RESIDENT_CONTACT: conversation(false), ...objectionWithoutTask },
    },
    phone: {
      initial: 'calling',
      on: { RESIDENT_CONTACT: conversation(false), ...objectionWithoutTask },
      states: {
        /** A caseworker task is open; people are not timed out, so no deadline here. */
        calling: {
          entry: startTask('phone'),
          on: {
            ...objectionCancellingTask,
            RESIDENT_CONTACT: conversation(true),
            TASK_COMPLETED: [
              ...conversation(false),
              {
                guard: { type: 'notReached', params: { attemptsLeft: true } },
                target: 'waiting',
                actions: [
                  { type: 'addContactAttempt', params: { soort: 'Telefoon', bereikt: false } },
                  recordContactAttempt,
                  'closeTask',
                ],
              },
              {
                guard: { type: 'notReached', params: { attemptsLeft: false } },
                target: '#case.visit',
                actions: [
                  { type: 'addContactAttempt', params: { soort: 'Telefoon', bereikt: false } },
                  recordContactAttempt,
                  'closeTask',
                ],
              },
            ],
          },
        },
        waiting: {
          entry: waitFor((p) => p.phone.retryWaitMs),
          exit: 'clearDeadline',
          on: { TIMEOUT: timeoutTo('calling') },
        },
      },
    },
    visit: {
      initial: 'visiting',
      on: { RESIDENT_CONTACT: conversation(false), ...objectionWithoutTask },
      states: {
        visiting: {
          entry: startTask('visit'),
          on: {
            ...objectionCancellingTask,
            RESIDENT_CONTACT: conversation(true),
            TASK_COMPLETED: [
              ...conversation(false),
              {
                guard: { type: 'notReached', params: { attemptsLeft: true } },
                target: 'waiting',
                actions: [
                  { type: 'addContactAttempt', params: { soort: 'Huisbezoek', bereikt: false } },
                  recordContactAttempt,
                  { type: 'addContactAttempt', params: { soort: 'Kaartje', bereikt: false } },
                  recordContactAttempt,
                  leaveCard,
                  'closeTask',
                ],
              },
              {
                guard: { type: 'notReached', params: { attemptsLeft: false } },
                target: '#case.awaitingResponse',
                actions: [
                  { type: 'addContactAttempt', params: { soort: 'Huisbezoek', bereikt: false } },
                  recordContactAttempt,
                  { type: 'addContactAttempt', params: { soort: 'Kaartje', bereikt: false } },
                  recordContactAttempt,
                  leaveCard,
                  'closeTask',
                ],
              },
            ],
          },
        },
        waiting: {
          entry: waitFor((p) => p.visit.retryWaitMs),
          exit: 'clearDeadline',
          on: { TIMEOUT: timeoutTo('visiting') },
        },
      },
    },
    /** The last card is at the door; the resident may still respond. */
    awaitingResponse: {
      entry: waitFor((p) => p.afterLastCardWaitMs),
      exit: 'clearDeadline',
      on: {
        TIMEOUT: timeoutTo('unreachable'),
        RESIDENT_CONTACT: conversation(false),
        ...objectionWithoutTask,
      },
    },
    /** The resident wants contact later: confirm the date by letter, then run the ladder again. */
    notNow: {
      entry: [
        {
          type: 'sendLetter',
          params: ({ context }) => ({
            step: `r${context.round}-recontact-${context.contactAttempts.length}`,
            template: 'recontactConfirmation',
            recontactAt: context.recontactAt,
          }),
        },
        { type: 'setDeadline', params: ({ context }) => ({ deadline: context.recontactAt! }) },
      ],
      exit: 'clearDeadline',
      on: {
        TIMEOUT: { ...timeoutTo('letter'), actions: 'startNewRound' },
        RESIDENT_CONTACT: conversation(false),
        ...objectionWithoutTask,
      },
    },
    /** Consent signed: the resident moves on to debt help, with its own dossier and retention. */
    handedOver: {
      type: 'final',
      entry: [
        {
          type: 'handOver',
          params: ({ context }) => ({ step: `r${context.round}-handover`, ...context.consent! }),
        },
        notifyPartner('picked_up'),
        'markAllNotified',
      ],
    },
    declined: {
      entry: [notifyPartner('declined'), 'markAllNotified', waitFor((p) => p.retention.afterDeclineMs)],
      exit: 'clearDeadline',
      on: { TIMEOUT: timeoutTo('deleting'), SIGNAL: signalAtEnd((p) => p.retention.notPickedUpMs) },
    },
    concluded: {
      entry: [notifyPartner('picked_up'), 'markAllNotified', waitFor((p) => p.retention.afterContactMs)],
      exit: 'clearDeadline',
      on: { TIMEOUT: timeoutTo('deleting'), SIGNAL: signalAtEnd((p) => p.retention.notPickedUpMs) },
    },
    unreachable: {
      entry: [
        'setUnreachableResult',
        notifyPartner('no_contact'),
        'markAllNotified',
        {
          type: 'setDeadline',
          params: ({ context }) => ({
            deadline: context.lastSignalAt + context.policy.retention.noContactMs,
          }),
        },
      ],
      exit: 'clearDeadline',
      on: { TIMEOUT: timeoutTo('deleting'), SIGNAL: signalAtEnd((p) => p.retention.noContactMs) },
    },
    notPickedUp: {
      entry: [
        'setRejectionResult',
        notifyPartner('not_picked_up'),
        'markAllNotified',
        waitFor((p) => p.retention.notPickedUpMs),
      ],
      exit: 'clearDeadline',
      on: { TIMEOUT: timeoutTo('deleting'), SIGNAL: signalAtEnd((p) => p.retention.notPickedUpMs) },
    },
    /**
     * The resident objected to creditors sharing their data (on the register, or in a conversation) while
     * the round ran: no further letters, calls or visits. The partners learn "not picked up" only, and the
     * data goes after the retention of a decline, since nothing may be done with it.
     */
    objected: {
      entry: [
        'setObjectionResult',
        notifyPartner('not_picked_up'),
        'markAllNotified',
        waitFor((p) => p.retention.afterDeclineMs),
      ],
      exit: 'clearDeadline',
      on: { TIMEOUT: timeoutTo('deleting'), SIGNAL: signalAtEnd((p) => p.retention.notPickedUpMs) },
    },
    /** Transient: the workflow deletes the personal data (emitted here) before it completes. */
    deleting: {
      entry: {
        type: 'deletePersonalData',
        params: ({ context }) => ({ step: `r${context.round}-delete` }),
      },
      always: 'closed',
    },
    closed: { type: 'final' },
  },
});
