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
  type DeliveryQuery,
  deliveryPage,
  type LeveringText,
} from '../../db/repositories/ddas.js';

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

/** One page of the delivery: the exact response body (`{ gegevens, paginering? }`, UTF-8 JSON). */
export interface DeliveryBody {
  body: Buffer;
  paginering?: Paginering;
}

/** Thrown for a request that is well-formed but cannot be processed (answered 422). */
export class UnprocessableRequest extends Error {
  override name = 'UnprocessableRequest';
}

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

/**
 * Builds one page of the delivery as the exact body bytes. The small parts are serialised here, the
 * vroegsignalen and vroegsignaalzaken come as JSON text from the repository (one statement, one snapshot).
 */
export async function buildDelivery(
  db: Db,
  request: DeliveryRequest,
  settings: DeliverySettings,
): Promise<DeliveryBody> {
  const now = settings.now ?? new Date();
  const { start, end } = periodOf(request, now);
  const selected = municipalitiesFor(request, settings);
  const head = JSON.stringify({
    startdatumLevering: start,
    einddatumLevering: end,
    aanleverdatumEnTijd: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    codeGegevensleverancier: settings.supplierCode,
  }).slice(0, -1);
  const pageSize = Math.min(request.pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
  const asked = request.page !== undefined || request.pageSize !== undefined;
  const finish = (parts: string[], paginering: Paginering | undefined): DeliveryBody => {
    parts.push(paginering ? `},"paginering":${JSON.stringify(paginering)}}` : '}}');
    const body = Buffer.from(parts.join(''), 'utf8');
    return paginering ? { body, paginering } : { body };
  };
  if (selected === null) {
    // An organisation we do not deliver for: an empty delivery.
    const paginering = asked ? { pageSize, currentPage: 1, totalPages: 1, totalRecords: 0 } : undefined;
    return finish([`{"gegevens":${head}`], paginering);
  }

  const query: DeliveryQuery = { start, end, municipalities: selected };
  // One read-only snapshot, so the count and the page agree with each other.
  const { totalRecords, totalPages, currentPage, leveringen, counts } = await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      // Sorting and aggregating a 50,000-signal page in memory instead of on disk.
      await sql`set local work_mem = '64MB'`.execute(trx);
      const counts = await countDeliverySignals(trx, query);
      const totalRecords = [...counts.values()].reduce((sum, n) => sum + n, 0);
      const totalPages = Math.max(1, Math.ceil(totalRecords / pageSize));
      const requested = request.page ?? 1;
      const currentPage = requested >= 1 && requested <= totalPages ? requested : 1;
      const leveringen = await deliveryPage(trx, query, {
        offset: (currentPage - 1) * pageSize,
        limit: pageSize,
        last: currentPage === totalPages,
      });
      return { totalRecords, totalPages, currentPage, leveringen, counts };
    });
  // One levering per municipality with signals or zaken in the period (the page may hold none of them),
  // and the installation's own municipality always, even with nothing to report.
  const codes = new Set([...counts.keys(), ...leveringen.keys()]);
  if (!selected || selected.includes(settings.municipality)) codes.add(settings.municipality);

  const organisation: Record<string, string> = { naam: settings.organisationName };
  if (settings.organisationKvk) organisation['kvk-nummer'] = settings.organisationKvk;
  const organisationJson = JSON.stringify(organisation);
  const parts = [`{"gegevens":${head},"leveringen":[`];
  [...codes].sort().forEach((gemeentecode, index) => {
    const levering: LeveringText = leveringen.get(gemeentecode) ?? {
      vroegsignalen: null,
      vroegsignaalzaken: null,
    };
    parts.push(
      `${index > 0 ? ',' : ''}{"teller":${index + 1},"gemeentecode":${JSON.stringify(gemeentecode)},` +
        `"aanleverendeOrganisatie":${organisationJson}`,
    );
    if (levering.vroegsignalen) parts.push(',"vroegsignalen":[', levering.vroegsignalen, ']');
    if (levering.vroegsignaalzaken) parts.push(',"vroegsignaalzaken":[', levering.vroegsignaalzaken, ']');
    parts.push('}');
  });
  parts.push(']');
  return finish(
    parts,
    asked || totalPages > 1 ? { pageSize, currentPage, totalPages, totalRecords } : undefined,
  );
}
