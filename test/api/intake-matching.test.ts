/**
 * Intake matching, classification and screening through the real partner API (real PostgreSQL), and the
 * cases the matched signals become (real Temporal dev server and worker).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePartner } from '../../db/repositories/intake.js';
import { createPartnerToken } from '../../db/repositories/partner-tokens.js';
import { classificationsNow } from '../../db/tables/signals.table.js';
import { loadConfig } from '../../lib/config.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import { caseWorkflowId, getCaseView } from '../../workflows/messages.js';
import { shortPolicy } from '../../workflows/policy.js';
import { startApiHarness } from '../helpers/api.js';
import { SCALE_MS, waitFor } from '../helpers/cases.js';
import { MUNICIPALITY } from '../helpers/fixtures.js';
import type { TestHarness } from '../helpers/temporal.js';

let h: TestHarness;
let app: FastifyInstance;
let dir: string;

/** A valid BSN (elfproef) from 8 digits: the ninth makes the weighted sum divisible by 11. */
function bsnFrom(seed: number): string {
  for (let base = seed; ; base += 1) {
    const digits = String(base).padStart(8, '1').slice(-8);
    let sum = 0;
    for (let k = 0; k < 8; k += 1) sum += Number(digits[k]) * (9 - k);
    if (sum % 11 < 10) return `${digits}${sum % 11}`;
  }
}

/** A fictitious resident, unique per call. */
function person() {
  const n = Math.floor(Math.random() * 1e7);
  return {
    bsn: bsnFrom(10_000_000 + n),
    resident: {
      firstNames: 'Jantine',
      surnamePrefix: 'van der',
      surname: `Koekoek${n}`,
      birthDate: '1968-05-21',
    },
    address: {
      postcode: '1761 AB',
      houseNumber: 1 + (n % 9_000),
      houseNumberAddition: 'B',
      street: 'Koekoekstraat',
      city: 'Anna Paulowna',
    },
  };
}

type Person = ReturnType<typeof person>;

function signalFor(p: Person, options: { bsn?: boolean; signalDate?: string; amount?: number } = {}) {
  return {
    partnerReference: `M-${randomUUID()}`,
    signalDate: options.signalDate ?? '2026-11-02',
    arrearsSince: '2026-08-15',
    amount: options.amount ?? 412.5,
    resident: options.bsn ? { ...p.resident, bsn: p.bsn } : p.resident,
    address: p.address,
  };
}

async function partner(type: string) {
  const partnerId = await ensurePartner(h.db, `Matching ${type} ${randomUUID()}`, type);
  const { token } = await createPartnerToken(h.db, partnerId, 'test');
  return { partnerId, auth: { authorization: `Bearer ${token}` } };
}

async function send(p: { auth: Record<string, string> }, body: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: '/api/v1/signals', headers: p.auth, payload: body });
  expect([200, 202]).toContain(res.statusCode);
  return res.json() as { signalId: string; status: string; duplicate: boolean; classification: string };
}

/** The classification of a signal as readers see it now (`classificationsNow` over the resident's signals). */
async function classificationNow(signalId: string) {
  const { case_key } = await stored(signalId);
  const all = await h.db
    .selectFrom('signals')
    .select(['id', 'partner_id', 'signal_date', 'classification'])
    .where('case_key', '=', case_key)
    .execute();
  return classificationsNow(all).find((s) => s.id === signalId)?.classification;
}

async function stored(signalId: string) {
  return h.db
    .selectFrom('signals')
    .innerJoin('residents', 'residents.id', 'signals.resident_id')
    .select([
      'signals.case_key',
      'signals.classification',
      'residents.id as resident_id',
      'residents.bsn',
      'residents.match_key',
    ])
    .where('signals.id', '=', signalId)
    .executeTakeFirstOrThrow();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'intake-matching-'));
  // The municipality's own policy: water signals are not taken up here (the default takes them).
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ [MUNICIPALITY]: { selection: { Water: { enabled: false } } } }));
  ({ h, app } = await startApiHarness({ config: loadConfig({ POLICY_FILE: policyFile }) }));
});
afterAll(async () => {
  await app?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('matching residents across BSN and address', () => {
  it('joins a signal without BSN to the resident known by BSN, and the case gets both signals', async () => {
    const p = person();
    const huur = await partner('Huur');
    const zorg = await partner('Zorg');
    const first = await send(huur, signalFor(p, { bsn: true }));
    // Same person without BSN, surname written differently (prefix inside, other case).
    const second = await send(zorg, {
      ...signalFor(p),
      resident: { ...p.resident, surnamePrefix: undefined, surname: `VAN DER ${p.resident.surname}` },
      address: { ...p.address, postcode: '1761ab' },
    });
    const [a, b] = [await stored(first.signalId), await stored(second.signalId)];
    expect(b.resident_id).toBe(a.resident_id);
    expect(b.case_key).toBe(a.case_key);
    expect(b.bsn).toBe(p.bsn);

    // One case: both signals reach the same workflow through the outbox.
    const handed = await dispatchPending({
      db: h.db,
      client: h.client,
      taskQueue: h.taskQueue,
      policyFor: () => shortPolicy(SCALE_MS),
      signalIds: [first.signalId, second.signalId],
    });
    expect(handed).toBe(2);
    const handle = h.client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, a.case_key));
    const view = await waitFor(
      () => handle.query(getCaseView),
      (v) => v.signals === 2,
    );
    expect(view.signals).toBe(2);
    await handle.terminate('test finished');
  }, 60_000);

  it('keeps a namesake with another surname at the same address and birth date apart', async () => {
    const p = person();
    const huur = await partner('Huur');
    const first = await send(huur, signalFor(p, { bsn: true }));
    const other = await send(huur, {
      ...signalFor(p),
      resident: { ...p.resident, surname: `Anders${p.resident.surname}` },
    });
    expect((await stored(other.signalId)).resident_id).not.toBe((await stored(first.signalId)).resident_id);
  });

  it('joins a later signal with BSN to the resident first known without, and records the BSN', async () => {
    const p = person();
    const energie = await partner('Energie');
    const zorg = await partner('Zorg');
    const first = await send(energie, signalFor(p));
    const before = await stored(first.signalId);
    expect(before.bsn).toBeNull();
    const second = await send(zorg, signalFor(p, { bsn: true }));
    const after = await stored(second.signalId);
    expect(after.resident_id).toBe(before.resident_id);
    expect(after.case_key).toBe(before.case_key);
    expect(after.bsn).toBe(p.bsn);
    expect(after.match_key).not.toBe(before.match_key);
    // And a third, without BSN again, still finds them.
    const third = await send(energie, signalFor(p, { amount: 900 }));
    expect((await stored(third.signalId)).resident_id).toBe(before.resident_id);
    const residents = await h.db.selectFrom('residents').select('id').where('bsn', '=', p.bsn).execute();
    expect(residents).toHaveLength(1);
  });

  it('matches across BSN and address within one batch, in row order', async () => {
    const p = person();
    const zorg = await partner('Zorg');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: zorg.auth,
      payload: { signals: [signalFor(p), signalFor(p, { bsn: true }), signalFor(p, { amount: 800 })] },
    });
    expect(res.statusCode).toBe(202);
    const rows = await h.db
      .selectFrom('signals')
      .innerJoin('residents', 'residents.id', 'signals.resident_id')
      .select(['residents.id', 'residents.bsn'])
      .where('signals.batch_id', '=', res.json().batchId)
      .execute();
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.id)).size).toBe(1);
    expect(rows[0]!.bsn).toBe(p.bsn);
  });
});

describe('deliveries from several partners at the same time', () => {
  it('joins every resident once, whatever order the batches list them in', async () => {
    // Distinct people: matching ignores digits in surnames, so each gets its own letters and house number.
    const letters = (i: number) => String.fromCharCode(65 + (i % 26), 65 + (Math.floor(i / 26) % 26));
    const people = Array.from({ length: 300 }, (_, i) => {
      const p = person();
      return {
        ...p,
        resident: { ...p.resident, surname: `${p.resident.surname}${letters(i)}` },
        address: { ...p.address, houseNumber: 9_000 + i },
      };
    });
    const partners = await Promise.all(['Zorg', 'Huur', 'Energie', 'Water'].map((t) => partner(t)));
    // Each partner lists the same residents in its own order, half of them with BSN.
    const batches = partners.map((_, k) =>
      people
        .map((p, i) => ({ p, order: (i * (k * 2 + 1) * 7919) % people.length, bsn: (i + k) % 2 === 0 }))
        .sort((a, b) => a.order - b.order)
        .map(({ p, bsn }) => signalFor(p, { bsn })),
    );
    const answers = await Promise.all(
      partners.map((pt, k) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/signal-batches',
          headers: pt.auth,
          payload: { signals: batches[k] },
        }),
      ),
    );
    for (const res of answers) {
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ accepted: 300, rejected: 0, duplicate: 0 });
    }
    const rows = await h.db
      .selectFrom('signals')
      .innerJoin('residents', 'residents.id', 'signals.resident_id')
      .select(['residents.id', 'residents.surname', 'signals.case_key'])
      .where(
        'signals.partner_id',
        'in',
        partners.map((pt) => pt.partnerId),
      )
      .execute();
    expect(rows).toHaveLength(1_200);
    const bySurname = new Map<string, Set<string>>();
    for (const r of rows) bySurname.set(r.surname, (bySurname.get(r.surname) ?? new Set()).add(r.id));
    expect(bySurname.size).toBe(300);
    for (const ids of bySurname.values()) expect(ids.size).toBe(1);
    expect(new Set(rows.map((r) => r.case_key)).size).toBe(300);
  });
});

describe('classifying signals as single, multiple or consecutive', () => {
  it('marks a second partner in the same month multiple (both signals), and tells neither partner', async () => {
    const p = person();
    const huur = await partner('Huur');
    const zorg = await partner('Zorg');
    const first = await send(huur, signalFor(p, { bsn: true }));
    expect(first.classification).toBe('single');
    expect((await stored(first.signalId)).classification).toBe('single');
    const second = await send(zorg, signalFor(p, { bsn: true, signalDate: '2026-11-20' }));
    // The partner learns nothing about another partner's signal.
    expect(second.classification).toBe('single');
    expect((await stored(second.signalId)).classification).toBe('multiple');
    // The first one is stored as known on arrival (single) and reads as multiple now.
    expect((await stored(first.signalId)).classification).toBe('single');
    expect(await classificationNow(first.signalId)).toBe('multiple');
    expect(await classificationNow(second.signalId)).toBe('multiple');
    // A signal of another month stays single.
    const september = await send(huur, signalFor(p, { bsn: true, signalDate: '2026-09-20', amount: 700 }));
    expect(await classificationNow(september.signalId)).toBe('single');
  });

  it('marks the same partner in a later month consecutive, and says so to that partner', async () => {
    const p = person();
    const huur = await partner('Huur');
    const october = await send(huur, signalFor(p, { bsn: true, signalDate: '2026-10-01' }));
    const sameMonth = await send(huur, signalFor(p, { bsn: true, signalDate: '2026-10-20', amount: 500 }));
    expect((await stored(sameMonth.signalId)).classification).toBe('single');
    const novemberBody = signalFor(p, { bsn: true, signalDate: '2026-11-03', amount: 600 });
    const november = await send(huur, novemberBody);
    expect(november.classification).toBe('consecutive');
    expect((await stored(november.signalId)).classification).toBe('consecutive');
    expect((await stored(october.signalId)).classification).toBe('single');
    // A re-sent signal answers with the stored classification.
    const again = await send(huur, novemberBody);
    expect(again).toMatchObject({
      duplicate: true,
      signalId: november.signalId,
      classification: 'consecutive',
    });
  });

  it('counts consecutive signals in the batch report', async () => {
    const p = person();
    const q = person();
    const zorg = await partner('Zorg');
    await send(zorg, signalFor(p, { bsn: true, signalDate: '2026-10-01' }));
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: zorg.auth,
      payload: { signals: [signalFor(p, { bsn: true }), signalFor(q, { bsn: true })] },
    });
    expect(res.statusCode).toBe(202);
    const report = await app.inject({
      method: 'GET',
      url: `/api/v1/signal-batches/${res.json().batchId}`,
      headers: zorg.auth,
    });
    expect(report.json()).toMatchObject({ accepted: 2, consecutive: 1 });
  });
});

describe("screening with the municipality's policy", () => {
  it('applies the policy file of the municipality at intake, not the defaults', async () => {
    const water = await partner('Water');
    const energie = await partner('Energie');
    const refused = await send(water, signalFor(person()));
    expect(refused.status).toBe('Niet opgepakt: onterecht signaal');
    const taken = await send(energie, signalFor(person()));
    expect(taken.status).toBe('Nog niet opgepakt');
  });
});

describe('references of signals, checked per statement', () => {
  it('refuses a signal that refers to a missing resident, partner or batch', async () => {
    const huur = await partner('Huur');
    const { signalId } = await send(huur, signalFor(person()));
    const base = await h.db
      .selectFrom('signals')
      .selectAll()
      .where('id', '=', signalId)
      .executeTakeFirstOrThrow();
    const copy = (change: Record<string, unknown>) =>
      h.db
        .insertInto('signals')
        .values({
          municipality: base.municipality,
          partner_id: base.partner_id,
          partner_type: base.partner_type,
          partner_reference: `R-${randomUUID()}`,
          resident_id: base.resident_id,
          case_key: base.case_key,
          signal_date: base.signal_date,
          arrears_since: base.arrears_since,
          amount: base.amount,
          ...change,
        })
        .execute();
    await expect(copy({ resident_id: randomUUID() })).rejects.toThrow(/missing resident/);
    await expect(copy({ partner_id: randomUUID() })).rejects.toThrow(/missing partner/);
    await expect(copy({ batch_id: randomUUID() })).rejects.toThrow(/missing batch/);
    await expect(
      h.db.updateTable('signals').set({ resident_id: randomUUID() }).where('id', '=', signalId).execute(),
    ).rejects.toThrow(/missing partner, batch or resident/);
    await copy({});
  });

  it('keeps the signals of a deleted resident, anonymous, and keeps partners that signals refer to', async () => {
    const huur = await partner('Huur');
    const { signalId } = await send(huur, signalFor(person()));
    const { resident_id } = await stored(signalId);
    await h.db.deleteFrom('residents').where('id', '=', resident_id).execute();
    const after = await h.db
      .selectFrom('signals')
      .select(['resident_id', 'case_key'])
      .where('id', '=', signalId)
      .executeTakeFirstOrThrow();
    expect(after.resident_id).toBeNull();
    expect(after.case_key).toBeTruthy();
    await expect(sql`delete from partners where id = ${huur.partnerId}::uuid`.execute(h.db)).rejects.toThrow(
      /signals refer to this partner/,
    );
  });
});
