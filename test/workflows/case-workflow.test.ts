/**
 * Case workflows on the real Temporal dev server and real PostgreSQL, one test per way a case ends.
 * Policies run in seconds (`shortPolicy`); the server runs real time.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchPending } from '../../worker/dispatcher.js';
import type { Outcome } from '../../workflows/case-machine.js';
import {
  caseWorkflowId,
  completeTask,
  getCaseView,
  recordResidentContact,
} from '../../workflows/messages.js';
import { shortPolicy } from '../../workflows/policy.js';
import { MUNICIPALITY, residentRecord, storeTestSignal } from '../helpers/fixtures.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

const SCALE_MS = 1_000;
let h: TestHarness;

beforeAll(async () => {
  h = await createHarness();
  await h.startWorker();
});
afterAll(async () => {
  await h?.close();
});

async function startCase(record = residentRecord(), partner?: { name: string; type: string }) {
  const stored = await storeTestSignal(h.db, record, partner);
  await dispatchPending({
    db: h.db,
    client: h.client,
    taskQueue: h.taskQueue,
    policyFor: () => shortPolicy(SCALE_MS),
  });
  const handle = h.client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, stored.caseKey));
  return { handle, stored, record };
}

/** Polls the workflow's query until `predicate` holds (the server runs real time). */
async function waitFor<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

type Handle = Awaited<ReturnType<typeof startCase>>['handle'];
const view = (handle: Handle) => handle.query(getCaseView);
const openTaskOf = async (handle: Handle, kind: 'phone' | 'visit') =>
  (
    await waitFor(
      () => view(handle),
      (v) => v.openTask?.kind === kind,
    )
  ).openTask!;

describe('case workflow on the real server', () => {
  it('hands over to debt help after consent at the second phone call', async () => {
    const { handle } = await startCase();
    const first = await openTaskOf(handle, 'phone');
    await handle.executeUpdate(completeTask, {
      args: [{ taskId: first.taskId, reached: false, dagdeel: 'Ochtend' }],
    });
    const second = await waitFor(
      () => view(handle),
      (v) => v.openTask?.kind === 'phone' && v.openTask.attempt === 2,
    );
    const consent: Outcome = { kind: 'consent', consentDate: '2026-11-27', consentReference: 'TF-2026-0042' };
    const after = await handle.executeUpdate(completeTask, {
      args: [{ taskId: second.openTask!.taskId, reached: true, dagdeel: 'Middag', outcome: consent }],
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
    const dossiers = await h.db
      .selectFrom('dossiers')
      .selectAll()
      .where('case_id', '=', result.caseId)
      .execute();
    expect(dossiers).toHaveLength(1);
    expect(dossiers[0]?.consent_reference).toBe('TF-2026-0042');
    const attempts = await h.db
      .selectFrom('contact_attempts')
      .select(['soort', 'bereikt'])
      .where('case_id', '=', result.caseId)
      .orderBy('attempted_at')
      .execute();
    expect(attempts.map((a) => `${a.soort}:${a.bereikt}`)).toEqual([
      'Brief:false',
      'Telefoon:false',
      'Telefoon:true',
    ]);
    const tasks = await h.db
      .selectFrom('tasks')
      .select(['status', 'attempt'])
      .where('case_id', '=', result.caseId)
      .execute();
    expect(tasks.map((t) => t.status).sort()).toEqual(['completed', 'completed']);
  });

  it('refuses a stale outcome for a task that was already completed, writing nothing', async () => {
    const { handle } = await startCase();
    const task = await openTaskOf(handle, 'phone');
    await handle.executeUpdate(completeTask, {
      args: [{ taskId: task.taskId, reached: false, dagdeel: 'Avond' }],
    });
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

  it('goes straight to the conversation when the resident responds after the letter', async () => {
    const { handle } = await startCase();
    await waitFor(
      () => view(handle),
      (v) => v.stage === 'letter',
    );
    const v = await handle.executeUpdate(recordResidentContact, {
      args: [{ channel: 'Telefoon', dagdeel: 'Ochtend', outcome: { kind: 'alreadyPaid' } }],
    });
    expect(v.stage).toBe('concluded');
    expect(v.result).toBe('Inwoner heeft zelf al betaald/betalingsregeling getroffen');
    await handle.terminate('test finished');
  });
});
