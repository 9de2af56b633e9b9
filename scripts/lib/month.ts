/**
 * A month of fictitious partner signals as CSV files, one per partner type, in the columns of the partner
 * API (docs/partner-api.md, Partner intake). Deterministic: the same options write the same bytes. Every 12th row
 * repeats the row 5 before it under a new reference (same resident, arrears and amount: "herhaalde
 * melding"); resident numbers overlap between partners (residents reported by several partners).
 * Optionally some rows carry a wrong field (rejected at intake) and some are re-sent unchanged (same
 * partnerReference: reported as duplicates).
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

/** The CSV header row: the JSON leaf names of a signal. */
export const CSV_HEADER =
  'partnerReference;signalDate;arrearsSince;amount;crisis;bsn;firstNames;surnamePrefix;surname;birthDate;sex;phone;email;postcode;houseNumber;houseNumberAddition;street;city';

/** A partner type and its share of the month's rows. */
export type PartnerMix = ReadonlyArray<readonly [type: string, share: number]>;

/**
 * A municipality's month (domain.md, H1 2024: health insurance 41%, rent 20%, energy 20%, water 18%),
 * with the CAK's long arrears as the last 1%.
 */
export const MONTH_MIX: PartnerMix = [
  ['Zorg', 0.41],
  ['Huur', 0.2],
  ['Energie', 0.2],
  ['Water', 0.18],
  ['CAK Zorgverzekeringen', 0.01],
];

/** A fictitious partner organisation for each partner type of `MONTH_MIX`. */
export const MONTH_PARTNER_NAMES: Readonly<Record<string, string>> = {
  Zorg: 'Zorgverzekeraar Noordkop',
  Huur: 'Woonstichting Polderwijk',
  Energie: 'Energie Kop van Noord-Holland',
  Water: 'Waterbedrijf Noordkop',
  'CAK Zorgverzekeringen': 'CAK',
};

export interface MonthOptions {
  rows: number;
  /** Folder the files are written to. */
  dir: string;
  mix: PartnerMix;
  /** Every n-th row of a file has one wrong field (25: 4%); unset, none. */
  badEvery?: number;
  /** Every n-th row of a file re-sends the row 10 before it unchanged (50: 2%); unset, none. */
  resentEvery?: number;
  /** Only postcodes intake accepts (see residentCells); unset, the intake benchmark's month. */
  validPostcodes?: boolean;
  /** `signalDate` of every row (YYYY-MM-DD, not in the future). */
  signalDate?: string;
}

/** One partner's file and what it holds. */
export interface MonthFile {
  type: string;
  path: string;
  rows: number;
  /** Rows with a wrong field. */
  bad: number;
  /** Rows re-sent with a partnerReference already in the file. */
  resent: number;
}

/** A valid BSN (elfproef) for resident number i: the check digit makes the weighted sum divisible by 11. */
export function bsnOf(i: number): string {
  for (let base = 10_000_000 + i * 13; ; base += 1) {
    const digits = String(base).slice(-8);
    let sum = 0;
    for (let k = 0; k < 8; k += 1) sum += Number(digits[k]) * (9 - k);
    const check = sum % 11;
    if (check < 10) return `${digits}${check}`;
  }
}

/**
 * The CSV cells from `bsn` on of fictitious resident number i (deterministic; distinct numbers are distinct
 * residents, the surname carries the number): 70% with BSN, the rest matched on address. Unless
 * `validPostcodes`, about 1.2% get a postcode with a letter pair Dutch postcodes never use (SA, SD, SS),
 * which intake rejects: the intake benchmark's month has always had them.
 */
export function residentCells(i: number, validPostcodes: boolean): string[] {
  const withBsn = i % 10 < 7;
  let letters = `${String.fromCharCode(65 + (i % 20))}${String.fromCharCode(66 + ((i >> 3) % 20))}`;
  if (validPostcodes && /^S[ADS]$/.test(letters))
    letters = `S${String.fromCharCode(letters.charCodeAt(1) + 1)}`;
  const postcode = `${1700 + (i % 300)} ${letters}`;
  const birth = `19${40 + (i % 60)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
  return [
    withBsn ? bsnOf(i) : '',
    'Jantine',
    i % 3 === 0 ? 'van der' : '',
    `Proefpersoon${i}`,
    birth,
    i % 2 ? 'Vrouw' : 'Man',
    `06${String(10_000_000 + i).slice(-8)}`,
    `bewoner${i}@voorbeeld.nl`,
    postcode,
    String(1 + (i % 250)),
    i % 5 === 0 ? 'A' : '',
    'Proefstraat',
    'Anna Paulowna',
  ];
}

const COLUMNS = CSV_HEADER.split(';');

/** Fields a partner's export gets wrong in practice, one per bad row (taken in turn). */
const WRONG_FIELDS: ReadonlyArray<readonly [column: string, value: string]> = [
  ['amount', 'veel'],
  ['birthDate', '1985-02-30'],
  ['postcode', '12345'],
  ['signalDate', '2099-01-01'],
  ['bsn', '123456780'],
  ['sex', 'M'],
  ['houseNumber', 'twaalf'],
  ['arrearsSince', '15-03-2026'],
];

/** Writes one CSV per partner type of `mix` (the last takes what rounding leaves); returns what each holds. */
export async function generateMonth(options: MonthOptions): Promise<MonthFile[]> {
  const { rows: total, dir, mix } = options;
  const signalDate = options.signalDate ?? '2026-11-01';
  const residents = Math.round(total * 0.8);
  const files: MonthFile[] = [];
  let written = 0;
  let wrongTurn = 0;
  for (const [index, [type, share]] of mix.entries()) {
    const rows = index === mix.length - 1 ? total - written : Math.round(total * share);
    written += rows;
    const path = join(dir, `${type.replace(/\W+/g, '-')}.csv`);
    const out = createWriteStream(path);
    out.write(`${CSV_HEADER}\n`);
    // The last 10 lines and whether each was bad: a re-sent row copies the one 10 before it.
    const recent: Array<{ line: string; bad: boolean }> = [];
    let bad = 0;
    let resent = 0;
    for (let r = 0; r < rows; r += 1) {
      let line: string;
      let wrong = false;
      const copied = recent[r % 10];
      if (options.resentEvery && r % options.resentEvery === options.resentEvery - 1 && copied) {
        // The partner's export ran twice over part of the month: the very same row again.
        line = copied.line;
        wrong = copied.bad;
        if (wrong) bad += 1;
        else resent += 1;
      } else {
        const source = r % 12 === 11 && r >= 5 ? r - 5 : r;
        const resident = (source * 7919 + index * 104_729) % residents;
        const amount = (75 + ((source * 37) % 2_000) + (source % 100) / 100).toFixed(2);
        const arrears = `2026-0${1 + (source % 8)}-15`;
        const crisis = source % 50 === 0 ? 'ja' : 'nee';
        const cells = [
          `${type}-${r}`,
          signalDate,
          arrears,
          amount,
          crisis,
          ...residentCells(resident, options.validPostcodes ?? false),
        ];
        if (options.badEvery && r % options.badEvery === Math.floor(options.badEvery / 2)) {
          const [column, value] = WRONG_FIELDS[wrongTurn % WRONG_FIELDS.length]!;
          wrongTurn += 1;
          cells[COLUMNS.indexOf(column)] = value;
          wrong = true;
          bad += 1;
        }
        line = `${cells.join(';')}\n`;
      }
      recent[r % 10] = { line, bad: wrong };
      if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    files.push({ type, path, rows, bad, resent });
  }
  return files;
}
