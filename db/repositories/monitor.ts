/**
 * Monitor figures for managers, from anonymous columns only (signals: partner type, status, dates, amount,
 * case key, household key; cases: result, stage, dates; contact attempts: soort, bereikt, date, dagdeel), so
 * they stay the same after residents' personal data is deleted.
 *
 * Definitions: a signal counts in the period of its signaaldatum; a vroegsignaalzaak (one round of outreach
 * of a case, `case_rounds`) in the period it started (Europe/Amsterdam); a contact attempt in the period it
 * was made. A zaak is picked up when it has a contact attempt or reached an outreach stage; not picked up
 * when screening rejected it.
 */
import { sql } from 'kysely';
import type { Db } from '../database.js';

export interface MonitorQuery {
  municipality: string;
  /** Inclusive dates, YYYY-MM-DD. */
  from: string;
  to: string;
  /** Only signals of this EnumSignaalpartner (cases: that reported it). */
  partnerType?: string | undefined;
}

const TZ = 'Europe/Amsterdam';

/** Results that mean: the resident accepted help (advice, quick fix, follow-up help or referral). */
export const HELP_ACCEPTED_RESULTS = [
  '(Budget)advies en/of quick fix',
  'Vervolghulp en/of verwijzing',
  'Vervolghulp en/of verwijzing financieel',
  'Vervolghulp en/of verwijzing niet financieel',
];

/** Results screening gives a signal it does not pick up (a case with contact never ends with these alone). */
const REJECTION_RESULTS = [
  'Inwoner al bekend bij schuldhulpverlening',
  'Inwoner is overleden',
  'Niet opgepakt: andere reden',
  'Niet opgepakt: herhaalde melding',
  'Niet opgepakt: onterecht signaal',
  'Persoon is geen inwoner (meer) in de gemeente',
];

/** Stages before or without outreach. */
const NOT_OUTREACH_STAGES = ['waitingForSignal', 'screening', 'notPickedUp'];

function signalFilter(q: MonitorQuery) {
  // collate "C" as in the signals_delivery index (equality is the same in every deterministic collation).
  return sql`s.municipality collate "C" = ${q.municipality}
    and s.signal_date between ${q.from}::date and ${q.to}::date
    ${q.partnerType ? sql`and s.partner_type = ${q.partnerType}` : sql``}`;
}

/**
 * Rounds (vroegsignaalzaken, alias `r`, with their case `c`) that started in the period; with a partner
 * type, the rounds with a signal of that type (a round without linked signals: its case's types).
 */
function roundFilter(q: MonitorQuery) {
  return sql`r.municipality = ${q.municipality}
    and r.started_at >= ${dayStart(q.from)} and r.started_at < ${dayEnd(q.to)}
    ${
      q.partnerType
        ? sql`and (exists (select 1 from signals s where s.case_id = r.case_id
              and coalesce(s.case_round, 1) = r.round and s.partner_type = ${q.partnerType})
            or (not exists (select 1 from signals s where s.case_id = r.case_id)
              and ${q.partnerType} = any(c.partner_types)))`
        : sql``
    }`;
}

/** The first instant of a local (Amsterdam) date. */
const dayStart = (date: string) => sql`(${date}::date::timestamp at time zone ${TZ})`;
/** The first instant after a local date. */
const dayEnd = (date: string) => sql`((${date}::date + 1)::timestamp at time zone ${TZ})`;

export interface SignalTotals {
  received: number;
  uniqueResidents: number;
  uniqueHouseholds: number;
  totalAmount: number;
}

/** Signals, distinct residents (case keys) and households (household keys) of the period. */
export async function signalTotals(db: Db, q: MonitorQuery): Promise<SignalTotals> {
  const { rows } = await sql<{
    received: string;
    residents: string;
    households: string;
    amount: string | null;
  }>`
    select count(*) as received, count(distinct s.case_key) as residents,
      count(distinct coalesce(s.household_key, 'case:' || s.case_key)) as households,
      sum(s.amount) as amount
    from signals s where ${signalFilter(q)}`.execute(db);
  const row = rows[0];
  return {
    received: Number(row?.received ?? 0),
    uniqueResidents: Number(row?.residents ?? 0),
    uniqueHouseholds: Number(row?.households ?? 0),
    totalAmount: Math.round(Number(row?.amount ?? 0)),
  };
}

/** Signals per DDAS signal status. */
export async function signalsByStatus(db: Db, q: MonitorQuery): Promise<Map<string, number>> {
  const { rows } = await sql<{ status: string; n: string }>`
    select s.status, count(*) as n from signals s where ${signalFilter(q)} group by s.status`.execute(db);
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
}

/** Signals per partner type and status. */
export async function signalsByPartnerType(
  db: Db,
  q: MonitorQuery,
): Promise<Array<{ partnerType: string; status: string; count: number }>> {
  const { rows } = await sql<{ partner_type: string; status: string; n: string }>`
    select s.partner_type, s.status, count(*) as n from signals s where ${signalFilter(q)}
    group by s.partner_type, s.status`.execute(db);
  return rows.map((r) => ({ partnerType: r.partner_type, status: r.status, count: Number(r.n) }));
}

/** Signals, residents and picked-up signals per calendar month of the period. */
export async function signalsPerMonth(
  db: Db,
  q: MonitorQuery,
): Promise<Array<{ month: string; signals: number; residents: number; pickedUp: number }>> {
  const { rows } = await sql<{ month: string; signals: string; residents: string; picked: string }>`
    select to_char(s.signal_date, 'YYYY-MM') as month, count(*) as signals,
      count(distinct s.case_key) as residents, count(*) filter (where s.status = 'Opgepakt') as picked
    from signals s where ${signalFilter(q)} group by 1 order by 1`.execute(db);
  return rows.map((r) => ({
    month: r.month,
    signals: Number(r.signals),
    residents: Number(r.residents),
    pickedUp: Number(r.picked),
  }));
}

export interface CaseTotals {
  started: number;
  pickedUp: number;
  reached: number;
  helpAccepted: number;
  /** Median days from the round's start (its first signal's arrival) to the first contact; null without any. */
  medianDaysToFirstContact: number | null;
}

/**
 * Vroegsignaalzaken (rounds of outreach) started in the period: picked up, reached, help accepted, and days
 * to first contact. A round is picked up when it has a contact attempt, a result other than a screening
 * rejection, or (the running round) an outreach stage; reached when one of its attempts reached the resident.
 */
export async function caseTotals(db: Db, q: MonitorQuery): Promise<CaseTotals> {
  const { rows } = await sql<{
    started: string;
    picked: string;
    reached: string;
    accepted: string;
    median: string | null;
  }>`
    with cohort as (
      select r.started_at, r.result, a.first_contact_at,
        (a.attempts > 0
          or (r.result is null and r.round = c.rounds and c.stage <> all(${NOT_OUTREACH_STAGES}::text[]))
          or (r.result is not null and r.result <> all(${REJECTION_RESULTS}::text[]))) as picked_up
      from case_rounds r
      join lateral (
        select c.stage, c.partner_types, (select max(x.round) from case_rounds x where x.case_id = c.id) as rounds
        from cases c where c.id = r.case_id
      ) c on true
      cross join lateral (
        select count(*) as attempts, min(a.attempted_at) filter (where a.bereikt) as first_contact_at
        from contact_attempts a where a.case_id = r.case_id and coalesce(a.round, 1) = r.round
      ) a
      where ${roundFilter(q)}
    )
    select count(*) as started,
      count(*) filter (where picked_up) as picked,
      count(*) filter (where picked_up and first_contact_at is not null) as reached,
      count(*) filter (where result = any(${HELP_ACCEPTED_RESULTS}::text[])) as accepted,
      percentile_cont(0.5) within group (order by extract(epoch from first_contact_at - started_at) / 86400)
        filter (where first_contact_at is not null) as median
    from cohort`.execute(db);
  const row = rows[0];
  return {
    started: Number(row?.started ?? 0),
    pickedUp: Number(row?.picked ?? 0),
    reached: Number(row?.reached ?? 0),
    helpAccepted: Number(row?.accepted ?? 0),
    medianDaysToFirstContact:
      row?.median === null || row?.median === undefined ? null : Math.round(Number(row.median) * 10) / 10,
  };
}

/** Vroegsignaalzaken (rounds) started in the period per end result (null: no result yet). */
export async function casesByResult(db: Db, q: MonitorQuery): Promise<Map<string | null, number>> {
  const { rows } = await sql<{ result: string | null; n: string }>`
    select r.result, count(*) as n from case_rounds r join cases c on c.id = r.case_id
    where ${roundFilter(q)} group by r.result`.execute(db);
  return new Map(rows.map((r) => [r.result, Number(r.n)]));
}

/** Contact attempts made in the period per kind, with how many reached the resident. */
export async function attemptsBySoort(
  db: Db,
  q: MonitorQuery,
): Promise<Array<{ soort: string; attempts: number; reached: number }>> {
  const { rows } = await sql<{ soort: string; attempts: string; reached: string }>`
    select a.soort, count(*) as attempts, count(*) filter (where a.bereikt) as reached
    from contact_attempts a join cases c on c.id = a.case_id
    where c.municipality = ${q.municipality}
      and (a.attempted_at at time zone ${TZ})::date between ${q.from}::date and ${q.to}::date
      ${q.partnerType ? sql`and ${q.partnerType} = any(c.partner_types)` : sql``}
    group by a.soort`.execute(db);
  return rows.map((r) => ({ soort: r.soort, attempts: Number(r.attempts), reached: Number(r.reached) }));
}
