/**
 * Unit tests of the intake edge: the fast validation path agrees with the zod schema (which stays the
 * schema of record), and the CSV reader splits records as RFC 4180 says, with file line numbers.
 */

import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvSplitter } from '../../api/routes/partners/csv.js';
import {
  fastSignalRecord,
  signalSchema,
  todayInAmsterdam,
  validateSignal,
} from '../../api/routes/partners/signal-schema.js';

const valid = {
  partnerReference: 'REF-1',
  signalDate: '2026-11-01',
  arrearsSince: '2026-08-15',
  amount: 412.5,
  crisis: true,
  resident: {
    bsn: ' 111222333 ',
    firstNames: ' Jantine ',
    surnamePrefix: 'van der',
    surname: 'Zwaluw',
    birthDate: '1971-03-14',
    sex: 'Vrouw',
    phone: '06 1234-5678',
    email: 'jantine@voorbeeld.nl',
  },
  address: {
    postcode: '1761ab',
    houseNumber: 12,
    houseNumberAddition: ' b ',
    street: 'Zwaluwstraat',
    city: 'Anna Paulowna',
  },
};

type Change = Record<string, unknown>;
const withResident = (change: Change) => ({ ...valid, resident: { ...valid.resident, ...change } });
const withAddress = (change: Change) => ({ ...valid, address: { ...valid.address, ...change } });

/** Valid and invalid variants: each rule of the schema broken once, and unusual shapes. */
const variants: Array<[string, unknown]> = [
  ['valid', valid],
  [
    'minimal',
    { ...valid, crisis: undefined, resident: { firstNames: 'A', surname: 'B', birthDate: '1950-01-01' } },
  ],
  [
    'nulls for optionals',
    withResident({ bsn: null, sex: null, phone: null, email: null, surnamePrefix: null }),
  ],
  ['partner type', { ...valid, partnerType: 'Huur' }],
  ['unknown partner type', { ...valid, partnerType: 'Telefonie' }],
  ['null partner type', { ...valid, partnerType: null }],
  ['null crisis', { ...valid, crisis: null }],
  ['crisis as text', { ...valid, crisis: 'ja' }],
  ['empty reference', { ...valid, partnerReference: ' ' }],
  ['reference with control character', { ...valid, partnerReference: 'a\tb' }],
  ['long reference', { ...valid, partnerReference: 'x'.repeat(101) }],
  ['future date', { ...valid, signalDate: '2999-01-01' }],
  ['today', { ...valid, signalDate: todayInAmsterdam() }],
  ['impossible date', { ...valid, signalDate: '2026-02-30' }],
  ['leap day', { ...valid, arrearsSince: '2024-02-29' }],
  ['before 1900', withResident({ birthDate: '1899-12-31' })],
  ['arrears after signal', { ...valid, arrearsSince: '2026-11-01' }],
  ['zero amount', { ...valid, amount: 0 }],
  ['three decimals', { ...valid, amount: 1.005 }],
  ['amount as text', { ...valid, amount: '10' }],
  ['infinite amount', { ...valid, amount: Number.POSITIVE_INFINITY }],
  ['huge amount', { ...valid, amount: 10_000_001 }],
  ['bad bsn', withResident({ bsn: '123456788' })],
  ['short bsn', withResident({ bsn: '12345678' })],
  ['empty surname', withResident({ surname: '' })],
  ['long prefix', withResident({ surnamePrefix: 'x'.repeat(21) })],
  ['control character in name', withResident({ firstNames: 'Jan\u0007' })],
  ['unknown sex', withResident({ sex: 'V' })],
  ['bad phone', withResident({ phone: '12345' })],
  ['international phone', withResident({ phone: '+31 6 1234 5678' })],
  ['bad e-mail', withResident({ email: 'jantine@' })],
  ['unknown resident field', withResident({ nickname: 'J' })],
  ['resident as array', { ...valid, resident: [] }],
  ['no address', { ...valid, address: undefined }],
  ['postcode with SS', withAddress({ postcode: '1234 SS' })],
  ['postcode without space', withAddress({ postcode: '1234AB' })],
  ['fractional house number', withAddress({ houseNumber: 1.5 })],
  ['house number as text', withAddress({ houseNumber: '12' })],
  ['long addition', withAddress({ houseNumberAddition: 'ABCDEFG' })],
  ['long city', withAddress({ city: 'A'.repeat(101) })],
  ['unknown field', { ...valid, colour: 'blue' }],
  ['not an object', 'signal'],
  ['null', null],
];

describe('the fast validation path', () => {
  for (const [name, input] of variants) {
    it(`agrees with the zod schema: ${name}`, () => {
      const parsed = signalSchema.safeParse(input);
      const fast = fastSignalRecord(input);
      // The fast path never accepts what the schema refuses ...
      if (!parsed.success) expect(fast).toBeNull();
      // ... and what it accepts comes out exactly as through the schema.
      if (fast) {
        const viaSchema = validateSignal(JSON.parse(JSON.stringify(input ?? null)), 'Huur');
        expect(viaSchema.ok).toBe(true);
        expect(fast.record).toEqual(viaSchema.ok && viaSchema.record);
      }
    });
  }

  it('takes the fast path for a valid signal, with the normalised values', () => {
    expect(fastSignalRecord(valid)?.record).toMatchObject({
      crisis: true,
      warmHandover: false,
      resident: { bsn: '111222333', firstNames: 'Jantine', phone: '0612345678' },
      address: { postcode: '1761 AB', houseNumberAddition: 'B' },
    });
  });

  it('still names the problem, through zod, when a rule is broken', () => {
    expect(validateSignal(withResident({ bsn: '123456788' }), 'Huur')).toEqual({
      ok: false,
      problems: [{ field: 'resident.bsn', reason: 'voldoet niet aan de elfproef' }],
    });
    expect(validateSignal({ ...valid, partnerType: 'Zorg' }, 'Huur')).toEqual({
      ok: false,
      problems: [{ field: 'partnerType', reason: 'wijkt af van het type van deze partner (Huur)' }],
    });
  });
});

describe('the CSV reader', () => {
  const read = (pieces: string[]) => {
    const splitter = new CsvSplitter(';');
    return [...pieces.flatMap((p) => splitter.push(p)), ...splitter.end()];
  };

  it('splits plain lines and counts file lines, skipping empty ones', () => {
    expect(read(['a;b\r\n1;2\n\n3;4'])).toEqual([
      { cells: ['a', 'b'], line: 1 },
      { cells: ['1', '2'], line: 2 },
      { cells: ['3', '4'], line: 4 },
    ]);
  });

  it('reads quoted fields with separators, doubled quotes and line breaks, across chunk boundaries', () => {
    const text = 'a;b\n"x;y";"he said ""hi"""\n"two\nlines";z\nlast;"q"\n';
    const expected = [
      { cells: ['a', 'b'], line: 1 },
      { cells: ['x;y', 'he said "hi"'], line: 2 },
      { cells: ['two\nlines', 'z'], line: 4 },
      { cells: ['last', 'q'], line: 5 },
    ];
    expect(read([text])).toEqual(expected);
    // Every split point of the text gives the same records.
    for (let cut = 1; cut < text.length; cut += 1) {
      expect(read([text.slice(0, cut), text.slice(cut)])).toEqual(expected);
    }
  });

  it('reads what csv-parse reads: 300 random well-formed files, cut at random points', () => {
    // A small seeded generator, so a failure can be replayed.
    let seed = 20261127;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'b', 'é', '1', ' ', ';', ',', '"', '\n', '\r\n', '€'];
    const field = () => {
      const text = Array.from({ length: random(6) }, () => alphabet[random(alphabet.length)]).join('');
      const mustQuote = /[;"\r\n]/.test(text) || text === '';
      return mustQuote || random(4) === 0 ? `"${text.replaceAll('"', '""')}"` : text;
    };
    for (let file = 0; file < 300; file += 1) {
      const width = 1 + random(4);
      const lines = Array.from({ length: 1 + random(6) }, () =>
        Array.from({ length: width }, field).join(';'),
      );
      const text = `${lines.join(random(2) ? '\r\n' : '\n')}${random(2) ? '\n' : ''}`;
      const expected = parseCsv(text, { delimiter: ';', relax_column_count: true }) as string[][];
      const cut = random(text.length + 1);
      const cells = read([text.slice(0, cut), text.slice(cut)]).map((r) => r.cells);
      expect(cells, JSON.stringify(text)).toEqual(expected);
    }
  });

  it('marks a record with broken quoting unreadable and goes on with the next line', () => {
    expect(read(['a;b\nx"y;z\n"open;1\n2;3\n"closed"x;4\n5;6'])).toEqual([
      { cells: ['a', 'b'], line: 1 },
      { cells: null, line: 2 },
      // An opening quote closed two lines on, followed by text: unreadable up to the end of that line.
      { cells: null, line: 5 },
      { cells: ['5', '6'], line: 6 },
    ]);
  });
  it('reads a record longer than its limit as one unreadable row and goes on after the next line break', () => {
    const splitter = new CsvSplitter(';', 100);
    const long = 'x'.repeat(60);
    const records = [
      ...splitter.push(`a;b\n1;2\n${long}`),
      ...splitter.push(long),
      ...splitter.push(`${long}\n3;4\n"open\n${long}`),
      ...splitter.push(long),
      ...splitter.push('the rest of it\n5;6\n'),
      ...splitter.end(),
    ];
    expect(records).toEqual([
      { cells: ['a', 'b'], line: 1 },
      { cells: ['1', '2'], line: 2 },
      { cells: null, line: 3, tooLong: true },
      { cells: ['3', '4'], line: 4 },
      // A quote not closed within the limit: too long from line 5; skipping ends at the next break.
      { cells: null, line: 5, tooLong: true },
      { cells: ['5', '6'], line: 7 },
    ]);
  });

  it('holds no more than the limit and a piece of text while a line never ends', () => {
    const splitter = new CsvSplitter(';');
    const piece = 'y'.repeat(16 * 1024);
    let records = 0;
    for (let i = 0; i < 512; i += 1) records += splitter.push(piece).length; // 8 MiB without a line break
    expect(records).toBe(1);
    expect(splitter.end()).toEqual([]);
  });
});
