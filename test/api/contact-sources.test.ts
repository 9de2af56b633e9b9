/**
 * Contact details per partner, on the real API: three partners report one resident (by BSN) with other
 * phone numbers and addresses, one of them an old month sent late. The newest signal date chooses the
 * details (as before), each partner's own report is kept, and the caseworker sees the source and what the
 * others reported, in the JSON and on the case page: no partner silently redirects the municipality's letters.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalRecord } from '../../db/repositories/intake.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import { startApiHarness } from '../helpers/api.js';
import { residentRecord, storeTestSignal } from '../helpers/fixtures.js';
import type { TestHarness } from '../helpers/temporal.js';
import { eventually, makeUser, signIn, testPolicy } from './caseworker-helpers.js';

let h: TestHarness;
let app: FastifyInstance;

beforeAll(async () => {
  ({ h, app } = await startApiHarness());
}, 60_000);
afterAll(async () => {
  await app?.close();
  await h?.close();
});

/** A random BSN that passes the elfproef, so this resident is nobody else's in the shared database. */
function randomBsn(): string {
  for (;;) {
    const digits = Array.from({ length: 9 }, () => Math.floor(Math.random() * 10));
    if (digits[0] === 0) continue;
    const sum = digits.slice(0, 8).reduce((n, d, i) => n + d * (9 - i), 0) - digits[8]!;
    if (sum % 11 === 0) return digits.join('');
  }
}

describe('contact details per partner', () => {
  it('keeps each partner report, chooses the newest, and shows the caseworker its source and the others', async () => {
    const base = residentRecord();
    base.resident.bsn = randomBsn();
    const report = (signalDate: string, phone: string, houseNumber: number): SignalRecord => ({
      ...residentRecord(),
      signalDate,
      arrearsSince: '2026-06-01',
      resident: { ...base.resident, phone },
      address: { ...base.address, houseNumber },
    });
    const zorg = { name: `Zorgverzekeraar ${base.resident.surname}`, type: 'Zorg' };
    const energie = { name: `Energieleverancier ${base.resident.surname}`, type: 'Energie' };
    const water = { name: `Waterbedrijf ${base.resident.surname}`, type: 'Water' };
    const first = await storeTestSignal(h.db, report('2026-11-01', '0611111111', 11), zorg);
    await storeTestSignal(h.db, report('2026-11-15', '0622222222', 22), energie);
    // An old month sent late: kept as this partner's report, but it changes nothing.
    await storeTestSignal(h.db, report('2026-10-01', '0633333333', 33), water);

    const resident = await h.db
      .selectFrom('residents as r')
      .innerJoin('partners as p', 'p.id', 'r.details_partner_id')
      .select(['r.id', 'r.phone', 'r.house_number', 'p.name'])
      .where('r.case_key', '=', first.caseKey)
      .executeTakeFirstOrThrow();
    expect(resident).toMatchObject({ phone: '0622222222', house_number: 22, name: energie.name });
    const reports = await h.db
      .selectFrom('resident_reports as rr')
      .innerJoin('partners as p', 'p.id', 'rr.partner_id')
      .select(['p.name', 'rr.signal_date', 'rr.phone', 'rr.house_number'])
      .where('rr.resident_id', '=', resident.id)
      .orderBy('rr.signal_date')
      .execute();
    expect(reports).toEqual([
      { name: water.name, signal_date: '2026-10-01', phone: '0633333333', house_number: 33 },
      { name: zorg.name, signal_date: '2026-11-01', phone: '0611111111', house_number: 11 },
      { name: energie.name, signal_date: '2026-11-15', phone: '0622222222', house_number: 22 },
    ]);

    await dispatchPending({
      db: h.db,
      client: h.client,
      taskQueue: h.taskQueue,
      policyFor: () => testPolicy(),
      signalIds: [first.signalId],
    });
    const caseRow = await eventually(() =>
      h.db.selectFrom('cases').select('id').where('case_key', '=', first.caseKey).executeTakeFirst(),
    );
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening', 'wijkteam']);
    const { cookie } = await signIn(app, user);
    const json = await app.inject({ method: 'GET', url: `/api/v1/cases/${caseRow.id}`, headers: { cookie } });
    expect(json.statusCode).toBe(200);
    expect(json.json().resident).toMatchObject({
      phone: '0622222222',
      detailsSource: { partner: energie.name, signalDate: '2026-11-15' },
    });
    expect(json.json().resident.reports.map((r: { partner: string }) => r.partner)).toEqual([
      energie.name,
      zorg.name,
      water.name,
    ]);

    const page = await app.inject({ method: 'GET', url: `/zaken/${caseRow.id}`, headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`${energie.name}, signaal van 15 nov`);
    const others = /data-testid="other-reports">(.*?)<\/ul>/s.exec(page.body)?.[1] ?? '';
    expect(others).toContain(`${zorg.name} (1 nov`);
    expect(others).toContain('telefoon 0611111111');
    expect(others).toContain(`${water.name} (1 okt`);
    expect(others).not.toContain(energie.name);
  });
});
