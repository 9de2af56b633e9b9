/**
 * Reads for the DDAS delivery to CBS. Only anonymous columns are read, plus the one identification the
 * schema demands for a vroegsignaal's client (BSN, or else postcode + house number) while the resident row
 * still exists.
 *
 * Which case (vroegsignaalzaak) a signal belongs to: the first case of the same resident (case key) that
 * was still open when the signal arrived. A signal that opens a case arrives just before the case row is
 * made, a signal that joins one arrives while it is open, and a new case starts only after the previous one
 * has closed, so this rule needs no extra column.
 */
import { sql } from 'kysely';
import type { Db } from '../database.js';

/**
 * What to deliver: signals by signaaldatum and cases active in [start, end] (dates, Europe/Amsterdam).
 * A signal whose resident data has been deleted cannot carry the client identification the schema requires
 * (and may no longer be shared), so it is left out; its case is still delivered, referring to it by id.
 */
export interface DeliveryQuery {
  start: string;
  end: string;
  /** Restrict to these gemeentecodes; unset: every municipality in the database. */
  municipalities?: string[];
}

/** One vroegsignaal row, ready to map onto the schema. */
export interface DdasSignalRow {
  id: string;
  municipality: string;
  partner_type: string;
  signal_date: string;
  arrears_since: string;
  amount: string;
  crisis: boolean;
  warm_handover: boolean;
  status: string;
  bsn: string | null;
  postcode: string;
  house_number: number;
}

/** One vroegsignaalzaak row as of the end of the period. */
export interface DdasCaseRow {
  id: string;
  municipality: string;
  /** Null when the case was still open at the end of the period. */
  result: string | null;
  started_on: string;
  closed_on: string | null;
  picked_up_on: string | null;
  signal_ids: string[];
  attempts: Array<{ soort: string; bereikt: boolean; datum: string; dagdeel: string }>;
}

const TZ = 'Europe/Amsterdam';

function municipalityFilter(column: string, municipalities: string[] | undefined) {
  return municipalities ? sql`${sql.ref(column)} = any(${municipalities}::text[])` : sql`true`;
}

/** Joins a signal (alias `alias`) to the cases it may belong to; the earliest by started_at is its case. */
function signalCaseJoin(alias: string) {
  const ref = (column: string) => sql.ref(`${alias}.${column}`);
  return sql`c.municipality = ${ref('municipality')} and c.case_key = ${ref('case_key')}
    and (c.closed_at is null or c.closed_at >= ${ref('received_at')})`;
}

/** The order of vroegsignalen in a delivery (byte order: fast, and the same on every server). */
const DELIVERY_ORDER = sql`s.municipality collate "C", s.case_key collate "C", s.received_at, s.id`;

/** Number of vroegsignalen in the delivery. */
export async function countDeliverySignals(db: Db, q: DeliveryQuery): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from signals s
    where ${municipalityFilter('s.municipality', q.municipalities)}
      and s.signal_date between ${q.start}::date and ${q.end}::date
      and s.resident_id is not null`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * The vroegsignalen at positions [offset, offset + limit) of the delivery, ordered by municipality and
 * resident so that one resident's signals (and so its case) stay together.
 */
export async function deliverySignals(
  db: Db,
  q: DeliveryQuery,
  offset: number,
  limit: number,
): Promise<DdasSignalRow[]> {
  const { rows } = await sql<DdasSignalRow>`
    select s.id, s.municipality, s.partner_type, s.signal_date, s.arrears_since, s.amount, s.crisis,
      s.warm_handover, s.status, r.bsn, r.postcode, r.house_number
    from signals s
    join residents r on r.id = s.resident_id
    where ${municipalityFilter('s.municipality', q.municipalities)}
      and s.signal_date between ${q.start}::date and ${q.end}::date
      and s.resident_id is not null
    order by ${DELIVERY_ORDER}
    offset ${offset} limit ${limit}`.execute(db);
  return rows;
}

/**
 * The vroegsignaalzaken of one page: each case goes with the page that holds its first signal in the
 * delivery; cases active in the period without a signal in it go with the last page. State as of the
 * period's end: result and end date only when closed by then, contact attempts up to then.
 * Set-based throughout (hash joins, no per-row subqueries), so a 50,000-signal page stays fast.
 */
export async function deliveryCases(
  db: Db,
  q: DeliveryQuery,
  page: { offset: number; limit: number; last: boolean },
): Promise<DdasCaseRow[]> {
  const localDate = (column: string) => sql`(${sql.ref(column)} at time zone ${TZ})::date`;
  const { rows } = await sql<DdasCaseRow>`
    with delivered as (
      select s.id, s.municipality, s.case_key, s.received_at,
        row_number() over (order by ${DELIVERY_ORDER}) - 1 as pos
      from signals s
      where ${municipalityFilter('s.municipality', q.municipalities)}
        and s.signal_date between ${q.start}::date and ${q.end}::date
        and s.resident_id is not null
    ),
    scope_keys as (
      select municipality, case_key from delivered
      union
      select c.municipality, c.case_key from cases c
      where ${municipalityFilter('c.municipality', q.municipalities)}
        and ${localDate('c.started_at')} <= ${q.end}::date
        and (c.closed_at is null or ${localDate('c.closed_at')} >= ${q.start}::date)
    ),
    signal_case as (
      select distinct on (s.id) s.id, s.status, s.received_at, c.id as case_id
      from signals s join cases c on ${signalCaseJoin('s')}
      where (s.municipality, s.case_key) in (select municipality, case_key from scope_keys)
      order by s.id, c.started_at
    ),
    first_pos as (
      select sc.case_id, min(d.pos) as pos from delivered d join signal_case sc on sc.id = d.id
      group by sc.case_id
    ),
    page_cases as (
      select c.id, c.municipality, c.case_key, c.started_at, c.closed_at, c.result
      from cases c left join first_pos f on f.case_id = c.id
      where ${municipalityFilter('c.municipality', q.municipalities)}
        and (
          (f.pos >= ${page.offset} and f.pos < ${page.offset + page.limit})
          or (f.pos is null and ${page.last}
            and ${localDate('c.started_at')} <= ${q.end}::date
            and (c.closed_at is null or ${localDate('c.closed_at')} >= ${q.start}::date))
        )
    ),
    signal_agg as (
      select cs.case_id, array_agg(cs.id::text order by cs.received_at, cs.id) as signal_ids,
        bool_or(cs.status = 'Opgepakt') as picked_up
      from signal_case cs join page_cases pc on pc.id = cs.case_id
      group by cs.case_id
    ),
    attempt_agg as (
      select a.case_id, min(${localDate('a.attempted_at')}) as first_on,
        json_agg(json_build_object(
          'soort', a.soort, 'bereikt', a.bereikt,
          'datum', to_char(${localDate('a.attempted_at')}, 'YYYY-MM-DD'), 'dagdeel', a.dagdeel
        ) order by a.attempted_at, a.id) as attempts
      from contact_attempts a join page_cases pc on pc.id = a.case_id
      where ${localDate('a.attempted_at')} <= ${q.end}::date
      group by a.case_id
    )
    select pc.id, pc.municipality,
      case when ${localDate('pc.closed_at')} <= ${q.end}::date then pc.result end as result,
      to_char(${localDate('pc.started_at')}, 'YYYY-MM-DD') as started_on,
      case when ${localDate('pc.closed_at')} <= ${q.end}::date
        then to_char(${localDate('pc.closed_at')}, 'YYYY-MM-DD') end as closed_on,
      to_char(coalesce(
        aa.first_on,
        case when sa.picked_up and ${localDate('pc.started_at')} <= ${q.end}::date
          then ${localDate('pc.started_at')} end
      ), 'YYYY-MM-DD') as picked_up_on,
      coalesce(sa.signal_ids, '{}') as signal_ids,
      coalesce(aa.attempts, '[]') as attempts
    from page_cases pc
    left join signal_agg sa on sa.case_id = pc.id
    left join attempt_agg aa on aa.case_id = pc.id
    order by pc.municipality collate "C", pc.case_key collate "C", pc.started_at`.execute(db);
  return rows;
}

/** The municipalities with anything to deliver in the period (one levering each). */
export async function deliveryMunicipalities(db: Db, q: DeliveryQuery): Promise<string[]> {
  const { rows } = await sql<{ municipality: string }>`
    select municipality from signals s
    where ${municipalityFilter('s.municipality', q.municipalities)}
      and s.signal_date between ${q.start}::date and ${q.end}::date
      and s.resident_id is not null
    union
    select municipality from cases c
    where ${municipalityFilter('c.municipality', q.municipalities)}
      and (c.started_at at time zone ${TZ})::date <= ${q.end}::date
      and (c.closed_at is null or (c.closed_at at time zone ${TZ})::date >= ${q.start}::date)
    order by 1`.execute(db);
  return rows.map((r) => r.municipality);
}
