/**
 * The references of `signals` (partner, batch, resident) are checked per statement by triggers
 * (migration 0009) instead of per-row foreign keys: the same guarantees, proved here on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, type Db } from '../../db/database.js';
import type { NewSignal } from '../../db/tables/signals.table.js';

const FK_VIOLATION = '23503';
let db: Db;
let partnerId: string;

beforeAll(async () => {
  db = createDatabase(inject('databaseUrl'), { max: 2 });
  ({ id: partnerId } = await db
    .insertInto('partners')
    .values({ name: `Referenties ${randomUUID()}`, partner_type: 'Water' })
    .returning('id')
    .executeTakeFirstOrThrow());
});
afterAll(async () => {
  await db?.destroy();
});

function signal(overrides: Partial<NewSignal> = {}): NewSignal {
  return {
    municipality: 'GM0000',
    partner_id: partnerId,
    partner_type: 'Water',
    partner_reference: `ref-${randomUUID()}`,
    case_key: `ck-${randomUUID()}`,
    signal_date: '2026-10-01',
    arrears_since: '2026-08-01',
    amount: 120,
    ...overrides,
  };
}

/** A resident; its signals carry its case key (the deletion trigger finds them by it). */
async function resident(): Promise<{ id: string; caseKey: string }> {
  const key = randomUUID();
  const row = await db
    .insertInto('residents')
    .values({
      municipality: 'GM0000',
      case_key: `ck-${key}`,
      match_key: `mk-${key}`,
      household_key: `hk-${key}`,
      bsn: null,
      first_names: 'Test',
      surname_prefix: null,
      surname: 'Referentie',
      birth_date: '1980-01-01',
      sex: null,
      phone: null,
      email: null,
      postcode: '1234AB',
      house_number: 1,
      house_number_addition: null,
      street: 'Straat',
      city: 'Stad',
    })
    .returning(['id', 'case_key'])
    .executeTakeFirstOrThrow();
  return { id: row.id, caseKey: row.case_key };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('signal references (statement-level checks)', () => {
  it('refuses a signal of a missing partner, batch or resident, also inside a multi-row insert', async () => {
    const missing = randomUUID();
    expect(
      await codeOf(
        db
          .insertInto('signals')
          .values(signal({ partner_id: missing }))
          .execute(),
      ),
    ).toBe(FK_VIOLATION);
    expect(
      await codeOf(
        db
          .insertInto('signals')
          .values(signal({ batch_id: missing }))
          .execute(),
      ),
    ).toBe(FK_VIOLATION);
    const good = signal();
    expect(
      await codeOf(
        db
          .insertInto('signals')
          .values([good, signal({ resident_id: missing })])
          .execute(),
      ),
    ).toBe(FK_VIOLATION);
    // The statement failed as a whole: the good row of it is not stored either.
    const stored = await db
      .selectFrom('signals')
      .select('id')
      .where('partner_reference', '=', good.partner_reference)
      .execute();
    expect(stored).toEqual([]);
  });

  it('refuses an update to a missing reference and the deletion of a partner that signals use', async () => {
    const { id } = await db.insertInto('signals').values(signal()).returning('id').executeTakeFirstOrThrow();
    expect(
      await codeOf(db.updateTable('signals').set({ batch_id: randomUUID() }).where('id', '=', id).execute()),
    ).toBe(FK_VIOLATION);
    expect(await codeOf(db.deleteFrom('partners').where('id', '=', partnerId).execute())).toBe(FK_VIOLATION);
    const partner = await db.selectFrom('partners').select('id').where('id', '=', partnerId).execute();
    expect(partner).toHaveLength(1);
  });

  it('keeps the signal, anonymous, when its resident is deleted', async () => {
    const { id: residentId, caseKey } = await resident();
    const { id } = await db
      .insertInto('signals')
      .values(signal({ resident_id: residentId, case_key: caseKey }))
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.deleteFrom('residents').where('id', '=', residentId).execute();
    const row = await db
      .selectFrom('signals')
      .select('resident_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.resident_id).toBeNull();
  });
});
