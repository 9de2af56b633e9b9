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

/**
 * A surname as matching compares it: prefix and surname together, without case, accents, spaces or
 * punctuation, so "van der Berg" with or without a separate prefix field is one name.
 */
export function normalisedSurname(prefix: string | null, surname: string): string {
  return `${prefix ?? ''}${surname}`
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}]/gu, '');
}

/**
 * Identity used to join signals into one case: BSN when known, else birth date + address, with the
 * normalised surname as a check (two people born on one day at one address but with different names
 * stay two residents).
 */
export function matchKeyOf(secret: string, record: SignalRecord): string {
  if (record.resident.bsn) return keyed(secret, ['bsn', record.resident.bsn]);
  const a = record.address;
  return keyed(secret, [
    'adr',
    record.resident.birthDate,
    a.postcode.replace(/\s/g, ''),
    a.houseNumber,
    a.houseNumberAddition,
    normalisedSurname(record.resident.surnamePrefix, record.resident.surname),
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
      household_key: householdKeyOf(options.secret, record),
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

/** One row of a delivery: its position (for feedback) and the validated record. */
export interface IntakeRow {
  row: number;
  record: SignalRecord;
}

/** What became of one row: a new signal, or a duplicate of an earlier one (same partner reference). */
export interface RowOutcome {
  row: number;
  signalId: string;
  caseKey: string;
  duplicate: boolean;
  /** DDAS status stored up front ("Nog niet opgepakt", or why the signal starts no outreach). */
  status: string;
}

export interface StoreSignalsOptions {
  municipality: string;
  partnerId: string;
  partnerType: string;
  secret: string;
  /** The batch these rows belong to; null for a single signal. */
  batchId: string | null;
  /** Decides the DDAS status at intake (selection rules, objection, repeat); default "Nog niet opgepakt". */
  screen?: (signal: ScreeningInput) => string;
  now?: Date;
}

/** What intake knows when it screens a signal: the signal, the resident's flags, earlier signals. */
export interface ScreeningInput {
  record: SignalRecord;
  partnerId: string;
  partnerType: string;
  resident: { objected: boolean; movedAway: boolean; deceased: boolean; knownToDebtHelp: boolean };
  earlier: Array<{ partnerId: string; arrearsSince: string; amount: number; receivedAt: number }>;
  at: number;
}

/**
 * Stores many signals of one partner set-based, in `trx`: a handful of statements per call however many
 * rows, so a monthly batch commits at thousands of rows per second. Same semantics as `storeSignal`:
 * a known partner reference (earlier, or earlier in these rows) is a duplicate and creates nothing;
 * residents are matched by their keyed identity (one row per identity, enforced by a unique index) and
 * flagged when the objection register holds them; the signal waits in the outbox for the dispatcher.
 */
export async function storeSignals(
  trx: Transaction<Database>,
  options: StoreSignalsOptions,
  rows: readonly IntakeRow[],
): Promise<RowOutcome[]> {
  if (rows.length === 0) return [];
  const now = options.now ?? new Date();
  const outcomes = new Map<number, RowOutcome>();

  // Duplicates: references stored before, then repeats within these rows (the first one counts).
  const refs = [...new Set(rows.map((r) => r.record.partnerReference))];
  const earlierSignals = await trx
    .selectFrom('signals')
    .select(['id', 'case_key', 'partner_reference', 'status'])
    .where('partner_id', '=', options.partnerId)
    .where('partner_reference', 'in', refs)
    .execute();
  const known = new Map(earlierSignals.map((s) => [s.partner_reference, s]));
  const firstRowOf = new Map<string, number>();
  const fresh: Array<IntakeRow & { matchKey: string }> = [];
  for (const r of rows) {
    const ref = r.record.partnerReference;
    const before = known.get(ref);
    if (before) {
      outcomes.set(r.row, {
        row: r.row,
        signalId: before.id,
        caseKey: before.case_key,
        duplicate: true,
        status: before.status,
      });
    } else if (firstRowOf.has(ref)) {
      outcomes.set(r.row, { row: r.row, signalId: '', caseKey: '', duplicate: true, status: '' });
    } else {
      firstRowOf.set(ref, r.row);
      fresh.push({ ...r, matchKey: matchKeyOf(options.secret, r.record) });
    }
  }

  if (fresh.length > 0) {
    // Residents: create the missing ones (a concurrent intake may win the race; then we read theirs).
    const byKey = new Map<string, IntakeRow & { matchKey: string }>();
    for (const f of fresh) if (!byKey.has(f.matchKey)) byKey.set(f.matchKey, f);
    const keys = [...byKey.keys()];
    await trx
      .insertInto('residents')
      .values(
        [...byKey.values()].map(({ record, matchKey }) => ({
          municipality: options.municipality,
          case_key: randomUUID(),
          match_key: matchKey,
          household_key: householdKeyOf(options.secret, record),
          bsn: record.resident.bsn,
          first_names: record.resident.firstNames,
          surname_prefix: record.resident.surnamePrefix,
          surname: record.resident.surname,
          birth_date: record.resident.birthDate,
          sex: record.resident.sex,
          phone: record.resident.phone,
          email: record.resident.email,
          postcode: record.address.postcode,
          house_number: record.address.houseNumber,
          house_number_addition: record.address.houseNumberAddition,
          street: record.address.street,
          city: record.address.city,
        })),
      )
      .onConflict((oc) => oc.columns(['municipality', 'match_key']).doNothing())
      .execute();
    // Residents on the objection register are flagged, whoever reported them.
    await trx
      .updateTable('residents')
      .set({ objected: true })
      .where('municipality', '=', options.municipality)
      .where('match_key', 'in', keys)
      .where('objected', '=', false)
      .where('match_key', 'in', (eb) =>
        eb.selectFrom('objections').select('match_key').where('municipality', '=', options.municipality),
      )
      .execute();
    const residents = await trx
      .selectFrom('residents')
      .select(['id', 'case_key', 'match_key', 'objected', 'moved_away', 'deceased', 'known_to_debt_help'])
      .where('municipality', '=', options.municipality)
      .where('match_key', 'in', keys)
      .execute();
    const residentOf = new Map(residents.map((r) => [r.match_key, r]));

    // Earlier signals of these residents, for the repeat rule.
    const history = new Map<string, ScreeningInput['earlier']>();
    if (options.screen) {
      const earlier = await trx
        .selectFrom('signals')
        .select(['resident_id', 'partner_id', 'arrears_since', 'amount', 'received_at'])
        .where(
          'resident_id',
          'in',
          residents.map((r) => r.id),
        )
        .execute();
      for (const e of earlier) {
        if (!e.resident_id) continue;
        const list = history.get(e.resident_id) ?? [];
        list.push({
          partnerId: e.partner_id,
          arrearsSince: e.arrears_since,
          amount: Number(e.amount),
          receivedAt: e.received_at.getTime(),
        });
        history.set(e.resident_id, list);
      }
    }

    const values = fresh.map((f) => {
      const resident = residentOf.get(f.matchKey);
      if (!resident) throw new Error('resident vanished during intake');
      let status = 'Nog niet opgepakt';
      if (options.screen) {
        const earlier = history.get(resident.id) ?? [];
        status = options.screen({
          record: f.record,
          partnerId: options.partnerId,
          partnerType: options.partnerType,
          resident: {
            objected: resident.objected,
            movedAway: resident.moved_away,
            deceased: resident.deceased,
            knownToDebtHelp: resident.known_to_debt_help,
          },
          earlier,
          at: now.getTime(),
        });
        earlier.push({
          partnerId: options.partnerId,
          arrearsSince: f.record.arrearsSince,
          amount: f.record.amount,
          receivedAt: now.getTime(),
        });
        history.set(resident.id, earlier);
      }
      return { f, resident, status };
    });
    const inserted = await trx
      .insertInto('signals')
      .values(
        values.map(({ f, resident, status }) => ({
          municipality: options.municipality,
          partner_id: options.partnerId,
          partner_type: options.partnerType,
          partner_reference: f.record.partnerReference,
          resident_id: resident.id,
          case_key: resident.case_key,
          signal_date: f.record.signalDate,
          arrears_since: f.record.arrearsSince,
          amount: f.record.amount,
          crisis: f.record.crisis,
          warm_handover: f.record.warmHandover,
          status,
          batch_id: options.batchId,
          household_key: householdKeyOf(options.secret, f.record),
        })),
      )
      .onConflict((oc) => oc.columns(['partner_id', 'partner_reference']).doNothing())
      .returning(['id', 'partner_reference', 'case_key', 'status'])
      .execute();
    const insertedByRef = new Map(inserted.map((s) => [s.partner_reference, s]));
    const raced: string[] = [];
    for (const { f } of values) {
      const s = insertedByRef.get(f.record.partnerReference);
      if (s) {
        outcomes.set(f.row, {
          row: f.row,
          signalId: s.id,
          caseKey: s.case_key,
          duplicate: false,
          status: s.status,
        });
      } else {
        raced.push(f.record.partnerReference);
      }
    }
    if (raced.length > 0) {
      // A concurrent delivery stored these references first: they are duplicates here.
      const theirs = await trx
        .selectFrom('signals')
        .select(['id', 'case_key', 'partner_reference', 'status'])
        .where('partner_id', '=', options.partnerId)
        .where('partner_reference', 'in', raced)
        .execute();
      for (const s of theirs) known.set(s.partner_reference, s);
      for (const { f } of values) {
        const s = known.get(f.record.partnerReference);
        if (!outcomes.has(f.row) && s) {
          outcomes.set(f.row, {
            row: f.row,
            signalId: s.id,
            caseKey: s.case_key,
            duplicate: true,
            status: s.status,
          });
        }
      }
    }
  }

  // Repeats within these rows point at the row stored first.
  const result: RowOutcome[] = [];
  for (const r of rows) {
    const outcome = outcomes.get(r.row);
    if (!outcome) throw new Error(`row ${r.row} was not stored`);
    if (outcome.signalId === '') {
      const first = outcomes.get(firstRowOf.get(r.record.partnerReference) ?? -1);
      if (first)
        Object.assign(outcome, { signalId: first.signalId, caseKey: first.caseKey, status: first.status });
    }
    result.push(outcome);
  }
  return result;
}

/** Records that a resident objected to sharing; their current and future signals start no outreach. */
export async function registerObjection(
  db: Db,
  options: { municipality: string; secret: string; source: 'partner' | 'visit' },
  record: SignalRecord,
): Promise<void> {
  const matchKey = matchKeyOf(options.secret, record);
  await db
    .insertInto('objections')
    .values({ municipality: options.municipality, match_key: matchKey, source: options.source })
    .onConflict((oc) => oc.columns(['municipality', 'match_key']).doNothing())
    .execute();
  await db
    .updateTable('residents')
    .set({ objected: true })
    .where('municipality', '=', options.municipality)
    .where('match_key', '=', matchKey)
    .execute();
}
