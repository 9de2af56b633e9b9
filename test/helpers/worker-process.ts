/**
 * A case worker in its own process, so a test can kill it with SIGKILL mid-ladder like a crashed pod.
 * Configured by environment: TEMPORAL_ADDRESS, DATABASE_URL, TASK_QUEUE, WORKFLOW_BUNDLE.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createDatabase } from '../../db/database.js';
import { createCaseWorker } from '../../worker/worker.js';

Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const db = createDatabase(env('DATABASE_URL'), { max: 3 });
const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const worker = await createCaseWorker({
  connection,
  namespace: 'default',
  taskQueue: env('TASK_QUEUE'),
  db,
  workflowBundle: { codePath: env('WORKFLOW_BUNDLE') },
  // A replacement worker must not wait for the dead one's sticky queue.
  overrides: { maxCachedWorkflows: 100, stickyQueueScheduleToStartTimeout: '1 second' },
});
process.stdout.write('worker ready\n');
await worker.run();
