/**
 * A case's Temporal event history as a readable Dutch timeline: what happened, when, and the case's
 * stage after each step. Reads every run of the case (following continue-as-new), decodes payloads with
 * the client's data converter (so encrypted payloads work), and names partners and caseworkers from the
 * database. Histories hold no personal data, so the timeline stays complete after deletion.
 */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { temporal as pt } from '@temporalio/proto';
import proto from '@temporalio/proto';

const { temporal } = proto;

import type { Db } from '../../db/database.js';
import type { SignalFacts } from '../../workflows/case-machine.js';
import {
  type CaseView,
  newSignal,
  newSignals,
  objectionRegistered,
  type ResidentContact,
  type TaskCompletion,
} from '../../workflows/messages.js';
import { OUTCOME_LABELS } from '../routes/caseworkers/outcomes.js';
import { isRealDate } from '../routes/partners/signal-schema.js';
import { formatAmount, formatDate, STAGE_LABELS, TEMPLATE_LABELS } from '../web/format.js';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = pt.api.history.v1.IHistoryEvent;

export interface TimelineEntry {
  eventId: number;
  run: number;
  at: string;
  kind: string;
  text: string;
  /** The case's stage after this step (from the read-model sync the workflow does after each step). */
  stage: string | null;
}

export interface CaseHistory {
  caseId: string;
  workflowId: string;
  runs: string[];
  entries: TimelineEntry[];
  /** Every stage the case passed through, in order. */
  stagesVisited: string[];
  rawEvents: unknown[];
}

const PARTNER_MESSAGES: Record<string, string> = {
  picked_up: 'Partner geïnformeerd: signaal opgepakt',
  declined: 'Partner geïnformeerd: inwoner wil geen contact',
  no_contact: 'Partner geïnformeerd: geen contact gekregen',
  not_picked_up: 'Partner geïnformeerd: signaal niet opgepakt',
};

/** A conversation in which the resident objected to creditors sharing their data says so. */
function objectionNote(c: { objection?: boolean }): string {
  return c.objection === true ? ', met bezwaar tegen het delen van gegevens' : '';
}

function timeOf(event: HistoryEvent): string {
  const t = event.eventTime;
  const ms = Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

function durationMs(d: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(d?.seconds ?? 0) * 1000 + Math.floor((d?.nanos ?? 0) / 1e6);
}

async function decoder(client: Client) {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  return async (payloads: Payload[] | null | undefined): Promise<unknown[]> => {
    let decoded = payloads ?? [];
    for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    return decoded.map((p) => payloadConverter.fromPayload(p));
  };
}

/** Loads every run of a case, starting at its first run (the case id). */
export async function loadCaseEvents(client: Client, workflowId: string, caseId: string) {
  const runs: string[] = [];
  const events: Array<{ run: number; event: HistoryEvent }> = [];
  let runId: string | null | undefined = caseId;
  while (runId && runs.length < 1000) {
    runs.push(runId);
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    for (const event of history.events ?? []) events.push({ run: runs.length, event });
    const last = history.events?.at(-1);
    runId =
      last?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        ? last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId
        : null;
  }
  return { runs, events };
}

/** Builds the timeline of a case. */
export async function buildCaseHistory(
  client: Client,
  db: Db,
  workflowId: string,
  caseId: string,
): Promise<CaseHistory> {
  const loaded = await loadCaseEvents(client, workflowId, caseId);
  const decode = await decoder(client);
  // A run that continued as new may start the next case (signals that reached this one as it closed): that
  // run and those after it are the next case's history, not this one's.
  let runs = loaded.runs;
  let events = loaded.events;
  let nextCaseStarted = false;
  for (const { run, event } of loaded.events) {
    if (run === 1 || event.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) continue;
    const payloads = event.workflowExecutionStartedEventAttributes?.input?.payloads as Payload[];
    const [started] = (await decode(payloads)) as [{ followUp?: unknown } | undefined];
    if (started?.followUp) {
      nextCaseStarted = true;
      runs = runs.slice(0, run - 1);
      events = events.filter((e) => e.run < run);
      break;
    }
  }
  const partners = new Map(
    (await db.selectFrom('partners').select(['id', 'name']).execute()).map((p) => [p.id, p.name] as const),
  );
  const entries: TimelineEntry[] = [];
  /**
   * The entries of letters, cards, contact attempts and deletions by their scheduled event (`run:eventId`),
   * one place per effect of the activity (null for an effect whose result changes nothing shown).
   */
  const awaitingResult = new Map<
    string,
    Array<{ entry: TimelineEntry; input: Record<string, unknown> } | null>
  >();
  const stagesVisited: string[] = [];
  let stage: string | null = null;
  const push = (run: number, event: HistoryEvent, kind: string, text: string) =>
    entries.push({ eventId: Number(event.eventId ?? 0), run, at: timeOf(event), kind, text, stage });

  /** Reads one scheduled effect; returns its entry when its result may change what it says. */
  const scheduled = (run: number, event: HistoryEvent, name: string, input: Record<string, unknown>) => {
    const text = activityText(name, input);
    if (name === 'syncCase') {
      const next = String(input.stage ?? '');
      if (next && next !== stage) {
        stage = next;
        stagesVisited.push(next);
        push(run, event, 'stage', `Stap: ${STAGE_LABELS[next] ?? next}`);
      }
    } else if (name === 'registerCase') {
      stage = String(input.stage ?? '');
      stagesVisited.push(stage);
    } else if (text) {
      push(run, event, name, text);
      if (name === 'sendOutbound' || name === 'recordContactAttempt' || name === 'deletePersonalData')
        return { entry: entries.at(-1)!, input };
    }
    return null;
  };
  /**
   * A letter or card withheld because the resident is on the objection register, and the contact attempt
   * that would have recorded it (see sendOutbound and recordContactAttempt); a deletion that kept the
   * resident's row for a signal waiting for the next case (deletePersonalData).
   */
  const settle = (send: { entry: TimelineEntry; input: Record<string, unknown> }, result: unknown) => {
    if (result === 'kept' && send.entry.kind === 'deletePersonalData') {
      // A signal about the resident waited for a next case: their own details stay for it.
      send.entry.text =
        'Gegevens van deze zaak verwijderd; de persoonsgegevens blijven voor een nieuw signaal over de inwoner';
    } else if (result === 'withheld' && send.entry.kind === 'recordContactAttempt') {
      // The attempt of a withheld letter: no attempt at all.
      entries.splice(entries.indexOf(send.entry), 1);
    } else if (result === 'withheld') {
      send.entry.kind = 'withheld';
      send.entry.text = `${
        send.input.channel === 'card'
          ? 'Kaartje niet achtergelaten'
          : `${TEMPLATE_LABELS[String(send.input.template)] ?? 'Brief'} niet verstuurd`
      }: de inwoner staat in het bezwaarregister`;
    }
  };

  for (const { run, event } of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        if (run === 1) push(run, event, 'started', 'Zaak gestart');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const attrs = event.workflowExecutionSignaledEventAttributes;
        // The notice names only its outbox row: nothing of who objected, or why, to show or to decode.
        if (attrs?.signalName === objectionRegistered.name) {
          push(run, event, 'objection', 'Bezwaar geregistreerd');
          break;
        }
        const name = attrs?.signalName;
        if (name !== newSignal.name && name !== newSignals.name) break;
        const [first] = await decode(attrs?.input?.payloads as Payload[]);
        // `newSignals` carries a case's signals handed over together; `newSignal` one.
        const signals = (name === newSignals.name ? first : [first]) as SignalFacts[];
        for (const signal of signals) {
          const partner = partners.get(signal.partnerId) ?? signal.partnerType;
          push(
            run,
            event,
            'signal',
            `Signaal ontvangen van ${partner} (${signal.partnerType}), achterstand ${formatAmount(signal.amount)}` +
              `${signal.crisis ? ', crisissignaal' : ''}${signal.warmHandover ? ', warme overdracht' : ''}`,
          );
        }
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
        const [arg] = await decode(request?.args?.payloads as Payload[]);
        if (request?.name === 'completeTask') {
          const c = arg as TaskCompletion;
          const outcome = c.outcome ? `, uitkomst: ${OUTCOME_LABELS[c.outcome.kind]}` : '';
          push(
            run,
            event,
            'task-completed',
            `Medewerker legde vast: ${c.reached ? 'bereikt' : 'niet bereikt'} (${c.dagdeel})${outcome}${objectionNote(c)}`,
          );
        } else if (request?.name === 'recordResidentContact') {
          const c = arg as ResidentContact;
          push(
            run,
            event,
            'resident-contact',
            `Inwoner nam zelf contact op (${c.channel}, ${c.dagdeel}): ${OUTCOME_LABELS[c.outcome.kind]}${objectionNote(c)}`,
          );
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const attrs = event.activityTaskScheduledEventAttributes;
        const [input] = (await decode(attrs?.input?.payloads as Payload[])) as [Record<string, unknown>];
        const name = attrs?.activityType?.name ?? '';
        // A step carried out as one activity (`runStep`) reads as its effects, each as its own activity did.
        const effects =
          name === 'runStep'
            ? ((input?.effects ?? []) as Array<{ activity: string; input: Record<string, unknown> }>)
            : [{ activity: name, input: input ?? {} }];
        const waiting = effects.map((effect) => scheduled(run, event, effect.activity, effect.input));
        if (waiting.some((w) => w !== null)) awaitingResult.set(`${run}:${event.eventId}`, waiting);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const attrs = event.activityTaskCompletedEventAttributes;
        const waiting = awaitingResult.get(`${run}:${attrs?.scheduledEventId}`);
        if (!waiting) break;
        const [result] = await decode(attrs?.result?.payloads as Payload[]);
        // `runStep` answers with each effect's result, in order; an activity of its own with its result.
        const results =
          waiting.length === 1 && !Array.isArray(result) ? [result] : ((result ?? []) as unknown[]);
        waiting.forEach((w, i) => {
          if (w) settle(w, results[i]);
        });
        break;
      }
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        // A step run as a local activity (`runStepLocally`): its result holds the effects and what each answered.
        const attrs = event.markerRecordedEventAttributes;
        if (attrs?.markerName !== 'core_local_activity') break;
        const [result] = (await decode(attrs.details?.result?.payloads as Payload[])) as [
          | { effects?: Array<{ activity: string; input: Record<string, unknown> }>; results?: unknown[] }
          | undefined,
        ];
        if (!Array.isArray(result?.effects)) break;
        result.effects.forEach((effect, i) => {
          const waiting = scheduled(run, event, effect.activity, effect.input);
          if (waiting) settle(waiting, result.results?.[i]);
        });
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const ms = durationMs(event.timerStartedEventAttributes?.startToFireTimeout);
        const until = new Date(Date.parse(timeOf(event)) + ms);
        push(
          run,
          event,
          'timer',
          `Wachten tot ${until.toLocaleString('nl-NL', { timeZone: 'Europe/Amsterdam' })}`,
        );
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        if (nextCaseStarted && run === runs.length) {
          push(
            run,
            event,
            'completed',
            'Zaak afgesloten; een signaal dat binnenkwam bij het afsluiten start een nieuwe zaak',
          );
        } else {
          push(run, event, 'continued', 'Voortgezet in een nieuwe run (de geschiedenis is daar ingekort)');
        }
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: {
        const [result] = (await decode(
          event.workflowExecutionCompletedEventAttributes?.result?.payloads as Payload[],
        )) as [CaseView];
        push(run, event, 'completed', `Zaak afgesloten${result?.result ? `: ${result.result}` : ''}`);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        push(run, event, 'terminated', 'Zaak beëindigd door een beheerder');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        push(run, event, 'failed', 'Zaak vastgelopen door een fout (zie de Temporal Web UI)');
        break;
    }
  }
  return {
    caseId,
    workflowId,
    runs,
    entries,
    stagesVisited,
    rawEvents: events.map(({ run, event }) => ({
      run,
      ...temporal.api.history.v1.HistoryEvent.toObject(event as pt.api.history.v1.HistoryEvent, {
        longs: String,
        enums: String,
        bytes: String,
      }),
    })),
  };
}

function activityText(name: string, input: Record<string, unknown>): string | null {
  switch (name) {
    case 'sendOutbound':
      return input.channel === 'card'
        ? 'Kaartje achtergelaten: niemand thuis'
        : `${TEMPLATE_LABELS[String(input.template)] ?? 'Brief'} verstuurd`;
    case 'createTask':
      return input.kind === 'phone'
        ? `Beltaak aangemaakt (poging ${input.attempt}${input.preferredDagdeel ? `, bij voorkeur ${String(input.preferredDagdeel).toLowerCase()}` : ''})`
        : `Huisbezoek gepland (bezoek ${input.attempt})`;
    case 'closeTask':
      return input.status === 'cancelled' ? 'Openstaande taak vervallen' : null;
    case 'recordContactAttempt':
      return `Contactpoging vastgelegd: ${input.soort}, ${input.bereikt ? 'bereikt' : 'niet bereikt'} (${input.dagdeel})`;
    case 'notifyPartner':
      return PARTNER_MESSAGES[String(input.message)] ?? 'Partner geïnformeerd';
    case 'handOver':
      // The form's reference is the dossier's (PostgreSQL), not the history's.
      return `Overgedragen aan schuldhulpverlening (toestemmingsformulier van ${dateOrAsGiven(input.consentDate)})`;
    case 'deletePersonalData':
      return 'Persoonsgegevens verwijderd';
    case 'recordSignalStatus':
      return `Signaalstatus vastgelegd: ${input.status}`;
    default:
      return null;
  }
}

/** A date as the timeline shows it; one the history holds that is no date at all stays as it was given. */
function dateOrAsGiven(value: unknown): string {
  const text = String(value);
  return isRealDate(text) ? formatDate(text) : text;
}
