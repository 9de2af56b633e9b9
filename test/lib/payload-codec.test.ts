import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEncryptionCodec, loadPayloadKey } from '../../lib/payload-codec.js';
import { completeTask } from '../../workflows/messages.js';
import { historyText, openTask, startCase, viewOf } from '../helpers/cases.js';
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
