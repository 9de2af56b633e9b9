/**
 * Replays recorded histories of representative cases against today's workflow code. A change to the
 * machine or workflow that would break running cases (non-determinism) fails here; guard such changes
 * with `patched()` or a new workflow type, then record fresh fixtures with
 * `RECORD_HISTORIES=1 npx vitest run test/workflows/case-workflow.test.ts` (the objection fixtures:
 * `test/workflows/case-objection.test.ts`).
 *
 * `objection-before-patch` was recorded with the workflow code of commit cf71bbd, from before objections
 * ended rounds: its case got an `objectionRegistered` notice (no handler then) and a task completion with
 * `objection: true` (ignored then), and went on to "declined". Today's code must replay it as it ran, which
 * only the `OBJECTION_PATCH` guard makes possible.
 *
 * `objection-before-first-step-unpatched` was recorded with the code of commit 90bd75b: the start signal and
 * an objection notice met in the case's first workflow task, and the first letter went out before the notice
 * ended the round. Today's code screens such a signal as objected (`OBJECTION_SCREENING_PATCH`), as
 * `objection-before-first-step` shows; the old history must still replay as it ran.
 *
 * The fixtures without a suffix ran each effect of a step as an activity of its own; those named
 * `-one-activity-per-step` (recorded with RECORD_HISTORIES_SUFFIX=-one-activity-per-step) ran each step as
 * one `runStep` activity (`ONE_ACTIVITY_PER_STEP_PATCH`); those named `-local-steps` ran each step that
 * answers a message as a local activity and each that answers a timer as `runStep` (input `steps: 'local'`,
 * no marker). All must replay.
 *
 * `two-partners-together` (recorded with `RECORD_HISTORIES=1 npx vitest run test/worker/dispatcher.test.ts`)
 * is a resident reported by two partners whose signals were handed over together (`newSignals`): both
 * steps ran in one local activity (`GROUPED_SIGNALS_PATCH`), then the letter's timer made a phone task.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import proto from '@temporalio/proto';

const { temporal } = proto;

import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { OBJECTION_SCREENING_PATCH, ONE_ACTIVITY_PER_STEP_PATCH } from '../../workflows/patches.js';

const dir = join(process.cwd(), 'test', 'fixtures', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.binpb'));

describe('replaying recorded case histories', () => {
  it('has fixtures for the representative ends', () => {
    expect(files.map((f) => f.replace('.binpb', '')).sort()).toEqual([
      'consent-second-call',
      'consent-second-call-local-steps',
      'consent-second-call-one-activity-per-step',
      'declined-at-door',
      'declined-at-door-local-steps',
      'declined-at-door-one-activity-per-step',
      'not-now-recontact-consent',
      'not-now-recontact-consent-local-steps',
      'not-now-recontact-consent-one-activity-per-step',
      'objection-before-first-step',
      'objection-before-first-step-unpatched',
      'objection-before-patch',
      'objection-during-call',
      'objection-in-call',
      'responded-after-letter',
      'responded-after-letter-local-steps',
      'responded-after-letter-one-activity-per-step',
      'two-partners-together',
      'unreachable',
      'unreachable-local-steps',
      'unreachable-one-activity-per-step',
    ]);
  });

  it('holds both shapes of a step: one activity per effect before the patch, one per step after it', () => {
    const read = (name: string) => Buffer.from(readFileSync(join(dir, `${name}.binpb`))).toString('utf8');
    const before = read('unreachable');
    expect(before).not.toContain(ONE_ACTIVITY_PER_STEP_PATCH);
    expect(before).toContain('registerCase');
    expect(before).not.toContain('runStep');
    const after = read('unreachable-one-activity-per-step');
    expect(after).toContain(ONE_ACTIVITY_PER_STEP_PATCH);
    expect(after).toContain('runStep');
    const local = read('unreachable-local-steps');
    expect(local).toContain('runStepLocally');
    expect(local).not.toContain(ONE_ACTIVITY_PER_STEP_PATCH);
  });

  it('holds, before the patch, an objection notice and a conversation with an objection', () => {
    const text = Buffer.from(readFileSync(join(dir, 'objection-before-patch.binpb'))).toString('utf8');
    expect(text).toContain('objectionRegistered');
    expect(text).toContain('"objection":true');
    expect(text).not.toContain('objection-ends-round');
  });

  it('holds a start signal with an objection notice queued behind it, with and without the screening patch', () => {
    const read = (name: string) => Buffer.from(readFileSync(join(dir, `${name}.binpb`))).toString('utf8');
    const unpatched = read('objection-before-first-step-unpatched');
    expect(unpatched).toContain('objectionRegistered');
    expect(unpatched).toContain('objection-ends-round');
    expect(unpatched).not.toContain(OBJECTION_SCREENING_PATCH);
    expect(unpatched).toContain('"template":"first"');
    const patched = read('objection-before-first-step');
    expect(patched).toContain(OBJECTION_SCREENING_PATCH);
    expect(patched).not.toContain('"template":"first"');
  });

  it('replays every fixture without non-determinism', async () => {
    const histories = files.map((f) => ({
      workflowId: f,
      history: temporal.api.history.v1.History.decode(readFileSync(join(dir, f))),
    }));
    for (const { history } of histories) expect(history.events?.length ?? 0).toBeGreaterThan(10);
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      histories,
    )) {
      results.push(result);
    }
    expect(results.map((r) => [r.workflowId, r.error?.message ?? null])).toEqual(
      histories.map((h) => [h.workflowId, null]),
    );
  });
});
