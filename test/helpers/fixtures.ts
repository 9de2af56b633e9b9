/** Test data: fictitious residents and signals (names and addresses invented for tests). */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/database.js';
import { ensurePartner, type SignalRecord, storeSignal } from '../../db/repositories/intake.js';

export const TEST_SECRET = 'test-matching-secret';
export const MUNICIPALITY = 'GM1911';

let counter = 0;

/** A unique fictitious resident with distinctive values a history scan can look for. */
export function residentRecord(overrides: Partial<SignalRecord> = {}): SignalRecord {
  counter += 1;
  const tag = `${Date.now().toString(36)}${counter}`;
  return {
    partnerReference: `REF-${randomUUID()}`,
    signalDate: '2026-11-01',
    arrearsSince: '2026-09-01',
    amount: 412.5,
    crisis: false,
    warmHandover: false,
    resident: {
      bsn: null,
      firstNames: `Jantine${tag}`,
      surnamePrefix: 'van der',
      surname: `Zwaluwstaart${tag}`,
      birthDate: `19${String(50 + (counter % 40)).padStart(2, '0')}-0${1 + (counter % 9)}-1${counter % 10}`,
      sex: 'Vrouw',
      phone: `06${String(10000000 + counter * 7919).slice(0, 8)}`,
      email: `jantine.${tag}@voorbeeld.nl`,
    },
    address: {
      postcode: `17${String(10 + (counter % 89)).padStart(2, '0')} QZ`,
      houseNumber: 100 + counter,
      houseNumberAddition: 'B',
      street: 'Zwaluwstraat',
      city: 'Anna Paulowna',
    },
    ...overrides,
  };
}

/** Stores a signal from a partner of the given type, as intake would. */
export async function storeTestSignal(
  db: Db,
  record: SignalRecord,
  partner: { name: string; type: string } = { name: 'Woningstichting Testdorp', type: 'Huur' },
) {
  const partnerId = await ensurePartner(db, partner.name, partner.type);
  return db
    .transaction()
    .execute((trx) =>
      storeSignal(
        trx,
        { municipality: MUNICIPALITY, partnerId, partnerType: partner.type, secret: TEST_SECRET },
        record,
      ),
    );
}
