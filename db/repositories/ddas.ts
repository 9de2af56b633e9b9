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

/** The local (Amsterdam) date of an instant, memoised per UTC hour (Amsterdam's offsets are whole hours). */
const localDates = new Map<number, string>();
const amsterdamFormat = new Intl.DateTimeFormat('en-CA', { timeZone: TZ });
function localDateOf(epochMs: number): string {
  const hour = Math.floor(epochMs / 3_600_000);
  let date = localDates.get(hour);
  if (date === undefined) {
    // en-CA formats as YYYY-MM-DD.
    date = amsterdamFormat.format(new Date(hour * 3_600_000));
    if (localDates.size > 100_000) localDates.clear();
    localDates.set(hour, date);
  }
  return date;
}

/** The first instant of a local (Amsterdam) date, in SQL: `t >= dayStart(d)` iff t's local date >= d. */
const dayStart = (date: string) => sql`(${date}::date::timestamp at time zone ${TZ})`;
/** The first instant after a local date: `t < dayEnd(d)` iff t's local date <= d. */
const dayEnd = (date: string) => sql`((${date}::date + 1)::timestamp at time zone ${TZ})`;

interface CasePageRow {
  /** Position in the delivery's case order (municipality, case key, start); bigint as a string. */
  ord: string;
  id: string;
  municipality: string;
  result: string | null;
  /** Epoch seconds (float8: no time-zone work on the server). */
  started: number;
  closed: number | null;
  picked_up: boolean | null;
  /** Comma-separated (uuids): splitting is much cheaper than parsing a Postgres array. */
  signal_ids: string | null;
  /** [soort, bereikt, epoch seconds, dagdeel] per attempt up to the period's end, in order. */
  attempts: Array<[string, boolean, number, string]> | null;
}

/**
 * The vroegsignaalzaken of one page: each case goes with the page that holds its first signal in the
 * delivery; cases active in the period without a signal in it go with the last page. State as of the
 * period's end: result and end date only when closed by then, contact attempts up to then.
 * A signal's case is `signals.case_id` (stored by the case workflow); for a signal without it, the rule at
 * the top of this file. Set-based throughout (hash joins, no per-row subqueries), and with no time-zone
 * conversion per row in SQL: instants are compared with the period's bounds and turned into local dates
 * here, so a 50,000-signal page stays fast.
 */
export async function deliveryCases(
  db: Db,
  q: DeliveryQuery,
  page: { offset: number; limit: number; last: boolean },
): Promise<DdasCaseRow[]> {
  const { rows } = await sql<CasePageRow>`
    with delivered as (
      select s.id, s.case_id, row_number() over (order by ${DELIVERY_ORDER}) - 1 as pos
      from signals s
      where ${municipalityFilter('s.municipality', q.municipalities)}
        and s.signal_date between ${q.start}::date and ${q.end}::date
        and s.resident_id is not null
    ),
    derived as (
      select distinct on (s.id) s.id, s.status, s.received_at, c.id as case_id
      from signals s join cases c on ${signalCaseJoin('s')}
      where s.case_id is null and ${municipalityFilter('s.municipality', q.municipalities)}
      order by s.id, c.started_at
    ),
    first_pos as (
      select coalesce(d.case_id, x.case_id) as case_id, min(d.pos) as pos
      from delivered d left join derived x on d.case_id is null and x.id = d.id
      group by 1
    ),
    page_cases as (
      select c.id, c.municipality, c.started_at, c.closed_at, c.result,
        row_number() over (order by c.municipality collate "C", c.case_key collate "C", c.started_at) as ord
      from cases c left join first_pos f on f.case_id = c.id
      where ${municipalityFilter('c.municipality', q.municipalities)}
        and (
          (f.pos >= ${page.offset} and f.pos < ${page.offset + page.limit})
          or (f.pos is null and ${page.last}
            and c.started_at < ${dayEnd(q.end)}
            and (c.closed_at is null or c.closed_at >= ${dayStart(q.start)}))
        )
    ),
    case_signals as (
      select s.case_id, s.id, s.status, s.received_at from signals s
      where s.case_id in (select id from page_cases)
      union all
      select x.case_id, x.id, x.status, x.received_at from derived x
      where x.case_id in (select id from page_cases)
    ),
    signal_agg as (
      select cs.case_id, string_agg(cs.id::text, ',' order by cs.received_at, cs.id) as signal_ids,
        bool_or(cs.status = 'Opgepakt') as picked_up
      from case_signals cs
      group by cs.case_id
    ),
    attempt_agg as (
      select a.case_id, json_agg(json_build_array(
          a.soort, a.bereikt, date_part('epoch', a.attempted_at), a.dagdeel
        ) order by a.attempted_at, a.id) as attempts
      from contact_attempts a join page_cases pc on pc.id = a.case_id
      where a.attempted_at < ${dayEnd(q.end)}
      group by a.case_id
    )
    select pc.ord, pc.id, pc.municipality, pc.result, date_part('epoch', pc.started_at) as started,
      date_part('epoch', pc.closed_at) as closed, sa.picked_up, sa.signal_ids, aa.attempts
    from page_cases pc
    left join signal_agg sa on sa.case_id = pc.id
    left join attempt_agg aa on aa.case_id = pc.id`.execute(db);

  // Ordered here by the narrow sort number, rather than sorting the wide rows (arrays, JSON) in SQL.
  rows.sort((a, b) => Number(a.ord) - Number(b.ord));
  return rows.map((row) => {
    const startedOn = localDateOf(row.started * 1000);
    const closedOn = row.closed === null ? null : localDateOf(row.closed * 1000);
    const closedByEnd = closedOn !== null && closedOn <= q.end;
    const attempts = (row.attempts ?? []).map(([soort, bereikt, at, dagdeel]) => ({
      soort,
      bereikt,
      datum: localDateOf(at * 1000),
      dagdeel,
    }));
    const firstOn = attempts.reduce<string | null>(
      (min, a) => (min === null || a.datum < min ? a.datum : min),
      null,
    );
    return {
      id: row.id,
      municipality: row.municipality,
      result: closedByEnd ? row.result : null,
      started_on: startedOn,
      closed_on: closedByEnd ? closedOn : null,
      picked_up_on: firstOn ?? (row.picked_up && startedOn <= q.end ? startedOn : null),
      signal_ids: row.signal_ids ? row.signal_ids.split(',') : [],
      attempts,
    };
  });
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
