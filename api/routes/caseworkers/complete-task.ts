/**
 * Completing a task and recording a resident's own contact: both go to the case workflow as Temporal
 * Updates, whose validator may refuse (the task was done by a colleague, the case moved on). A refusal is
 * a normal answer with the workflow's Dutch sentence, not an error. Free-text notes stay in PostgreSQL.
 *
 * An objection the resident made in the conversation goes on the objection register first (committed
 * before Temporal is asked anything, so it holds when Temporal is down), then travels with the outcome in
 * the Update, which ends the round as objected. The register's own notice to the case (objection outbox)
 * is held back a while so this Update arrives first; should it never arrive (Temporal down, refused), the
 * notice still ends the running round. A repeated submission repeats the (idempotent) registration.
 *
 * A consent form's reference is free text: it is stored in PostgreSQL under the Update's id, and the Update
 * carries that id, so nothing typed by a caseworker enters a Temporal history.
 */
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Db } from '../../../db/database.js';
import { findCaseForTeams } from '../../../db/repositories/cases.js';
import { storeConsentForm } from '../../../db/repositories/consent-forms.js';
import { addObjectionForCase } from '../../../db/repositories/objections.js';
import { findTaskForTeams, recordTaskNote, waitForTaskClosed } from '../../../db/repositories/tasks.js';
import type { Outcome } from '../../../workflows/case-machine.js';
import { dagdeelOf } from '../../../workflows/ddas.js';
import { type CaseView, completeTask, recordResidentContact } from '../../../workflows/messages.js';
import type { SessionUser } from '../../auth/index.js';
import { CONTACT_CHANNELS, type CompleteTaskBody, type ResidentContactBody } from './outcomes.js';

export type ActionResult =
  | { status: 'ok'; view: CaseView; caseId: string }
  | { status: 'not-found' }
  | { status: 'refused'; message: string }
  | { status: 'unavailable'; message: string };

const UNAVAILABLE =
  'Het vastleggen lukt nu niet: het systeem is even niet bereikbaar. Probeer het zo opnieuw.';

/** Maps Temporal's answer to an update onto a result the pages and the API show. */
async function runUpdate(run: () => Promise<CaseView>, caseId: string): Promise<ActionResult> {
  try {
    return { status: 'ok', view: await run(), caseId };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      return { status: 'refused', message: err.cause?.message ?? 'Dit kan nu niet worden vastgelegd.' };
    }
    if (err instanceof WorkflowNotFoundError) {
      return { status: 'refused', message: 'Deze zaak is al afgesloten.' };
    }
    return { status: 'unavailable', message: UNAVAILABLE };
  }
}

/** The matching secret, so an objection also registers the other keys of the resident's identity. */
interface ObjectionRegisterOption {
  /** Without it only the resident's own match key goes on the register. */
  matchingSecret?: string | undefined;
}

export interface CompleteTaskOptions extends ObjectionRegisterOption {
  db: Db;
  temporal: Client;
  user: SessionUser;
  taskId: string;
  body: CompleteTaskBody;
  now?: number;
}

/**
 * How long the objection outbox waits before telling the case about an objection recorded with a
 * conversation: the caseworker's Update, which carries it, normally lands within a second.
 */
export const OWN_UPDATE_FIRST_MS = 60_000;

/** Puts the resident of the case on the objection register when the caseworker ticked the objection. */
async function registerObjectionIfAsked(
  options: ObjectionRegisterOption & { db: Db; body: { objection?: boolean | undefined } },
  found: { municipality: string; case_key: string },
): Promise<void> {
  if (!options.body.objection) return;
  await addObjectionForCase(
    options.db,
    { municipality: found.municipality, secret: options.matchingSecret, deliverAfterMs: OWN_UPDATE_FIRST_MS },
    found,
  );
}

/** The outcome as the Update carries it: a consent form's reference stored here, its row's id sent. */
async function outcomeForUpdate(
  db: Db,
  outcome: CompleteTaskBody['outcome'],
  update: { id: string; caseId: string; user: SessionUser },
): Promise<Outcome | undefined> {
  if (outcome?.kind !== 'consent') return outcome;
  await storeConsentForm(db, {
    id: update.id,
    caseId: update.caseId,
    reference: outcome.consentReference,
    recordedBy: update.user.username,
  });
  return { kind: 'consent', consentDate: outcome.consentDate, consentFormId: update.id };
}

/** Sends the outcome of a phone call or home visit to the case workflow. */
export async function completeTaskUseCase(options: CompleteTaskOptions): Promise<ActionResult> {
  const { db, user, body } = options;
  const task = await findTaskForTeams(db, options.taskId, user.teams);
  if (!task) return { status: 'not-found' };
  const lead = user.roles.includes('teamlead') || user.roles.includes('admin');
  if (task.status === 'open' && task.assigned_to && task.assigned_to !== user.username && !lead) {
    return {
      status: 'refused',
      message: 'Deze taak is door een collega opgepakt. Vraag die collega of de teamleider.',
    };
  }
  if (body.objection) {
    const found = await findCaseForTeams(db, task.case_id, user.teams);
    if (found) await registerObjectionIfAsked(options, found);
  }
  const handle = options.temporal.workflow.getHandle(task.workflow_id);
  // The same submission (double click, retried request) is one update: Temporal returns its result.
  const updateId = `task:${task.id}:${body.submissionId ?? randomUUID()}`;
  const outcome = body.reached
    ? await outcomeForUpdate(db, body.outcome, { id: updateId, caseId: task.case_id, user })
    : undefined;
  const result = await runUpdate(
    () =>
      handle.executeUpdate(completeTask, {
        updateId,
        args: [
          {
            taskId: task.machine_task_id,
            reached: body.reached,
            dagdeel: body.dagdeel ?? dagdeelOf(options.now ?? Date.now()),
            ...(body.reached && outcome ? { outcome } : {}),
            ...(body.reached && body.outcome && body.objection ? { objection: true } : {}),
          },
        ],
      }),
    task.case_id,
  );
  if (result.status === 'ok') {
    await recordTaskNote(db, task.id, body.note?.trim() || null, user.username);
    await waitForTaskClosed(db, task.id);
  }
  return result;
}

export interface ResidentContactOptions extends ObjectionRegisterOption {
  db: Db;
  temporal: Client;
  user: SessionUser;
  caseId: string;
  body: ResidentContactBody;
  now?: number;
}

/** Records that the resident contacted the team (phone, e-mail, desk) and what came of it. */
export async function recordResidentContactUseCase(options: ResidentContactOptions): Promise<ActionResult> {
  const { body } = options;
  const found = await findCaseForTeams(options.db, options.caseId, options.user.teams);
  if (!found) return { status: 'not-found' };
  await registerObjectionIfAsked(options, found);
  const handle = options.temporal.workflow.getHandle(found.workflow_id);
  const updateId = `contact:${found.id}:${body.submissionId ?? randomUUID()}`;
  const outcome = await outcomeForUpdate(options.db, body.outcome, {
    id: updateId,
    caseId: found.id,
    user: options.user,
  });
  return runUpdate(
    () =>
      handle.executeUpdate(recordResidentContact, {
        updateId,
        args: [
          {
            channel: CONTACT_CHANNELS[body.channel].soort,
            dagdeel: body.dagdeel ?? dagdeelOf(options.now ?? Date.now()),
            outcome: outcome!,
            ...(body.objection ? { objection: true } : {}),
          },
        ],
      }),
    found.id,
  );
}
