/**
 * A worker killed (SIGKILL) in the middle of a ladder and replaced: the case still completes, and every
 * step produced exactly one letter, one task and one contact attempt (idempotent activities).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { completeTask } from '../../workflows/messages.js';
import { shortPolicy } from '../../workflows/policy.js';
import { openTask, SCALE_MS, startCase, viewOf, waitFor } from '../helpers/cases.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

let h: TestHarness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await h?.close();
});

function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-process.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: inject('databaseUrl'),
      TASK_QUEUE: h.taskQueue,
      WORKFLOW_BUNDLE: inject('workflowBundlePath'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (output.includes('worker ready')) resolve(child);
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${output}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('a worker crash in the middle of a ladder', () => {
  it('completes the case with exactly one letter, task and attempt per step', async () => {
    let worker = await startWorkerProcess();
    const { handle } = await startCase(h);
    // Kill while the first workflow task and the letter activities are in flight.
    await new Promise((r) => setTimeout(r, 300));
    await kill(worker);
    worker = await startWorkerProcess();

    const first = await openTask(handle, 'phone', 1);
    // Kill right after an outcome is accepted, while its effects are being carried out.
    await handle.executeUpdate(completeTask, {
      args: [{ taskId: first.taskId, reached: false, dagdeel: 'Ochtend' }],
    });
    await kill(worker);
    worker = await startWorkerProcess();

    const second = await openTask(handle, 'phone', 2);
    await handle.executeUpdate(completeTask, {
      args: [
        {
          taskId: second.taskId,
          reached: true,
          dagdeel: 'Middag',
          outcome: { kind: 'consent', consentDate: '2026-11-27', consentReference: 'TF-CRASH' },
        },
      ],
    });
    const result = await waitFor(
      () => viewOf(handle),
      (v) => v.closed,
    );
    expect(result.stage).toBe('handedOver');

    const letters = await h.db
      .selectFrom('outbound_messages')
      .select('template')
      .where('case_id', '=', result.caseId)
      .execute();
    expect(letters.map((l) => l.template)).toEqual(['first']);
    const tasks = await h.db
      .selectFrom('tasks')
      .select(['machine_task_id', 'status'])
      .where('case_id', '=', result.caseId)
      .orderBy('created_at')
      .execute();
    expect(tasks).toHaveLength(2);
    expect(new Set(tasks.map((t) => t.machine_task_id)).size).toBe(2);
    expect(tasks.every((t) => t.status === 'completed')).toBe(true);
    const attempts = await h.db
      .selectFrom('contact_attempts')
      .select('soort')
      .where('case_id', '=', result.caseId)
      .execute();
    expect(attempts.map((a) => a.soort).sort()).toEqual(['Brief', 'Telefoon', 'Telefoon']);
    expect(
      await h.db.selectFrom('dossiers').select('id').where('case_id', '=', result.caseId).execute(),
    ).toHaveLength(1);
    await kill(worker);
  }, 120_000);

  it('goes on when a replacement worker takes over letter waits that ran out around its start, and replays', async () => {
    let worker = await startWorkerProcess();
    // Cases whose letter waits run out one after another around the moment the replacement starts: the
    // waits of some fire while no worker is alive, and their tasks wait for the dead worker for a second.
    const cases = await Promise.all(
      [1_000, 1_300, 1_600, 1_900, 2_200, 2_500, 2_800, 3_100].map((letterWaitMs) =>
        startCase(h, { policy: { ...shortPolicy(SCALE_MS), letterWaitMs } }),
      ),
    );
    for (const { handle } of cases) {
      await waitFor(
        () => viewOf(handle),
        (v) => v.stage === 'letter' && v.nextDeadline !== null,
      );
    }
    await kill(worker);
    // Caseworkers' screens keep asking for the cases meanwhile. A replacement that answered such a query
    // between a wait's timer firing and taking over its task once ran the firing with the clock of the task
    // that had started the timer, refused the TIMEOUT as early and waited again, which no replay reproduces:
    // the next worker failed with a non-determinism error, and the case stalled.
    let asking = true;
    const queries = Promise.all(
      cases.map(async ({ handle }) => {
        while (asking) {
          await viewOf(handle).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );
    worker = await startWorkerProcess();
    for (const { handle } of cases) await openTask(handle, 'phone', 1);
    asking = false;
    await queries;
    // A fresh worker replays each whole history before it can answer.
    await kill(worker);
    worker = await startWorkerProcess();
    for (const { handle } of cases) {
      const task = await openTask(handle, 'phone', 1);
      const after = await handle.executeUpdate(completeTask, {
        args: [{ taskId: task.taskId, reached: false, dagdeel: 'Ochtend' }],
      });
      expect(after.stage).toBe('phone');
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
      await handle.terminate('test finished');
    }
    await kill(worker);
  }, 120_000);
});
