/**
 * Two deliveries of the same signals at the same moment (say, a partner's retry while the first upload is
 * still committing): the second waits for the first, then reports every row as a duplicate of the stored
 * one and joins the same residents. Nothing is stored twice.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, type Db, inTransaction } from '../../db/database.js';
import {
  addressKeyOf,
  householdKeyOf,
  type IntakeRow,
  matchKeyOf,
  type RowOutcome,
  storeSignals,
} from '../../db/repositories/intake.js';

let db: Db;
let partnerId: string;
const MUNICIPALITY = 'GM0001';

beforeAll(async () => {
  db = createDatabase(inject('databaseUrl'), { max: 4 });
  ({ id: partnerId } = await db
    .insertInto('partners')
    .values({ name: `Gelijktijdig ${randomUUID()}`, partner_type: 'Energie' })
    .returning('id')
    .executeTakeFirstOrThrow());
});
afterAll(async () => {
  await db?.destroy();
});

function row(n: number, tag: string): IntakeRow {
  return {
    row: n,
    record: {
      partnerReference: `${tag}-${n}`,
      signalDate: '2026-11-02',
      arrearsSince: '2026-08-01',
      amount: 100 + n + 0.29,
      crisis: false,
      warmHandover: false,
      resident: {
        bsn: null,
        firstNames: 'Sanne',
        surnamePrefix: null,
        surname: `Gelijktijdig${tag}${n}`,
        birthDate: `1980-04-0${(n % 9) + 1}`,
        sex: null,
        phone: null,
        email: null,
      },
      address: {
        postcode: '1761 AB',
        houseNumber: n + 1,
        houseNumberAddition: null,
        street: 'Dorpsstraat',
        city: 'Anna Paulowna',
      },
    },
  };
}

/**
 * Runs `firstRows` in a transaction held open after storing, then `secondRows` for `second` (which must
 * wait on the first one's unique index entries), then commits the first; returns both outcomes.
 */
async function overlapping(
  firstRows: IntakeRow[],
  secondRows: IntakeRow[],
  second: { partnerId: string; partnerType: string },
): Promise<[RowOutcome[], RowOutcome[]]> {
  const options = {
    municipality: MUNICIPALITY,
    partnerId,
    partnerType: 'Energie',
    secret: 'race-secret',
    batchId: null,
  };
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let firstStored!: () => void;
  const stored = new Promise<void>((resolve) => {
    firstStored = resolve;
  });
  const a = db.transaction().execute(async (trx) => {
    const outcomes = await storeSignals(trx, options, firstRows);
    firstStored();
    await gate;
    return outcomes;
  });
  await stored;
  // The second finds nothing committed yet, so it inserts the same residents (and references): it waits.
  let secondDone = false;
  const b = db
    .transaction()
    .execute((trx) => storeSignals(trx, { ...options, ...second }, secondRows))
    .finally(() => {
      secondDone = true;
    });
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(secondDone).toBe(false);
  release();
  return (await Promise.all([a, b])) as [RowOutcome[], RowOutcome[]];
}

describe('two deliveries at once', () => {
  it('stores each signal and resident once; the later delivery reports duplicates of the stored rows', async () => {
    const tag = randomUUID().slice(0, 8);
    const rows = Array.from({ length: 20 }, (_, i) => row(i + 1, tag));
    const [a, b] = await overlapping(rows, rows, { partnerId, partnerType: 'Energie' });

    expect(a.every((o) => !o.duplicate && o.newResident)).toBe(true);
    expect(b.every((o) => o.duplicate && !o.newResident)).toBe(true);
    expect(b.map((o) => o.signalId)).toEqual(a.map((o) => o.signalId));
    expect(b.map((o) => o.caseKey)).toEqual(a.map((o) => o.caseKey));

    const signals = await db
      .selectFrom('signals')
      .select(['id', 'resident_id', 'amount'])
      .where('partner_id', '=', partnerId)
      .where('partner_reference', 'like', `${tag}-%`)
      .execute();
    expect(signals).toHaveLength(20);
    expect(new Set(signals.map((s) => s.resident_id)).size).toBe(20);
    // Amounts travel in cents and are stored exactly.
    expect(signals.map((s) => s.amount)).toContain('101.29');
    const residents = await db
      .selectFrom('residents')
      .select('id')
      .where('surname', 'like', `Gelijktijdig${tag}%`)
      .execute();
    expect(residents).toHaveLength(20);
  });

  it('joins the residents the other delivery created when another partner reports them at the same time', async () => {
    const tag = randomUUID().slice(0, 8);
    const { id: waterId } = await db
      .insertInto('partners')
      .values({ name: `Gelijktijdig water ${tag}`, partner_type: 'Water' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const energie = Array.from({ length: 10 }, (_, i) => row(i + 1, tag));
    const water = energie.map((r) => ({
      ...r,
      record: { ...r.record, partnerReference: `W-${r.record.partnerReference}` },
    }));
    const [a, b] = await overlapping(energie, water, { partnerId: waterId, partnerType: 'Water' });
    expect(b.every((o) => !o.duplicate && !o.newResident)).toBe(true);
    expect(b.map((o) => o.caseKey)).toEqual(a.map((o) => o.caseKey));
    const residents = await db
      .selectFrom('residents')
      .select('id')
      .where('surname', 'like', `Gelijktijdig${tag}%`)
      .execute();
    expect(residents).toHaveLength(10);
    const waterSignals = await db
      .selectFrom('signals')
      .select(['resident_id'])
      .where('partner_id', '=', waterId)
      .execute();
    expect(waterSignals).toHaveLength(10);
    expect(new Set(waterSignals.map((s) => s.resident_id))).toEqual(new Set(residents.map((r) => r.id)));
  });
});

describe('a resident stored by another writer while intake runs', () => {
  it('joins the stored resident instead of creating a second one', async () => {
    const tag = randomUUID().slice(0, 8);
    const rows = Array.from({ length: 3 }, (_, i) => row(i + 1, tag));
    const secret = 'race-secret';
    const options = { municipality: MUNICIPALITY, partnerId, partnerType: 'Energie', secret, batchId: null };
    // Another writer (not intake: no intake lock) inserts the first row's resident and keeps its
    // transaction open; intake does not see it, inserts the same match key and waits on it.
    const theirId = randomUUID();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inserted!: () => void;
    const ready = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const other = db.transaction().execute(async (trx) => {
      const r = rows[0]!.record;
      await trx
        .insertInto('residents')
        .values({
          id: theirId,
          municipality: MUNICIPALITY,
          case_key: `other-${tag}`,
          match_key: matchKeyOf(secret, r),
          address_key: addressKeyOf(secret, r),
          household_key: householdKeyOf(secret, r),
          first_names: r.resident.firstNames,
          surname: r.resident.surname,
          birth_date: r.resident.birthDate,
          postcode: r.address.postcode,
          house_number: r.address.houseNumber,
          street: r.address.street,
          city: r.address.city,
        })
        .execute();
      inserted();
      await gate;
    });
    await ready;
    const intake = db.transaction().execute((trx) => storeSignals(trx, options, rows));
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await other;
    const outcomes = await intake;
    expect(outcomes[0]).toMatchObject({ duplicate: false, newResident: false, caseKey: `other-${tag}` });
    expect(outcomes[1]!.newResident).toBe(true);
    const stored = await db
      .selectFrom('signals')
      .select(['resident_id'])
      .where('id', '=', outcomes[0]!.signalId)
      .executeTakeFirstOrThrow();
    expect(stored.resident_id).toBe(theirId);
  });
});

describe('inTransaction', () => {
  it('runs a transaction again when PostgreSQL aborted it to break a deadlock', async () => {
    const { rows } = await sql<{ id: string }>`
      insert into partners (name, partner_type)
      values (${`Slot A ${randomUUID()}`}, 'Huur'), (${`Slot B ${randomUUID()}`}, 'Huur') returning id`.execute(
      db,
    );
    const [a, b] = rows.map((r) => r.id) as [string, string];
    let attempts = 0;
    let bothLocked!: () => void;
    const barrier = new Promise<void>((resolve) => {
      bothLocked = resolve;
    });
    let locked = 0;
    // Two transactions lock the same two rows in opposite order: one of them is chosen as the deadlock
    // victim (after deadlock_timeout), and inTransaction runs it again.
    const lockBoth = (first: string, second: string) =>
      inTransaction(db, async (trx) => {
        attempts += 1;
        await sql`select 1 from partners where id = ${first}::uuid for update`.execute(trx);
        locked += 1;
        if (locked === 2) bothLocked();
        await barrier;
        await sql`select 1 from partners where id = ${second}::uuid for update`.execute(trx);
        return 'done';
      });
    expect(await Promise.all([lockBoth(a, b), lockBoth(b, a)])).toEqual(['done', 'done']);
    expect(attempts).toBe(3);
  });

  it('does not run other failures again', async () => {
    let attempts = 0;
    await expect(
      inTransaction(db, async (trx) => {
        attempts += 1;
        await sql`select 1 / 0`.execute(trx);
      }),
    ).rejects.toThrow(/division by zero/);
    expect(attempts).toBe(1);
  });
});
