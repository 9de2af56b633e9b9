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
import { caseDetails } from '../../db/repositories/cases.js';
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
      houseNumberAddition: 'B' as string | null,
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

/** Sends `signals` as one JSON batch; expects them accepted and returns the batch id. */
async function sendBatch(p: { auth: Record<string, string> }, signals: Array<Record<string, unknown>>) {
  const batch = {
    method: 'POST',
    url: '/api/v1/signal-batches',
    headers: p.auth,
    payload: { signals },
  } as const;
  const res = await app.inject(batch);
  expect(res.statusCode).toBe(202);
  return res.json().batchId as string;
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
    // The partner is not told the status (see test/api/intake.test.ts): it is stored.
    const statusOf = async (signalId: string) =>
      (await h.db.selectFrom('signals').select('status').where('id', '=', signalId).executeTakeFirstOrThrow())
        .status;
    const refused = await send(water, signalFor(person()));
    expect(await statusOf(refused.signalId)).toBe('Niet opgepakt: onterecht signaal');
    const taken = await send(energie, signalFor(person()));
    expect(await statusOf(taken.signalId)).toBe('Nog niet opgepakt');
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

describe("keeping the resident's details as partners last reported them", () => {
  /** The resident row of a signal, with its details and row version (xmin changes when it is rewritten). */
  async function residentOf(signalId: string) {
    return h.db
      .selectFrom('signals as s')
      .innerJoin('residents as r', 'r.id', 's.resident_id')
      .selectAll('r')
      .select([sql<string>`r.xmin::text`.as('version'), 's.household_key as signal_household'])
      .where('s.id', '=', signalId)
      .executeTakeFirstOrThrow();
  }

  /** Someone else at `p`'s address (another name and birth date). */
  function housemate(p: Person, n: number): Person {
    return {
      ...p,
      bsn: bsnFrom(30_000_000 + Math.floor(Math.random() * 1e7)),
      resident: {
        ...p.resident,
        firstNames: `Huisgenoot ${n}`,
        surname: `Huisgenoot${p.resident.surname}`,
        birthDate: `199${n}-01-01`,
      },
    };
  }

  it("fills in phone and e-mail from another partner's later signal, and replaces them with newer ones", async () => {
    const p = person();
    const huur = await partner('Huur');
    const zorg = await partner('Zorg');
    const first = await send(huur, signalFor(p, { bsn: true, signalDate: '2026-11-02' }));
    expect(await residentOf(first.signalId)).toMatchObject({ phone: null, email: null });
    // The other partner has no BSN: matched by birth date + address + surname.
    const second = await send(zorg, {
      ...signalFor(p, { signalDate: '2026-11-03' }),
      resident: { ...p.resident, phone: '06-12345678', email: 'jantine@voorbeeld.nl' },
    });
    const filled = await residentOf(second.signalId);
    expect(filled.id).toBe((await residentOf(first.signalId)).id);
    expect(filled).toMatchObject({
      phone: '0612345678',
      email: 'jantine@voorbeeld.nl',
      details_reported_on: '2026-11-03',
    });
    // A newer phone number replaces the stored one; the e-mail address it leaves out stays.
    const third = await send(huur, {
      ...signalFor(p, { bsn: true, signalDate: '2026-11-05' }),
      resident: { ...p.resident, bsn: p.bsn, phone: '0201234567' },
    });
    const replaced = await residentOf(third.signalId);
    expect(replaced).toMatchObject({ phone: '0201234567', email: 'jantine@voorbeeld.nl' });
    // The same details again change nothing: the row is not rewritten.
    const fourth = await send(zorg, {
      ...signalFor(p, { signalDate: '2026-11-06' }),
      resident: { ...p.resident, phone: '0201234567' },
    });
    expect((await residentOf(fourth.signalId)).version).toBe(replaced.version);
  });

  it('moves a resident whose signal with BSN has another address: household and later signals follow', async () => {
    const p = person();
    const oldMate = housemate(p, 1);
    // The new address, where someone else already lives.
    const target = person();
    const newAddress = {
      ...target.address,
      street: 'Nieuwe Weg',
      city: 'Schagen',
      houseNumberAddition: null,
    };
    const newMate: Person = { ...housemate(target, 2), address: newAddress };
    const huur = await partner('Huur');
    const energie = await partner('Energie');
    const first = await send(huur, signalFor(p, { bsn: true, signalDate: '2026-10-01' }));
    const mateOld = await send(huur, signalFor(oldMate, { bsn: true, signalDate: '2026-10-01' }));
    const mateNew = await send(energie, signalFor(newMate, { signalDate: '2026-10-01' }));
    const before = await residentOf(first.signalId);
    expect(before.household_key).toBe((await residentOf(mateOld.signalId)).household_key);

    const moved = await send(energie, {
      ...signalFor(p, { bsn: true, signalDate: '2026-11-02' }),
      address: newAddress,
    });
    const after = await residentOf(moved.signalId);
    expect(after.id).toBe(before.id);
    expect(after).toMatchObject({
      postcode: newAddress.postcode,
      house_number: newAddress.houseNumber,
      house_number_addition: null,
      street: 'Nieuwe Weg',
      city: 'Schagen',
      details_reported_on: '2026-11-02',
    });
    // The signal and the resident agree on the household: the one at the new address.
    expect(after.household_key).toBe(after.signal_household);
    expect(after.household_key).toBe((await residentOf(mateNew.signalId)).household_key);
    expect(after.address_key).not.toBe(before.address_key);

    // The case page shows the new address and the new household, and the old housemate's no longer them.
    const page = (caseKey: string) =>
      caseDetails(h.db, { id: randomUUID(), case_key: caseKey, municipality: MUNICIPALITY });
    const mine = await page(after.case_key);
    expect(mine.resident).toMatchObject({ street: 'Nieuwe Weg', city: 'Schagen' });
    expect(mine.household.map((m) => m.first_names)).toEqual(['Huisgenoot 2']);
    expect(
      (await page((await residentOf(mateNew.signalId)).case_key)).household.map((m) => m.surname),
    ).toEqual([p.resident.surname]);
    expect((await page((await residentOf(mateOld.signalId)).case_key)).household).toEqual([]);

    // A later signal without BSN at the new address joins the same resident and case.
    const later = await send(huur, {
      ...signalFor(p, { signalDate: '2026-11-10', amount: 640 }),
      address: { ...newAddress, postcode: newAddress.postcode.replace(' ', '').toLowerCase() },
    });
    expect(await residentOf(later.signalId)).toMatchObject({ id: before.id, case_key: before.case_key });
  });

  it('moves a resident within one delivery, and the rows after the move find them at the new address', async () => {
    const p = person();
    const newAddress = { ...person().address, street: 'Verhuisd', city: 'Den Helder' };
    const zorg = await partner('Zorg');
    await send(zorg, signalFor(p, { bsn: true, signalDate: '2026-10-01' }));
    const batchId = await sendBatch(zorg, [
      { ...signalFor(p, { bsn: true, signalDate: '2026-11-02' }), address: newAddress },
      { ...signalFor(p, { signalDate: '2026-11-03', amount: 99 }), address: newAddress },
    ]);
    const rows = await h.db
      .selectFrom('signals')
      .innerJoin('residents', 'residents.id', 'signals.resident_id')
      .select(['residents.id', 'residents.street', 'signals.household_key', 'residents.household_key as rhk'])
      .where('signals.batch_id', '=', batchId)
      .execute();
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.id)).size).toBe(1);
    expect(rows.every((r) => r.street === 'Verhuisd' && r.household_key === r.rhk)).toBe(true);
  });

  it('goes by signal date, not arrival: an older month sent later overwrites nothing', async () => {
    const p = person();
    const huur = await partner('Huur');
    const zorg = await partner('Zorg');
    const oldAddress = p.address;
    await send(huur, signalFor(p, { bsn: true, signalDate: '2026-10-01' }));
    const newer = await send(zorg, {
      ...signalFor(p, { bsn: true, signalDate: '2026-11-02' }),
      resident: { ...p.resident, bsn: p.bsn, phone: '0612121212', email: 'nieuw@voorbeeld.nl' },
    });
    expect(await residentOf(newer.signalId)).toMatchObject({
      phone: '0612121212',
      details_reported_on: '2026-11-02',
    });
    // The other partner's September file arrives now, with other details and another address.
    const late = await send(huur, {
      ...signalFor(p, { bsn: true, signalDate: '2026-09-20' }),
      resident: { ...p.resident, bsn: p.bsn, phone: '0634343434', email: 'oud@voorbeeld.nl' },
      address: { ...person().address, street: 'Oude Laan' },
    });
    const kept = await residentOf(late.signalId);
    expect(kept).toMatchObject({
      phone: '0612121212',
      email: 'nieuw@voorbeeld.nl',
      postcode: oldAddress.postcode,
      house_number: oldAddress.houseNumber,
      street: oldAddress.street,
      details_reported_on: '2026-11-02',
    });
    // A newer signal that changes nothing leaves the row alone, and still counts: an older one after it
    // (though newer than the stored date) changes nothing either.
    const same = await send(huur, signalFor(p, { bsn: true, signalDate: '2026-11-10' }));
    expect((await residentOf(same.signalId)).version).toBe(kept.version);
    await send(zorg, {
      ...signalFor(p, { bsn: true, signalDate: '2026-11-05' }),
      resident: { ...p.resident, bsn: p.bsn, phone: '0656565656' },
    });
    expect((await residentOf(same.signalId)).phone).toBe('0612121212');

    // Within one delivery the most recent row counts, not the last one; on the same date the later row.
    await sendBatch(zorg, [
      { ...signalFor(p, { signalDate: '2026-11-20' }), resident: { ...p.resident, phone: '0611111111' } },
      { ...signalFor(p, { signalDate: '2026-11-12' }), resident: { ...p.resident, phone: '0622222222' } },
      {
        ...signalFor(p, { signalDate: '2026-11-20' }),
        resident: { ...p.resident, email: 'laatst@voorbeeld.nl' },
      },
      {
        ...signalFor(p, { signalDate: '2026-11-15' }),
        resident: { ...p.resident, email: 'eerder@voorbeeld.nl' },
      },
    ]);
    expect(await residentOf(same.signalId)).toMatchObject({
      phone: '0611111111',
      email: 'laatst@voorbeeld.nl',
      details_reported_on: '2026-11-20',
    });
  });

  it('never erases a stored phone number or e-mail address with an empty one', async () => {
    const p = person();
    const huur = await partner('Huur');
    const water = await partner('Water');
    await send(huur, signalFor(p, { bsn: true, signalDate: '2026-10-01' }));
    const withContact = await send(water, {
      ...signalFor(p, { signalDate: '2026-10-05' }),
      resident: { ...p.resident, phone: '0698765432', email: 'contact@voorbeeld.nl' },
    });
    expect(await residentOf(withContact.signalId)).toMatchObject({
      phone: '0698765432',
      email: 'contact@voorbeeld.nl',
    });
    // A newer CSV delivery with empty phone and e-mail cells, and a new address (with BSN): the address
    // changes, the contact details stay.
    const header =
      'partnerReference;signalDate;arrearsSince;amount;bsn;firstNames;surnamePrefix;surname;birthDate;phone;email;postcode;houseNumber;houseNumberAddition;street;city';
    const line = [
      `M-${randomUUID()}`,
      '2026-11-02',
      '2026-08-15',
      '120,50',
      p.bsn,
      p.resident.firstNames,
      p.resident.surnamePrefix,
      p.resident.surname,
      p.resident.birthDate,
      '',
      '',
      '1762 CD',
      '7',
      '',
      'Leeg Veld',
      'Schagen',
    ].join(';');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...huur.auth, 'content-type': 'text/csv; charset=utf-8' },
      payload: `${header}\n${line}\n`,
    });
    expect(res.statusCode).toBe(202);
    expect(await residentOf(withContact.signalId)).toMatchObject({
      phone: '0698765432',
      email: 'contact@voorbeeld.nl',
      postcode: '1762 CD',
      house_number: 7,
      street: 'Leeg Veld',
      details_reported_on: '2026-11-02',
    });
  });
});
