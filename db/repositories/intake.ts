/**
 * Storing incoming signals: idempotent per partner reference, matched to one resident (and so one case),
 * linked to a household by address. Matching keys are keyed hashes, so the case key and indexes never
 * reveal a BSN or birth date.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
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

/** A resident as screening sees it, keyed by its match key. */
interface MatchedResident {
  id: string;
  case_key: string;
  match_key: string;
  objected: boolean;
  moved_away: boolean;
  deceased: boolean;
  known_to_debt_help: boolean;
  /** The objection register holds this identity (the flag may still be false on an older row). */
  registered: boolean;
  /** Created by this call: it has no earlier signals. */
  created: boolean;
}

/**
 * Stores many signals of one partner set-based, in `trx`: four statements per call however many rows
 * (duplicates, residents, earlier signals, signals), each taking its rows as one array per column
 * (`unnest`), so a monthly batch commits at tens of thousands of rows per second and no statement comes
 * near PostgreSQL's parameter limit. Same semantics as `storeSignal`: a known partner reference (earlier,
 * or earlier in these rows) is a duplicate and creates nothing; residents are matched by their keyed
 * identity (one row per identity, enforced by a unique index) and flagged when the objection register
 * holds them; the signal waits in the outbox for the dispatcher.
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
  type Earlier = { id: string; case_key: string; partner_reference: string; status: string };
  const { rows: earlierSignals } = await sql<Earlier>`
    select s.id, s.case_key, s.partner_reference, s.status
    from unnest(${refs}::text[]) as k(partner_reference)
    join signals s on s.partner_id = ${options.partnerId}::uuid and s.partner_reference = k.partner_reference`.execute(
    trx,
  );
  const known = new Map(earlierSignals.map((s) => [s.partner_reference, s]));
  const firstIndexOf = new Map<string, number>();
  const fresh: number[] = [];
  const matchKeys: string[] = new Array(rows.length);
  const householdKeys: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    const r = rows[i]!;
    const ref = r.record.partnerReference;
    const before = known.get(ref);
    if (before) {
      outcomes[i] = {
        row: r.row,
        signalId: before.id,
        caseKey: before.case_key,
        duplicate: true,
        status: before.status,
      };
    } else if (!firstIndexOf.has(ref)) {
      firstIndexOf.set(ref, i);
      fresh.push(i);
      matchKeys[i] = matchKeyOf(options.secret, r.record);
      householdKeys[i] = householdKeyOf(options.secret, r.record);
    }
  }

  if (fresh.length > 0) {
    // Residents: create the missing ones (flagged when the objection register holds them) and read the
    // existing ones, in one statement. The insert's rows are not visible to the select beside it, so
    // the two never overlap; a concurrent intake that wins a race is read afterwards.
    const firstOfKey = new Map<string, number>();
    for (const i of fresh) if (!firstOfKey.has(matchKeys[i]!)) firstOfKey.set(matchKeys[i]!, i);
    const keys = [...firstOfKey.keys()];
    const columns = {
      caseKey: [] as string[],
      household: [] as string[],
      bsn: [] as Array<string | null>,
      firstNames: [] as string[],
      surnamePrefix: [] as Array<string | null>,
      surname: [] as string[],
      birthDate: [] as string[],
      sex: [] as Array<string | null>,
      phone: [] as Array<string | null>,
      email: [] as Array<string | null>,
      postcode: [] as string[],
      houseNumber: [] as number[],
      addition: [] as Array<string | null>,
      street: [] as string[],
      city: [] as string[],
    };
    for (const i of firstOfKey.values()) {
      const { resident: p, address: a } = rows[i]!.record;
      columns.caseKey.push(randomUUID());
      columns.household.push(householdKeys[i]!);
      columns.bsn.push(p.bsn);
      columns.firstNames.push(p.firstNames);
      columns.surnamePrefix.push(p.surnamePrefix);
      columns.surname.push(p.surname);
      columns.birthDate.push(p.birthDate);
      columns.sex.push(p.sex);
      columns.phone.push(p.phone);
      columns.email.push(p.email);
      columns.postcode.push(a.postcode);
      columns.houseNumber.push(a.houseNumber);
      columns.addition.push(a.houseNumberAddition);
      columns.street.push(a.street);
      columns.city.push(a.city);
    }
    type Found = Omit<MatchedResident, 'created'> & { created: boolean };
    const c = columns;
    const { rows: found } = await sql<Found>`
      with input as (
        select * from unnest(
          ${keys}::text[], ${c.caseKey}::text[], ${c.household}::text[], ${c.bsn}::text[],
          ${c.firstNames}::text[], ${c.surnamePrefix}::text[], ${c.surname}::text[], ${c.birthDate}::date[],
          ${c.sex}::text[], ${c.phone}::text[], ${c.email}::text[], ${c.postcode}::text[],
          ${c.houseNumber}::int[], ${c.addition}::text[], ${c.street}::text[], ${c.city}::text[]
        ) as t(match_key, case_key, household_key, bsn, first_names, surname_prefix, surname, birth_date,
               sex, phone, email, postcode, house_number, house_number_addition, street, city)
      ),
      registered as (
        select o.match_key from input i
        join objections o on o.municipality = ${municipality} and o.match_key = i.match_key
      ),
      created as (
        insert into residents (municipality, case_key, match_key, household_key, bsn, first_names,
          surname_prefix, surname, birth_date, sex, phone, email, postcode, house_number,
          house_number_addition, street, city, objected)
        select ${municipality}, i.case_key, i.match_key, i.household_key, i.bsn, i.first_names,
          i.surname_prefix, i.surname, i.birth_date, i.sex, i.phone, i.email, i.postcode, i.house_number,
          i.house_number_addition, i.street, i.city, i.match_key in (select match_key from registered)
        from input i
        on conflict (municipality, match_key) do nothing
        returning id, case_key, match_key, objected, moved_away, deceased, known_to_debt_help
      )
      select c.*, c.objected as registered, true as created from created c
      union all
      select r.id, r.case_key, r.match_key, r.objected, r.moved_away, r.deceased, r.known_to_debt_help,
        r.match_key in (select match_key from registered) as registered, false as created
      from input i
      join residents r on r.municipality = ${municipality} and r.match_key = i.match_key`.execute(trx);
    const residentOf = new Map<string, MatchedResident>(found.map((r) => [r.match_key, r]));
    const missing = keys.filter((k) => !residentOf.has(k));
    if (missing.length > 0) {
      // A concurrent intake created these residents after this statement's snapshot: read theirs.
      const { rows: theirs } = await sql<Found>`
        select r.id, r.case_key, r.match_key, r.objected, r.moved_away, r.deceased, r.known_to_debt_help,
          exists (select 1 from objections o where o.municipality = r.municipality
                  and o.match_key = r.match_key) as registered, false as created
        from unnest(${missing}::text[]) as k(match_key)
        join residents r on r.municipality = ${municipality} and r.match_key = k.match_key`.execute(trx);
      for (const r of theirs) residentOf.set(r.match_key, r);
    }
    // Residents on the objection register are flagged, whoever reported them.
    const unflagged = [...residentOf.values()].filter((r) => r.registered && !r.objected);
    if (unflagged.length > 0) {
      await sql`update residents r set objected = true
        from unnest(${unflagged.map((r) => r.id)}::uuid[]) as k(id) where r.id = k.id`.execute(trx);
      for (const r of unflagged) r.objected = true;
    }

    // Earlier signals of these residents, for the repeat rule (a resident created just now has none).
    const history = new Map<string, ScreeningInput['earlier']>();
    if (options.screen) {
      const existing = [...residentOf.values()].filter((r) => !r.created).map((r) => r.id);
      if (existing.length > 0) {
        type Past = {
          resident_id: string;
          partner_id: string;
          arrears_since: string;
          amount: string;
          at: number;
        };
        const { rows: earlier } = await sql<Past>`
          select resident_id, partner_id, arrears_since, amount,
            (extract(epoch from received_at) * 1000)::float8 as at
          from unnest(${existing}::uuid[]) as k(resident_id)
          join signals s using (resident_id)`.execute(trx);
        for (const e of earlier) {
          const list = history.get(e.resident_id);
          const item = {
            partnerId: e.partner_id,
            arrearsSince: e.arrears_since,
            amount: Number(e.amount),
            receivedAt: e.at,
          };
          if (list) list.push(item);
          else history.set(e.resident_id, [item]);
        }
      }
    }

    const at = now.getTime();
    const s = {
      ref: [] as string[],
      residentId: [] as string[],
      caseKey: [] as string[],
      signalDate: [] as string[],
      arrearsSince: [] as string[],
      amount: [] as number[],
      crisis: [] as boolean[],
      warmHandover: [] as boolean[],
      status: [] as string[],
      household: [] as string[],
    };
    for (const i of fresh) {
      const record = rows[i]!.record;
      const resident = residentOf.get(matchKeys[i]!);
      if (!resident) throw new Error('resident vanished during intake');
      let status = 'Nog niet opgepakt';
      if (options.screen) {
        let earlier = history.get(resident.id);
        if (!earlier) {
          earlier = [];
          history.set(resident.id, earlier);
        }
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
          earlier,
          at,
        });
        earlier.push({
          partnerId: options.partnerId,
          arrearsSince: record.arrearsSince,
          amount: record.amount,
          receivedAt: at,
        });
      }
      s.ref.push(record.partnerReference);
      s.residentId.push(resident.id);
      s.caseKey.push(resident.case_key);
      s.signalDate.push(record.signalDate);
      s.arrearsSince.push(record.arrearsSince);
      s.amount.push(record.amount);
      s.crisis.push(record.crisis);
      s.warmHandover.push(record.warmHandover);
      s.status.push(status);
      s.household.push(householdKeys[i]!);
    }
    type Inserted = { id: string; partner_reference: string; case_key: string; status: string };
    const { rows: inserted } = await sql<Inserted>`
      insert into signals (municipality, partner_id, partner_type, batch_id, partner_reference, resident_id,
        case_key, signal_date, arrears_since, amount, crisis, warm_handover, status, household_key)
      select ${municipality}, ${options.partnerId}::uuid, ${options.partnerType}, ${options.batchId}::uuid, t.*
      from unnest(
        ${s.ref}::text[], ${s.residentId}::uuid[], ${s.caseKey}::text[], ${s.signalDate}::date[],
        ${s.arrearsSince}::date[], ${s.amount}::numeric[], ${s.crisis}::boolean[],
        ${s.warmHandover}::boolean[], ${s.status}::text[], ${s.household}::text[]
      ) as t(partner_reference, resident_id, case_key, signal_date, arrears_since, amount, crisis,
             warm_handover, status, household_key)
      on conflict (partner_id, partner_reference) do nothing
      returning id, partner_reference, case_key, status`.execute(trx);
    const insertedByRef = new Map(inserted.map((x) => [x.partner_reference, x]));
    const raced: string[] = [];
    for (const i of fresh) {
      const ref = rows[i]!.record.partnerReference;
      const x = insertedByRef.get(ref);
      if (x) {
        outcomes[i] = {
          row: rows[i]!.row,
          signalId: x.id,
          caseKey: x.case_key,
          duplicate: false,
          status: x.status,
        };
      } else {
        raced.push(ref);
      }
    }
    if (raced.length > 0) {
      // A concurrent delivery stored these references first: they are duplicates here.
      const { rows: theirs } = await sql<Earlier>`
        select s.id, s.case_key, s.partner_reference, s.status
        from unnest(${raced}::text[]) as k(partner_reference)
        join signals s on s.partner_id = ${options.partnerId}::uuid and s.partner_reference = k.partner_reference`.execute(
        trx,
      );
      for (const x of theirs) known.set(x.partner_reference, x);
      for (const i of fresh) {
        const x = known.get(rows[i]!.record.partnerReference);
        if (!outcomes[i] && x) {
          outcomes[i] = {
            row: rows[i]!.row,
            signalId: x.id,
            caseKey: x.case_key,
            duplicate: true,
            status: x.status,
          };
        }
      }
    }
  }

  // Repeats within these rows point at the row stored first.
  const result: RowOutcome[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    const r = rows[i]!;
    let outcome = outcomes[i];
    if (!outcome) {
      const first = outcomes[firstIndexOf.get(r.record.partnerReference) ?? -1];
      if (first && firstIndexOf.get(r.record.partnerReference) !== i) {
        outcome = {
          row: r.row,
          signalId: first.signalId,
          caseKey: first.caseKey,
          duplicate: true,
          status: first.status,
        };
      }
    }
    if (!outcome) throw new Error(`row ${r.row} was not stored`);
    result[i] = outcome;
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
