/**
 * A case worker with the real letter channel in its own process, which kills itself (SIGKILL, no clean-up)
 * at the test point named by CRASH_AT: `rendered` (the letter is rendered, nothing recorded or sent yet) or
 * `emailAccepted` (the SMTP server took the e-mail, the send is not yet recorded).
 * Configured by environment: TEMPORAL_ADDRESS, DATABASE_URL, TASK_QUEUE, WORKFLOW_BUNDLE, SMTP_URL,
 * OUTBOX_DIR, CRASH_AT.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createLetterChannel } from '../../activities/letters/letter-channel.js';
import { smtpMailer } from '../../activities/letters/mailer.js';
import { HOLLANDS_KROON } from '../../activities/letters/municipality.js';
import { folderOutbox } from '../../activities/letters/print-outbox.js';
import { openTemplates } from '../../activities/letters/templates.js';
import { createDatabase } from '../../db/database.js';
import { createCaseWorker } from '../../worker/worker.js';

Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const crashAt = env('CRASH_AT');
const die = (point: string) => () => {
  if (crashAt !== point) return;
  process.stdout.write(`crashing at ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
};
const db = createDatabase(env('DATABASE_URL'), { max: 3 });
const channel = createLetterChannel({
  db,
  templates: openTemplates('templates/letters'),
  municipality: HOLLANDS_KROON,
  outbox: folderOutbox(env('OUTBOX_DIR')),
  mailer: smtpMailer(env('SMTP_URL'), '"Gemeente Hollands Kroon" <schulddienstverlening@hollandskroon.nl>'),
  hooks: { rendered: die('rendered'), emailAccepted: die('emailAccepted') },
});
const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const worker = await createCaseWorker({
  connection,
  namespace: 'default',
  taskQueue: env('TASK_QUEUE'),
  db,
  channel,
  workflowBundle: { codePath: env('WORKFLOW_BUNDLE') },
  overrides: { maxCachedWorkflows: 100, stickyQueueScheduleToStartTimeout: '1 second' },
});
process.stdout.write('worker ready\n');
await worker.run();
