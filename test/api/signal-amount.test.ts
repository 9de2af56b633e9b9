/**
 * The amount rules at their edges, in both validation paths (the fast path for valid signals and the zod
 * schema that names problems), and the database's own check behind them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fastSignalRecord, validateSignal } from '../../api/routes/partners/signal-schema.js';
import { createDatabase, type Db } from '../../db/database.js';
import { residentRecord, storeTestSignal } from '../helpers/fixtures.js';

const signal = (amount: unknown) => ({
  partnerReference: `BEDRAG-${randomUUID()}`,
  signalDate: '2026-11-01',
  arrearsSince: '2026-08-01',
  amount,
  resident: { firstNames: 'Fenna', surname: 'Bedragtest', birthDate: '1975-03-04' },
  address: { postcode: '1761 AB', houseNumber: 3, street: 'Dorpsstraat', city: 'Anna Paulowna' },
});

describe('amount', () => {
  it.each([
    [0, 'moet groter dan 0 zijn'],
    [-12.5, 'moet groter dan 0 zijn'],
    [0.004, 'mag hoogstens 2 decimalen hebben'],
    [1e-9, 'moet minstens 0,01 zijn'],
    [0.004999, 'mag hoogstens 2 decimalen hebben'],
    [10_000_000.01, 'mag hoogstens 10.000.000 zijn'],
  ])('refuses %s: %s', (amount, reason) => {
    expect(fastSignalRecord(signal(amount))).toBeNull();
    expect(validateSignal(signal(amount), 'Zorg', 2)).toEqual({
      ok: false,
      problems: [{ row: 2, field: 'amount', reason }],
    });
  });

  it.each([0.01, 1, 75, 1234.56, 10_000_000])('accepts %s', (amount) => {
    const result = validateSignal(signal(amount), 'Zorg');
    expect(result.ok && result.record.amount).toBe(amount);
  });
});

describe('the database', () => {
  let db: Db;
  beforeAll(() => {
    db = createDatabase(inject('databaseUrl'), { max: 2 });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('refuses a signal of 0.00 even when intake were to let it through', async () => {
    const stored = await storeTestSignal(db, residentRecord());
    await expect(
      db.updateTable('signals').set({ amount: '0.00' }).where('id', '=', stored.signalId).execute(),
    ).rejects.toThrow(/signals_amount_positive/);
  });
});
