/**
 * An objection registered while a case runs, on the real Temporal dev server and PostgreSQL: the register
 * entry queues a notice (objection outbox), the dispatcher signals the case workflow, and the running round
 * ends as objected. Once the round has ended, a notice changes nothing; a signal that would start a round
 * while a notice waits behind it is not picked up, so no letter goes out before the notice is handled.
 */
import { randomUUID } from 'node:crypto';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addObjection, identityOfResident, withdrawObjection } from '../../db/repositories/objections.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import { dispatchObjections } from '../../worker/objection-dispatcher.js';
import { OBJECTION_RESULT } from '../../workflows/case-machine.js';
import { completeTask, objectionRegistered, recordResidentContact } from '../../workflows/messages.js';
import { OBJECTION_SCREENING_PATCH } from '../../workflows/patches.js';
import { shortPolicy } from '../../workflows/policy.js';
import {
  type CaseHandle,
  historyText,
  maybeRecordHistory,
  openTask,
  personalValues,
  startCase,
  viewOf,
  waitFor,
} from '../helpers/cases.js';
import { MUNICIPALITY, residentRecord, storeTestSignal, TEST_SECRET } from '../helpers/fixtures.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

const { EventType } = proto.temporal.api.enums.v1;

let h: TestHarness;

beforeAll(async () => {
  h = await createHarness();
  await h.startWorker();
});
afterAll(async () => {
  await h?.close();
});

/** Puts a stored resident on the register as a partner would (birth date + address, and BSN if known). */
async function objectAsPartner(caseKey: string): Promise<number> {
  const resident = await h.db
    .selectFrom('residents')
    .selectAll()
    .where('case_key', '=', caseKey)
    .executeTakeFirstOrThrow();
  return addObjection(
    h.db,
    { municipality: MUNICIPALITY, secret: TEST_SECRET, source: 'partner' },
    identityOfResident(resident),
  );
}

const deliver = (caseKey: string) =>
  dispatchObjections({ db: h.db, client: h.client, objectionCaseKeys: [caseKey] });

const deliveriesOf = (caseKey: string) =>
  h.db
    .selectFrom('objection_deliveries')
    .select(['outcome', 'attempts'])
    .where('case_key', '=', caseKey)
    .execute();

/** The resident calls in after the letter and manages on their own: the round ends as concluded. */
async function concludeAfterLetter(handle: CaseHandle) {
  await waitFor(
    () => viewOf(handle),
    (v) => v.stage === 'letter',
  );
  const concluded = await handle.executeUpdate(recordResidentContact, {
    args: [{ channel: 'Telefoon', dagdeel: 'Ochtend', outcome: { kind: 'selfManaged' } }],
  });
  expect(concluded.stage).toBe('concluded');
}

const column = async <T>(rows: Promise<T[]>, pick: (row: T) => unknown) => (await rows).map(pick);

const activitiesScheduled = async (handle: CaseHandle) =>
  ((await handle.fetchHistory()).events ?? []).filter(
    (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  ).length;

describe.concurrent('an objection while the case runs', () => {
  it('ends the round while a call is planned: task cancelled, no further letter, partner told "not picked up"', async () => {
    const { handle, stored, record } = await startCase(h);
    const task = await openTask(handle, 'phone', 1);
    expect(await objectAsPartner(stored.caseKey)).toBe(1);
    expect(await deliver(stored.caseKey)).toBe(1);

    const v = await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'objected',
    );
    expect(v.result).toBe(OBJECTION_RESULT);
    expect(v.openTask).toBeNull();
    expect(await column(deliveriesOf(stored.caseKey), (d) => d.outcome)).toEqual(['signalled']);

    const result = await handle.result(); // the retention of a decline (2 s), then the deletion
    expect(result.stage).toBe('closed');
    expect(result.result).toBe(OBJECTION_RESULT);
    const tasks = await h.db
      .selectFrom('tasks')
      .select(['machine_task_id', 'status'])
      .where('case_id', '=', v.caseId)
      .execute();
    expect(tasks).toEqual([{ machine_task_id: task.taskId, status: 'cancelled' }]);
    expect(
      await column(
        h.db.selectFrom('outbound_messages').select('template').where('case_id', '=', v.caseId).execute(),
        (m) => m.template,
      ),
    ).toEqual(['first']);
    expect(
      await column(
        h.db.selectFrom('partner_notifications').select('message').where('case_id', '=', v.caseId).execute(),
        (n) => n.message,
      ),
    ).toEqual(['not_picked_up']);
    const round = await h.db
      .selectFrom('case_rounds')
      .select(['round', 'result'])
      .where('case_id', '=', v.caseId)
      .execute();
    expect(round).toEqual([{ round: 1, result: OBJECTION_RESULT }]);
    // The signal was picked up (a letter went out); the round, not the signal, ends as objected.
    const signal = await h.db
      .selectFrom('signals')
      .select('status')
      .where('id', '=', stored.signalId)
      .executeTakeFirstOrThrow();
    expect(signal.status).toBe('Opgepakt');

    const text = await historyText(handle);
    expect(text).toContain('objectionRegistered');
    expect(text).toContain('objection-ends-round'); // the patch marker: recorded histories stay replayable
    for (const value of personalValues(record)) expect(text).not.toContain(value);
    await maybeRecordHistory(handle, 'objection-during-call');
  });

  it('ends the round as objected when the resident objects in the call itself, recording the call', async () => {
    const { handle } = await startCase(h);
    const task = await openTask(handle, 'phone', 1);
    const v = await handle.executeUpdate(completeTask, {
      args: [
        {
          taskId: task.taskId,
          reached: true,
          dagdeel: 'Middag',
          outcome: { kind: 'declined' },
          objection: true,
        },
      ],
    });
    expect(v.stage).toBe('objected');
    expect(v.result).toBe(OBJECTION_RESULT);
    expect(v.contactAttempts).toBe(2); // the letter and the call that reached the resident
    const result = await handle.result();
    expect(result.stage).toBe('closed');
    const tasks = await h.db
      .selectFrom('tasks')
      .select(['status', 'outcome'])
      .where('case_id', '=', v.caseId)
      .execute();
    expect(tasks).toEqual([{ status: 'completed', outcome: 'declined' }]);
    await maybeRecordHistory(handle, 'objection-in-call');
  });

  it('changes nothing once the round has ended, and a second notice changes nothing either', async () => {
    const { handle, stored } = await startCase(h);
    await concludeAfterLetter(handle);
    const before = await activitiesScheduled(handle);
    await objectAsPartner(stored.caseKey);
    expect(await deliver(stored.caseKey)).toBe(1);
    await handle.signal(objectionRegistered, { deliveryId: 'again' });
    const v = await viewOf(handle); // a query runs after the signals were handled
    expect(v.stage).toBe('concluded');
    expect(v.result).toBe('Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering');
    expect(await activitiesScheduled(handle)).toBe(before);
    const text = await historyText(handle);
    expect(text).not.toContain('objection-ends-round'); // no patch marker: the workflow did nothing
    await handle.terminate('test finished');
  });

  it('lets the outreach go on when the resident withdrew the objection before it was delivered', async () => {
    const { handle, stored } = await startCase(h);
    await openTask(handle, 'phone', 1);
    await objectAsPartner(stored.caseKey);
    const resident = await h.db
      .selectFrom('residents')
      .selectAll()
      .where('case_key', '=', stored.caseKey)
      .executeTakeFirstOrThrow();
    const options = { municipality: MUNICIPALITY, secret: TEST_SECRET };
    expect(await withdrawObjection(h.db, options, identityOfResident(resident))).toBeGreaterThan(0);
    expect(await deliver(stored.caseKey)).toBe(1);
    expect(await column(deliveriesOf(stored.caseKey), (d) => d.outcome)).toEqual(['withdrawn']);
    const v = await viewOf(handle);
    expect(v.stage).toBe('phone');
    expect(v.openTask?.attempt).toBe(1);
    await handle.terminate('test finished');
  });

  it('waits while a signal of the resident is still in the intake outbox, then reaches the case it starts', async () => {
    const setObjected = (caseKey: string, objected: boolean) =>
      h.db.updateTable('residents').set({ objected }).where('case_key', '=', caseKey).execute();
    let deferred = -1;
    const started = await startCase(h, {
      // The objection commits while the resident's signal waits in the intake outbox: no case to tell yet.
      before: async (caseKey) => {
        await objectAsPartner(caseKey);
        deferred = await deliver(caseKey);
        // As if the intake dispatcher had read the resident just before the objection committed.
        await setObjected(caseKey, false);
      },
    });
    expect(deferred).toBe(0);
    await waitFor(
      () => viewOf(started.handle),
      (v) => v.stage === 'letter',
    );
    await setObjected(started.stored.caseKey, true);
    expect(await deliver(started.stored.caseKey)).toBe(1);
    const v = await waitFor(
      () => viewOf(started.handle),
      (v) => v.stage === 'objected',
    );
    expect(v.result).toBe(OBJECTION_RESULT);
    await started.handle.terminate('test finished');
  });
});

describe('an objection notice that waits behind a signal which would start a round', () => {
  /** What a case did: letters, contact attempts, partner feedback and rounds, in order. */
  async function effectsOf(caseId: string) {
    const [letters, attempts, notices, rounds] = await Promise.all([
      h.db
        .selectFrom('outbound_messages')
        .select('template')
        .where('case_id', '=', caseId)
        .orderBy('created_at')
        .execute(),
      h.db
        .selectFrom('contact_attempts')
        .select('soort')
        .where('case_id', '=', caseId)
        .orderBy('attempted_at')
        .execute(),
      h.db
        .selectFrom('partner_notifications')
        .select('message')
        .where('case_id', '=', caseId)
        .orderBy('created_at')
        .execute(),
      h.db
        .selectFrom('case_rounds')
        .select(['round', 'result'])
        .where('case_id', '=', caseId)
        .orderBy('round')
        .execute(),
    ]);
    return {
      letters: letters.map((l) => l.template),
      attempts: attempts.map((a) => a.soort),
      notices: notices.map((n) => n.message),
      rounds,
    };
  }
  const signalStatus = async (signalId: string) =>
    (await h.db.selectFrom('signals').select('status').where('id', '=', signalId).executeTakeFirstOrThrow())
      .status;

  it('does not pick up the first signal when the notice reaches the case before its first step: no letter', async () => {
    // A task queue no worker polls yet: the start signal and the notice meet in the first workflow task.
    const cold = await createHarness();
    try {
      const { handle, stored, record } = await startCase(cold);
      expect(await objectAsPartner(stored.caseKey)).toBe(1);
      expect(await deliver(stored.caseKey)).toBe(1);
      await cold.startWorker();

      const result = await handle.result(); // the retention of a signal not picked up (3 s), then the deletion
      expect(result.stage).toBe('closed');
      expect(result.result).toBe(OBJECTION_RESULT);
      expect(result.contactAttempts).toBe(0);
      expect(await effectsOf(result.caseId)).toEqual({
        letters: [],
        attempts: [],
        notices: ['not_picked_up'],
        rounds: [{ round: 1, result: OBJECTION_RESULT }],
      });
      // Not picked up, as intake records a signal about a resident already on the register.
      expect(await signalStatus(stored.signalId)).toBe(OBJECTION_RESULT);

      const text = await historyText(handle);
      expect(text).toContain(OBJECTION_SCREENING_PATCH);
      expect(text).toContain('notPickedUp');
      for (const value of personalValues(record)) expect(text).not.toContain(value);
      await maybeRecordHistory(handle, 'objection-before-first-step');
    } finally {
      await cold.close();
    }
  });

  it('does not start the next round with a new signal that arrives with the notice after the round ended', async () => {
    const own = await createHarness();
    try {
      let worker = await own.startWorker();
      // Retention long enough for the concluded case to wait for the later signal.
      const policy = {
        ...shortPolicy(1_000),
        retention: { ...shortPolicy(1_000).retention, afterContactMs: 120_000 },
      };
      const record = residentRecord();
      const { handle, stored } = await startCase(own, { record, policy });
      await concludeAfterLetter(handle);

      // While no worker runs, another partner's signal (screened before the objection: it would start a
      // second round) and then the objection notice reach the case.
      await own.stopWorker(worker);
      const later = await storeTestSignal(
        h.db,
        { ...record, partnerReference: `REF-${randomUUID()}` },
        { name: 'Zorgverzekeraar Test', type: 'Zorg' },
      );
      expect(await signalStatus(later.signalId)).toBe('Nog niet opgepakt');
      await dispatchPending({
        db: h.db,
        client: own.client,
        taskQueue: own.taskQueue,
        policyFor: () => policy,
        signalIds: [later.signalId],
      });
      expect(await objectAsPartner(stored.caseKey)).toBe(1);
      expect(await deliver(stored.caseKey)).toBe(1);
      worker = await own.startWorker();

      const v = await waitFor(
        () => viewOf(handle),
        (v) => v.signals === 2,
      );
      expect(v).toMatchObject({ stage: 'concluded', round: 1, openTask: null });
      expect(v.result).toBe('Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering');
      expect(await signalStatus(later.signalId)).toBe(OBJECTION_RESULT);
      expect(await effectsOf(v.caseId)).toEqual({
        letters: ['first'],
        attempts: ['Brief', 'Telefoon'],
        notices: ['picked_up', 'not_picked_up'],
        rounds: [{ round: 1, result: 'Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering' }],
      });
      await handle.terminate('test finished');
    } finally {
      await own.close();
    }
  });
});
