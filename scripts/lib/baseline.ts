/**
 * The ceiling of a Temporal server on this machine: `count` empty workflows started and run to completion
 * by a worker with the case worker's options (CASE_WORKER_TUNING) on a task queue of its own, with a
 * bounded number in flight (started, not yet completed). Runs in the calling process.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { CASE_WORKER_TUNING } from '../../worker/worker.js';
import type { baselineWorkflow } from './baseline-workflow.js';
import { within } from './timing.js';

const BASELINE_WORKFLOWS_PATH = fileURLToPath(new URL('./baseline-workflow.ts', import.meta.url));

export interface BaselineOptions {
  /** Temporal frontend, host:port. */
  address: string;
  namespace: string;
  /** The system's data converter (its payload encryption), so both pay the same per payload. */
  dataConverter?: DataConverter;
  count: number;
  /** Workflows started and not yet completed at once. */
  concurrency?: number;
  /** `performance.now()` by which it stops starting workflows and waiting for them. */
  deadline: number;
  /** Called every few seconds while it runs. */
  onProgress?: (completed: number, elapsedMs: number) => void;
}

export interface BaselineResult {
  started: number;
  completed: number;
  failed: number;
  /** From the first start to the last completion. */
  elapsedMs: number;
  /** Completed workflows per second over `elapsedMs`; null when none completed. */
  perSecond: number | null;
  /** Whether the deadline cut it short. */
  cut: boolean;
}

/** Runs the baseline (see the module comment); the worker is shut down and the connections closed after. */
export async function runBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const concurrency = options.concurrency ?? 32;
  const taskQueue = `bench-baseline-${randomUUID().slice(0, 8)}`;
  const nativeConnection = await NativeConnection.connect({ address: options.address });
  const connection = await Connection.connect({ address: options.address });
  try {
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: options.namespace,
      taskQueue,
      workflowsPath: BASELINE_WORKFLOWS_PATH,
      ...CASE_WORKER_TUNING,
      ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    });
    const running = worker.run();
    try {
      const client = new Client({
        connection,
        namespace: options.namespace,
        ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
      });
      return await startAndAwait(client, taskQueue, options, concurrency, running);
    } finally {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await within(running, 30_000, null).catch(() => {});
    }
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

async function startAndAwait(
  client: Client,
  taskQueue: string,
  options: BaselineOptions,
  concurrency: number,
  worker: Promise<void>,
): Promise<BaselineResult> {
  let started = 0;
  let completed = 0;
  let failed = 0;
  let lastCompletion = 0;
  let cut = false;
  const firstStart = performance.now();
  const ticker = setInterval(() => options.onProgress?.(completed, performance.now() - firstStart), 5_000);
  const lane = async () => {
    while (started < options.count) {
      if (performance.now() >= options.deadline) {
        cut = true;
        return;
      }
      const i = started++;
      try {
        const handle = await client.workflow.start<typeof baselineWorkflow>('baselineWorkflow', {
          taskQueue,
          workflowId: `${taskQueue}-${i}`,
        });
        const done = await within(
          handle.result().then(() => true),
          Math.max(0, options.deadline - performance.now()),
          false,
        );
        if (!done) {
          cut = true;
          return;
        }
        completed += 1;
        lastCompletion = performance.now();
      } catch {
        failed += 1;
      }
    }
  };
  // A worker that fails stops the measurement instead of leaving every lane waiting for the deadline.
  const workerFailed = worker.then(
    () => {
      throw new Error('the baseline worker stopped before the baseline was done');
    },
    (err: unknown) => {
      throw err;
    },
  );
  try {
    await Promise.race([Promise.all(Array.from({ length: concurrency }, lane)), workerFailed]);
  } finally {
    clearInterval(ticker);
    workerFailed.catch(() => {});
  }
  const elapsedMs = (lastCompletion || performance.now()) - firstStart;
  return {
    started,
    completed,
    failed,
    elapsedMs,
    perSecond: completed > 0 ? completed / (elapsedMs / 1000) : null,
    cut,
  };
}
