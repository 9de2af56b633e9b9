/**
 * The monitor's figures for one period (and optionally one partner type), and the same figures as tables
 * for CSV download. Percentages have one decimal and are null when their base is zero; rates per 1,000
 * inhabitants are null when the number of inhabitants is not configured.
 */
import type { Db } from '../../../db/database.js';
import {
  attemptsBySoort,
  casesByResult,
  caseTotals,
  HELP_ACCEPTED_RESULTS,
  type MonitorQuery,
  signalsByPartnerType,
  signalsByStatus,
  signalsPerMonth,
  signalTotals,
} from '../../../db/repositories/monitor.js';
import {
  CONTACTSOORTEN,
  EINDRESULTATEN,
  SIGNAALPARTNERS,
  SIGNAALSTATUSSEN,
} from '../../../workflows/ddas.js';

const PENDING = 'Nog niet opgepakt';
const PICKED_UP = 'Opgepakt';

export interface MonitorFigures {
  period: { from: string; to: string };
  municipality: string;
  partnerType: string | null;
  inhabitants: number | null;
  signals: {
    received: number;
    uniqueResidents: number;
    uniqueHouseholds: number;
    pickedUp: number;
    notPickedUp: number;
    pending: number;
    totalAmount: number;
  };
  /** Every EnumSignaalstatus with its count; `notPickedUp` is the reason for the rejection statuses. */
  signalsByStatus: Array<{ status: string; count: number; notPickedUp: boolean }>;
  signalsByPartnerType: Array<{
    partnerType: string;
    received: number;
    pickedUp: number;
    notPickedUp: number;
    pending: number;
  }>;
  cases: {
    started: number;
    pickedUp: number;
    reached: number;
    /** Reached as a share of picked-up cases. */
    reachedPct: number | null;
    helpAccepted: number;
    /** Help accepted as a share of reached cases. */
    helpAcceptedPct: number | null;
    medianDaysToFirstContact: number | null;
  };
  contactAttempts: Array<{ soort: string; attempts: number; reached: number; reachedPct: number | null }>;
  /** Every EnumEindresultaat with the count of cases started in the period that ended with it. */
  results: Array<{ result: string; count: number; helpAccepted: boolean }>;
  openCases: number;
  ratesPer1000: {
    signals: number;
    residents: number;
    households: number;
    reached: number;
    helpAccepted: number;
  } | null;
  perMonth: Array<{ month: string; signals: number; residents: number; pickedUp: number }>;
}

function pct(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 1000) / 10;
}

function per1000(count: number, inhabitants: number): number {
  return Math.round((count / inhabitants) * 1000 * 100) / 100;
}

/** Computes every figure of the monitor for `query`. */
export async function monitorFigures(
  db: Db,
  query: MonitorQuery,
  inhabitants: number | null,
): Promise<MonitorFigures> {
  const [totals, byStatus, byPartner, cases, byResult, attempts, perMonth] = await Promise.all([
    signalTotals(db, query),
    signalsByStatus(db, query),
    signalsByPartnerType(db, query),
    caseTotals(db, query),
    casesByResult(db, query),
    attemptsBySoort(db, query),
    signalsPerMonth(db, query),
  ]);
  const pickedUp = byStatus.get(PICKED_UP) ?? 0;
  const pending = byStatus.get(PENDING) ?? 0;
  const partnerTypes = query.partnerType ? [query.partnerType] : SIGNAALPARTNERS;
  const attemptsBy = new Map(attempts.map((a) => [a.soort, a]));
  const knownSoorten = new Set<string>(CONTACTSOORTEN);

  return {
    period: { from: query.from, to: query.to },
    municipality: query.municipality,
    partnerType: query.partnerType ?? null,
    inhabitants,
    signals: {
      received: totals.received,
      uniqueResidents: totals.uniqueResidents,
      uniqueHouseholds: totals.uniqueHouseholds,
      pickedUp,
      notPickedUp: totals.received - pickedUp - pending,
      pending,
      totalAmount: totals.totalAmount,
    },
    signalsByStatus: SIGNAALSTATUSSEN.map((status) => ({
      status,
      count: byStatus.get(status) ?? 0,
      notPickedUp: status !== PICKED_UP && status !== PENDING,
    })),
    signalsByPartnerType: partnerTypes.map((partnerType) => {
      const rows = byPartner.filter((r) => r.partnerType === partnerType);
      const count = (filter: (status: string) => boolean) =>
        rows.filter((r) => filter(r.status)).reduce((sum, r) => sum + r.count, 0);
      return {
        partnerType,
        received: count(() => true),
        pickedUp: count((s) => s === PICKED_UP),
        notPickedUp: count((s) => s !== PICKED_UP && s !== PENDING),
        pending: count((s) => s === PENDING),
      };
    }),
    cases: {
      started: cases.started,
      pickedUp: cases.pickedUp,
      reached: cases.reached,
      reachedPct: pct(cases.reached, cases.pickedUp),
      helpAccepted: cases.helpAccepted,
      helpAcceptedPct: pct(cases.helpAccepted, cases.reached),
      medianDaysToFirstContact: cases.medianDaysToFirstContact,
    },
    contactAttempts: [
      ...CONTACTSOORTEN,
      ...attempts.map((a) => a.soort).filter((s) => !knownSoorten.has(s)),
    ].map((soort) => {
      const row = attemptsBy.get(soort);
      return {
        soort,
        attempts: row?.attempts ?? 0,
        reached: row?.reached ?? 0,
        reachedPct: pct(row?.reached ?? 0, row?.attempts ?? 0),
      };
    }),
    results: EINDRESULTATEN.map((result) => ({
      result,
      count: byResult.get(result) ?? 0,
      helpAccepted: HELP_ACCEPTED_RESULTS.includes(result),
    })),
    openCases: byResult.get(null) ?? 0,
    ratesPer1000: inhabitants
      ? {
          signals: per1000(totals.received, inhabitants),
          residents: per1000(totals.uniqueResidents, inhabitants),
          households: per1000(totals.uniqueHouseholds, inhabitants),
          reached: per1000(cases.reached, inhabitants),
          helpAccepted: per1000(cases.helpAccepted, inhabitants),
        }
      : null,
    perMonth,
  };
}

/** The tables that can be downloaded as CSV. */
export const MONITOR_TABLES = [
  'summary',
  'signals-by-status',
  'signals-by-partner-type',
  'contact-attempts',
  'results',
  'per-month',
] as const;
export type MonitorTable = (typeof MONITOR_TABLES)[number];

type Cell = string | number | boolean | null;

/** One table of the figures: a header row and data rows. */
export function tableOf(figures: MonitorFigures, table: MonitorTable): Cell[][] {
  switch (table) {
    case 'summary': {
      const s = figures.signals;
      const c = figures.cases;
      const r = figures.ratesPer1000;
      return [
        ['figure', 'value'],
        ['from', figures.period.from],
        ['to', figures.period.to],
        ['municipality', figures.municipality],
        ['partner_type', figures.partnerType],
        ['inhabitants', figures.inhabitants],
        ['signals_received', s.received],
        ['unique_residents', s.uniqueResidents],
        ['unique_households', s.uniqueHouseholds],
        ['signals_picked_up', s.pickedUp],
        ['signals_not_picked_up', s.notPickedUp],
        ['signals_pending', s.pending],
        ['arrears_total_eur', s.totalAmount],
        ['cases_started', c.started],
        ['cases_picked_up', c.pickedUp],
        ['cases_reached', c.reached],
        ['reached_pct', c.reachedPct],
        ['help_accepted', c.helpAccepted],
        ['help_accepted_pct', c.helpAcceptedPct],
        ['median_days_to_first_contact', c.medianDaysToFirstContact],
        ['cases_open', figures.openCases],
        ['signals_per_1000', r?.signals ?? null],
        ['residents_per_1000', r?.residents ?? null],
        ['households_per_1000', r?.households ?? null],
        ['reached_per_1000', r?.reached ?? null],
        ['help_accepted_per_1000', r?.helpAccepted ?? null],
      ];
    }
    case 'signals-by-status':
      return [
        ['status', 'signals', 'not_picked_up'],
        ...figures.signalsByStatus.map((r) => [r.status, r.count, r.notPickedUp]),
      ];
    case 'signals-by-partner-type':
      return [
        ['partner_type', 'received', 'picked_up', 'not_picked_up', 'pending'],
        ...figures.signalsByPartnerType.map((r) => [
          r.partnerType,
          r.received,
          r.pickedUp,
          r.notPickedUp,
          r.pending,
        ]),
      ];
    case 'contact-attempts':
      return [
        ['soort', 'attempts', 'reached', 'reached_pct'],
        ...figures.contactAttempts.map((r) => [r.soort, r.attempts, r.reached, r.reachedPct]),
      ];
    case 'results':
      return [
        ['result', 'cases', 'help_accepted'],
        ...figures.results.map((r) => [r.result, r.count, r.helpAccepted]),
        ['(open)', figures.openCases, false],
      ];
    case 'per-month':
      return [
        ['month', 'signals', 'residents', 'picked_up'],
        ...figures.perMonth.map((r) => [r.month, r.signals, r.residents, r.pickedUp]),
      ];
  }
}

/** RFC 4180 CSV (CRLF, quotes doubled); a leading =, +, - or @ is prefixed so spreadsheets show it as text. */
export function toCsv(rows: Cell[][]): string {
  const cell = (value: Cell) => {
    if (value === null) return '';
    let text = String(value);
    if (typeof value === 'string' && /^[=+\-@]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return `${rows.map((row) => row.map(cell).join(',')).join('\r\n')}\r\n`;
}
