/** Helpers for tests that run case workflows on the real Temporal dev server and PostgreSQL. */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createDatabase, type Db } from '../../db/database.js';
import { createCaseWorker } from '../../worker/worker.js';

let runtimeInstalled = false;

/** Keeps Temporal's core logs out of test output unless they are warnings. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never,
  });
}

export interface TestHarness {
  db: Db;
  client: Client;
  taskQueue: string;
  /** Starts a worker on this harness's task queue; stop it with `stopWorker`. */
  startWorker(): Promise<Worker>;
  stopWorker(worker: Worker): Promise<void>;
  close(): Promise<void>;
}

/** Opens the test database and a Temporal client with a task queue of its own. */
export async function createHarness(options: { dataConverter?: DataConverter } = {}): Promise<TestHarness> {
  quietRuntime();
  const db = createDatabase(inject('databaseUrl'), { max: 5 });
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const client = new Client({ connection, dataConverter: options.dataConverter });
  const nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const taskQueue = `test-${randomUUID()}`;
  const running = new Map<Worker, Promise<void>>();
  return {
    db,
    client,
    taskQueue,
    async startWorker() {
      const worker = await createCaseWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        db,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter: options.dataConverter,
        overrides: { shutdownGraceTime: '1 second' },
      });
      running.set(worker, worker.run());
      return worker;
    },
    async stopWorker(worker) {
      worker.shutdown();
      await running.get(worker);
      running.delete(worker);
    },
    async close() {
      for (const [worker, promise] of running) {
        worker.shutdown();
        await promise;
      }
      await nativeConnection.close();
      await connection.close();
      await db.destroy();
    },
  };
}
