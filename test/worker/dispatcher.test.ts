/**
 * The intake outbox under a Temporal outage: signals committed while Temporal is down wait in PostgreSQL,
 * and once it is back every one of them reaches its case exactly once.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCaseActivities } from '../../activities/case-activities.js';
import { createDatabase } from '../../db/database.js';
import { type DevServer, startDevServer } from '../../lib/temporal-dev-server.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import { caseWorkflowId, getCaseView } from '../../workflows/messages.js';
import { shortPolicy } from '../../workflows/policy.js';
import { waitFor } from '../helpers/cases.js';
import { MUNICIPALITY, residentRecord, storeTestSignal } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';

const db = createDatabase(inject('databaseUrl'), { max: 3 });
let port: number;
let server: DevServer | undefined;

const start = async () => startDevServer({ cli: inject('temporalCli'), port, uiPort: await freePort() });

beforeAll(async () => {
  port = await freePort();
});
afterAll(async () => {
  await server?.stop();
  await db.destroy();
});

describe('dispatching signals through a Temporal outage', () => {
  it('keeps signals while Temporal is down and starts each case once when it is back', async () => {
    server = await start();
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    const client = new Client({ connection });
    await server.stop();

    const stored: Array<Awaited<ReturnType<typeof storeTestSignal>>> = [];
    for (let i = 0; i < 4; i++) stored.push(await storeTestSignal(db, residentRecord()));
    const dispatch = () =>
      dispatchPending({
        db,
        client,
        taskQueue: 'outage',
        policyFor: () => shortPolicy(1_000),
        handOverTimeoutMs: 2_000,
        signalIds: stored.map((s) => s.signalId),
      });
    expect(await dispatch()).toBe(0); // Temporal is down: nothing handed over, nothing lost
    const waiting = await db
      .selectFrom('signals')
      .select(['dispatched_at', 'dispatch_attempts', 'dispatch_error'])
      .where(
        'id',
        'in',
        stored.map((s) => s.signalId),
      )
      .execute();
    expect(waiting.every((s) => s.dispatched_at === null)).toBe(true);
    expect(waiting.some((s) => s.dispatch_attempts === 1 && s.dispatch_error)).toBe(true);

    server = await start();
    const nativeConnection = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: 'outage',
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: createCaseActivities({ db }),
    });
    const running = worker.run();
    try {
      let handed = 0;
      for (let pass = 0; pass < 10 && handed < 4; pass++) handed += await dispatch();
      const mine = await db
        .selectFrom('signals')
        .select(['dispatched_at'])
        .where(
          'id',
          'in',
          stored.map((s) => s.signalId),
        )
        .execute();
      expect(mine.every((s) => s.dispatched_at !== null)).toBe(true);

      for (const s of stored) {
        const handle = client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, s.caseKey));
        const view = await waitFor(
          () => handle.query(getCaseView),
          (v) => v.signals === 1 && v.stage === 'letter',
        );
        expect(view.signals).toBe(1);
        // A repeated hand-over (a crash between signalWithStart and marking the row) changes nothing.
        await db.updateTable('signals').set({ dispatched_at: null }).where('id', '=', s.signalId).execute();
      }
      expect(await dispatch()).toBeGreaterThanOrEqual(4);
      for (const s of stored) {
        const handle = client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, s.caseKey));
        await new Promise((r) => setTimeout(r, 200));
        expect((await handle.query(getCaseView)).signals).toBe(1);
        await handle.terminate('test finished');
      }
    } finally {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    }
  }, 120_000);
});
