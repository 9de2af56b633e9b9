/**
 * Idempotent sends under a real crash: a worker with the letter channel is SIGKILLed between "rendered" and
 * "recorded", and between "the SMTP server took the e-mail" and "recorded"; a replacement worker picks the
 * activity up after its time-out. The resident gets one letter and at most one e-mail, and the case one
 * Brief and one Mail contact attempt.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLetterChannel } from '../../activities/letters/letter-channel.js';
import { type Mailer, smtpMailer } from '../../activities/letters/mailer.js';
import { HOLLANDS_KROON } from '../../activities/letters/municipality.js';
import { folderOutbox } from '../../activities/letters/print-outbox.js';
import { openTemplates } from '../../activities/letters/templates.js';
import { DemoMailbox, type DemoSmtpServer, startDemoSmtpServer } from '../../lib/smtp-server.js';
import { createCaseWorker } from '../../worker/worker.js';
import { startCase, waitFor } from '../helpers/cases.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

let h: TestHarness;
let smtp: DemoSmtpServer;
let mailer: Mailer;
let native: NativeConnection;
const mailbox = new DemoMailbox();
const outboxDir = mkdtempSync(join(tmpdir(), 'outbox-crash-'));
const children: ChildProcess[] = [];
const workers: Array<{ worker: Worker; running: Promise<void> }> = [];

beforeAll(async () => {
  h = await createHarness();
  smtp = await startDemoSmtpServer({ mailbox });
  mailer = smtpMailer(smtp.url, '"Gemeente Hollands Kroon" <schulddienstverlening@hollandskroon.nl>');
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stopReplacementWorkers();
  await native?.close();
  mailer?.close();
  await smtp?.stop();
  await h?.close();
});

/** Starts the crashing worker; resolves with a promise of its death. */
function startCrashingWorker(crashAt: 'rendered' | 'emailAccepted'): Promise<{ died: Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/activities/letters-crash-worker.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: inject('databaseUrl'),
      TASK_QUEUE: h.taskQueue,
      WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      SMTP_URL: smtp.url,
      OUTBOX_DIR: outboxDir,
      CRASH_AT: crashAt,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const died = new Promise<string>((resolve) =>
    child.once('exit', (_code, signal) => resolve(`${signal}: ${output}`)),
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (output.includes('worker ready')) resolve({ died });
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    void died.then((why) => reject(new Error(`worker exited before it was ready: ${why}`)));
  });
}

/** The replacement: same channel, no crash points. */
async function startReplacementWorker(): Promise<void> {
  const worker = await createCaseWorker({
    connection: native,
    namespace: 'default',
    taskQueue: h.taskQueue,
    db: h.db,
    channel: createLetterChannel({
      db: h.db,
      templates: openTemplates('templates/letters'),
      municipality: HOLLANDS_KROON,
      outbox: folderOutbox(outboxDir),
      mailer,
    }),
    workflowBundle: { codePath: inject('workflowBundlePath') },
    overrides: {
      shutdownGraceTime: '1 second',
      maxCachedWorkflows: 100,
      stickyQueueScheduleToStartTimeout: '1 second',
    },
  });
  workers.push({ worker, running: worker.run() });
}

async function stopReplacementWorkers(): Promise<void> {
  for (const { worker, running } of workers.splice(0)) {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  }
}

async function caseIdOf(caseKey: string): Promise<string> {
  const row = await waitFor(
    () => h.db.selectFrom('cases').select('id').where('case_key', '=', caseKey).executeTakeFirst(),
    (r) => r !== undefined,
  );
  return row!.id;
}

const outbound = (caseId: string) =>
  h.db
    .selectFrom('outbound_messages')
    .select(['channel', 'status', 'idempotency_key'])
    .where('case_id', '=', caseId)
    .orderBy('channel')
    .execute();
const attempts = (caseId: string) =>
  h.db
    .selectFrom('contact_attempts')
    .select('soort')
    .where('case_id', '=', caseId)
    .orderBy('soort')
    .execute();

describe('a worker killed while sending a letter', () => {
  it('between rendering and recording: a replacement sends the letter and the e-mail once', async () => {
    const crashing = await startCrashingWorker('rendered');
    const { stored, record } = await startCase(h);
    expect(await crashing.died).toMatch(/^SIGKILL: .*crashing at rendered/s);
    const caseId = await caseIdOf(stored.caseKey);
    expect(await outbound(caseId)).toEqual([]);
    expect(mailbox.list().filter((m) => m.envelopeTo.includes(record.resident.email!))).toHaveLength(0);

    await startReplacementWorker();
    const rows = await waitFor(
      () => outbound(caseId),
      (r) => r.some((m) => m.channel === 'letter'),
    );
    expect(rows.map((m) => [m.channel, m.status])).toEqual([
      ['email', 'sent'],
      ['letter', 'queued'],
    ]);
    await new Promise((r) => setTimeout(r, 1_500));
    const mails = mailbox.list().filter((m) => m.envelopeTo.includes(record.resident.email!));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Wij denken graag met u mee');
    const recorded = await waitFor(
      () => attempts(caseId),
      (a) => a.length >= 2,
    );
    expect(recorded.map((a) => a.soort)).toEqual(['Brief', 'Mail']);
    await stopReplacementWorkers();
  }, 120_000);

  it('after the mail server took the e-mail but before it was recorded: no second e-mail', async () => {
    const crashing = await startCrashingWorker('emailAccepted');
    const { stored, record } = await startCase(h);
    expect(await crashing.died).toMatch(/^SIGKILL: .*crashing at emailAccepted/s);
    const caseId = await caseIdOf(stored.caseKey);
    expect(mailbox.list().filter((m) => m.envelopeTo.includes(record.resident.email!))).toHaveLength(1);

    await startReplacementWorker();
    const rows = await waitFor(
      () => outbound(caseId),
      (r) => r.some((m) => m.channel === 'letter'),
    );
    // Unknown whether the e-mail arrived, so the paper letter goes too; the e-mail is not sent again.
    expect(rows.map((m) => [m.channel, m.status])).toEqual([
      ['email', 'sending'],
      ['letter', 'queued'],
    ]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(mailbox.list().filter((m) => m.envelopeTo.includes(record.resident.email!))).toHaveLength(1);
    const recorded = await waitFor(
      () => attempts(caseId),
      (a) => a.length >= 1,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect((await attempts(caseId)).map((a) => a.soort)).toEqual(['Brief']);
    expect(recorded).toHaveLength(1);
  }, 120_000);
});
