/**
 * The intake outbox under a Temporal outage: signals committed while Temporal is down wait in PostgreSQL,
 * and once it is back every one of them reaches its case exactly once.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCaseActivities } from '../../activities/case-activities.js';
import { buildCaseHistory } from '../../api/history/timeline.js';
import { createDatabase } from '../../db/database.js';
import { type DevServer, startDevServer } from '../../lib/temporal-dev-server.js';
import {
  dispatchPending,
  RESIDENT_GONE,
  SKIP_AFTER_FAILURES,
  signalsInFlight,
  startDispatcher,
} from '../../worker/dispatcher.js';
import { caseWorkflowId, getCaseView } from '../../workflows/messages.js';
import { shortPolicy } from '../../workflows/policy.js';
import { type CaseHandle, maybeRecordHistory, waitFor } from '../helpers/cases.js';
import { MUNICIPALITY, residentRecord, storeTestSignal } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';

const { temporal } = proto;
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

/** A case worker on `taskQueue` of the test server, running until `stop`. */
async function runWorker(taskQueue: string) {
  const connection = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: createCaseActivities({ db }),
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

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
    const worker = await runWorker('outage');
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
      await worker.stop();
      await connection.close();
    }
  }, 120_000);
});

describe('a resident reported by several partners', () => {
  it("hands the case's waiting signals over together: one hand-over, one workflow task, one step", async () => {
    server ??= await start();
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    const client = new Client({ connection });
    const worker = await runWorker('together');
    try {
      const resident = residentRecord();
      const rent = await storeTestSignal(db, resident);
      const energy = await storeTestSignal(db, resident, { name: 'Energie Testdorp', type: 'Energie' });
      const other = await storeTestSignal(db, residentRecord(), {
        name: 'Zorgverzekeraar Test',
        type: 'Zorg',
      });
      expect(energy.caseKey).toBe(rent.caseKey);
      const ids = [rent.signalId, energy.signalId, other.signalId];
      const pass = () =>
        dispatchPending({
          db,
          client,
          taskQueue: 'together',
          policyFor: () => shortPolicy(1_000),
          signalIds: ids,
          batchSize: 1,
        });
      // A batch of one signal claims the other waiting signal of its case too; the other resident waits.
      expect(await pass()).toBe(2);
      expect(await pass()).toBe(1);

      const handle = client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, rent.caseKey));
      const view = await waitFor(
        () => handle.query(getCaseView),
        (v) => v.signals === 2 && v.stage === 'letter',
      );
      const events = (await handle.fetchHistory()).events ?? [];
      const untilWait = events.slice(
        0,
        events.findIndex((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED),
      );
      const count = (type: keyof typeof temporal.api.enums.v1.EventType) =>
        untilWait.filter((e) => e.eventType === temporal.api.enums.v1.EventType[type]).length;
      expect(untilWait.length).toBeGreaterThan(0);
      expect(
        untilWait
          .filter((e) => e.workflowExecutionSignaledEventAttributes)
          .map((e) => e.workflowExecutionSignaledEventAttributes?.signalName),
      ).toEqual(['newSignals']);
      expect(count('EVENT_TYPE_WORKFLOW_TASK_COMPLETED')).toBe(1);
      // One local activity for both signals' steps, beside the patch marker.
      const markers = untilWait.map((e) => e.markerRecordedEventAttributes?.markerName).filter(Boolean);
      expect(markers.sort()).toEqual(['core_local_activity', 'core_patch']);
      expect(untilWait.length).toBeLessThanOrEqual(15);

      // Both signals belong to the case, which sent one letter.
      const signals = await db
        .selectFrom('signals')
        .select(['case_id', 'status'])
        .where('id', 'in', [rent.signalId, energy.signalId])
        .execute();
      expect(signals.map((s) => s.case_id)).toEqual([view.caseId, view.caseId]);
      const letters = await db
        .selectFrom('outbound_messages')
        .select('id')
        .where('case_id', '=', view.caseId)
        .execute();
      expect(letters).toHaveLength(1);
      // On to the phone call once the letter's time has passed: the replay fixture of a grouped first step.
      await waitFor(
        () => handle.query(getCaseView),
        (v) => v.openTask?.kind === 'phone',
      );
      await maybeRecordHistory(handle as CaseHandle, 'two-partners-together');
      // The managers' timeline names each signal of the one hand-over.
      const history = await buildCaseHistory(client, db, handle.workflowId, view.caseId);
      expect(history.entries.filter((e) => e.kind === 'signal').map((e) => e.text)).toEqual([
        expect.stringContaining('Woningstichting Testdorp (Huur)'),
        expect.stringContaining('Energie Testdorp (Energie)'),
      ]);
      await handle.terminate('test finished');
      await client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, other.caseKey)).terminate('test finished');
    } finally {
      await worker.stop();
      await connection.close();
    }
  }, 60_000);
});

describe('handing over no faster than cases take signals up', () => {
  it('waits while maxInFlight signals have no case yet, and goes on as their cases take them up', async () => {
    const stored: Array<Awaited<ReturnType<typeof storeTestSignal>>> = [];
    for (let i = 0; i < 5; i++) stored.push(await storeTestSignal(db, residentRecord()));
    const ids = stored.map((s) => s.signalId);
    const handed: string[] = [];
    const dispatcher = startDispatcher({
      db,
      client: stubClient(() => false, handed),
      taskQueue: 'none',
      policyFor: () => shortPolicy(1_000),
      signalIds: ids,
      maxInFlight: 3,
      intervalMs: 50,
    });
    try {
      await waitFor(
        async () => handed.length,
        (n) => n >= 3,
      );
      // No case takes them up (the stub starts none): the dispatcher waits.
      await new Promise((r) => setTimeout(r, 500));
      expect(handed).toHaveLength(3);
      expect(await signalsInFlight(db, ids)).toBe(3);
      // Their case takes two of them up: two more go.
      const taken = await db
        .selectFrom('signals')
        .select('id')
        .where('id', 'in', ids)
        .where('dispatched_at', 'is not', null)
        .limit(2)
        .execute();
      const caseId = randomUUID();
      await createCaseActivities({ db }).registerCase({
        caseId,
        workflowId: `case:${MUNICIPALITY}:in-flight-test`,
        municipality: MUNICIPALITY,
        caseKey: 'in-flight-test',
        team: 'schulddienstverlening',
        stage: 'letter',
        priority: 'normal',
        partnerTypes: ['Huur'],
        policy: {},
        startedAt: Date.now(),
      });
      await db
        .updateTable('signals')
        .set({ case_id: caseId })
        .where(
          'id',
          'in',
          taken.map((t) => t.id),
        )
        .execute();
      await waitFor(
        async () => handed.length,
        (n) => n === 5,
      );
      expect(new Set(handed).size).toBe(5);
    } finally {
      await dispatcher.stop();
    }
  });
});

/** A client whose hand-overs fail for the workflow ids in `failing` and succeed for the others. */
function stubClient(failing: (workflowId: string) => boolean, handed: string[]): Client {
  return {
    withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn(),
    workflow: {
      async signalWithStart(_type: string, options: { workflowId: string }) {
        if (failing(options.workflowId)) throw new Error('refused');
        handed.push(options.workflowId);
      },
    },
  } as unknown as Client;
}

describe('signals that cannot be handed over', () => {
  it('lets a signal whose resident data is gone leave the outbox, not picked up', async () => {
    const stored = await storeTestSignal(db, residentRecord());
    await db.deleteFrom('residents').where('case_key', '=', stored.caseKey).execute();
    const handed: string[] = [];
    const client = stubClient(() => false, handed);
    expect(
      await dispatchPending({
        db,
        client,
        taskQueue: 'none',
        policyFor: () => shortPolicy(1_000),
        signalIds: [stored.signalId],
      }),
    ).toBe(0);
    expect(handed).toEqual([]);
    const row = await db
      .selectFrom('signals')
      .select(['dispatched_at', 'dispatch_error', 'status'])
      .where('id', '=', stored.signalId)
      .executeTakeFirstOrThrow();
    expect(row.dispatched_at).not.toBeNull();
    expect(row.dispatch_error).toBe(RESIDENT_GONE);
    expect(row.status).toBe('Niet opgepakt: andere reden');
  });

  it('ends a pass at a failure, until a signal has failed again and again: then the next ones get their turn', async () => {
    const stuck = await storeTestSignal(db, residentRecord());
    const others = [await storeTestSignal(db, residentRecord()), await storeTestSignal(db, residentRecord())];
    const stuckId = caseWorkflowId(MUNICIPALITY, stuck.caseKey);
    const handed: string[] = [];
    const pass = (client: Client) =>
      dispatchPending({
        db,
        client,
        taskQueue: 'none',
        policyFor: () => shortPolicy(1_000),
        signalIds: [stuck.signalId, ...others.map((o) => o.signalId)],
      });
    // Temporal down: every hand-over fails, and each pass stops at the first one.
    expect(await pass(stubClient(() => true, handed))).toBe(0);
    const attempts = async () =>
      (
        await db
          .selectFrom('signals')
          .select(['id', 'dispatch_attempts'])
          .where('id', 'in', [stuck.signalId, ...others.map((o) => o.signalId)])
          .execute()
      )
        .map((r) => (r.id === stuck.signalId ? -r.dispatch_attempts : r.dispatch_attempts))
        .sort();
    expect(await attempts()).toEqual([-1, 0, 0]);
    // One signal keeps failing: it holds up the others until it has failed SKIP_AFTER_FAILURES times.
    const onlyStuck = stubClient((id) => id === stuckId, handed);
    for (let i = 1; i < SKIP_AFTER_FAILURES - 1; i++) expect(await pass(onlyStuck)).toBe(0);
    expect(handed).toEqual([]);
    expect(await pass(onlyStuck)).toBe(2);
    expect(handed.sort()).toEqual(others.map((o) => caseWorkflowId(MUNICIPALITY, o.caseKey)).sort());
    const left = await db
      .selectFrom('signals')
      .select(['dispatched_at', 'dispatch_attempts'])
      .where('id', '=', stuck.signalId)
      .executeTakeFirstOrThrow();
    expect(left).toEqual({ dispatched_at: null, dispatch_attempts: SKIP_AFTER_FAILURES });
  });

  it('still ends a pass at the second failure in a row, however often those signals failed before', async () => {
    const stored = [
      await storeTestSignal(db, residentRecord()),
      await storeTestSignal(db, residentRecord()),
      await storeTestSignal(db, residentRecord()),
    ];
    const ids = stored.map((s) => s.signalId);
    await db
      .updateTable('signals')
      .set({ dispatch_attempts: SKIP_AFTER_FAILURES })
      .where('id', 'in', ids)
      .execute();
    const handed: string[] = [];
    // Temporal down: the first is passed over, the second fails too and ends the pass; the third waits.
    expect(
      await dispatchPending({
        db,
        client: stubClient(() => true, handed),
        taskQueue: 'none',
        policyFor: () => shortPolicy(1_000),
        signalIds: ids,
      }),
    ).toBe(0);
    const attempts = await db
      .selectFrom('signals')
      .select('dispatch_attempts')
      .where('id', 'in', ids)
      .orderBy('received_at')
      .execute();
    expect(attempts.map((a) => a.dispatch_attempts).sort()).toEqual([
      SKIP_AFTER_FAILURES,
      SKIP_AFTER_FAILURES + 1,
      SKIP_AFTER_FAILURES + 1,
    ]);
  });
});
