/**
 * Worker wiring: one Temporal worker on the case task queue with the case activities.
 * Workflow code is bundled from `workflows/index.ts` (or a bundle prepared once, as the tests do).
 */
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createCaseActivities, type OutreachChannel } from '../activities/case-activities.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../lib/logger.js';
import { activityFailureLogging } from './activity-logging.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface CaseWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  /** How letters and cards are sent; default records them only (see activities/case-activities.ts). */
  channel?: OutreachChannel;
  /** A prebuilt bundle (`bundleWorkflowCode`); without it the worker bundles `workflows/` itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Payload codecs (encryption); tests without it see payloads in clear text. */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Where failed activity attempts are logged; without it, through Temporal's activity logger. */
  logger?: Logger;
  /** Extra worker options, e.g. a shorter shutdown grace time in tests. */
  overrides?: Partial<WorkerOptions>;
}

/**
 * Worker options sized for a month of signals on a small machine (see docs/benchmarks.md); the benchmark's
 * empty-workflow baseline runs with the same ones.
 */
export const CASE_WORKER_TUNING = {
  shutdownGraceTime: '10 seconds',
  // The SDK's default sizes the sticky cache by the heap (about 2,300 workflows here, over 1 GiB). A case
  // spends weeks between steps, and replaying its short history after eviction costs little, so memory is
  // bounded by this cache, not by the number of open cases. The SDK counts about 1 MB per cached workflow;
  // 200 is five times the workflow task slots (40), so a case stays cached from its signal to the end of its
  // step, and a month's new cases evict sleeping ones (as they did with 500; 20,000 open cases held
  // 1,246 MB of RSS with 500 on 2026-12-08).
  maxCachedWorkflows: 200,
} satisfies Partial<WorkerOptions>;

/** Creates (not yet runs) the case worker. */
export async function createCaseWorker(options: CaseWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities: createCaseActivities({ db: options.db, channel: options.channel }),
    ...CASE_WORKER_TUNING,
    interceptors: { activity: [activityFailureLogging(options.logger)] },
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...options.overrides,
  });
}
