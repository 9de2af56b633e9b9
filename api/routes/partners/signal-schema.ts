/**
 * The signal as partners send it (JSON, or one CSV row), validated with zod at the edge. Every message
 * names the rule (in Dutch, for the partner's administrators) and never echoes the value, since values
 * may be a BSN or a name. CSV rows are mapped onto the same schema (leaf names as headers).
 */
import { z } from 'zod';
import type { SignalRecord } from '../../../db/repositories/intake.js';
import { SIGNAALPARTNERS } from '../../../workflows/ddas.js';

/** One problem with the input: the row (1-based, batches only), the field path and the reason. */
export interface Problem {
  row?: number;
  field: string;
  reason: string;
}

/** DDAS `geslacht` values accepted for `resident.sex`. */
export const SEXES = ['Man', 'Vrouw', 'Onbekend'] as const;

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined || issue.input === null ? 'verplicht veld ontbreekt' : `moet ${what} zijn`;

// Control characters have no place in a name or address and break CSV exports downstream.
const CONTROL = /\p{Cc}/u;

const text = (max: number) =>
  z
    .string({ error: required('tekst') })
    .trim()
    .min(1, 'mag niet leeg zijn')
    .max(max, `mag hoogstens ${max} tekens bevatten`)
    .refine((v) => !CONTROL.test(v), 'bevat ongeldige tekens');

const optionalText = (max: number) => text(max).nullish();

const amsterdamDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' });
let cachedDay = { until: 0, day: '' };

/** Today's date (YYYY-MM-DD) in the Netherlands: a signal dated today must pass after 22:00 UTC too. */
export function todayInAmsterdam(now = Date.now()): string {
  // Formatting costs microseconds and runs three times a row: recompute at most once a second.
  if (now >= cachedDay.until || now < cachedDay.until - 1_000) {
    cachedDay = { until: now + 1_000, day: amsterdamDay.format(now) };
  }
  return cachedDay.day;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A YYYY-MM-DD string naming a day that exists (Gregorian calendar, as `Date` reckons): arithmetic only,
 * since it runs three times a row.
 */
export function isRealDate(v: unknown): v is string {
  if (typeof v !== 'string' || !ISO_DATE.test(v)) return false;
  const year = Number(v.slice(0, 4));
  const month = Number(v.slice(5, 7));
  const day = Number(v.slice(8, 10));
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month]!);
}

const isoDate = z
  .string({ error: required('een datum (JJJJ-MM-DD)') })
  .trim()
  .regex(ISO_DATE, 'moet een datum zijn in de vorm JJJJ-MM-DD')
  .refine(isRealDate, 'is geen bestaande datum')
  .refine((v) => v >= '1900-01-01', 'ligt voor 1900')
  .refine((v) => v <= todayInAmsterdam(), 'ligt in de toekomst');

/** The elfproef of a BSN: 9 digits, weights 9..2 and -1, sum divisible by 11. */
export function isValidBsn(bsn: string): boolean {
  if (!/^\d{9}$/.test(bsn)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i += 1) sum += Number(bsn[i]) * (9 - i);
  sum -= Number(bsn[8]);
  return sum % 11 === 0 && bsn !== '000000000';
}

const bsn = z
  .string({ error: required('tekst') })
  .trim()
  .regex(/^\d{9}$/, 'moet 9 cijfers bevatten')
  .refine(isValidBsn, 'voldoet niet aan de elfproef');

// Dutch postcodes never start with 0 and never use the letter pairs SA, SD or SS.
const POSTCODE = /^[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}$/i;
const normalPostcode = (v: string) => `${v.slice(0, 4)} ${v.slice(-2).toUpperCase()}`;

const postcode = z
  .string({ error: required('een postcode zijn') })
  .trim()
  .regex(POSTCODE, 'moet een Nederlandse postcode zijn (1234 AB)')
  .transform(normalPostcode);

const PHONE_NOISE = /[\s().-]/g;
const PHONE = /^(?:0\d{9}|(?:\+|00)[1-9]\d{7,14})$/;

const phone = z
  .string({ error: required('tekst') })
  .trim()
  .transform((v) => v.replace(PHONE_NOISE, ''))
  .refine((v) => PHONE.test(v), 'moet een telefoonnummer zijn (10 cijfers, of internationaal met +)');

const EMAIL = z.regexes.email;

const email = z
  .string({ error: required('tekst') })
  .trim()
  .max(254, 'mag hoogstens 254 tekens bevatten')
  .pipe(z.email({ pattern: EMAIL, error: 'moet een e-mailadres zijn' }));

const isWholeCents = (v: number) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6;

const amount = z
  .number({ error: required('een bedrag in euro') })
  .refine((v) => Number.isFinite(v), 'moet een bedrag in euro zijn')
  .refine((v) => v > 0, 'moet groter dan 0 zijn')
  .refine((v) => v <= 10_000_000, 'mag hoogstens 10.000.000 zijn')
  .refine(isWholeCents, 'mag hoogstens 2 decimalen hebben')
  // A positive amount below half a cent passes the two rules above and would be stored as 0.00.
  .refine((v) => Math.round(v * 100) >= 1, 'moet minstens 0,01 zijn');

const ADDITION = /^[A-Za-z0-9 -]{1,6}$/;
const PARTNER_REFERENCE = /^[\x21-\x7E]+(?: [\x21-\x7E]+)*$/;

const residentSchema = z.strictObject(
  {
    bsn: bsn.nullish(),
    firstNames: text(200),
    surnamePrefix: optionalText(20),
    surname: text(200),
    birthDate: isoDate,
    sex: z.enum(SEXES, { error: `moet een van ${SEXES.join(', ')} zijn` }).nullish(),
    phone: phone.nullish(),
    email: email.nullish(),
  },
  { error: required('een object') },
);

const addressSchema = z.strictObject(
  {
    postcode,
    houseNumber: z
      .number({ error: required('een geheel getal') })
      .int('moet een geheel getal zijn')
      .min(1, 'moet minstens 1 zijn')
      .max(99_999, 'mag hoogstens 99999 zijn'),
    houseNumberAddition: z
      .string({ error: required('tekst') })
      .trim()
      .regex(ADDITION, 'moet 1 tot 6 letters of cijfers zijn')
      .transform((v) => v.toUpperCase())
      .nullish(),
    street: text(200),
    city: text(100),
  },
  { error: required('een object') },
);

/** The JSON body of one signal (also the element of a JSON batch). */
export const signalSchema = z
  .strictObject(
    {
      partnerReference: z
        .string({ error: required('tekst') })
        .trim()
        .min(1, 'mag niet leeg zijn')
        .max(100, 'mag hoogstens 100 tekens bevatten')
        .regex(PARTNER_REFERENCE, 'mag alleen letters, cijfers en leestekens bevatten'),
      partnerType: z.enum(SIGNAALPARTNERS, { error: 'moet een DDAS-signaalpartner zijn' }).optional(),
      signalDate: isoDate,
      arrearsSince: isoDate,
      amount,
      crisis: z.boolean({ error: 'moet true of false zijn' }).optional(),
      warmHandover: z.boolean({ error: 'moet true of false zijn' }).optional(),
      resident: residentSchema,
      address: addressSchema,
    },
    { error: required('een object') },
  )
  .superRefine((s, ctx) => {
    // Only when both dates are valid themselves: one problem per field, the cause first.
    if (isRealDate(s.arrearsSince) && isRealDate(s.signalDate) && s.arrearsSince >= s.signalDate) {
      ctx.addIssue({ code: 'custom', path: ['arrearsSince'], message: 'moet voor signalDate liggen' });
    }
  });

export type SignalInput = z.input<typeof signalSchema>;

/** The JSON body of a batch. */
export const batchBodySchema = z.strictObject({
  signals: z.array(z.unknown()).min(1),
});

function fieldOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Flattens zod issues into problems: one per field (the first reason), unknown keys one each. */
export function problemsOf(error: z.ZodError, row?: number, leafOnly = false): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  const push = (path: readonly PropertyKey[], reason: string) => {
    const full = fieldOf(path) || '(body)';
    const field = leafOnly ? (full.split('.').at(-1) ?? full) : full;
    if (seen.has(full)) return;
    seen.add(full);
    out.push(row === undefined ? { field, reason } : { row, field, reason });
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // A key is the partner's own text, and may be a value put in the wrong place (a name, a BSN): its
      // place is named, the key itself is not repeated.
      push(
        [...issue.path, '(onbekend veld)'],
        issue.keys.length === 1
          ? 'onbekend veld (de naam wordt niet herhaald; zie de documentatie voor de veldnamen)'
          : `${issue.keys.length} onbekende velden (de namen worden niet herhaald; zie de documentatie voor de veldnamen)`,
      );
    } else {
      push(issue.path, issue.message);
    }
  }
  return out;
}

/** Result of validating one signal: the record for storage, or its problems. */
export type Validated = { ok: true; record: SignalRecord } | { ok: false; problems: Problem[] };

// ---------------------------------------------------------------------------------------------
// Fast path
// ---------------------------------------------------------------------------------------------

const PARTNER_TYPES: ReadonlySet<unknown> = new Set(SIGNAALPARTNERS);
const SEX_VALUES: ReadonlySet<unknown> = new Set(SEXES);

/** Thrown inside the fast path at the first rule a value breaks; the zod schema then names every problem. */
const NOT_FAST = Symbol('not fast');

function plainObject(v: unknown, keys: ReadonlySet<string>): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw NOT_FAST;
  for (const key of Object.keys(v)) if (!keys.has(key)) throw NOT_FAST;
  return v as Record<string, unknown>;
}

function fastText(v: unknown, max: number): string {
  if (typeof v !== 'string') throw NOT_FAST;
  const t = v.trim();
  if (t.length < 1 || t.length > max || CONTROL.test(t)) throw NOT_FAST;
  return t;
}

function fastOptional<T>(v: unknown, check: (v: unknown) => T): T | null {
  return v === undefined || v === null ? null : check(v);
}

function fastDate(v: unknown, today: string): string {
  if (typeof v !== 'string') throw NOT_FAST;
  const t = v.trim();
  if (!isRealDate(t) || t < '1900-01-01' || t > today) throw NOT_FAST;
  return t;
}

function fastBoolean(v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw NOT_FAST;
  return v;
}

/**
 * The record of a signal that breaks no rule, without zod (a monthly batch has 100,000 of them), or
 * null when any rule is broken or the shape is unusual: the zod schema, which stays the schema of
 * record, then validates it and names every problem. Every check here is the schema's own predicate,
 * and the test suite compares both paths on valid and invalid signals.
 */
export function fastSignalRecord(input: unknown): { record: SignalRecord; partnerType?: string } | null {
  try {
    const s = plainObject(input, SIGNAL_KEYS);
    const today = todayInAmsterdam();
    const partnerReference = fastText(s.partnerReference, 100);
    if (!PARTNER_REFERENCE.test(partnerReference)) throw NOT_FAST;
    const partnerType = s.partnerType;
    if (partnerType !== undefined && !PARTNER_TYPES.has(partnerType)) throw NOT_FAST;
    const signalDate = fastDate(s.signalDate, today);
    const arrearsSince = fastDate(s.arrearsSince, today);
    if (arrearsSince >= signalDate) throw NOT_FAST;
    const amount = s.amount;
    if (
      typeof amount !== 'number' ||
      !Number.isFinite(amount) ||
      !(amount > 0) ||
      Math.round(amount * 100) < 1 ||
      !(amount <= 10_000_000) ||
      !isWholeCents(amount)
    )
      throw NOT_FAST;
    const r = plainObject(s.resident, RESIDENT_KEYS);
    const a = plainObject(s.address, ADDRESS_KEYS);
    const record: SignalRecord = {
      partnerReference,
      signalDate,
      arrearsSince,
      amount,
      crisis: fastBoolean(s.crisis),
      warmHandover: fastBoolean(s.warmHandover),
      resident: {
        bsn: fastOptional(r.bsn, (v) => {
          if (typeof v !== 'string') throw NOT_FAST;
          const t = v.trim();
          if (!isValidBsn(t)) throw NOT_FAST;
          return t;
        }),
        firstNames: fastText(r.firstNames, 200),
        surnamePrefix: fastOptional(r.surnamePrefix, (v) => fastText(v, 20)),
        surname: fastText(r.surname, 200),
        birthDate: fastDate(r.birthDate, today),
        sex: fastOptional(r.sex, (v) => {
          if (!SEX_VALUES.has(v)) throw NOT_FAST;
          return v as string;
        }),
        phone: fastOptional(r.phone, (v) => {
          if (typeof v !== 'string') throw NOT_FAST;
          const t = v.trim().replace(PHONE_NOISE, '');
          if (!PHONE.test(t)) throw NOT_FAST;
          return t;
        }),
        email: fastOptional(r.email, (v) => {
          if (typeof v !== 'string') throw NOT_FAST;
          const t = v.trim();
          if (t.length > 254 || !EMAIL.test(t)) throw NOT_FAST;
          return t;
        }),
      },
      address: {
        postcode: (() => {
          if (typeof a.postcode !== 'string') throw NOT_FAST;
          const t = a.postcode.trim();
          if (!POSTCODE.test(t)) throw NOT_FAST;
          return normalPostcode(t);
        })(),
        houseNumber: (() => {
          const n = a.houseNumber;
          if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > 99_999) throw NOT_FAST;
          return n;
        })(),
        houseNumberAddition: fastOptional(a.houseNumberAddition, (v) => {
          if (typeof v !== 'string') throw NOT_FAST;
          const t = v.trim();
          if (!ADDITION.test(t)) throw NOT_FAST;
          return t.toUpperCase();
        }),
        street: fastText(a.street, 200),
        city: fastText(a.city, 100),
      },
    };
    return partnerType === undefined ? { record } : { record, partnerType: partnerType as string };
  } catch (err) {
    if (err === NOT_FAST) return null;
    throw err;
  }
}

function partnerTypeMismatch(partnerType: string, row?: number): Validated {
  const reason = `wijkt af van het type van deze partner (${partnerType})`;
  return {
    ok: false,
    problems: [row === undefined ? { field: 'partnerType', reason } : { row, field: 'partnerType', reason }],
  };
}

/**
 * Validates one signal for a partner of `partnerType` (from its credential): a `partnerType` in the
 * body must agree with it. A signal that breaks no rule takes the fast path; any other goes through the
 * zod schema, which names every problem.
 */
export function validateSignal(
  input: unknown,
  partnerType: string,
  row?: number,
  leafOnly = false,
): Validated {
  const fast = fastSignalRecord(input);
  if (fast) {
    if (fast.partnerType !== undefined && fast.partnerType !== partnerType)
      return partnerTypeMismatch(partnerType, row);
    return { ok: true, record: fast.record };
  }
  const parsed = signalSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error, row, leafOnly) };
  const s = parsed.data;
  if (s.partnerType !== undefined && s.partnerType !== partnerType)
    return partnerTypeMismatch(partnerType, row);
  return {
    ok: true,
    record: {
      partnerReference: s.partnerReference,
      signalDate: s.signalDate,
      arrearsSince: s.arrearsSince,
      amount: s.amount,
      crisis: s.crisis ?? false,
      warmHandover: s.warmHandover ?? false,
      resident: {
        bsn: s.resident.bsn ?? null,
        firstNames: s.resident.firstNames,
        surnamePrefix: s.resident.surnamePrefix ?? null,
        surname: s.resident.surname,
        birthDate: s.resident.birthDate,
        sex: s.resident.sex ?? null,
        phone: s.resident.phone ?? null,
        email: s.resident.email ?? null,
      },
      address: {
        postcode: s.address.postcode,
        houseNumber: s.address.houseNumber,
        houseNumberAddition: s.address.houseNumberAddition ?? null,
        street: s.address.street,
        city: s.address.city,
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

const TOP_LEVEL = [
  'partnerReference',
  'partnerType',
  'signalDate',
  'arrearsSince',
  'amount',
  'crisis',
  'warmHandover',
] as const;
const RESIDENT = [
  'bsn',
  'firstNames',
  'surnamePrefix',
  'surname',
  'birthDate',
  'sex',
  'phone',
  'email',
] as const;
const ADDRESS = ['postcode', 'houseNumber', 'houseNumberAddition', 'street', 'city'] as const;

/** The keys the fast path accepts (`fastSignalRecord`): the same as the schema's. */
const SIGNAL_KEYS: ReadonlySet<string> = new Set([...TOP_LEVEL, 'resident', 'address']);
const RESIDENT_KEYS: ReadonlySet<string> = new Set(RESIDENT);
const ADDRESS_KEYS: ReadonlySet<string> = new Set(ADDRESS);

/** Every CSV header, in the documented order. */
export const CSV_HEADERS: readonly string[] = [...TOP_LEVEL, ...RESIDENT, ...ADDRESS];
const REQUIRED_HEADERS = [
  'partnerReference',
  'signalDate',
  'arrearsSince',
  'amount',
  'firstNames',
  'surname',
  'birthDate',
  'postcode',
  'houseNumber',
  'street',
  'city',
];

/**
 * Problems with a CSV header row (unknown, missing or repeated columns); empty when usable. An unknown
 * column is named by its position, never by its text: a file without its header row has a resident's
 * name, BSN or e-mail address there.
 */
export function headerProblems(headers: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  headers.forEach((h, i) => {
    if (!CSV_HEADERS.includes(h))
      problems.push({ row: 1, field: `kolom ${i + 1}`, reason: 'onbekende kolomnaam' });
    else if (seen.has(h)) problems.push({ row: 1, field: h, reason: 'kolom komt twee keer voor' });
    seen.add(h);
  });
  for (const h of REQUIRED_HEADERS) {
    if (!seen.has(h)) problems.push({ row: 1, field: h, reason: 'verplichte kolom ontbreekt' });
  }
  return problems;
}

const TRUE = new Set(['true', 'ja', 'j', '1', 'yes']);
const FALSE = new Set(['false', 'nee', 'n', '0', 'no']);

function csvBoolean(v: string): unknown {
  const lower = v.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  return v;
}

/** Numbers in CSV: `1234.56`, or the Dutch `1234,56` (files separated by `;`). */
function csvNumber(v: string): unknown {
  const normalised = /^-?\d+,\d+$/.test(v) ? v.replace(',', '.') : v;
  return /^-?\d+(\.\d+)?$/.test(normalised) ? Number(normalised) : v;
}

const PLACE = new Map<string, 'top' | 'resident' | 'address'>([
  ...TOP_LEVEL.map((k) => [k, 'top'] as const),
  ...RESIDENT.map((k) => [k, 'resident'] as const),
  ...ADDRESS.map((k) => [k, 'address'] as const),
]);

const placements = new WeakMap<readonly string[], Array<'top' | 'resident' | 'address'>>();

/**
 * Builds the nested signal object from one CSV record (cells in the order of `headers`, a checked header
 * row); empty cells are absent.
 */
export function signalFromCells(
  headers: readonly string[],
  cells: readonly string[],
): Record<string, unknown> {
  let places = placements.get(headers);
  if (!places) {
    places = headers.map((h) => PLACE.get(h) ?? 'top');
    placements.set(headers, places);
  }
  const top: Record<string, unknown> = {};
  const resident: Record<string, unknown> = {};
  const address: Record<string, unknown> = {};
  for (let i = 0; i < headers.length; i += 1) {
    const v = (cells[i] ?? '').trim();
    if (v === '') continue;
    const key = headers[i]!;
    let value: unknown = v;
    if (key === 'amount' || key === 'houseNumber') value = csvNumber(v);
    else if (key === 'crisis' || key === 'warmHandover') value = csvBoolean(v);
    const place = places[i];
    if (place === 'resident') resident[key] = value;
    else if (place === 'address') address[key] = value;
    else top[key] = value;
  }
  top.resident = resident;
  top.address = address;
  return top;
}
