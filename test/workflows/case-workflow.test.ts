/**
 * Case workflows on the real Temporal dev server and real PostgreSQL, one test per way a case ends.
 * Policies run in seconds (`shortPolicy`); the server runs real time, so independent cases run concurrently.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../workflows/case-machine.js';
import { completeTask, recordResidentContact } from '../../workflows/messages.js';
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
import { MUNICIPALITY, residentRecord } from '../helpers/fixtures.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

let h: TestHarness;

beforeAll(async () => {
  h = await createHarness();
  await h.startWorker();
});
afterAll(async () => {
  await h?.close();
});

const notReached = (
  handle: CaseHandle,
  taskId: string,
  dagdeel: 'Ochtend' | 'Middag' | 'Avond' = 'Ochtend',
) => handle.executeUpdate(completeTask, { args: [{ taskId, reached: false, dagdeel }] });

const attemptsOf = async (caseId: string) =>
  (
    await h.db
      .selectFrom('contact_attempts')
      .select(['soort', 'bereikt'])
      .where('case_id', '=', caseId)
      .orderBy('attempted_at')
      .orderBy('idempotency_key')
      .execute()
  ).map((a) => `${a.soort}:${a.bereikt}`);

const notificationsOf = async (caseId: string) =>
  (
    await h.db.selectFrom('partner_notifications').select('message').where('case_id', '=', caseId).execute()
  ).map((n) => n.message);

const outboundOf = async (caseId: string) =>
  (
    await h.db
      .selectFrom('outbound_messages')
      .select(['channel', 'template'])
      .where('case_id', '=', caseId)
      .orderBy('created_at')
      .execute()
  ).map((m) => `${m.channel}:${m.template}`);

/** Walks the phone rung without reaching anyone. */
async function missAllCalls(handle: CaseHandle): Promise<void> {
  for (const [attempt, dagdeel] of [
    [1, 'Ochtend'],
    [2, 'Middag'],
    [3, 'Avond'],
  ] as const) {
    const task = await openTask(handle, 'phone', attempt);
    await notReached(handle, task.taskId, dagdeel);
  }
}

describe.concurrent('case workflow on the real server', () => {
  it('hands over to debt help after consent at the second phone call', async () => {
    const { handle, stored } = await startCase(h);
    const first = await openTask(handle, 'phone', 1);
    await notReached(handle, first.taskId);
    const second = await openTask(handle, 'phone', 2);
    const consent: Outcome = { kind: 'consent', consentDate: '2026-11-27', consentReference: 'TF-2026-0042' };
    const after = await handle.executeUpdate(completeTask, {
      args: [{ taskId: second.taskId, reached: true, dagdeel: 'Middag', outcome: consent }],
    });
    expect(after.stage).toBe('handedOver');
    const result = await handle.result();
    expect(result.result).toBe('Vervolghulp en/of verwijzing financieel');
    expect(result.closed).toBe(true);

    const caseRow = await h.db
      .selectFrom('cases')
      .selectAll()
      .where('id', '=', result.caseId)
      .executeTakeFirstOrThrow();
    expect(caseRow.stage).toBe('handedOver');
    expect(caseRow.closed_at).not.toBeNull();
    expect(caseRow.first_contact_at).not.toBeNull();
    const dossiers = await h.db
      .selectFrom('dossiers')
      .selectAll()
      .where('case_id', '=', result.caseId)
      .execute();
    expect(dossiers).toHaveLength(1);
    expect(dossiers[0]?.consent_reference).toBe('TF-2026-0042');
    expect(await attemptsOf(result.caseId)).toEqual(['Brief:false', 'Telefoon:false', 'Telefoon:true']);
    expect(await notificationsOf(result.caseId)).toEqual(['picked_up']);
    const signal = await h.db
      .selectFrom('signals')
      .select(['case_id', 'status'])
      .where('id', '=', stored.signalId)
      .executeTakeFirstOrThrow();
    expect(signal).toEqual({ case_id: result.caseId, status: 'Opgepakt' });
    const tasks = await h.db
      .selectFrom('tasks')
      .select(['status'])
      .where('case_id', '=', result.caseId)
      .execute();
    expect(tasks.map((t) => t.status)).toEqual(['completed', 'completed']);
    await maybeRecordHistory(handle, 'consent-second-call');
  });

  it('deletes the personal data after a decline at the door, leaving nothing readable in the history', async () => {
    const { handle, record, stored } = await startCase(h);
    await missAllCalls(handle);
    const visit = await openTask(handle, 'visit', 1);
    const v = await handle.executeUpdate(completeTask, {
      args: [{ taskId: visit.taskId, reached: true, dagdeel: 'Avond', outcome: { kind: 'declined' } }],
    });
    expect(v.stage).toBe('declined');
    const result = await handle.result();
    expect(result.result).toBe('Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering');
    expect(await notificationsOf(result.caseId)).toEqual(['declined']);

    // The resident's row is gone; what is left is anonymous.
    expect(
      await h.db.selectFrom('residents').select('id').where('case_key', '=', stored.caseKey).execute(),
    ).toEqual([]);
    const signal = await h.db
      .selectFrom('signals')
      .selectAll()
      .where('id', '=', stored.signalId)
      .executeTakeFirstOrThrow();
    expect(signal.resident_id).toBeNull();
    const caseRow = await h.db
      .selectFrom('cases')
      .selectAll()
      .where('id', '=', result.caseId)
      .executeTakeFirstOrThrow();
    expect(caseRow.personal_data_deleted_at).not.toBeNull();
    expect(caseRow.stage).toBe('closed');

    const text = await historyText(handle);
    expect(text.length).toBeGreaterThan(1000);
    expect(text).toContain(stored.signalId); // the scan does see payload contents
    for (const value of personalValues(record)) expect(text).not.toContain(value);
    await maybeRecordHistory(handle, 'declined-at-door');
  });

  it('gives up as unreachable after the full ladder, with a card left at each visit', async () => {
    const { handle } = await startCase(h);
    await missAllCalls(handle);
    for (const attempt of [1, 2]) {
      const visit = await openTask(handle, 'visit', attempt);
      await notReached(handle, visit.taskId, 'Middag');
    }
    const v = await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'unreachable',
    );
    expect(v.result).toBe('Definitief geen contact kunnen krijgen');
    expect(await attemptsOf(v.caseId)).toEqual([
      'Brief:false',
      'Telefoon:false',
      'Telefoon:false',
      'Telefoon:false',
      'Huisbezoek:false',
      'Kaartje:false',
      'Huisbezoek:false',
      'Kaartje:false',
    ]);
    expect(await outboundOf(v.caseId)).toEqual(['letter:first', 'card:card', 'card:card']);
    expect(await notificationsOf(v.caseId)).toEqual(['no_contact']);
    await maybeRecordHistory(handle, 'unreachable');
    await handle.terminate('test finished');
  });

  it('goes straight to the conversation when the resident responds after the letter', async () => {
    const { handle } = await startCase(h);
    await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'letter',
    );
    const v = await handle.executeUpdate(recordResidentContact, {
      args: [{ channel: 'Telefoon', dagdeel: 'Ochtend', outcome: { kind: 'alreadyPaid' } }],
    });
    expect(v.stage).toBe('concluded');
    expect(v.result).toBe('Inwoner heeft zelf al betaald/betalingsregeling getroffen');
    const result = await handle.result(); // retention (3 s) then deletion
    expect(result.stage).toBe('closed');
    await maybeRecordHistory(handle, 'responded-after-letter');
  });

  it('re-contacts on the agreed date with a second ladder that ends in consent', async () => {
    const { handle } = await startCase(h);
    const call = await openTask(handle, 'phone', 1);
    const recontactDate = new Date(Date.now() + 3_000).toISOString();
    const v = await handle.executeUpdate(completeTask, {
      args: [
        {
          taskId: call.taskId,
          reached: true,
          dagdeel: 'Ochtend',
          outcome: { kind: 'notNow', recontactDate },
        },
      ],
    });
    expect(v.stage).toBe('notNow');
    await waitFor(
      () => viewOf(handle),
      (v) => v.round === 2 && v.stage === 'letter',
    );
    const second = await openTask(handle, 'phone', 1);
    await handle.executeUpdate(completeTask, {
      args: [
        {
          taskId: second.taskId,
          reached: true,
          dagdeel: 'Middag',
          outcome: { kind: 'consent', consentDate: '2026-11-27', consentReference: 'TF-7' },
        },
      ],
    });
    const result = await handle.result();
    expect(result.result).toBe('Vervolghulp en/of verwijzing financieel');
    expect(await outboundOf(result.caseId)).toEqual([
      'letter:first',
      'letter:recontactConfirmation',
      'letter:reminder',
    ]);
    await maybeRecordHistory(handle, 'not-now-recontact-consent');
  });

  it('starts a crisis signal at the phone with crisis priority', async () => {
    const { handle } = await startCase(h, {
      record: residentRecord({ crisis: true }),
      partner: { name: 'Energieleverancier Test', type: 'Energie' },
    });
    const task = await openTask(handle, 'phone', 1);
    const row = await h.db
      .selectFrom('tasks')
      .select(['priority', 'team'])
      .where('machine_task_id', '=', task.taskId)
      .where('workflow_id', '=', handle.workflowId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ priority: 'crisis', team: 'schulddienstverlening' });
    const v = await viewOf(handle);
    expect(v.priority).toBe('crisis');
    const { outbound } = { outbound: await outboundOf(v.caseId) };
    expect(outbound).toEqual([]); // no letter first
    await handle.terminate('test finished');
  });

  it('marks a repeat signal (same partner, same arrears, amount not risen) and starts nothing new', async () => {
    const record = residentRecord();
    const { handle } = await startCase(h, { record });
    await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'letter',
    );
    await handle.executeUpdate(recordResidentContact, {
      args: [{ channel: 'Mail', dagdeel: 'Middag', outcome: { kind: 'selfManaged' } }],
    });
    const repeat = await startCase(h, {
      record: { ...record, partnerReference: `${record.partnerReference}-2` },
    });
    expect(repeat.handle.workflowId).toBe(handle.workflowId);
    const status = await waitFor(
      () =>
        h.db
          .selectFrom('signals')
          .select('status')
          .where('id', '=', repeat.stored.signalId)
          .executeTakeFirstOrThrow(),
      (s) => s.status !== 'Nog niet opgepakt',
    );
    expect(status.status).toBe('Niet opgepakt: herhaalde melding');
    const v = await viewOf(handle);
    expect(v.stage).toBe('concluded');
    expect(v.round).toBe(1);
    await handle.terminate('test finished');
  });

  it('contacts nobody who objected to sharing, and tells the partner only "not picked up"', async () => {
    const { handle, stored } = await startCase(h, {
      before: async (caseKey) => {
        await h.db.updateTable('residents').set({ objected: true }).where('case_key', '=', caseKey).execute();
      },
    });
    const v = await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'notPickedUp',
    );
    expect(v.result).toBe('Niet opgepakt: andere reden');
    expect(await outboundOf(v.caseId)).toEqual([]);
    expect(await notificationsOf(v.caseId)).toEqual(['not_picked_up']);
    const signal = await h.db
      .selectFrom('signals')
      .select('status')
      .where('id', '=', stored.signalId)
      .executeTakeFirstOrThrow();
    expect(signal.status).toBe('Niet opgepakt: andere reden');
    await handle.terminate('test finished');
  });

  it("joins a second partner's signal to the open case without a second ladder", async () => {
    const record = residentRecord();
    const { handle } = await startCase(h, { record });
    await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'letter',
    );
    const second = await startCase(h, {
      record: { ...record, partnerReference: 'WATER-1', amount: 180 },
      partner: { name: 'Waterbedrijf Test', type: 'Water' },
    });
    expect(second.stored.caseKey).toBe(
      (
        await h.db
          .selectFrom('residents')
          .select('case_key')
          .where('first_names', '=', record.resident.firstNames)
          .executeTakeFirstOrThrow()
      ).case_key,
    );
    const v = await waitFor(
      () => viewOf(handle),
      (v) => v.signals === 2,
    );
    expect(v.stage).toBe('letter');
    expect(v.priority).toBe('high');
    expect(await outboundOf(v.caseId)).toEqual(['letter:first']);
    const caseRow = await waitFor(
      () =>
        h.db.selectFrom('cases').select('partner_types').where('id', '=', v.caseId).executeTakeFirstOrThrow(),
      (c) => c.partner_types.length === 2,
    );
    expect(caseRow.partner_types).toEqual(['Huur', 'Water']);
    await handle.terminate('test finished');
  });

  it('refuses a stale outcome for a task that was already completed, writing nothing', async () => {
    const { handle } = await startCase(h);
    const task = await openTask(handle, 'phone', 1);
    await notReached(handle, task.taskId, 'Avond');
    const before = (await handle.fetchHistory()).events?.length ?? 0;
    const stale = handle.executeUpdate(completeTask, {
      args: [{ taskId: task.taskId, reached: true, dagdeel: 'Avond', outcome: { kind: 'declined' } }],
    });
    await expect(stale).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(stale).rejects.toMatchObject({ cause: { message: expect.stringContaining('al afgerond') } });
    const after = (await handle.fetchHistory()).events?.length ?? 0;
    expect(after).toBe(before);
    await handle.terminate('test finished');
  });

  it('completes a task once when two caseworkers submit at the same moment', async () => {
    const { handle } = await startCase(h);
    const task = await openTask(handle, 'phone', 1);
    const submit = () =>
      handle.executeUpdate(completeTask, {
        args: [{ taskId: task.taskId, reached: false, dagdeel: 'Ochtend' }],
      });
    const results = await Promise.allSettled([submit(), submit()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    const v = await viewOf(handle);
    expect(v.contactAttempts).toBe(2); // letter + one phone attempt
    await handle.terminate('test finished');
  });

  it('continues as new with its snapshot and finishes the same case in a later run', async () => {
    const { handle } = await startCase(h, { extraInput: { maxEventsPerRun: 2 } });
    const firstRunId = (await handle.describe()).runId;
    const call = await openTask(handle, 'phone', 1);
    await notReached(handle, call.taskId);
    const next = await openTask(handle, 'phone', 2);
    await handle.executeUpdate(completeTask, {
      args: [
        { taskId: next.taskId, reached: true, dagdeel: 'Middag', outcome: { kind: 'referralNonFinancial' } },
      ],
    });
    const described = await handle.describe();
    expect(described.runId).not.toBe(firstRunId);
    const v = await viewOf(handle);
    expect(v.caseId).toBe(firstRunId); // the case keeps its id across runs
    expect(v.stage).toBe('concluded');
    expect(v.result).toBe('Vervolghulp en/of verwijzing niet financieel');
    expect(v.contactAttempts).toBe(3);
    await handle.terminate('test finished');
  });

  it('starts a new run for the same resident when a signal arrives after the case closed', async () => {
    const record = residentRecord();
    const { handle } = await startCase(h, { record });
    await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'letter',
    );
    await handle.executeUpdate(recordResidentContact, {
      args: [
        {
          channel: 'Afspraak op locatie',
          dagdeel: 'Ochtend',
          outcome: { kind: 'consent', consentDate: '2026-11-27', consentReference: 'TF-NEW' },
        },
      ],
    });
    const first = await handle.result();
    const later = await startCase(h, {
      record: { ...record, partnerReference: `${record.partnerReference}-later`, amount: 950 },
      partner: { name: 'Zorgverzekeraar Test', type: 'Zorg' },
    });
    expect(later.handle.workflowId).toBe(handle.workflowId);
    const v = await waitFor(
      () => viewOf(later.handle),
      (v) => v.stage === 'letter',
    );
    expect(v.caseId).not.toBe(first.caseId);
    expect(v.signals).toBe(1);
    const cases = await h.db
      .selectFrom('cases')
      .select(['id', 'stage'])
      .where('workflow_id', '=', handle.workflowId)
      .orderBy('started_at')
      .execute();
    expect(cases).toEqual([
      { id: first.caseId, stage: 'handedOver' },
      { id: v.caseId, stage: 'letter' },
    ]);
    await later.handle.terminate('test finished');
  });

  it('lists cases by stage through the custom search attributes', async () => {
    const { handle } = await startCase(h);
    await openTask(handle, 'phone', 1);
    const found = await waitFor(
      async () => {
        const ids: string[] = [];
        for await (const wf of h.client.workflow.list({
          query: `CaseStage = 'phone' AND CaseMunicipality = '${MUNICIPALITY}' AND WorkflowId = '${handle.workflowId}'`,
        })) {
          ids.push(wf.workflowId);
        }
        return ids;
      },
      (ids) => ids.length === 1,
    );
    expect(found).toEqual([handle.workflowId]);
    await handle.terminate('test finished');
  });
});
