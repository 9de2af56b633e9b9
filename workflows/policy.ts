/**
 * Outreach policy: every duration, attempt count and threshold a municipality may choose.
 * Plain types and defaults only, because this module is bundled into the Temporal workflow
 * sandbox; validation (zod) of a policy happens at the edges, outside workflows/.
 */
import type { Signaalpartner } from './ddas.js';

/** One second in milliseconds. */
export const SECOND_MS = 1000;
/** One minute in milliseconds. */
export const MINUTE_MS = 60 * SECOND_MS;
/** One hour in milliseconds. */
export const HOUR_MS = 60 * MINUTE_MS;
/** One day in milliseconds. */
export const DAY_MS = 24 * HOUR_MS;
/** One week in milliseconds. */
export const WEEK_MS = 7 * DAY_MS;
/**
 * Twelve months in milliseconds. A full year of 365 days rather than 12 x 30 days, so retention
 * periods stated in months never end before the calendar date the privacy officer has in mind
 * (leap days aside).
 */
export const YEAR_MS = 365 * DAY_MS;

/** Attempts and timing of one rung of the ladder that a caseworker carries out (phone, visit). */
export interface TaskPolicy {
  /** How many attempts before moving on to the next rung. */
  maxAttempts: number;
  /** Wait between an unsuccessful attempt and the next task. */
  retryWaitMs: number;
  /** A task is due this long after it is created (shown to caseworkers, never a time-out). */
  taskDueMs: number;
}

/** Per partner type: whether its signals are picked up at all, and from which arrears on. */
export interface SelectionRule {
  enabled: boolean;
  /** Minimum arrears in whole euros. Crisis signals skip this rule. */
  minAmount: number;
  /** Minimum days between `arrearsSince` and `signalDate`. Crisis signals skip this rule. */
  minDaysInArrears: number;
}

/** How a municipality reaches out. All durations are milliseconds. */
export interface OutreachPolicy {
  /** After the (first) letter, before the first phone attempt. */
  letterWaitMs: number;
  phone: TaskPolicy;
  visit: TaskPolicy;
  /** After the last card left at the door, before the resident counts as unreachable. */
  afterLastCardWaitMs: number;
  /** Where outreach starts for a crisis signal. */
  crisisStart: 'phone' | 'visit';
  /** Where outreach starts when the partner asks for a warm handover. */
  warmHandoverStart: 'phone' | 'visit';
  /** A signal about the same arrears within this window, amount not risen, is a repeat. */
  repeatWindowMs: number;
  retention: {
    /** After the resident declined (and the partner was told). */
    afterDeclineMs: number;
    /** After a conversation that ended without handover. */
    afterContactMs: number;
    /** After the last signal when the resident could not be reached. */
    noContactMs: number;
    /** After a signal that was not picked up. */
    notPickedUpMs: number;
  };
  selection: Record<Signaalpartner, SelectionRule>;
  /** The latest re-contact date a resident may ask for, counted from the conversation. */
  recontactMaxMs: number;
}

const DISABLED: SelectionRule = { enabled: false, minAmount: 75, minDaysInArrears: 30 };
const STANDARD: SelectionRule = { enabled: true, minAmount: 75, minDaysInArrears: 30 };

/** Default selection: the five legally obliged partner types on, the rest of the DDAS list off. */
const DEFAULT_SELECTION: Record<Signaalpartner, SelectionRule> = {
  Huur: STANDARD,
  Zorg: STANDARD,
  // CAK reports only after six months of unpaid premium, whatever the amount.
  'CAK Zorgverzekeringen': { enabled: true, minAmount: 0, minDaysInArrears: 180 },
  Water: STANDARD,
  Energie: STANDARD,
  Belastingdienst: DISABLED,
  'CAK Eigen bijdrage': DISABLED,
  'Dienst Toeslagen': DISABLED,
  DUO: DISABLED,
  Hypotheek: DISABLED,
  Overige: DISABLED,
};

/** Production defaults (see domain.md; every value is configurable per municipality). */
export const DEFAULT_POLICY: OutreachPolicy = {
  letterWaitMs: WEEK_MS,
  phone: { maxAttempts: 3, retryWaitMs: 3 * DAY_MS, taskDueMs: 2 * DAY_MS },
  visit: { maxAttempts: 2, retryWaitMs: WEEK_MS, taskDueMs: 5 * DAY_MS },
  afterLastCardWaitMs: WEEK_MS,
  crisisStart: 'phone',
  warmHandoverStart: 'phone',
  repeatWindowMs: 90 * DAY_MS,
  retention: {
    afterDeclineMs: 14 * DAY_MS,
    afterContactMs: YEAR_MS,
    noContactMs: YEAR_MS,
    notPickedUpMs: YEAR_MS,
  },
  selection: DEFAULT_SELECTION,
  recontactMaxMs: YEAR_MS,
};

/**
 * The default policy with every wait shrunk to a few `scaleMs`, for tests against a real
 * Temporal server (which cannot skip time). Thresholds in euros and days stay as in production,
 * since they compare dates of the signal, not elapsed time. Windows that must outlast the whole
 * ladder (repeat, retention after no contact, re-contact) stay comfortably longer than it.
 */
export function shortPolicy(scaleMs: number): OutreachPolicy {
  return {
    ...DEFAULT_POLICY,
    letterWaitMs: 2 * scaleMs,
    phone: { maxAttempts: 3, retryWaitMs: scaleMs, taskDueMs: 2 * scaleMs },
    visit: { maxAttempts: 2, retryWaitMs: scaleMs, taskDueMs: 2 * scaleMs },
    afterLastCardWaitMs: 2 * scaleMs,
    repeatWindowMs: 30 * scaleMs,
    retention: {
      afterDeclineMs: 2 * scaleMs,
      afterContactMs: 3 * scaleMs,
      noContactMs: 30 * scaleMs,
      notPickedUpMs: 3 * scaleMs,
    },
    recontactMaxMs: 30 * scaleMs,
  };
}
