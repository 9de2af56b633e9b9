import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEncryptionCodec, encryptingDataConverter, loadPayloadKey } from '../../lib/payload-codec.js';
import { createCaseWorker } from '../../worker/worker.js';
import { completeTask } from '../../workflows/messages.js';
import { historyText, openTask, startCase, viewOf, waitFor } from '../helpers/cases.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

describe('payload encryption codec', () => {
  const codec = createEncryptionCodec(randomBytes(32));
  const payload = defaultPayloadConverter.toPayload({ signalId: 'abc-123', amount: 412 });

  it('round-trips a payload and hides its content', async () => {
    const [encrypted] = await codec.encode([payload]);
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toContain('abc-123');
    const [decoded] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ signalId: 'abc-123', amount: 412 });
  });

  it('refuses a tampered payload and one encrypted with another key', async () => {
    const [encrypted] = await codec.encode([payload]);
    const tampered = Buffer.from(encrypted!.data!);
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    await expect(codec.decode([{ ...encrypted!, data: tampered }])).rejects.toThrow();
    const other = createEncryptionCodec(randomBytes(32));
    await expect(other.decode([encrypted!])).rejects.toThrow(/another key/);
  });

  it('creates a private key file once and reuses it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'key-')), 'payload-key');
    const first = loadPayloadKey(undefined, file);
    expect(first).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadPayloadKey(undefined, file).equals(first)).toBe(true);
    const given = randomBytes(32);
    expect(loadPayloadKey(given.toString('base64'), file).equals(given)).toBe(true);
  });
});

describe('a case with encrypted payloads on the real server', () => {
  let h: TestHarness;
  beforeAll(async () => {
    h = await createHarness({ dataConverter: { payloadCodecs: [createEncryptionCodec(randomBytes(32))] } });
    await h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('runs as usual while the server only ever stores ciphertext', async () => {
    const { handle, stored } = await startCase(h);
    const task = await openTask(handle, 'phone', 1);
    const v = await handle.executeUpdate(completeTask, {
      args: [{ taskId: task.taskId, reached: false, dagdeel: 'Middag' }],
    });
    expect(v.contactAttempts).toBe(2);
    expect((await viewOf(handle)).stage).toBe('phone');
    const raw = await historyText(handle);
    expect(raw).toContain('binary/encrypted');
    expect(raw).not.toContain(stored.signalId);
    expect(raw).not.toContain(task.taskId);
    await handle.terminate('test finished');
  });
});

describe('failures encrypted like payloads on the real server', () => {
  // A message as a careless error would carry it: a name and a BSN-like number.
  const SECRET = 'Fuzzkowski 123456782 kon niet worden bereikt';
  let h: TestHarness;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  beforeAll(async () => {
    const key = randomBytes(32);
    h = await createHarness({ dataConverter: encryptingDataConverter(key) });
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    // The letter channel fails every time, with personal values in its message and stack.
    worker = await createCaseWorker({
      connection,
      namespace: 'default',
      taskQueue: h.taskQueue,
      db: h.db,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      dataConverter: encryptingDataConverter(key),
      channel: {
        async deliver() {
          // Non-retryable: the first letter's local activity fails for good, and so does its workflow task.
          throw ApplicationFailure.nonRetryable(SECRET, 'TestFailure');
        },
      },
      overrides: { shutdownGraceTime: '1 second' },
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await h?.close();
  });

  it("keeps an activity failure's message and stack out of the server's history", async () => {
    const { handle } = await startCase(h);
    // The failed local activity and workflow task are in the history, as the server stores it.
    const raw = await waitFor(
      () => historyText(handle),
      (text) => text.includes('Encoded failure'),
    );
    expect(raw).not.toContain('Fuzzkowski');
    expect(raw).not.toContain('123456782');
    // No stack trace either: it would name the code's files and lines.
    expect(raw).not.toContain('case-activities');
    expect(raw).not.toMatch(/at [\w.<>]+ \(/);
    // The case failed with its activity (non-retryable): nothing left to terminate.
    expect((await handle.describe()).status.name).toBe('FAILED');
  });
});
