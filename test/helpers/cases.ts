/** Helpers to drive case workflows in tests: start from stored signals, wait, inspect, record histories. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;

import type { SignalRecord } from '../../db/repositories/intake.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import type { caseWorkflow } from '../../workflows/case-workflow.js';
import {
  type CaseView,
  type CaseWorkflowInput,
  caseWorkflowId,
  getCaseView,
} from '../../workflows/messages.js';
import { type OutreachPolicy, shortPolicy } from '../../workflows/policy.js';
import { MUNICIPALITY, residentRecord, storeTestSignal } from './fixtures.js';
import type { TestHarness } from './temporal.js';

export const SCALE_MS = 1_000;
export type CaseHandle = WorkflowHandle<typeof caseWorkflow>;

export interface StartOptions {
  record?: SignalRecord;
  partner?: { name: string; type: string };
  policy?: OutreachPolicy;
  extraInput?: Partial<CaseWorkflowInput>;
  /** Changes the resident row before the signal is dispatched (e.g. an objection). */
  before?: (caseKey: string) => Promise<void>;
}

/** Stores a signal as intake would and hands it to Temporal through the dispatcher. */
export async function startCase(h: TestHarness, options: StartOptions = {}) {
  const record = options.record ?? residentRecord();
  const stored = await storeTestSignal(h.db, record, options.partner);
  await options.before?.(stored.caseKey);
  await dispatchPending({
    db: h.db,
    client: h.client,
    taskQueue: h.taskQueue,
    policyFor: () => options.policy ?? shortPolicy(SCALE_MS),
    extraInput: options.extraInput,
    signalIds: [stored.signalId],
  });
  const handle: CaseHandle = h.client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, stored.caseKey));
  return { handle, stored, record };
}

/** Polls `read` until `predicate` holds (the dev server runs real time). */
export async function waitFor<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await read();
      if (predicate(value)) return value;
    } catch (err) {
      // A query can fail while the workflow's first task is still being scheduled: try again.
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export const viewOf = (handle: CaseHandle): Promise<CaseView> => handle.query(getCaseView);

/** Waits until the case has an open task of `kind` (and `attempt`, when given) and returns it. */
export async function openTask(handle: CaseHandle, kind: 'phone' | 'visit', attempt?: number) {
  const v = await waitFor(
    () => viewOf(handle),
    (v) => v.openTask?.kind === kind && (attempt === undefined || v.openTask.attempt === attempt),
  );
  return v.openTask!;
}

/** A history in protobuf's binary form: exact, compact, and what replay fixtures are stored as. */
export async function historyBytes(handle: CaseHandle): Promise<Uint8Array> {
  return temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish();
}

/**
 * Writes a finished case's history as a replay fixture when RECORD_HISTORIES=1, named `<name><suffix>`
 * with RECORD_HISTORIES_SUFFIX (so fixtures of an older workflow shape stay beside the new ones).
 */
export async function maybeRecordHistory(handle: CaseHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const dir = join(process.cwd(), 'test', 'fixtures', 'histories');
  mkdirSync(dir, { recursive: true });
  const suffix = process.env.RECORD_HISTORIES_SUFFIX ?? '';
  writeFileSync(join(dir, `${name}${suffix}.binpb`), await historyBytes(handle));
}

/**
 * The whole history as text for scanning it for personal values. Payloads are stored as their raw
 * (JSON) bytes inside the protobuf encoding, so every string a payload carries appears verbatim.
 */
export async function historyText(handle: CaseHandle): Promise<string> {
  return Buffer.from(await historyBytes(handle)).toString('utf8');
}

/** The personal values of a test resident, as they would appear if leaked. */
export function personalValues(record: SignalRecord): string[] {
  const r = record.resident;
  const a = record.address;
  return [
    r.firstNames,
    r.surname,
    r.birthDate,
    r.phone,
    r.email,
    a.postcode,
    a.postcode.replace(' ', ''),
    a.street,
    r.bsn,
  ].filter((v): v is string => typeof v === 'string' && v.length > 0);
}
