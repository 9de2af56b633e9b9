/**
 * The DDAS vroegsignalering delivery (`{ gegevens: Uitwisselmodel v1.2, paginering? }`) for a period, one
 * page at a time: shared by `POST /ddas/v1/gegevens` and the `ddas:export` command.
 *
 * Pagination (DDAS-VS v1.0): at most 50,000 vroegsignalen per page; a page that does not exist answers
 * page 1; `paginering` (all fields) is present when the delivery spans more than one page or the caller
 * asked for a page or page size. Each vroegsignaalzaak appears once, on the page of its first signal.
 */

import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import {
  countDeliverySignals,
  type DdasCaseRow,
  type DdasSignalRow,
  type DeliveryQuery,
  deliveryCases,
  deliveryMunicipalities,
  deliverySignals,
} from '../../db/repositories/ddas.js';
import {
  CONTACTSOORTEN,
  DAGDELEN,
  EINDRESULTATEN,
  SIGNAALPARTNERS,
  SIGNAALSTATUSSEN,
} from '../../workflows/ddas.js';

/** The most vroegsignalen one response may hold. */
export const MAX_PAGE_SIZE = 50_000;

export interface DeliveryRequest {
  aanleverperiodeStartdatum?: string | undefined;
  aanleverperiodeEinddatum?: string | undefined;
  aanleverende_organisatie?: string | undefined;
  page?: number | undefined;
  pageSize?: number | undefined;
}

export interface DeliverySettings {
  municipality: string;
  supplierCode: string;
  organisationName: string;
  organisationKvk?: string | undefined;
  /** Current time (tests pin it). */
  now?: Date;
}

export interface Paginering {
  pageSize: number;
  currentPage: number;
  totalPages: number;
  totalRecords: number;
}

type Json = Record<string, unknown>;

export interface DeliveryResponse {
  gegevens: Json;
  paginering?: Paginering;
}

/** Thrown for a request that is well-formed but cannot be processed (answered 422). */
export class UnprocessableRequest extends Error {
  override name = 'UnprocessableRequest';
}

const statusSet = new Set<string>(SIGNAALSTATUSSEN);
const partnerSet = new Set<string>(SIGNAALPARTNERS);
const resultSet = new Set<string>(EINDRESULTATEN);
const soortSet = new Set<string>(CONTACTSOORTEN);
const dagdeelSet = new Set<string>(DAGDELEN);

function amsterdamDate(at: Date): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' }).format(at);
}

/** The period asked for; unset ends default to 1 January of the year and today. */
export function periodOf(request: DeliveryRequest, now: Date): { start: string; end: string } {
  const end = request.aanleverperiodeEinddatum ?? amsterdamDate(now);
  const start = request.aanleverperiodeStartdatum ?? `${end.slice(0, 4)}-01-01`;
  if (start > end) {
    throw new UnprocessableRequest('aanleverperiodeStartdatum ligt na aanleverperiodeEinddatum');
  }
  return { start, end };
}

/** The client identification the schema requires, and nothing more: BSN, else postcode + house number. */
function clientOf(row: DdasSignalRow): Json {
  if (row.bsn && /^\d{9}$/.test(row.bsn)) return { burgerservicenummer: row.bsn };
  return { postcode: row.postcode.replace(/\s+/g, '').toUpperCase(), huisnummer: String(row.house_number) };
}

function vroegsignaalOf(row: DdasSignalRow): Json {
  const item: Json = {
    ID: row.id,
    crisissignaal: row.crisis,
    warmeOverdracht: row.warm_handover,
    bedrag: Math.round(Number(row.amount)),
    ontstaansdatum: row.arrears_since,
    signaaldatum: row.signal_date,
  };
  if (statusSet.has(row.status)) item.status = row.status;
  item.signaalpartner = { type: partnerSet.has(row.partner_type) ? row.partner_type : 'Overige' };
  item.client = clientOf(row);
  return item;
}

function vroegsignaalzaakOf(row: DdasCaseRow): Json {
  const item: Json = {};
  if (row.result && resultSet.has(row.result)) item.resultaat = row.result;
  // Matching joins signals into this case for as long as it is open: that is its matching period.
  item.matchingsdatum = row.started_on;
  item.startdatumMatchingperiode = row.started_on;
  if (row.closed_on) item.einddatumMatchingperiode = row.closed_on;
  if (row.picked_up_on) item.datumOpgepakt = row.picked_up_on;
  if (row.signal_ids.length > 0) item.vroegsignalen = row.signal_ids.map((ID) => ({ ID }));
  if (row.attempts.length > 0) {
    item.contactpogingen = row.attempts.map((a) => {
      const poging: Json = {};
      if (soortSet.has(a.soort)) poging.soort = a.soort;
      poging.bereikt = a.bereikt;
      poging.datum = a.datum;
      if (dagdeelSet.has(a.dagdeel)) poging.dagdeel = a.dagdeel;
      return poging;
    });
  }
  return item;
}

/** Which municipalities the request's `aanleverende_organisatie` selects: all, one code, or none. */
function municipalitiesFor(
  request: DeliveryRequest,
  settings: DeliverySettings,
): string[] | undefined | null {
  const organisation = request.aanleverende_organisatie?.trim();
  if (!organisation) return undefined;
  if (organisation.toLowerCase() === settings.organisationName.toLowerCase()) return undefined;
  if (/^GM\d{4}$/i.test(organisation)) return [organisation.toUpperCase()];
  return null;
}

/** Builds one page of the delivery. */
export async function buildDelivery(
  db: Db,
  request: DeliveryRequest,
  settings: DeliverySettings,
): Promise<DeliveryResponse> {
  const now = settings.now ?? new Date();
  const { start, end } = periodOf(request, now);
  const selected = municipalitiesFor(request, settings);
  const gegevens: Json = {
    startdatumLevering: start,
    einddatumLevering: end,
    aanleverdatumEnTijd: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    codeGegevensleverancier: settings.supplierCode,
  };
  const pageSize = Math.min(request.pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
  const asked = request.page !== undefined || request.pageSize !== undefined;
  if (selected === null) {
    // An organisation we do not deliver for: an empty delivery.
    return asked
      ? { gegevens, paginering: { pageSize, currentPage: 1, totalPages: 1, totalRecords: 0 } }
      : { gegevens };
  }

  const query: DeliveryQuery = { start, end, municipalities: selected };
  // One read-only snapshot, so the count, the page's signals and its cases agree with each other.
  const { totalRecords, totalPages, currentPage, municipalities, signals, cases } = await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      // Sorting and aggregating 50,000 rows in memory instead of on disk; and hash joins only: the planner
      // underestimates the page's cases (a filter on an aggregate) and would otherwise re-aggregate the
      // contact attempts once per case in a nested loop, quadratic in the page size.
      await sql`set local work_mem = '64MB'`.execute(trx);
      await sql`set local enable_nestloop = off`.execute(trx);
      const totalRecords = await countDeliverySignals(trx, query);
      const totalPages = Math.max(1, Math.ceil(totalRecords / pageSize));
      const requested = request.page ?? 1;
      const currentPage = requested >= 1 && requested <= totalPages ? requested : 1;
      const offset = (currentPage - 1) * pageSize;
      const municipalities = await deliveryMunicipalities(trx, query);
      const signals = await deliverySignals(trx, query, offset, pageSize);
      const cases = await deliveryCases(trx, query, {
        offset,
        limit: pageSize,
        last: currentPage === totalPages,
      });
      return { totalRecords, totalPages, currentPage, municipalities, signals, cases };
    });
  const codes = new Set(municipalities);
  // The installation's own municipality is always reported, even with nothing to report.
  if (!selected || selected.includes(settings.municipality)) codes.add(settings.municipality);

  const organisation: Json = { naam: settings.organisationName };
  if (settings.organisationKvk) organisation['kvk-nummer'] = settings.organisationKvk;
  gegevens.leveringen = [...codes].sort().map((gemeentecode, index) => {
    const levering: Json = { teller: index + 1, gemeentecode, aanleverendeOrganisatie: organisation };
    const vroegsignalen = signals.filter((s) => s.municipality === gemeentecode).map(vroegsignaalOf);
    const zaken = cases.filter((c) => c.municipality === gemeentecode).map(vroegsignaalzaakOf);
    if (vroegsignalen.length > 0) levering.vroegsignalen = vroegsignalen;
    if (zaken.length > 0) levering.vroegsignaalzaken = zaken;
    return levering;
  });

  const response: DeliveryResponse = { gegevens };
  if (asked || totalPages > 1) response.paginering = { pageSize, currentPage, totalPages, totalRecords };
  return response;
}
