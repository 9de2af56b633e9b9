/**
 * Storing incoming signals: idempotent per partner reference, matched to one resident (and so one case),
 * linked to a household by address. Matching keys are keyed hashes, so the case key and indexes never
 * reveal a BSN or birth date.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database, Db } from '../database.js';

/** A validated signal as intake receives it (validation happens at the HTTP/CSV edge). */
export interface SignalRecord {
  partnerReference: string;
  signalDate: string;
  arrearsSince: string;
  amount: number;
  crisis: boolean;
  warmHandover: boolean;
  resident: {
    bsn: string | null;
    firstNames: string;
    surnamePrefix: string | null;
    surname: string;
    birthDate: string;
    sex: string | null;
    phone: string | null;
    email: string | null;
  };
  address: {
    postcode: string;
    houseNumber: number;
    houseNumberAddition: string | null;
    street: string;
    city: string;
  };
}

export interface StoredSignal {
  signalId: string;
  caseKey: string;
  duplicate: boolean;
  newResident: boolean;
}

function keyed(secret: string, parts: Array<string | number | null>): string {
  return createHmac('sha256', secret)
    .update(
      parts
        .map((p) =>
          String(p ?? '')
            .trim()
            .toUpperCase(),
        )
        .join('|'),
    )
    .digest('hex');
}

/** Identity used to join signals into one case: BSN when known, else birth date + address. */
export function matchKeyOf(secret: string, record: SignalRecord): string {
  if (record.resident.bsn) return keyed(secret, ['bsn', record.resident.bsn]);
  const a = record.address;
  return keyed(secret, [
    'adr',
    record.resident.birthDate,
    a.postcode.replace(/\s/g, ''),
    a.houseNumber,
    a.houseNumberAddition,
  ]);
}

/** Address identity: one household. */
export function householdKeyOf(secret: string, record: SignalRecord): string {
  const a = record.address;
  return keyed(secret, ['hh', a.postcode.replace(/\s/g, ''), a.houseNumber, a.houseNumberAddition]);
}

/**
 * Stores one signal in `trx`: a duplicate partner reference returns the earlier signal; otherwise the
 * resident is matched (or created) and the signal is queued for the dispatcher (dispatched_at null).
 */
export async function storeSignal(
  trx: Transaction<Database>,
  options: { municipality: string; partnerId: string; partnerType: string; secret: string },
  record: SignalRecord,
): Promise<StoredSignal> {
  const earlier = await trx
    .selectFrom('signals')
    .select(['id', 'case_key'])
    .where('partner_id', '=', options.partnerId)
    .where('partner_reference', '=', record.partnerReference)
    .executeTakeFirst();
  if (earlier)
    return { signalId: earlier.id, caseKey: earlier.case_key, duplicate: true, newResident: false };

  const matchKey = matchKeyOf(options.secret, record);
  let resident = await trx
    .selectFrom('residents')
    .select(['id', 'case_key'])
    .where('municipality', '=', options.municipality)
    .where('match_key', '=', matchKey)
    .forUpdate()
    .executeTakeFirst();
  const newResident = !resident;
  if (!resident) {
    const r = record.resident;
    const a = record.address;
    resident = await trx
      .insertInto('residents')
      .values({
        municipality: options.municipality,
        case_key: randomUUID(),
        match_key: matchKey,
        household_key: householdKeyOf(options.secret, record),
        bsn: r.bsn,
        first_names: r.firstNames,
        surname_prefix: r.surnamePrefix,
        surname: r.surname,
        birth_date: r.birthDate,
        sex: r.sex,
        phone: r.phone,
        email: r.email,
        postcode: a.postcode,
        house_number: a.houseNumber,
        house_number_addition: a.houseNumberAddition,
        street: a.street,
        city: a.city,
      })
      .returning(['id', 'case_key'])
      .executeTakeFirstOrThrow();
  }
  const signal = await trx
    .insertInto('signals')
    .values({
      municipality: options.municipality,
      partner_id: options.partnerId,
      partner_type: options.partnerType,
      partner_reference: record.partnerReference,
      resident_id: resident.id,
      case_key: resident.case_key,
      signal_date: record.signalDate,
      arrears_since: record.arrearsSince,
      amount: record.amount,
      crisis: record.crisis,
      warm_handover: record.warmHandover,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { signalId: signal.id, caseKey: resident.case_key, duplicate: false, newResident };
}

/** Finds or creates a partner organisation by name (demo data and tests; the admin command manages real ones). */
export async function ensurePartner(db: Db, name: string, partnerType: string): Promise<string> {
  const found = await db.selectFrom('partners').select('id').where('name', '=', name).executeTakeFirst();
  if (found) return found.id;
  const row = await db
    .insertInto('partners')
    .values({ name, partner_type: partnerType })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
