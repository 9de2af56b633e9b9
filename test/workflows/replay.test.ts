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
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import proto from '@temporalio/proto';

const { temporal } = proto;

import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const dir = join(process.cwd(), 'test', 'fixtures', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.binpb'));

describe('replaying recorded case histories', () => {
  it('has fixtures for the representative ends', () => {
    expect(files.map((f) => f.replace('.binpb', '')).sort()).toEqual([
      'consent-second-call',
      'declined-at-door',
      'not-now-recontact-consent',
      'objection-before-patch',
      'objection-during-call',
      'objection-in-call',
      'responded-after-letter',
      'unreachable',
    ]);
  });

  it('holds, before the patch, an objection notice and a conversation with an objection', () => {
    const text = Buffer.from(readFileSync(join(dir, 'objection-before-patch.binpb'))).toString('utf8');
    expect(text).toContain('objectionRegistered');
    expect(text).toContain('"objection":true');
    expect(text).not.toContain('objection-ends-round');
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
