/**
 * Storing incoming signals: idempotent per partner reference, matched to one resident (and so one case),
 * linked to a household by address. Matching keys are keyed hashes, so the case key and indexes never
 * reveal a BSN or birth date.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { uuidv7 } from '../../lib/uuidv7.js';
import type { Database, Db } from '../database.js';
import { lockIntake } from '../intake-lock.js';
import { boolArray, dateArray, int4Array, int8Array, textArray, uuidArray } from '../pg-arrays.js';
import type { Resident } from '../tables/residents.table.js';
import type { SignalClassification } from '../tables/signals.table.js';

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

/** The secret as a key object, made once: each of the three keys of a signal would otherwise re-encode it. */
const secretKeys = new Map<string, KeyObject>();

function keyed(secret: string, parts: Array<string | number | null>): string {
  let key = secretKeys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    secretKeys.set(secret, key);
  }
  let message = '';
  for (let i = 0; i < parts.length; i += 1) {
    if (i > 0) message += '|';
    message += String(parts[i] ?? '')
      .trim()
      .toUpperCase();
  }
  return createHmac('sha256', key).update(message).digest('hex');
}

const ASCII = /^[ -~]*$/;
const NOT_ASCII_LETTER = /[^a-z]/g;

/**
 * A surname as matching compares it: prefix and surname together, without case, accents, spaces or
 * punctuation, so "van der Berg" with or without a separate prefix field is one name.
 */
export function normalisedSurname(prefix: string | null, surname: string): string {
  const name = `${prefix ?? ''}${surname}`;
  // Printable ASCII (most names) has no accents to strip: the same result without decomposing.
  if (ASCII.test(name)) return name.toLowerCase().replace(NOT_ASCII_LETTER, '');
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}]/gu, '');
}

/** The key of a resident known by BSN. */
export function bsnKeyOf(secret: string, bsn: string): string {
  return keyed(secret, ['bsn', bsn]);
}

/**
 * The key of birth date + address (postcode, house number, addition) with the normalised surname as a
 * check: two people born on one day at one address but with different names stay two residents.
 */
export function addressKeyOf(secret: string, record: SignalRecord): string {
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

/**
 * The identity a resident is stored under (`residents.match_key`): the BSN key when the signal has one,
 * else the address key. Intake also matches across the two (see `storeSignals`).
 */
export function matchKeyOf(secret: string, record: SignalRecord): string {
  return record.resident.bsn ? bsnKeyOf(secret, record.resident.bsn) : addressKeyOf(secret, record);
}

/** Address identity: one household. */
export function householdKeyOf(secret: string, record: SignalRecord): string {
  const a = record.address;
  return keyed(secret, ['hh', a.postcode.replace(/\s/g, ''), a.houseNumber, a.houseNumberAddition]);
}

/**
 * Stores one signal in `trx` (no screening: status "Nog niet opgepakt"): a duplicate partner reference
 * returns the earlier signal; otherwise the resident is matched (or created) as `storeSignals` does and
 * the signal is queued for the dispatcher (dispatched_at null).
 */
export async function storeSignal(
  trx: Transaction<Database>,
  options: { municipality: string; partnerId: string; partnerType: string; secret: string },
  record: SignalRecord,
): Promise<StoredSignal> {
  const [outcome] = await storeSignals(trx, { ...options, batchId: null }, [{ row: 1, record }]);
  if (!outcome) throw new Error('signal was not stored');
  return {
    signalId: outcome.signalId,
    caseKey: outcome.caseKey,
    duplicate: outcome.duplicate,
    newResident: outcome.newResident,
  };
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

/** The keyed identities of a signal: BSN (when given), birth date + address + surname, household. */
export interface SignalKeys {
  bsn: string | null;
  address: string;
  household: string;
}

/** The keys of a signal (three keyed hashes; computed while the previous chunk commits, see `acceptBatch`). */
export function keysOf(secret: string, record: SignalRecord): SignalKeys {
  const bsn = record.resident.bsn;
  return {
    bsn: bsn ? bsnKeyOf(secret, bsn) : null,
    address: addressKeyOf(secret, record),
    household: householdKeyOf(secret, record),
  };
}

/** One row of a delivery: its position (for feedback), the validated record and, when known, its keys. */
export interface IntakeRow {
  row: number;
  record: SignalRecord;
  keys?: SignalKeys;
}

/** What became of one row: a new signal, or a duplicate of an earlier one (same partner reference). */
export interface RowOutcome {
  row: number;
  signalId: string;
  caseKey: string;
  duplicate: boolean;
  /** DDAS status stored up front ("Nog niet opgepakt", or why the signal starts no outreach). */
  status: string;
  /** Single, multiple or consecutive, as stored (a duplicate: the earlier signal's, as it stands now). */
  classification: SignalClassification;
  /** The signal created its resident (false for a duplicate). */
  newResident: boolean;
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

/** An earlier signal of a resident, as screening and classification read it. */
interface EarlierSignal {
  partnerId: string;
  arrearsSince: string;
  amount: number;
  receivedAt: number;
  /** YYYY-MM of the signal date: the period for multiple and consecutive signals. */
  month: string;
}

/** The columns of a resident's details (phone, e-mail, address and its household key) that intake keeps up to date. */
type Details = Pick<
  Resident,
  | 'phone'
  | 'email'
  | 'postcode'
  | 'house_number'
  | 'house_number_addition'
  | 'street'
  | 'city'
  | 'details_reported_on'
  | 'household_key'
>;

/**
 * A resident as matching sees it: found in the database or created by these rows; the details as stored,
 * then as these rows change them (see `applyDetails`).
 */
interface MatchedResident extends Details {
  id: string;
  case_key: string;
  match_key: string;
  address_key: string | null;
  has_bsn: boolean;
  objected: boolean;
  moved_away: boolean;
  deceased: boolean;
  known_to_debt_help: boolean;
  /** Created by these rows (inserted below), from the row at `source`. */
  created: boolean;
  source: number;
  /** A BSN learnt from these rows for a resident stored without one. */
  learntBsn: string | null;
  /** Earlier signals, filled in before screening. */
  history: EarlierSignal[];
  /**
   * The latest signal date the details are known from: `details_reported_on` or the resident's latest
   * signal, whichever is later (a signal that changed nothing leaves the row alone), then these rows'.
   */
  detailsOn: string | null;
  /** These rows changed the stored details (a found resident's row is written). */
  detailsChanged: boolean;
  /** These rows moved a found resident: `household_key` and `address_key` hold the new address's keys. */
  moved: boolean;
}

type FoundRow = Omit<
  MatchedResident,
  'created' | 'source' | 'learntBsn' | 'history' | 'detailsOn' | 'detailsChanged' | 'moved'
>;
const RESIDENT_COLUMNS = sql`r.id, r.case_key, r.match_key, r.address_key, r.bsn is not null as has_bsn,
  r.objected, r.moved_away, r.deceased, r.known_to_debt_help, r.phone, r.email, r.postcode, r.house_number,
  r.house_number_addition, r.street, r.city, r.details_reported_on, r.household_key`;
/** As many nulls as `RESIDENT_COLUMNS` has columns, of their types. */
const NO_RESIDENT = sql`null::uuid, null::text, null::text, null::text, null::boolean, null::boolean,
  null::boolean, null::boolean, null::boolean, null::text, null::text, null::text, null::int, null::text,
  null::text, null::text, null::date, null::text`;

/** A resident found in the database, as matching starts from it. */
function foundResident(f: FoundRow): MatchedResident {
  return {
    ...f,
    created: false,
    source: -1,
    learntBsn: null,
    history: [],
    detailsOn: f.details_reported_on,
    detailsChanged: false,
    moved: false,
  };
}

/**
 * Takes the details of row `i` into its resident when its signal date is on or after the latest one the
 * details are known from (ties: the later row wins), so an old month sent late changes nothing:
 * - phone and e-mail replace the known ones; an empty one erases nothing;
 * - with a BSN (the resident was matched by it) another address means the resident moved: the address,
 *   household key and address key follow (`byAddress` too, for the rows after this one). Without a BSN the
 *   address was part of the match, so it is the one known.
 * A change made here is written once per resident (`storeSignals`); a resident created by these rows is
 * inserted with its final details.
 */
function applyDetails(
  r: MatchedResident,
  record: SignalRecord,
  keys: { address: string; household: string },
  byAddress: Map<string, MatchedResident[]>,
): void {
  const on = record.signalDate;
  if (r.detailsOn !== null && on < r.detailsOn) return;
  r.detailsOn = on;
  const p = record.resident;
  if (p.phone && p.phone !== r.phone) {
    r.phone = p.phone;
    r.detailsChanged = true;
  }
  if (p.email && p.email !== r.email) {
    r.email = p.email;
    r.detailsChanged = true;
  }
  if (!p.bsn) return;
  const a = record.address;
  const addition = a.houseNumberAddition || null;
  if (
    a.postcode === r.postcode &&
    a.houseNumber === r.house_number &&
    addition === (r.house_number_addition || null) &&
    a.street === r.street &&
    a.city === r.city
  ) {
    return;
  }
  // Another household (postcode, house number, addition), or only a street or city spelt otherwise.
  const moved = keys.household !== r.household_key;
  r.postcode = a.postcode;
  r.house_number = a.houseNumber;
  r.house_number_addition = addition;
  r.street = a.street;
  r.city = a.city;
  r.detailsChanged = true;
  if (!moved) return;
  r.moved = true;
  r.household_key = keys.household;
  if (r.address_key) {
    const list = byAddress.get(r.address_key);
    const at = list ? list.indexOf(r) : -1;
    if (list && at >= 0) list.splice(at, 1);
  }
  r.address_key = keys.address;
  const list = byAddress.get(keys.address);
  if (!list) byAddress.set(keys.address, [r]);
  else if (!list.includes(r)) list.push(r);
}

/**
 * Matches rows to residents, in row order, as if they arrived one by one:
 * - with a BSN: the resident stored under that BSN; else the resident of the same birth date + address +
 *   surname stored without a BSN, who then gets this BSN (recorded, and their match key becomes the BSN
 *   key); else a new resident;
 * - without a BSN: the one resident of the same birth date + address + surname, with or without BSN;
 *   when there are several (two residents with a BSN share them: twins of one name), the one stored
 *   without BSN under that key, or a new one.
 * Each row's details then reach its resident (`applyDetails`): a resident who moved is found at the new
 * address by the rows after.
 */
function matchResidents(
  rows: readonly IntakeRow[],
  fresh: readonly number[],
  keys: { bsn: Array<string | null>; address: string[]; household: string[] },
  found: readonly MatchedResident[],
): Array<MatchedResident | undefined> {
  const byMatchKey = new Map<string, MatchedResident>();
  const byAddress = new Map<string, MatchedResident[]>();
  const index = (r: MatchedResident) => {
    byMatchKey.set(r.match_key, r);
    if (r.address_key) {
      const list = byAddress.get(r.address_key);
      if (!list) byAddress.set(r.address_key, [r]);
      else if (!list.includes(r)) list.push(r);
    }
  };
  for (const f of found) index(f);
  const create = (i: number, matchKey: string, hasBsn: boolean): MatchedResident => {
    const { resident: p, address: a } = rows[i]!.record;
    const r: MatchedResident = {
      id: uuidv7(),
      case_key: uuidv7(),
      match_key: matchKey,
      address_key: keys.address[i]!,
      has_bsn: hasBsn,
      objected: false,
      moved_away: false,
      deceased: false,
      known_to_debt_help: false,
      phone: p.phone || null,
      email: p.email || null,
      postcode: a.postcode,
      house_number: a.houseNumber,
      house_number_addition: a.houseNumberAddition || null,
      street: a.street,
      city: a.city,
      details_reported_on: null,
      created: true,
      source: i,
      learntBsn: null,
      history: [],
      detailsOn: rows[i]!.record.signalDate,
      household_key: keys.household[i]!,
      detailsChanged: false,
      moved: false,
    };
    index(r);
    return r;
  };
  const residentOf: Array<MatchedResident | undefined> = new Array(rows.length);
  for (const i of fresh) {
    const bsnKey = keys.bsn[i];
    const addressKey = keys.address[i]!;
    let r: MatchedResident | undefined;
    if (bsnKey) {
      r = byMatchKey.get(bsnKey);
      if (!r) {
        const known = byMatchKey.get(addressKey);
        if (known && !known.has_bsn) {
          byMatchKey.delete(addressKey);
          known.match_key = bsnKey;
          known.has_bsn = true;
          known.learntBsn = rows[i]!.record.resident.bsn;
          index(known);
          r = known;
        }
      }
      r ??= create(i, bsnKey, true);
    } else {
      const candidates = byAddress.get(addressKey) ?? [];
      const sameKey = byMatchKey.get(addressKey);
      if (candidates.length === 1 && (!sameKey || sameKey === candidates[0])) r = candidates[0];
      else if (candidates.length === 0 && sameKey) r = sameKey;
      else r = sameKey ?? create(i, addressKey, false);
    }
    residentOf[i] = r;
    if (r && r.source !== i) {
      applyDetails(r, rows[i]!.record, { address: addressKey, household: keys.household[i]! }, byAddress);
    }
  }
  return residentOf;
}

/**
 * Stores many signals of one partner set-based, in `trx`: a fixed handful of statements per call however
 * many rows (duplicates, residents found, objections, residents created and updated, earlier signals,
 * signals, reclassified signals), each taking its rows as one array per column (`unnest`), so a monthly
 * batch commits at thousands of rows per second and no statement comes near PostgreSQL's parameter limit.
 * A known partner reference (earlier, or earlier in these rows) is a duplicate and creates nothing.
 * Residents are matched by keyed identities (see `matchResidents`; one row per match key, enforced by a
 * unique index) and flagged when the objection register holds any of their keys. Each signal is screened
 * (DDAS status) and classified against the resident's earlier signals, and waits in the outbox for the
 * dispatcher.
 */
export async function storeSignals(
  trx: Transaction<Database>,
  options: StoreSignalsOptions,
  rows: readonly IntakeRow[],
): Promise<RowOutcome[]> {
  if (rows.length === 0) return [];
  const now = options.now ?? new Date();
  const municipality = options.municipality;
  const outcomes: Array<RowOutcome | undefined> = new Array(rows.length);

  // Duplicates: references stored before, then repeats within these rows (the first one counts).
  const refs = rows.map((r) => r.record.partnerReference);
  type Earlier = {
    id: string;
    case_key: string;
    partner_reference: string;
    status: string;
    classification: SignalClassification;
  };
  const earlierByRefs = async (references: string[]) =>
    (
      await sql<Earlier>`
        select s.id, s.case_key, s.partner_reference, s.status, s.classification from signals s
        where s.partner_id = ${options.partnerId}::uuid and s.partner_reference = any(${textArray(references)}::text[])`.execute(
        trx,
      )
    ).rows;
  const duplicateOf = (row: number, e: Earlier): RowOutcome => ({
    row,
    signalId: e.id,
    caseKey: e.case_key,
    duplicate: true,
    status: e.status,
    classification: e.classification,
    newResident: false,
  });
  const known = new Map((await earlierByRefs(refs)).map((s) => [s.partner_reference, s]));
  const firstIndexOf = new Map<string, number>();
  const fresh: number[] = [];
  const keys = {
    bsn: new Array<string | null>(rows.length),
    address: new Array<string>(rows.length),
    household: new Array<string>(rows.length),
  };
  for (let i = 0; i < rows.length; i += 1) {
    const r = rows[i]!;
    const ref = r.record.partnerReference;
    const before = known.get(ref);
    if (before) {
      outcomes[i] = duplicateOf(r.row, before);
    } else if (!firstIndexOf.has(ref)) {
      firstIndexOf.set(ref, i);
      fresh.push(i);
      const k = r.keys ?? keysOf(options.secret, r.record);
      keys.bsn[i] = k.bsn;
      keys.address[i] = k.address;
      keys.household[i] = k.household;
    }
  }

  if (fresh.length > 0) {
    // One delivery's chunk at a time per municipality, until it commits. Matching decides from what is
    // committed: two partners' deliveries side by side, one with the resident's BSN and one without, would
    // each create the resident (under different keys, which no unique index relates) and start two cases.
    // The Node side of concurrent deliveries (reading, validating, hashing) still runs side by side.
    await lockIntake(trx, municipality);
    // (A repeat that a concurrent delivery of the same partner stores meanwhile is caught on insert.)

    // Residents stored under any key of these rows (by match key, or with a BSN by address key), and which
    // of their keys and the rows' keys the objection register holds: one statement.
    const addressKeys = [...new Set(fresh.map((i) => keys.address[i]!))];
    const bsnKeys = [...new Set(fresh.map((i) => keys.bsn[i] ?? null).filter((k) => k !== null))];
    // Residents with a BSN are looked up by address only for the rows without one.
    const withoutBsn = [...new Set(fresh.filter((i) => !keys.bsn[i]).map((i) => keys.address[i]!))];
    const allKeys = textArray([...addressKeys, ...bsnKeys]);
    type Looked = FoundRow & { register_key: string | null };
    // One index probe per key, whatever the statistics say: each lookup is a lateral subquery that the
    // planner cannot fold into a join (`offset 0`). With `= any(keys)` over the table it planned by the
    // last ANALYZE, and while a first delivery doubles the tables (autovacuum analyzes a minute later, or
    // never on a server with it off) it chose to scan every resident for every chunk: seconds per chunk.
    const { rows: looked } = await sql<Looked>`
      with found as materialized (
        select f.* from unnest(${allKeys}::text[]) as k(key) cross join lateral (
          select ${RESIDENT_COLUMNS} from residents r
          where r.municipality = ${municipality} and r.match_key = k.key offset 0) f
        union all
        select f.* from unnest(${textArray(withoutBsn)}::text[]) as k(key) cross join lateral (
          select ${RESIDENT_COLUMNS} from residents r
          where r.municipality = ${municipality} and r.bsn is not null and r.address_key = k.key offset 0) f
      )
      select f.*, null::text as register_key from found f
      union all (
        select ${NO_RESIDENT}, o.match_key from unnest(${allKeys}::text[]) as k(key)
        join objections o on o.municipality = ${municipality} and o.match_key = k.key
        union
        select ${NO_RESIDENT}, o.match_key from found f
        join objections o on o.municipality = ${municipality} and o.match_key = f.match_key
      )`.execute(trx);
    const found: MatchedResident[] = [];
    const onRegister = new Set<string>();
    const foundIds = new Set<string>();
    for (const l of looked) {
      if (l.register_key !== null) onRegister.add(l.register_key);
      else if (!foundIds.has(l.id)) {
        // A resident with a BSN may come back by both keys.
        foundIds.add(l.id);
        found.push(foundResident(l));
      }
    }
    // Their earlier signals (by case key: a resident's signals carry it), for the repeat rule and the
    // classification, and first for matching: the latest one dates their details (see `applyDetails`).
    if (found.length > 0) await earlierSignals(trx, found);
    const residentOf = matchResidents(rows, fresh, keys, found);

    const toFlag = new Set<MatchedResident>();
    if (onRegister.size > 0) {
      for (const i of fresh) {
        const r = residentOf[i]!;
        const bsnKey = keys.bsn[i];
        if (
          !r.objected &&
          (onRegister.has(keys.address[i]!) ||
            (bsnKey && onRegister.has(bsnKey)) ||
            onRegister.has(r.match_key))
        ) {
          r.objected = true;
          if (!r.created) toFlag.add(r);
        }
      }
    }

    // The residents of these rows, each once; the statements below run one after another (a statement still
    // pending when the transaction rolls back could run after the ROLLBACK, on its own).
    const matched = [...new Set(fresh.map((i) => residentOf[i]!))];
    const created = matched.filter((r) => r.created);
    const changed = matched.filter((r) => !r.created && (r.learntBsn || r.detailsChanged));
    // A resident another writer stored first under the same match key (see insertResidents) is an existing
    // one after all (their details stay as that writer stored them).
    const lost =
      created.length > 0 ? await insertResidents(trx, municipality, options.partnerId, created, rows) : [];
    if (changed.length > 0) await updateResidents(trx, changed, options.partnerId);
    if (toFlag.size > 0) {
      await sql`update residents set objected = true
        where id = any(${uuidArray([...toFlag].map((r) => r.id))}::uuid[])`.execute(trx);
    }
    if (lost.length > 0) await earlierSignals(trx, lost);

    const at = now.getTime();
    const classifications: SignalClassification[] = new Array(rows.length);
    const signalIds: string[] = new Array(rows.length);
    const statuses: string[] = new Array(rows.length);
    const s = {
      id: [] as string[],
      ref: [] as string[],
      residentId: [] as string[],
      caseKey: [] as string[],
      signalDate: [] as string[],
      arrearsSince: [] as string[],
      /** In cents: exact, and sent as int8. */
      amount: [] as number[],
      crisis: [] as boolean[],
      warmHandover: [] as boolean[],
      status: [] as string[],
      household: [] as string[],
      classification: [] as string[],
    };
    for (const i of fresh) {
      const record = rows[i]!.record;
      const resident = residentOf[i]!;
      let status = 'Nog niet opgepakt';
      if (options.screen) {
        status = options.screen({
          record,
          partnerId: options.partnerId,
          partnerType: options.partnerType,
          resident: {
            objected: resident.objected,
            movedAway: resident.moved_away,
            deceased: resident.deceased,
            knownToDebtHelp: resident.known_to_debt_help,
          },
          earlier: resident.history,
          at,
        });
      }
      // As known on arrival: consecutive when this partner reported the resident in an earlier month, else
      // multiple when another partner reported them in this month. An earlier signal is not rewritten when
      // a later one makes it multiple: readers derive that (`classificationsNow`).
      const month = record.signalDate.slice(0, 7);
      let classification: SignalClassification = 'single';
      for (const e of resident.history) {
        if (e.partnerId === options.partnerId) {
          if (e.month < month) classification = 'consecutive';
        } else if (e.month === month && classification === 'single') classification = 'multiple';
      }
      classifications[i] = classification;
      signalIds[i] = uuidv7();
      resident.history.push({
        partnerId: options.partnerId,
        arrearsSince: record.arrearsSince,
        amount: record.amount,
        receivedAt: at,
        month,
      });
      s.id.push(signalIds[i]!);
      s.ref.push(record.partnerReference);
      s.residentId.push(resident.id);
      s.caseKey.push(resident.case_key);
      s.signalDate.push(record.signalDate);
      s.arrearsSince.push(record.arrearsSince);
      s.amount.push(Math.round(record.amount * 100));
      s.crisis.push(record.crisis);
      s.warmHandover.push(record.warmHandover);
      s.status.push(status);
      s.household.push(keys.household[i]!);
      s.classification.push(classification);
      statuses[i] = status;
    }
    // Every id is chosen here, so nothing needs to come back: the count of rows inserted tells whether a
    // concurrent delivery stored some of these references first (rare; then they are looked up).
    const result = await sql`
      insert into signals (id, municipality, partner_id, partner_type, batch_id, partner_reference, resident_id,
        case_key, signal_date, arrears_since, amount, crisis, warm_handover, status, household_key,
        classification)
      select t.id, ${municipality}, ${options.partnerId}::uuid, ${options.partnerType}, ${options.batchId}::uuid,
        t.partner_reference, t.resident_id, t.case_key, t.signal_date, t.arrears_since, t.cents / 100.0,
        t.crisis, t.warm_handover, t.status, t.household_key, t.classification::signal_classification
      from unnest(
        ${uuidArray(s.id)}::uuid[], ${textArray(s.ref)}::text[], ${uuidArray(s.residentId)}::uuid[],
        ${textArray(s.caseKey)}::text[], ${dateArray(s.signalDate)}::date[], ${dateArray(s.arrearsSince)}::date[],
        ${int8Array(s.amount)}::int8[], ${boolArray(s.crisis)}::boolean[], ${boolArray(s.warmHandover)}::boolean[],
        ${textArray(s.status)}::text[], ${textArray(s.household)}::text[], ${textArray(s.classification)}::text[]
      ) as t(id, partner_reference, resident_id, case_key, signal_date, arrears_since, cents, crisis,
             warm_handover, status, household_key, classification)
      on conflict (partner_id, partner_reference) do nothing`.execute(trx);
    await storeReports(
      trx,
      options.partnerId,
      fresh.map((i) => ({ resident: residentOf[i]!, record: rows[i]!.record })),
    );
    let stored: Set<string> | null = null;
    if (Number(result.numAffectedRows ?? 0) !== s.id.length) {
      const { rows: ours } = await sql<{ id: string }>`
        select id from signals where id = any(${uuidArray(s.id)}::uuid[])`.execute(trx);
      stored = new Set(ours.map((x) => x.id));
    }
    const raced: string[] = [];
    for (const i of fresh) {
      const id = signalIds[i]!;
      if (stored && !stored.has(id)) {
        raced.push(rows[i]!.record.partnerReference);
        continue;
      }
      const resident = residentOf[i]!;
      outcomes[i] = {
        row: rows[i]!.row,
        signalId: id,
        caseKey: resident.case_key,
        duplicate: false,
        status: statuses[i]!,
        classification: classifications[i]!,
        newResident: resident.created && resident.source === i,
      };
    }
    if (raced.length > 0) {
      // A concurrent delivery stored these references first: they are duplicates here.
      for (const x of await earlierByRefs(raced)) known.set(x.partner_reference, x);
      for (const i of fresh) {
        const x = known.get(rows[i]!.record.partnerReference);
        if (!outcomes[i] && x) outcomes[i] = duplicateOf(rows[i]!.row, x);
      }
    }
  }

  // Repeats within these rows point at the row stored first.
  const result: RowOutcome[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    const r = rows[i]!;
    let outcome = outcomes[i];
    if (!outcome) {
      const firstIndex = firstIndexOf.get(r.record.partnerReference) ?? -1;
      const first = outcomes[firstIndex];
      if (first && firstIndex !== i) outcome = { ...first, row: r.row, duplicate: true, newResident: false };
    }
    if (!outcome) throw new Error(`row ${r.row} was not stored`);
    result[i] = outcome;
  }
  return result;
}

/** Adds each resident's stored signals to its `history` (by case key: a resident's signals carry it). */
async function earlierSignals(
  trx: Transaction<Database>,
  residents: readonly MatchedResident[],
): Promise<void> {
  type Past = {
    case_key: string;
    partner_id: string;
    arrears_since: string;
    signal_date: string;
    amount: string;
    at: number;
  };
  const { rows: earlier } = await sql<Past>`
    select s.case_key, s.partner_id, s.arrears_since, s.signal_date, s.amount,
      (extract(epoch from s.received_at) * 1000)::float8 as at
    from signals s where s.case_key = any(${textArray(residents.map((r) => r.case_key))}::text[])`.execute(
    trx,
  );
  const byCaseKey = new Map(residents.map((r) => [r.case_key, r]));
  for (const e of earlier) {
    const r = byCaseKey.get(e.case_key);
    if (!r) continue;
    r.history.push({
      partnerId: e.partner_id,
      arrearsSince: e.arrears_since,
      amount: Number(e.amount),
      receivedAt: e.at,
      month: e.signal_date.slice(0, 7),
    });
    if (r.detailsOn === null || e.signal_date > r.detailsOn) r.detailsOn = e.signal_date;
  }
}

/**
 * The details of residents as they stand in memory (`applyDetails`), one binary array per column, in
 * the order of `DETAIL_NAMES`: the insert of new residents and the update of changed ones send them alike.
 */
/**
 * Keeps what this partner reported of each resident (their newest signal date per resident), beside the
 * resident's chosen details: one statement for the rows of a chunk.
 */
async function storeReports(
  trx: Transaction<Database>,
  partnerId: string,
  reported: ReadonlyArray<{ resident: MatchedResident; record: SignalRecord }>,
): Promise<void> {
  const newest = new Map<string, SignalRecord>();
  for (const { resident, record } of reported) {
    const known = newest.get(resident.id);
    if (!known || record.signalDate >= known.signalDate) newest.set(resident.id, record);
  }
  if (newest.size === 0) return;
  const records = [...newest.values()];
  await sql`
    insert into resident_reports (resident_id, partner_id, signal_date, phone, email, postcode, house_number,
      house_number_addition, street, city)
    select t.resident_id, ${partnerId}::uuid, t.signal_date, t.phone, t.email, t.postcode, t.house_number,
      t.house_number_addition, t.street, t.city
    from unnest(
      ${uuidArray([...newest.keys()])}::uuid[], ${dateArray(records.map((r) => r.signalDate))}::date[],
      ${textArray(records.map((r) => r.resident.phone || null))}::text[],
      ${textArray(records.map((r) => r.resident.email || null))}::text[],
      ${textArray(records.map((r) => r.address.postcode))}::text[],
      ${int4Array(records.map((r) => r.address.houseNumber))}::int[],
      ${textArray(records.map((r) => r.address.houseNumberAddition || null))}::text[],
      ${textArray(records.map((r) => r.address.street))}::text[], ${textArray(records.map((r) => r.address.city))}::text[]
    ) as t(resident_id, signal_date, phone, email, postcode, house_number, house_number_addition, street, city)
    on conflict (resident_id, partner_id) do update set signal_date = excluded.signal_date, phone = excluded.phone,
      email = excluded.email, postcode = excluded.postcode, house_number = excluded.house_number,
      house_number_addition = excluded.house_number_addition, street = excluded.street, city = excluded.city
    where excluded.signal_date >= resident_reports.signal_date`.execute(trx);
}

function detailArrays(rs: readonly MatchedResident[]) {
  // `detailsOn` is set for every matched resident: each has a row, which dates (or leaves) the details.
  return sql`${textArray(rs.map((r) => r.phone))}::text[], ${textArray(rs.map((r) => r.email))}::text[],
    ${textArray(rs.map((r) => r.postcode))}::text[], ${int4Array(rs.map((r) => r.house_number))}::int[],
    ${textArray(rs.map((r) => r.house_number_addition))}::text[], ${textArray(rs.map((r) => r.street))}::text[],
    ${textArray(rs.map((r) => r.city))}::text[], ${dateArray(rs.map((r) => r.detailsOn!))}::date[]`;
}
const DETAIL_NAMES = sql`phone, email, postcode, house_number, house_number_addition, street, city,
  details_reported_on`;

/**
 * Writes what these rows changed of residents found in the database, one statement for all of them: a BSN
 * learnt (recorded, and it becomes their match key), details (`applyDetails`) with the date they are known
 * from, and after a move the household and address keys. Only residents with a change come here.
 */
async function updateResidents(
  trx: Transaction<Database>,
  changed: readonly MatchedResident[],
  partnerId: string,
): Promise<void> {
  const u = {
    id: [] as string[],
    bsn: [] as Array<string | null>,
    matchKey: [] as Array<string | null>,
    household: [] as Array<string | null>,
    addressKey: [] as Array<string | null>,
  };
  for (const r of changed) {
    u.id.push(r.id);
    u.bsn.push(r.learntBsn);
    u.matchKey.push(r.learntBsn ? r.match_key : null);
    u.household.push(r.moved ? r.household_key : null);
    u.addressKey.push(r.moved ? r.address_key : null);
  }
  // The details go as they stand in memory, read in this transaction under the intake lock (intake is
  // their only writer); a learnt BSN only for a row still without one.
  await sql`
    update residents r set bsn = coalesce(r.bsn, k.bsn),
      match_key = case when r.bsn is null and k.bsn is not null then k.match_key else r.match_key end,
      phone = k.phone, email = k.email, postcode = k.postcode, house_number = k.house_number,
      house_number_addition = k.house_number_addition, street = k.street, city = k.city,
      household_key = coalesce(k.household_key, r.household_key), address_key = coalesce(k.address_key, r.address_key),
      details_reported_on = k.details_reported_on,
      details_partner_id = case when k.details_changed then ${partnerId}::uuid else r.details_partner_id end
    from unnest(
      ${uuidArray(u.id)}::uuid[], ${textArray(u.bsn)}::text[], ${textArray(u.matchKey)}::text[],
      ${textArray(u.household)}::text[], ${textArray(u.addressKey)}::text[],
      ${boolArray(changed.map((r) => r.detailsChanged))}::boolean[], ${detailArrays(changed)}
    ) as k(id, bsn, match_key, household_key, address_key, details_changed, ${DETAIL_NAMES})
    where r.id = k.id`.execute(trx);
}

/**
 * Inserts the residents these rows created, with the ids and case keys chosen for them. One that a
 * concurrent intake stored first under the same match key (unique index) is read back instead, so every
 * signal points at the stored row.
 */
async function insertResidents(
  trx: Transaction<Database>,
  municipality: string,
  partnerId: string,
  created: MatchedResident[],
  rows: readonly IntakeRow[],
): Promise<MatchedResident[]> {
  const c = {
    id: [] as string[],
    caseKey: [] as string[],
    matchKey: [] as string[],
    addressKey: [] as Array<string | null>,
    household: [] as string[],
    bsn: [] as Array<string | null>,
    firstNames: [] as string[],
    surnamePrefix: [] as Array<string | null>,
    surname: [] as string[],
    birthDate: [] as string[],
    sex: [] as Array<string | null>,
    objected: [] as boolean[],
  };
  for (const r of created) {
    // Identity from the row that created the resident; details as these rows left them (`applyDetails`).
    const p = rows[r.source]!.record.resident;
    c.id.push(r.id);
    c.caseKey.push(r.case_key);
    c.matchKey.push(r.match_key);
    c.addressKey.push(r.address_key);
    c.household.push(r.household_key);
    c.bsn.push(p.bsn ?? r.learntBsn);
    c.firstNames.push(p.firstNames);
    c.surnamePrefix.push(p.surnamePrefix);
    c.surname.push(p.surname);
    c.birthDate.push(p.birthDate);
    c.sex.push(p.sex);
    c.objected.push(r.objected);
  }
  const result = await sql`
    insert into residents (id, municipality, case_key, match_key, address_key, household_key, bsn, first_names,
      surname_prefix, surname, birth_date, sex, objected, details_partner_id, ${DETAIL_NAMES})
    select t.id, ${municipality}, t.case_key, t.match_key, t.address_key, t.household_key, t.bsn, t.first_names,
      t.surname_prefix, t.surname, t.birth_date, t.sex, t.objected, ${partnerId}::uuid, t.phone, t.email, t.postcode,
      t.house_number, t.house_number_addition, t.street, t.city, t.details_reported_on
    from unnest(
      ${uuidArray(c.id)}::uuid[], ${textArray(c.caseKey)}::text[], ${textArray(c.matchKey)}::text[],
      ${textArray(c.addressKey)}::text[], ${textArray(c.household)}::text[], ${textArray(c.bsn)}::text[],
      ${textArray(c.firstNames)}::text[], ${textArray(c.surnamePrefix)}::text[], ${textArray(c.surname)}::text[],
      ${dateArray(c.birthDate)}::date[], ${textArray(c.sex)}::text[], ${boolArray(c.objected)}::boolean[],
      ${detailArrays(created)}
    ) as t(id, case_key, match_key, address_key, household_key, bsn, first_names, surname_prefix, surname,
           birth_date, sex, objected, ${DETAIL_NAMES})
    on conflict (municipality, match_key) do nothing`.execute(trx);
  if (Number(result.numAffectedRows ?? 0) === created.length) return [];
  const { rows: stored } = await sql<{ id: string }>`
    select id from residents where id = any(${uuidArray(c.id)}::uuid[])`.execute(trx);
  const inserted = new Set(stored.map((r) => r.id));
  const lost = created.filter((r) => !inserted.has(r.id));
  const { rows: theirs } = await sql<FoundRow>`
    select ${RESIDENT_COLUMNS} from residents r
    where r.municipality = ${municipality} and r.match_key = any(${textArray(lost.map((r) => r.match_key))}::text[])`.execute(
    trx,
  );
  const byKey = new Map(theirs.map((r) => [r.match_key, r]));
  for (const r of lost) {
    const winner = byKey.get(r.match_key);
    if (!winner) throw new Error('resident vanished during intake');
    const objected = r.objected;
    // From here on it is an existing resident (the caller reads its earlier signals).
    Object.assign(r, winner, { created: false });
    if (objected && !r.objected) {
      await sql`update residents set objected = true where id = ${r.id}::uuid`.execute(trx);
      r.objected = true;
    }
  }
  return lost;
}
