/**
 * An objection registered while an intake chunk is storing the same resident: the register change waits for
 * the chunk (the municipality's intake lock), so the resident the chunk creates is flagged and a notice is
 * queued for their case. Without the lock the objection committed first, flagged nobody (the resident was not
 * committed yet), and the chunk had read the register before the entry existed: outreach would start.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, type Db, inTransaction } from '../../db/database.js';
import { storeSignals } from '../../db/repositories/intake.js';
import { addObjection } from '../../db/repositories/objections.js';
import { residentRecord, TEST_SECRET } from '../helpers/fixtures.js';

let db: Db;
let partnerId: string;
const MUNICIPALITY = 'GM0002';

beforeAll(async () => {
  db = createDatabase(inject('databaseUrl'), { max: 4 });
  ({ id: partnerId } = await db
    .insertInto('partners')
    .values({ name: `Bezwaar tijdens levering ${randomUUID()}`, partner_type: 'Zorg' })
    .returning('id')
    .executeTakeFirstOrThrow());
});
afterAll(async () => {
  await db?.destroy();
});

describe('an objection registered while an intake chunk stores the resident', () => {
  it('flags the resident the chunk creates and queues a notice for their case', async () => {
    const record = residentRecord();
    const options = {
      municipality: MUNICIPALITY,
      partnerId,
      partnerType: 'Zorg',
      secret: TEST_SECRET,
      batchId: null,
    };
    let registered: Promise<number> | null = null;
    let registeredEarly = false;
    const [outcome] = await inTransaction(db, async (trx) => {
      const outcomes = await storeSignals(trx, options, [{ row: 1, record }]);
      // The partner's objection arrives now, while the chunk has not committed.
      registered = addObjection(
        db,
        { municipality: MUNICIPALITY, secret: TEST_SECRET, source: 'partner' },
        {
          bsn: record.resident.bsn,
          person: {
            surnamePrefix: record.resident.surnamePrefix,
            surname: record.resident.surname,
            birthDate: record.resident.birthDate,
            postcode: record.address.postcode,
            houseNumber: record.address.houseNumber,
            houseNumberAddition: record.address.houseNumberAddition,
          },
        },
      );
      void registered.then(() => {
        registeredEarly = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      return outcomes;
    });
    // The objection waited for the chunk to commit ...
    expect(registeredEarly).toBe(false);
    expect(await registered).toBe(1);
    // ... and then flagged the resident the chunk created, with a notice for their case.
    const resident = await db
      .selectFrom('residents')
      .select(['objected', 'case_key'])
      .where('case_key', '=', outcome!.caseKey)
      .executeTakeFirstOrThrow();
    expect(resident.objected).toBe(true);
    const notices = await db
      .selectFrom('objection_deliveries')
      .select('case_key')
      .where('case_key', '=', outcome!.caseKey)
      .execute();
    expect(notices).toHaveLength(1);
  });
});
