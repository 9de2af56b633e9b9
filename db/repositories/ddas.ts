/**
 * Reads for the DDAS delivery to CBS. Only anonymous columns are read, plus the one identification the
 * schema demands for a vroegsignaal's client (BSN, or else postcode + house number) while the resident row
 * still exists.
 *
 * A vroegsignaalzaak is one round of outreach (`case_rounds`): from its start until it gets its result.
 * A signal belongs to the round of its case that took it up (`signals.case_id` + `case_round`, recorded by
 * the case workflow), a contact attempt to the round it was made in (`contact_attempts.round`).
 *
 * One page is one SQL statement that returns the page's JSON text per municipality, built by PostgreSQL
 * from the rows (`||` with explicit casts: some 20% cheaper than concat()): a 50,000-signal page is some
 * 30 MB of JSON, and parsing rows into objects in Node and serialising them again took most of the time.
 * Every string put into the text as it is is a uuid, an ISO date, a number or a value checked against its
 * DDAS enum (checked below to need no escaping); the postcode goes through `to_json`.
 */
import { sql } from 'kysely';
import {
  CONTACTSOORTEN,
  DAGDELEN,
  EINDRESULTATEN,
  SIGNAALPARTNERS,
  SIGNAALSTATUSSEN,
} from '../../workflows/ddas.js';
import type { Db } from '../database.js';

/**
 * What to deliver: signals by signaaldatum and rounds active in [start, end] (dates, Europe/Amsterdam).
 * A signal whose resident data has been deleted cannot carry the client identification the schema requires
 * (and may no longer be shared), so it is left out; its zaak is still delivered, referring to it by id.
 */
export interface DeliveryQuery {
  start: string;
  end: string;
  /** Restrict to these gemeentecodes; unset: every municipality in the database. */
  municipalities?: string[] | undefined;
}

/** Which page: positions [offset, offset + limit) of the delivery's signals; `last` takes the rest. */
export interface DeliveryPageRange {
  offset: number;
  limit: number;
  last: boolean;
}

/** The JSON text of one levering's arrays: comma-separated objects without the brackets; null when empty. */
export interface LeveringText {
  vroegsignalen: string | null;
  vroegsignaalzaken: string | null;
}

// The text below holds these enum values as they are, between quotes: each must need no JSON escaping.
for (const value of [
  ...SIGNAALSTATUSSEN,
  ...SIGNAALPARTNERS,
  ...EINDRESULTATEN,
  ...CONTACTSOORTEN,
  ...DAGDELEN,
]) {
  if (JSON.stringify(value) !== `"${value}"`) throw new Error(`DDAS enum value needs escaping: ${value}`);
}

const TZ = 'Europe/Amsterdam';

function municipalityFilter(column: string, municipalities: string[] | undefined) {
  // collate "C" as in the signals_delivery index (equality is the same in every deterministic collation).
  return municipalities ? sql`${sql.ref(column)} collate "C" = any(${municipalities}::text[])` : sql`true`;
}

/** The signals of the delivery (alias `s`): signaaldatum in the period, resident data still present. */
function deliveredFilter(alias: string, q: DeliveryQuery) {
  const ref = (column: string) => sql.ref(`${alias}.${column}`);
  return sql`${municipalityFilter(`${alias}.municipality`, q.municipalities)}
    and ${ref('signal_date')} between ${q.start}::date and ${q.end}::date
    and ${ref('resident_id')} is not null`;
}

/** The first instant of a local (Amsterdam) date, in SQL: `t >= dayStart(d)` iff t's local date >= d. */
const dayStart = (date: string) => sql`(${date}::date::timestamp at time zone ${TZ})`;
/** The first instant after a local date: `t < dayEnd(d)` iff t's local date <= d. */
const dayEnd = (date: string) => sql`((${date}::date + 1)::timestamp at time zone ${TZ})`;
/** The local (Amsterdam) date of an instant, as text (YYYY-MM-DD with datestyle ISO). */
const localDate = (column: ReturnType<typeof sql.ref>) => sql`(${column} at time zone ${TZ})::date::text`;

/**
 * The order of vroegsignalen in a delivery: byte order (fast, and the same on every server), the order of
 * the `signals_delivery` index.
 */
const DELIVERY_ORDER = sql`s.municipality collate "C", s.signal_date, s.id`;

/** Number of vroegsignalen in the delivery per municipality (only municipalities that have any). */
export async function countDeliverySignals(db: Db, q: DeliveryQuery): Promise<Map<string, number>> {
  const { rows } = await sql<{ municipality: string; n: string }>`
    select s.municipality, count(*) as n from signals s where ${deliveredFilter('s', q)}
    group by s.municipality`.execute(db);
  return new Map(rows.map((r) => [r.municipality, Number(r.n)]));
}

/**
 * One page of the delivery as JSON text, per municipality: every municipality with an active round in the
 * period, even when this page holds nothing of it (those with signals come from the count). Call it in a
 * transaction (it sets local settings), one snapshot with the count.
 *
 * Order: vroegsignalen by (municipality in byte order, signaaldatum, id), the order of the
 * `signals_delivery` index, so a page is a range of that order, computed once for signals and zaken.
 * Each zaak goes with the page that holds its first delivered signal; zaken active in the period without
 * a delivered signal go with the last page. A zaak
 * is reported as it stood at the period's end: result and end date only when it ended by then, contact
 * attempts made up to then; datumOpgepakt is its first contact attempt, else its start when a signal of
 * it was picked up.
 */
export async function deliveryPage(
  db: Db,
  q: DeliveryQuery,
  page: DeliveryPageRange,
): Promise<Map<string, LeveringText>> {
  const end = dayEnd(q.end);
  // Rounds that already had a delivered signal before this page belong to an earlier page.
  const notOnEarlierPage =
    page.offset > 0
      ? sql`and not exists (
          select 1 from signals e, (select municipality, signal_date, id from page order by n limit 1) f
          where e.case_id = p.case_id and coalesce(e.case_round, 1) = p.round and ${deliveredFilter('e', q)}
            and (e.municipality collate "C", e.signal_date, e.id) < (f.municipality collate "C", f.signal_date, f.id))`
      : sql``;
  const withoutSignals = page.last
    ? sql`union all
        select r.case_id, r.round from case_rounds r
        where ${municipalityFilter('r.municipality', q.municipalities)}
          and r.started_at < ${end} and (r.ended_at is null or r.ended_at >= ${dayStart(q.start)})
          and not exists (
            select 1 from signals e
            where e.case_id = r.case_id and coalesce(e.case_round, 1) = r.round and ${deliveredFilter('e', q)})`
    : sql``;
  const startedOn = localDate(sql.ref('z.started_at'));

  // Each string_agg below takes its input from a subquery sorted by the group key and then the wanted
  // order, which a (serial) aggregate keeps; this is cheaper than ORDER BY inside the aggregate, which sorts
  // every group on its own. So: no parallel plans here. And ISO dates in the text.
  await sql`set local max_parallel_workers_per_gather = 0`.execute(db);
  await sql`set local datestyle = 'ISO, YMD'`.execute(db);
  // The period's rows are recent and cached: costed as such, the page is a walk of signals_delivery in
  // order instead of a scan and a sort (measured: ~35% less for a 50,000-signal page).
  await sql`set local random_page_cost = 1.1`.execute(db);
  const { rows } = await sql<{ kind: 'm' | 's' | 'z'; municipality: string; json: string | null }>`
    with page as materialized (
      select s.id, s.municipality, s.signal_date, s.arrears_since, s.case_id, coalesce(s.case_round, 1) as round,
        s.resident_id, s.partner_type, s.amount, s.crisis, s.warm_handover, s.status,
        row_number() over (order by ${DELIVERY_ORDER}) as n
      from signals s
      where ${deliveredFilter('s', q)}
      order by ${DELIVERY_ORDER}
      offset ${page.offset} limit ${page.limit}
    ),
    page_rounds as materialized (
      select distinct p.case_id, p.round from page p
      where p.case_id is not null ${notOnEarlierPage}
      ${withoutSignals}
    ),
    round_signals as (
      select x.case_id, x.round, string_agg(x.id::text, '"},{"ID":"') as ids, bool_or(x.picked_up) as picked_up
      from (
        select s.case_id, coalesce(s.case_round, 1) as round, s.id, s.status = 'Opgepakt' as picked_up
        from signals s join page_rounds pr on pr.case_id = s.case_id and pr.round = coalesce(s.case_round, 1)
        order by 1, 2, s.received_at, s.id
      ) x
      group by x.case_id, x.round
    ),
    round_attempts as (
      select x.case_id, x.round, min(x.attempted_at) as first_at,
        string_agg('{'
          || case when x.soort = any(${CONTACTSOORTEN}::text[]) then '"soort":"' || x.soort || '",' else '' end
          || '"bereikt":' || case when x.bereikt then 'true' else 'false' end
          || ',"datum":"' || ${localDate(sql.ref('x.attempted_at'))} || '"'
          || case when x.dagdeel = any(${DAGDELEN}::text[]) then ',"dagdeel":"' || x.dagdeel || '"' else '' end
          || '}', ',') as pogingen
      from (
        select a.case_id, coalesce(a.round, 1) as round, a.attempted_at, a.soort, a.bereikt, a.dagdeel
        from contact_attempts a join page_rounds pr on pr.case_id = a.case_id and pr.round = coalesce(a.round, 1)
        where a.attempted_at < ${end}
        -- A card is recorded at the same moment as the visit it was left at: the visit (Huisbezoek) comes
        -- first, and the order stays the same from one delivery to the next.
        order by 1, 2, a.attempted_at, a.soort = 'Kaartje', a.soort, a.id
      ) x
      group by x.case_id, x.round
    ),
    zaken as (
      select r.municipality collate "C" as municipality, r.started_at, r.case_id, r.round, r.result, r.ended_at,
        ra.first_at, ra.pogingen, rs.ids, rs.picked_up
      from page_rounds pr
      join case_rounds r on r.case_id = pr.case_id and r.round = pr.round
      left join round_signals rs on rs.case_id = pr.case_id and rs.round = pr.round
      left join round_attempts ra on ra.case_id = pr.case_id and ra.round = pr.round
    )
    select 'm' as kind, r.municipality, null as json from case_rounds r
    where ${municipalityFilter('r.municipality', q.municipalities)}
      and r.started_at < ${end} and (r.ended_at is null or r.ended_at >= ${dayStart(q.start)})
    group by r.municipality
    union all
    select 's', x.municipality, string_agg('{"ID":"' || x.id::text
        || '","crisissignaal":' || case when x.crisis then 'true' else 'false' end
        || ',"warmeOverdracht":' || case when x.warm_handover then 'true' else 'false' end
        || ',"bedrag":' || round(x.amount)::text
        || ',"ontstaansdatum":"' || x.arrears_since::text || '","signaaldatum":"' || x.signal_date::text || '"'
        || case when x.status = any(${SIGNAALSTATUSSEN}::text[]) then ',"status":"' || x.status || '"' else '' end
        || ',"signaalpartner":{"type":"'
        || case when x.partner_type = any(${SIGNAALPARTNERS}::text[]) then x.partner_type else 'Overige' end
        || '"},"client":'
        || case when x.bsn ~ '^[0-9]{9}$' then '{"burgerservicenummer":"' || x.bsn || '"}'
          else '{"postcode":' || to_json(upper(regexp_replace(x.postcode, '[[:space:]]+', '', 'g')))::text
            || ',"huisnummer":"' || x.house_number::text || '"}' end
        || '}', ',')
    from (
      select p.municipality collate "C" as municipality, p.id, p.crisis, p.warm_handover, p.amount,
        p.arrears_since, p.signal_date, p.status, p.partner_type, r.bsn, r.postcode, r.house_number
      from page p join residents r on r.id = p.resident_id
      order by 1, p.n
    ) x
    group by x.municipality
    union all
    select 'z', z.municipality, string_agg('{'
        || case when z.ended_at < ${end} and z.result = any(${EINDRESULTATEN}::text[])
          then '"resultaat":"' || z.result || '",' else '' end
        || '"matchingsdatum":"' || ${startedOn} || '","startdatumMatchingperiode":"' || ${startedOn} || '"'
        || case when z.ended_at < ${end}
          then ',"einddatumMatchingperiode":"' || ${localDate(sql.ref('z.ended_at'))} || '"' else '' end
        || case when z.first_at is not null
            then ',"datumOpgepakt":"' || ${localDate(sql.ref('z.first_at'))} || '"'
          when z.picked_up and z.started_at < ${end} then ',"datumOpgepakt":"' || ${startedOn} || '"'
          else '' end
        || case when z.ids is not null then ',"vroegsignalen":[{"ID":"' || z.ids || '"}]' else '' end
        || case when z.pogingen is not null then ',"contactpogingen":[' || z.pogingen || ']' else '' end
        || '}', ',')
    from zaken z group by z.municipality`.execute(db);

  const leveringen = new Map<string, LeveringText>();
  const of = (municipality: string) => {
    let levering = leveringen.get(municipality);
    if (!levering) {
      levering = { vroegsignalen: null, vroegsignaalzaken: null };
      leveringen.set(municipality, levering);
    }
    return levering;
  };
  for (const row of rows) {
    const levering = of(row.municipality);
    if (row.kind === 's') levering.vroegsignalen = row.json;
    else if (row.kind === 'z') levering.vroegsignaalzaken = row.json;
  }
  return leveringen;
}
