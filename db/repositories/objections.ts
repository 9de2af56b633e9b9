/**
 * The objection register as use cases see it: residents who objected to creditors sharing their data
 * (in the partner's reminder, or at a visit). The register holds keyed identity hashes only, so it keeps
 * working after the resident's personal data is deleted and never becomes a copy of it.
 *
 * A resident can be matched by BSN or by birth date + address + surname (see `matchKeyOf`); a signal may
 * carry either. So an identity that has both is registered under both keys, and any later signal finds it.
 * Every write goes through `putOnRegister` here: by identity (partners, paper lists) or by a case's
 * stored resident (caseworkers).
 *
 * A resident may have a case running when the objection comes in. So the same transaction that writes the
 * register entry queues an objection delivery (`objection_deliveries`, an outbox) for every stored resident
 * it flags; the dispatcher beside the workers signals their case workflows, whose running round then ends
 * (see `worker/objection-dispatcher.ts`). The register entry never waits for Temporal.
 */
import { sql } from 'kysely';
import type { Db } from '../database.js';
import { lockIntake } from '../intake-lock.js';
import type { ObjectionsTable } from '../tables/intake.table.js';
import type { Resident } from '../tables/residents.table.js';
import { matchKeyOf, type SignalRecord } from './intake.js';

/** Who a resident is, as far as matching needs it: a BSN, or birth date + address + surname, or both. */
export interface ObjectionIdentity {
  bsn: string | null;
  /** Birth date, surname and address; null when only the BSN is known. */
  person: {
    surnamePrefix: string | null;
    surname: string;
    birthDate: string;
    postcode: string;
    houseNumber: number;
    houseNumberAddition: string | null;
  } | null;
}

export type ObjectionSource = 'partner' | 'visit';

export interface RegisterOptions {
  municipality: string;
  secret: string;
}

/**
 * The identity as the signal records matching reads: one per key (BSN; birth date + address). Fields
 * matching ignores are empty, since the register stores nothing but the keys.
 */
function recordsOf(identity: ObjectionIdentity): SignalRecord[] {
  const p = identity.person;
  const base = (bsn: string | null): SignalRecord => ({
    partnerReference: '',
    signalDate: '',
    arrearsSince: '',
    amount: 0,
    crisis: false,
    warmHandover: false,
    resident: {
      bsn,
      firstNames: '',
      surnamePrefix: p?.surnamePrefix ?? null,
      surname: p?.surname ?? '',
      birthDate: p?.birthDate ?? '',
      sex: null,
      phone: null,
      email: null,
    },
    address: {
      postcode: p?.postcode ?? '',
      houseNumber: p?.houseNumber ?? 0,
      houseNumberAddition: p?.houseNumberAddition ?? null,
      street: '',
      city: '',
    },
  });
  const records: SignalRecord[] = [];
  if (identity.bsn) records.push(base(identity.bsn));
  if (p) records.push(base(null));
  return records;
}

/** The register keys of an identity (one or two). */
export function objectionKeys(secret: string, identity: ObjectionIdentity): string[] {
  return recordsOf(identity).map((r) => matchKeyOf(secret, r));
}

/**
 * Puts register keys on the register (idempotent: a key already there keeps its first source and date),
 * flags the stored residents with those keys, so their next signals start no outreach, and queues an
 * objection delivery for each of them, so a round already running ends too. One transaction: the delivery
 * exists exactly when the entry does. Returns how many residents' cases are to be told.
 */
async function putOnRegister(
  db: Db,
  options: { municipality: string; source: ObjectionSource; deliverAfterMs?: number | undefined },
  keys: readonly string[],
): Promise<number> {
  if (keys.length === 0) return 0;
  return db.transaction().execute(async (trx) => {
    // After any intake chunk of the municipality has committed its residents, before the next reads the register.
    await lockIntake(trx, options.municipality);
    await trx
      .insertInto('objections')
      .values(
        keys.map((match_key) => ({ municipality: options.municipality, match_key, source: options.source })),
      )
      .onConflict((oc) => oc.columns(['municipality', 'match_key']).doNothing())
      .execute();
    const flagged = await trx
      .updateTable('residents')
      .set({ objected: true })
      .where('municipality', '=', options.municipality)
      .where((eb) => eb.or([eb('match_key', 'in', [...keys]), eb('address_key', 'in', [...keys])]))
      .returning('case_key')
      .execute();
    if (flagged.length === 0) return 0;
    // Every flagged resident, not only those with a case row yet: a case may be starting this very moment.
    await trx
      .insertInto('objection_deliveries')
      .values(
        flagged.map((r) => ({
          municipality: options.municipality,
          case_key: r.case_key,
          deliver_after: sql<Date>`now() + ${`${options.deliverAfterMs ?? 0} milliseconds`}::interval`,
        })),
      )
      .execute();
    return flagged.length;
  });
}

/**
 * Puts a resident, given by identity (partner report, paper list), on the register under each of its keys;
 * returns how many stored residents (each with their case) it flagged: 0 when none is known.
 */
export async function addObjection(
  db: Db,
  options: RegisterOptions & { source: ObjectionSource },
  identity: ObjectionIdentity,
): Promise<number> {
  return putOnRegister(db, options, objectionKeys(options.secret, identity));
}

/** The identity of a stored resident: both keys when the row has a BSN, since signals may come without. */
export function identityOfResident(
  r: Pick<
    Resident,
    | 'bsn'
    | 'surname_prefix'
    | 'surname'
    | 'birth_date'
    | 'postcode'
    | 'house_number'
    | 'house_number_addition'
  >,
): ObjectionIdentity {
  return {
    bsn: r.bsn,
    person: {
      surnamePrefix: r.surname_prefix,
      surname: r.surname,
      birthDate: r.birth_date,
      postcode: r.postcode,
      houseNumber: r.house_number,
      houseNumberAddition: r.house_number_addition,
    },
  };
}

/**
 * Registers the objection of the resident of a case, recorded by a caseworker (at a visit, a call or a
 * contact), with source `visit`: the resident's stored keys (match key, and address key, so a BSN resident
 * is also recognised in signals without a BSN). With the matching secret also the keys computed from
 * their identity (for rows stored before address keys existed). False when the personal data is gone.
 * `deliverAfterMs` holds the objection delivery back, so the caseworker's own update reaches the case first.
 */
export async function addObjectionForCase(
  db: Db,
  options: { municipality: string; secret?: string | undefined; deliverAfterMs?: number },
  c: { case_key: string },
): Promise<boolean> {
  const resident = await db
    .selectFrom('residents')
    .selectAll()
    .where('municipality', '=', options.municipality)
    .where('case_key', '=', c.case_key)
    .executeTakeFirst();
  if (!resident) return false;
  const keys = new Set([resident.match_key]);
  if (resident.address_key) keys.add(resident.address_key);
  if (options.secret) {
    for (const key of objectionKeys(options.secret, identityOfResident(resident))) keys.add(key);
  }
  await putOnRegister(
    db,
    { municipality: options.municipality, source: 'visit', deliverAfterMs: options.deliverAfterMs },
    [...keys],
  );
  return true;
}

/**
 * Takes a resident off the register (the resident withdrew the objection) and clears the flag on their
 * stored row; returns how many register keys were removed (0 when they were not on it).
 */
export async function withdrawObjection(
  db: Db,
  options: RegisterOptions,
  identity: ObjectionIdentity,
): Promise<number> {
  const keys = objectionKeys(options.secret, identity);
  return db.transaction().execute(async (trx) => {
    await lockIntake(trx, options.municipality);
    const removed = await trx
      .deleteFrom('objections')
      .where('municipality', '=', options.municipality)
      .where('match_key', 'in', keys)
      .executeTakeFirst();
    // Cleared only where no other key of the resident stays on the register (e.g. one from a visit).
    await trx
      .updateTable('residents as r')
      .set({ objected: false })
      .where('r.municipality', '=', options.municipality)
      .where((eb) => eb.or([eb('r.match_key', 'in', keys), eb('r.address_key', 'in', keys)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('objections as o')
              .select('o.match_key')
              .whereRef('o.municipality', '=', 'r.municipality')
              .where((eb) =>
                eb.or([
                  eb('o.match_key', '=', eb.ref('r.match_key')),
                  eb('o.match_key', '=', eb.ref('r.address_key')),
                ]),
              ),
          ),
        ),
      )
      .execute();
    return Number(removed.numDeletedRows);
  });
}

/** Register entries (keys) of a municipality per source; no identities. */
export async function countObjections(
  db: Db,
  municipality: string,
): Promise<{ total: number; bySource: Record<string, number> }> {
  const rows = await db
    .selectFrom('objections')
    .select(['source', sql<string>`count(*)`.as('n')])
    .where('municipality', '=', municipality)
    .groupBy('source')
    .execute();
  const bySource = Object.fromEntries(rows.map((r) => [r.source, Number(r.n)]));
  return { total: rows.reduce((sum, r) => sum + Number(r.n), 0), bySource };
}

/** What the case page shows about the register: whether the resident is on it, since when and from whom. */
export type ObjectionEntry = Pick<ObjectionsTable, 'source'> & { recorded_at: Date };

/**
 * The register entry of a stored resident (the earliest of their keys), or null. A resident flagged as
 * objected whose keys the register no longer holds is not on it.
 */
export async function findObjectionOfResident(
  db: Db,
  options: RegisterOptions,
  resident: Parameters<typeof identityOfResident>[0] & { match_key: string; address_key: string | null },
): Promise<ObjectionEntry | null> {
  const keys = [resident.match_key, ...objectionKeys(options.secret, identityOfResident(resident))];
  if (resident.address_key) keys.push(resident.address_key);
  const row = await db
    .selectFrom('objections')
    .select(['source', 'recorded_at'])
    .where('municipality', '=', options.municipality)
    .where('match_key', 'in', [...new Set(keys)])
    .orderBy('recorded_at')
    .executeTakeFirst();
  return row ?? null;
}
