/**
 * What the case page shows: the case read model, the resident and household (personal data, only for
 * the team that holds the case), the signals, and the timeline of tasks, contact attempts and letters.
 */
import type { Db } from '../database.js';
import { classificationsNow } from '../tables/signals.table.js';
import { findObjectionOfResident, type ObjectionEntry, type RegisterOptions } from './objections.js';
import { isUuid } from './tasks.js';

/** A case of one of `teams`; undefined when absent or held by another team. */
export async function findCaseForTeams(db: Db, id: string, teams: readonly string[]) {
  if (teams.length === 0 || !isUuid(id)) return undefined;
  return db
    .selectFrom('cases')
    .selectAll()
    .where('id', '=', id)
    .where('team', 'in', [...teams])
    .executeTakeFirst();
}

/** The resident of a case (its personal data), or undefined once deleted. */
export function residentOfCase(db: Db, caseKey: string) {
  return db.selectFrom('residents').selectAll().where('case_key', '=', caseKey).executeTakeFirst();
}

/**
 * Everything the case page shows besides the case row. With `register` (the matching secret) it also
 * tells whether the resident is on the objection register; without it `objection` is null.
 */
export async function caseDetails(
  db: Db,
  c: { id: string; case_key: string; municipality: string },
  register?: Pick<RegisterOptions, 'secret'>,
) {
  const resident = await residentOfCase(db, c.case_key);
  const household = resident
    ? await db
        .selectFrom('residents')
        .select(['first_names', 'surname_prefix', 'surname', 'birth_date'])
        .where('household_key', '=', resident.household_key)
        .where('municipality', '=', c.municipality)
        .where('id', '<>', resident.id)
        .orderBy('birth_date')
        .limit(20)
        .execute()
    : [];
  const [signals, tasks, attempts, letters] = await Promise.all([
    db
      .selectFrom('signals as s')
      .innerJoin('partners as p', 'p.id', 's.partner_id')
      .select([
        's.id',
        's.partner_id',
        'p.name as partnerName',
        's.partner_type',
        's.amount',
        's.arrears_since',
        's.signal_date',
        's.crisis',
        's.warm_handover',
        's.status',
        's.classification',
        's.received_at',
      ])
      .where('s.case_key', '=', c.case_key)
      .where('s.municipality', '=', c.municipality)
      .orderBy('s.received_at')
      .execute(),
    db.selectFrom('tasks').selectAll().where('case_id', '=', c.id).orderBy('created_at').execute(),
    db
      .selectFrom('contact_attempts')
      .selectAll()
      .where('case_id', '=', c.id)
      .orderBy('attempted_at')
      .execute(),
    db
      .selectFrom('outbound_messages')
      .select(['channel', 'template', 'status', 'created_at'])
      .where('case_id', '=', c.id)
      .orderBy('created_at')
      .execute(),
  ]);
  // What each partner last reported (contact details per partner), the current details' source first.
  const reports = resident
    ? await db
        .selectFrom('resident_reports as rr')
        .innerJoin('partners as p', 'p.id', 'rr.partner_id')
        .select([
          'rr.partner_id',
          'p.name as partnerName',
          'rr.signal_date',
          'rr.phone',
          'rr.email',
          'rr.postcode',
          'rr.house_number',
          'rr.house_number_addition',
          'rr.street',
          'rr.city',
        ])
        .where('rr.resident_id', '=', resident.id)
        .orderBy('rr.signal_date', 'desc')
        .execute()
    : [];
  const objection: ObjectionEntry | null =
    resident && register
      ? await findObjectionOfResident(db, { municipality: c.municipality, secret: register.secret }, resident)
      : null;
  return {
    resident,
    household,
    reports,
    signals: classificationsNow(signals),
    tasks,
    attempts,
    letters,
    objection,
  };
}
