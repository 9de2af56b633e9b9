/**
 * No accepted signal is lost around the deletion of personal data at the end of a case's retention, on the
 * real Temporal dev server and PostgreSQL:
 * - a signal committed during the last retention wait and handed over only after the case closed keeps
 *   the resident's row (its case needs it) and starts a new case;
 * - a signal handed over while the deletion runs (held on the resident's row lock, so the window is hit
 *   every time) reaches the closing case after its machine has closed, and starts a new case too.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCaseHistory } from '../../api/history/timeline.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import { recordResidentContact } from '../../workflows/messages.js';
import { type OutreachPolicy, shortPolicy } from '../../workflows/policy.js';
import { type CaseHandle, SCALE_MS, startCase, viewOf, waitFor } from '../helpers/cases.js';
import { residentRecord, storeTestSignal } from '../helpers/fixtures.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

let h: TestHarness;

beforeAll(async () => {
  h = await createHarness();
  await h.startWorker();
});
afterAll(async () => {
  await h?.close();
});

const base = shortPolicy(SCALE_MS);
/** The wait after a conversation leaves a few seconds to commit a signal before the deletion. */
const policy: OutreachPolicy = { ...base, retention: { ...base.retention, afterContactMs: 4 * SCALE_MS } };

/** Starts a case and ends its round in a conversation: the case waits out its retention, then deletes. */
async function caseInRetention() {
  const record = residentRecord();
  const started = await startCase(h, { record, policy });
  await waitFor(
    () => viewOf(started.handle),
    (v) => v.stage === 'letter',
  );
  const v = await started.handle.executeUpdate(recordResidentContact, {
    args: [{ channel: 'Telefoon', dagdeel: 'Ochtend', outcome: { kind: 'alreadyPaid' } }],
  });
  expect(v.stage).toBe('concluded');
  return { ...started, caseId: v.caseId };
}

/** A later signal about the same resident from another partner, committed by intake (not handed over). */
async function laterSignal(record: ReturnType<typeof residentRecord>, caseKey: string) {
  const later = await storeTestSignal(
    h.db,
    { ...record, partnerReference: `${record.partnerReference}-later`, amount: 950 },
    { name: 'Zorgverzekeraar Test', type: 'Zorg' },
  );
  expect(later.caseKey).toBe(caseKey);
  return later;
}

const dispatch = (signalId: string) =>
  dispatchPending({
    db: h.db,
    client: h.client,
    taskQueue: h.taskQueue,
    policyFor: () => policy,
    signalIds: [signalId],
  });

const residentsOf = (caseKey: string) =>
  h.db.selectFrom('residents').select('id').where('case_key', '=', caseKey).execute();

/** The new case the later signal started: its own id, its first letter queued for the resident. */
async function expectNewCase(handle: CaseHandle, previousCaseId: string, signalId: string) {
  const v = await waitFor(
    () => viewOf(handle),
    (v) => v.caseId !== previousCaseId && v.stage === 'letter',
  );
  expect(v.signals).toBe(1);
  const signal = await h.db
    .selectFrom('signals')
    .select(['case_id', 'dispatched_at', 'resident_id'])
    .where('id', '=', signalId)
    .executeTakeFirstOrThrow();
  expect(signal.case_id).toBe(v.caseId);
  expect(signal.dispatched_at).not.toBeNull();
  expect(signal.resident_id).not.toBeNull();
  const letters = await waitFor(
    () =>
      h.db
        .selectFrom('outbound_messages')
        .select(['channel', 'template', 'status'])
        .where('case_id', '=', v.caseId)
        .execute(),
    (rows) => rows.length > 0,
  );
  expect(letters).toEqual([{ channel: 'letter', template: 'first', status: 'queued' }]);
  const cases = await h.db
    .selectFrom('cases')
    .select(['id', 'stage', 'personal_data_deleted_at'])
    .where('workflow_id', '=', handle.workflowId)
    .orderBy('started_at')
    .execute();
  expect(cases.map((c) => [c.id, c.stage, c.personal_data_deleted_at !== null])).toEqual([
    [previousCaseId, 'closed', true],
    [v.caseId, 'letter', false],
  ]);
  await handle.terminate('test finished');
  return v.caseId;
}

describe.concurrent('signals around the deletion of personal data', () => {
  it('keeps the resident for a signal committed before the deletion and handed over after it', async () => {
    const { handle, record, stored, caseId } = await caseInRetention();
    const later = await laterSignal(record, stored.caseKey);

    const closed = await handle.result(); // the retention ends, the deletion runs, the case closes
    expect(closed.caseId).toBe(caseId);
    expect(closed.stage).toBe('closed');
    expect(await residentsOf(stored.caseKey)).toHaveLength(1);

    expect(await dispatch(later.signalId)).toBe(1);
    await expectNewCase(handle, caseId, later.signalId);
  });

  it('starts a new case for a signal handed over while the deletion runs', async () => {
    const { handle, record, stored, caseId } = await caseInRetention();
    const later = await laterSignal(record, stored.caseKey);

    // Hold the resident's row on a connection of its own: the deletion waits for it, and the signal is
    // handed over meanwhile.
    await h.db.connection().execute(async (conn) => {
      await sql`begin`.execute(conn);
      try {
        await sql`select id from residents where case_key = ${stored.caseKey} for update`.execute(conn);
        // The deletion step waits for that lock (a local activity shows in no pending list: PostgreSQL tells).
        await waitFor(
          async () =>
            Number(
              (
                await sql<{ n: string }>`select count(*) as n from pg_stat_activity
                  where wait_event_type = 'Lock' and datname = current_database()`.execute(h.db)
              ).rows[0]?.n ?? 0,
            ),
          (waiting) => waiting > 0,
          15_000,
        );
        expect(await dispatch(later.signalId)).toBe(1);
      } finally {
        await sql`rollback`.execute(conn);
      }
    });

    const next = await expectNewCase(handle, caseId, later.signalId);
    expect(await residentsOf(stored.caseKey)).toHaveLength(1);

    // The managers' timelines keep the two cases apart: the closed one ends with its own close, and the new
    // one starts from its own run.
    const closedCase = await buildCaseHistory(h.client, h.db, handle.workflowId, caseId);
    expect(closedCase.entries.at(-1)?.kind).toBe('completed');
    expect(closedCase.stagesVisited.at(-1)).toBe('closed');
    expect(closedCase.entries.map((e) => e.text)).toContain(
      'Gegevens van deze zaak verwijderd; de persoonsgegevens blijven voor een nieuw signaal over de inwoner',
    );
    const newCase = await buildCaseHistory(h.client, h.db, handle.workflowId, next);
    expect(newCase.runs).toEqual([next]);
    expect(newCase.stagesVisited).toContain('letter');
  });
});
