/**
 * Fuzzing the partner API (signals, signal batches as JSON and CSV, batch reports, feedback, objections)
 * with some 700 malformed requests from a seeded generator, so a failure can be replayed by its name.
 *
 * Every request carries personal values of its own (a surname `Fuzzkowski<n>`, an e-mail address
 * `fuzz<n>@example.org` and a BSN that passes the elfproef). For every request: no 5xx, and the answer
 * (body and headers) holds none of those values, as an error must name the field and the rule, never the
 * value. A wrong token answers 401. After all requests: no log line holds any of the values, and nothing
 * was logged as an error (level >= 50).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_HEADERS } from '../../api/routes/partners/signal-schema.js';
import { buildServer } from '../../api/server.js';
import { ensurePartner } from '../../db/repositories/intake.js';
import { createPartnerToken, revokePartnerToken } from '../../db/repositories/partner-tokens.js';
import { loadConfig } from '../../lib/config.js';
import { MUNICIPALITY } from '../helpers/fixtures.js';
import { memoryLogger } from '../helpers/logs.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';

// ---------------------------------------------------------------------------------------------
// The generator and the personal values
// ---------------------------------------------------------------------------------------------

/** A small seeded generator (mulberry32), so every case is the same at every run. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { int, pick, chance: (p: number) => next() < p };
}

const SEED = 20261207;
const rnd = generator(SEED);

interface Markers {
  surname: string;
  email: string;
  bsn: string;
}

const usedBsns = new Set<string>();

/** A BSN that passes the elfproef (so it reaches the storage where the rest of a signal is valid). */
function markerBsn(): string {
  for (;;) {
    const digits = Array.from({ length: 8 }, (_, i) => (i === 0 ? 1 + rnd.int(9) : rnd.int(10)));
    const sum = digits.reduce((acc, d, i) => acc + d * (9 - i), 0);
    const check = sum % 11;
    if (check === 10) continue;
    const bsn = `${digits.join('')}${check}`;
    if (usedBsns.has(bsn)) continue;
    usedBsns.add(bsn);
    return bsn;
  }
}

function markersFor(n: number): Markers {
  const tag = String(n).padStart(4, '0');
  return { surname: `Fuzzkowski${tag}`, email: `fuzz${tag}@example.org`, bsn: markerBsn() };
}

/** The names of the personal values of `m` found in `text` (case-insensitive; a BSN as a whole number). */
function leaks(text: string, m: Markers): string[] {
  const lower = text.toLowerCase();
  const found: string[] = [];
  if (lower.includes(m.surname.toLowerCase())) found.push(`surname ${m.surname}`);
  if (lower.includes(m.email) || lower.includes(encodeURIComponent(m.email))) found.push(`e-mail ${m.email}`);
  if (new RegExp(`(?<!\\d)${m.bsn}(?!\\d)`).test(text)) found.push(`bsn ${m.bsn}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

/** A valid signal (the shape of test/api/intake-validation.test.ts), about the case's own resident. */
function validSignal(m: Markers, n: number) {
  return {
    partnerReference: `FUZZ-${n}`,
    signalDate: '2026-11-01',
    arrearsSince: '2026-08-15',
    amount: 412.5,
    crisis: true,
    resident: {
      bsn: ` ${m.bsn} `,
      firstNames: ' Jantine ',
      surnamePrefix: 'van der',
      surname: m.surname,
      birthDate: '1971-03-14',
      sex: 'Vrouw',
      phone: '06 1234-5678',
      email: m.email,
    },
    address: {
      postcode: '1761ab',
      houseNumber: 12,
      houseNumberAddition: ' b ',
      street: 'Zwaluwstraat',
      city: 'Anna Paulowna',
    },
  };
}

type Json = Record<string, unknown>;

/** A copy of `body` with the value at `path` (dot-separated) replaced; `undefined` removes it. */
function withValue(body: Json, path: string, value: unknown): Json {
  const copy = structuredClone(body);
  const keys = path.split('.');
  let target: Json = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Json;
  const last = keys.at(-1)!;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

/** The valid JSON body of a route that takes one: an objection, a signal, or a batch of one signal. */
function validBody(url: string, m: Markers, n: number): string {
  if (url === OBJECTIONS) return json(validObjection(m));
  return url === SIGNALS ? json(validSignal(m, n)) : json({ signals: [validSignal(m, n)] });
}

/** An objection about the case's resident, by BSN and by birth date + surname + address. */
function validObjection(m: Markers) {
  return {
    resident: { bsn: m.bsn, surnamePrefix: 'van', surname: m.surname, birthDate: '1971-03-14' },
    address: { postcode: '1761 AB', houseNumber: 12, houseNumberAddition: 'b' },
  };
}

const FIELDS = [
  'partnerReference',
  'partnerType',
  'signalDate',
  'arrearsSince',
  'amount',
  'crisis',
  'warmHandover',
  'resident',
  'resident.bsn',
  'resident.firstNames',
  'resident.surnamePrefix',
  'resident.surname',
  'resident.birthDate',
  'resident.sex',
  'resident.phone',
  'resident.email',
  'address',
  'address.postcode',
  'address.houseNumber',
  'address.houseNumberAddition',
  'address.street',
  'address.city',
] as const;

/** Values of every JSON type (and unusual ones of the right type), most with the personal values in. */
function wrongValues(m: Markers): unknown[] {
  const all = `${m.surname} ${m.email} ${m.bsn}`;
  return [
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e308,
    Number(m.bsn),
    '',
    ' ',
    all,
    m.bsn,
    `${m.bsn}0`,
    m.email,
    [],
    [m.surname, m.bsn],
    [[[m.email]]],
    {},
    { surname: m.surname, bsn: m.bsn },
    { [m.surname]: m.email },
  ];
}

/** `value` nested `depth` times in objects or arrays. */
function nested(depth: number, kind: 'object' | 'array', value: string): string {
  return kind === 'object'
    ? `${'{"a":'.repeat(depth)}${value}${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}${value}${']'.repeat(depth)}`;
}

const DATES = [
  '0000-01-01',
  '99999-01-01',
  '2026-02-30',
  '2026-02-29',
  '2024-02-29',
  '2026-13-01',
  '2026-00-10',
  '2026-1-1',
  '20260101',
  '1899-12-31',
  '1900-01-01',
  '9999-12-31',
  '2026-11-01T00:00:00Z',
  ' 2026-11-01 ',
  '2026-11-01\u0000',
  '\uFEFF2026-11-01',
  '２０２６-１１-０１',
  '-2026-11-01',
];

const SINCE = [
  '0000-01-01T00:00:00Z',
  '1999-12-31T23:59:59Z',
  '2000-01-01T00:00:00Z',
  '99999-01-01T00:00:00Z',
  '+099999-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-02-29T00:00:00Z',
  '2024-02-29T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:60Z',
  '2026-01-01T00:00:00',
  '2026-01-01',
  '2026-01-01T00:00:00+23:59',
  '2026-01-01T00:00:00-23:59',
  '2026-01-01T00:00:00+16:00',
  '2026-01-01T00:00:00+1559',
  '9999-12-31T23:59:59-23:59',
  '9999-12-31T23:59:59.999999999Z',
  `2026-01-01T00:00:00.${'9'.repeat(500)}Z`,
  '2000-01-01T00:00:00+23:59',
  'now',
  'infinity',
  'epoch',
  '',
  ' ',
  '2026-01-01T00:00:00Z\u0000',
  "2026-01-01T00:00:00Z'; select 1; --",
];

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/** The cells of a valid CSV row about the case's resident, in `CSV_HEADERS` order. */
function csvCells(m: Markers, n: number, delimiter: ';' | ','): string[] {
  const values: Record<string, string> = {
    partnerReference: `FUZZ-CSV-${n}`,
    partnerType: '',
    signalDate: '2026-11-01',
    arrearsSince: '2026-08-15',
    amount: delimiter === ';' ? '412,50' : '412.50',
    crisis: 'ja',
    warmHandover: 'nee',
    bsn: m.bsn,
    firstNames: 'Jantine',
    surnamePrefix: 'van der',
    surname: m.surname,
    birthDate: '1971-03-14',
    sex: 'Vrouw',
    phone: '0612345678',
    email: m.email,
    postcode: '1761 AB',
    houseNumber: '12',
    houseNumberAddition: 'b',
    street: 'Zwaluwstraat',
    city: 'Anna Paulowna',
  };
  return CSV_HEADERS.map((h) => values[h] ?? '');
}

const csvHeader = (delimiter: ';' | ',') => CSV_HEADERS.join(delimiter);
const csvRow = (m: Markers, n: number, delimiter: ';' | ',') => csvCells(m, n, delimiter).join(delimiter);

/** A CSV text of random noise: delimiters, quotes, line ends, the personal values, odd characters. */
function csvNoise(m: Markers): string {
  const alphabet = [
    ';',
    ',',
    '"',
    '""',
    '\n',
    '\r\n',
    '\r',
    m.surname,
    m.email,
    m.bsn,
    'x',
    ' ',
    '\u0000',
    '\uFEFF',
  ];
  const head = rnd.chance(0.5) ? `${csvHeader(rnd.pick([';', ','] as const))}\n` : '';
  return head + Array.from({ length: 5 + rnd.int(60) }, () => rnd.pick(alphabet)).join('');
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

type Auth = 'valid' | 'revoked' | ((token: string, m: Markers) => string | undefined);
type Body = string | Buffer | (() => Readable);

interface Case {
  name: string;
  method: 'GET' | 'POST';
  url: string;
  contentType?: string;
  body?: Body;
  auth: Auth;
  markers: Markers;
  /** Only where the answer is certain: good requests, wrong tokens (401), bodies over a route's limit (413). */
  status?: number;
}

const SIGNALS = '/api/v1/signals';
const BATCHES = '/api/v1/signal-batches';
const FEEDBACK = '/api/v1/partner-feedback';
const OBJECTIONS = '/api/v1/objections';
const JSON_TYPE = 'application/json';

const cases: Case[] = [];

/** Adds a case; `build` gets the case's own personal values and number. */
function add(build: (m: Markers, n: number) => Omit<Case, 'markers' | 'auth'> & { auth?: Auth }): void {
  const n = cases.length + 1;
  const markers = markersFor(n);
  const built = build(markers, n);
  cases.push({ auth: 'valid', ...built, markers, name: `#${n} ${built.name}` });
}

const json = (value: unknown) => JSON.stringify(value);

/** One of the three JSON routes that take a signal: alone, as the only row of a batch, or beside a good row. */
function signalRequest(name: string, signal: unknown, m: Markers, n: number) {
  const where = rnd.int(3);
  if (where === 0)
    return {
      name: `signal: ${name}`,
      method: 'POST' as const,
      url: SIGNALS,
      contentType: JSON_TYPE,
      body: json(signal),
    };
  const signals = where === 1 ? [signal] : [validSignal(m, n + 100_000), signal];
  return {
    name: `batch: ${name}`,
    method: 'POST' as const,
    url: BATCHES,
    contentType: JSON_TYPE,
    body: json({ signals }),
  };
}

// Wrong JSON types (and odd values) in every field of a valid signal.
for (const field of FIELDS) {
  for (let k = 0; k < 5; k++) {
    add((m, n) => {
      const value = rnd.pick(wrongValues(m));
      return signalRequest(
        `${field} = ${json(value)?.slice(0, 40)}`,
        withValue(validSignal(m, n), field, value),
        m,
        n,
      );
    });
  }
  add((m, n) => signalRequest(`${field} missing`, withValue(validSignal(m, n), field, undefined), m, n));
}

// Wrong types in the objection's fields.
for (const field of [
  'resident',
  'resident.bsn',
  'resident.surname',
  'resident.birthDate',
  'address',
  'address.postcode',
  'address.houseNumber',
]) {
  for (let k = 0; k < 3; k++) {
    add((m) => {
      const value = rnd.pick(wrongValues(m));
      return {
        name: `objection: ${field} = ${json(value)?.slice(0, 40)}`,
        method: 'POST',
        url: OBJECTIONS,
        contentType: JSON_TYPE,
        body: json(withValue(validObjection(m), field, value)),
      };
    });
  }
}

// Good requests, so the values pass the storage too.
add((m, n) => ({
  name: 'signal: valid',
  method: 'POST',
  url: SIGNALS,
  contentType: JSON_TYPE,
  body: json(validSignal(m, n)),
  status: 202,
}));
add((m, n) => ({
  name: 'signal: valid, sent twice',
  method: 'POST',
  url: SIGNALS,
  contentType: JSON_TYPE,
  // The reference of the case before: a duplicate.
  body: json({ ...validSignal(m, n - 1), resident: validSignal(m, n).resident }),
  status: 202,
}));
add((m, n) => ({
  name: 'batch: valid',
  method: 'POST',
  url: BATCHES,
  contentType: JSON_TYPE,
  body: json({ signals: [validSignal(m, n)] }),
  status: 202,
}));
add((m) => ({
  name: 'objection: valid',
  method: 'POST',
  url: OBJECTIONS,
  contentType: JSON_TYPE,
  body: json(validObjection(m)),
  status: 201,
}));
add((m) => ({
  name: 'objection: bsn only',
  method: 'POST',
  url: OBJECTIONS,
  contentType: JSON_TYPE,
  body: json({ resident: { bsn: m.bsn } }),
  status: 201,
}));
add((m) => ({
  name: 'objection: no bsn, part of the identity',
  method: 'POST',
  url: OBJECTIONS,
  contentType: JSON_TYPE,
  body: json({ resident: { surname: m.surname } }),
}));

// Dates, bad and out of range, in each date field.
for (const field of ['signalDate', 'arrearsSince', 'resident.birthDate']) {
  for (const date of DATES) {
    add((m, n) => signalRequest(`${field} = ${json(date)}`, withValue(validSignal(m, n), field, date), m, n));
  }
}
for (const date of DATES.slice(0, 6)) {
  add((m) => ({
    name: `objection: birthDate = ${json(date)}`,
    method: 'POST',
    url: OBJECTIONS,
    contentType: JSON_TYPE,
    body: json(withValue(validObjection(m), 'resident.birthDate', date)),
  }));
}

// Numbers at and past their limits.
for (const amount of [
  0.001,
  0.005,
  0.01,
  1.005,
  10_000_000,
  10_000_000.01,
  2 ** 53 + 2,
  -0,
  1e-7,
  '412,50',
]) {
  add((m, n) => signalRequest(`amount = ${amount}`, withValue(validSignal(m, n), 'amount', amount), m, n));
}
for (const houseNumber of [0, 1, 99_999, 100_000, 2 ** 31, -(2 ** 31), 1.0000000001]) {
  add((m, n) =>
    signalRequest(
      `houseNumber = ${houseNumber}`,
      withValue(validSignal(m, n), 'address.houseNumber', houseNumber),
      m,
      n,
    ),
  );
}
// Raw numbers JSON.stringify cannot write.
for (const raw of [
  '1e400',
  '-1e400',
  `1${'0'.repeat(400)}`,
  `0.${'0'.repeat(400)}1`,
  'NaN',
  'Infinity',
  '0x10',
  '012',
]) {
  add((m, n) => ({
    name: `signal: amount written as ${raw.slice(0, 20)}`,
    method: 'POST',
    url: rnd.pick([SIGNALS, BATCHES]),
    contentType: JSON_TYPE,
    body: (() => {
      const text = json(validSignal(m, n)).replace('"amount":412.5', `"amount":${raw}`);
      return rnd.chance(0.5) ? text : `{"signals":[${text}]}`;
    })(),
  }));
}

// Huge strings: over a field's maximum, over the route's body limit.
for (const field of [
  'partnerReference',
  'resident.surname',
  'resident.firstNames',
  'resident.email',
  'resident.bsn',
  'address.city',
  'address.houseNumberAddition',
]) {
  for (const length of [201, 10_000, 70_000, 300_000]) {
    add((m, n) => {
      const value = `${m.surname} ${m.email} ${m.bsn} `.repeat(Math.ceil(length / 40)).slice(0, length);
      const signal = withValue(validSignal(m, n), field, value);
      const url = length >= 300_000 ? BATCHES : rnd.pick([SIGNALS, BATCHES]);
      const body = url === SIGNALS ? json(signal) : json({ signals: [signal] });
      return {
        name: `${url === SIGNALS ? 'signal' : 'batch'}: ${field} of ${length} characters`,
        method: 'POST',
        url,
        contentType: JSON_TYPE,
        body,
        ...(url === SIGNALS && body.length > 64 * 1024 ? { status: 413 } : {}),
      };
    });
  }
}
add((m) => ({
  name: 'objection: body over 8 KiB',
  method: 'POST',
  url: OBJECTIONS,
  contentType: JSON_TYPE,
  body: json(withValue(validObjection(m), 'resident.surname', m.surname.repeat(1000))),
  status: 413,
}));

// Odd characters in the text fields: NUL, BOM, control characters, lone surrogates, bidi overrides.
for (const field of [
  'partnerReference',
  'resident.surname',
  'resident.firstNames',
  'resident.surnamePrefix',
  'resident.email',
  'resident.phone',
  'address.street',
  'address.city',
  'address.houseNumberAddition',
  'address.postcode',
]) {
  for (let k = 0; k < 3; k++) {
    add((m, n) => {
      const odd = rnd.pick([
        '\u0000',
        '\uFEFF',
        '\u0007',
        '\u001b[31m',
        '\ud800',
        '\udfff',
        '\u202e',
        '\u2028',
        '\uFFFD',
        '\u00a0',
        'e\u0301',
        '\uD83D\uDE00',
      ]);
      const value = `${m.surname}${odd}${m.bsn}`;
      return signalRequest(`${field} with ${json(odd)}`, withValue(validSignal(m, n), field, value), m, n);
    });
  }
}

// Invalid UTF-8 bytes, BOMs and NUL bytes in the raw JSON body.
const INVALID_UTF8 = [
  Buffer.from([0xff]),
  Buffer.from([0xc3]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0x00]),
];
for (const bytes of INVALID_UTF8) {
  for (const url of [SIGNALS, BATCHES, OBJECTIONS]) {
    add((m, n) => {
      const text = validBody(url, m, n);
      const at = text.indexOf(m.surname) + 3;
      const inString = rnd.chance(0.7);
      const cut = inString ? at : text.indexOf(':') + 1;
      return {
        name: `${url}: bytes ${bytes.toString('hex')} ${inString ? 'inside the surname' : 'between tokens'}`,
        method: 'POST',
        url,
        contentType: JSON_TYPE,
        body: Buffer.concat([Buffer.from(text.slice(0, cut)), bytes, Buffer.from(text.slice(cut))]),
      };
    });
  }
}
for (const bom of [
  Buffer.from([0xef, 0xbb, 0xbf]),
  Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]),
  Buffer.from([0xff, 0xfe]),
  Buffer.from([0xfe, 0xff]),
]) {
  for (const url of [SIGNALS, BATCHES]) {
    add((m, n) => ({
      name: `${url}: JSON after BOM ${bom.toString('hex')}`,
      method: 'POST',
      url,
      contentType: JSON_TYPE,
      body: Buffer.concat([
        bom,
        Buffer.from(url === SIGNALS ? json(validSignal(m, n)) : json({ signals: [validSignal(m, n)] })),
      ]),
    }));
  }
}
add((m, n) => ({
  name: 'signal: UTF-16LE JSON',
  method: 'POST',
  url: SIGNALS,
  contentType: 'application/json; charset=utf-16le',
  body: Buffer.from(`\uFEFF${json(validSignal(m, n))}`, 'utf16le'),
}));
add((m, n) => ({
  name: 'batch: UTF-16LE JSON',
  method: 'POST',
  url: BATCHES,
  contentType: JSON_TYPE,
  body: Buffer.from(json({ signals: [validSignal(m, n)] }), 'utf16le'),
}));

// Deep nesting, and arrays where objects are expected (and back).
for (const depth of [100, 1_000, 10_000, 100_000]) {
  for (const kind of ['object', 'array'] as const) {
    add((m, n) => {
      const value = json(`${m.surname} ${m.email} ${m.bsn}`);
      const where = rnd.pick(['resident', 'address.city', 'row', 'body'] as const);
      const deep = nested(depth, kind, value);
      const base = json(validSignal(m, n));
      const text =
        where === 'resident'
          ? base.replace(/"resident":\{[^}]*\}/, `"resident":${deep}`)
          : where === 'address.city'
            ? base.replace('"Anna Paulowna"', deep)
            : where === 'row'
              ? base
              : deep;
      const url = where === 'row' ? BATCHES : rnd.pick([SIGNALS, BATCHES, OBJECTIONS]);
      const body =
        where === 'row'
          ? `{"signals":[${deep},${base}]}`
          : url === BATCHES && where !== 'body'
            ? `{"signals":[${text}]}`
            : text;
      const limit = url === SIGNALS ? 64 * 1024 : url === OBJECTIONS ? 8 * 1024 : Number.POSITIVE_INFINITY;
      return {
        name: `${url}: ${kind}s nested ${depth} deep at ${where}`,
        method: 'POST',
        url,
        contentType: JSON_TYPE,
        body,
        ...(Buffer.byteLength(body) > limit ? { status: 413 } : {}),
      };
    });
  }
}
add((m, n) => ({
  name: 'signal: nested __proto__',
  method: 'POST',
  url: SIGNALS,
  contentType: JSON_TYPE,
  body: json(validSignal(m, n)).replace(
    '"resident":{',
    `"resident":{"__proto__":{"surname":"${m.surname}"},`,
  ),
}));
add((m, n) => ({
  name: 'batch: deep __proto__',
  method: 'POST',
  url: BATCHES,
  contentType: JSON_TYPE,
  body: `{"signals":[${nested(5_000, 'object', `{"__proto__":{"x":"${m.email}"}}`)},${json(validSignal(m, n))}]}`,
}));
add((m, n) => ({
  name: 'signal: constructor.prototype',
  method: 'POST',
  url: SIGNALS,
  contentType: JSON_TYPE,
  body: json({ ...validSignal(m, n), constructor: { prototype: { bsn: m.bsn } } }),
}));
for (const shape of [
  'array of the signal',
  'string',
  'number',
  'null',
  'true',
  'signals as object',
  'signals as string',
  'signals of nulls',
  'signals of arrays',
  'resident as array',
  'address as array',
]) {
  for (const url of [SIGNALS, BATCHES, OBJECTIONS]) {
    add((m, n) => {
      const s = validSignal(m, n);
      const body: Record<string, unknown> = {
        'array of the signal': [s],
        string: `${m.surname} ${m.email}`,
        number: Number(m.bsn),
        null: null,
        true: true,
        'signals as object': { signals: { [m.bsn]: s } },
        'signals as string': { signals: json([s]) },
        'signals of nulls': { signals: [null, null, s] },
        'signals of arrays': { signals: [[s], [m.surname, m.email, m.bsn]] },
        'resident as array':
          url === OBJECTIONS ? { resident: [validObjection(m).resident] } : { ...s, resident: [s.resident] },
        'address as array':
          url === OBJECTIONS
            ? { ...validObjection(m), address: [validObjection(m).address] }
            : { ...s, address: Object.values(s.address) },
      };
      return {
        name: `${url}: ${shape}`,
        method: 'POST',
        url,
        contentType: JSON_TYPE,
        body: json(body[shape]),
      };
    });
  }
}
// Many rows at once, all of them wrong.
add((m, n) => ({
  name: 'batch: 2,000 rows with a wrong amount',
  method: 'POST',
  url: BATCHES,
  contentType: JSON_TYPE,
  body: json({
    signals: Array.from({ length: 2_000 }, (_, i) => ({
      ...validSignal(m, n),
      partnerReference: `FUZZ-MANY-${i}`,
      amount: m.surname,
    })),
  }),
}));

// JSON syntax errors, with the personal values around the fault.
const SYNTAX: Array<(m: Markers, good: string) => string> = [
  (_m, good) => good.slice(0, -1),
  (_m, good) => good.slice(0, good.length / 2),
  (_m, good) => `${good},`,
  (_m, good) => `${good}${good}`,
  (_m, good) => good.replace(/"/g, "'"),
  (_m, good) => good.replace(/"(\w+)":/g, '$1:'),
  (_m, good) => good.replace('}', ',}'),
  (m, good) => good.replace(`"${m.surname}"`, m.surname),
  (m, good) => good.replace(`"${m.email}"`, `"${m.email}`),
  (m, good) => `// ${m.surname}\n${good}`,
  (m, good) => good.replace(`"${m.bsn}`, `${m.bsn}`),
  (m) => `{"surname": ${m.surname}, "bsn": ${m.bsn}, "email": ${m.email}}`,
  (m) => `${m.surname} ${m.email} ${m.bsn}`,
  (m) => `{"a":"${m.surname}\\x41"}`,
  (m) => `{"a":"${m.surname}\\u12"}`,
  (m) => `{"a":"${m.surname}\n${m.bsn}"}`,
  (m) => `[${m.bsn}`,
  () => ' ',
  () => '\n\t ',
];
for (const broken of SYNTAX) {
  for (const url of [SIGNALS, BATCHES, OBJECTIONS]) {
    add((m, n) => {
      const good = validBody(url, m, n);
      const body = broken(m, good);
      return {
        name: `${url}: broken JSON ${json(body.slice(0, 30))}`,
        method: 'POST',
        url,
        contentType: JSON_TYPE,
        body,
      };
    });
  }
}

// Wrong content types and empty bodies.
const CONTENT_TYPES = [
  undefined,
  '',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json;charset=latin1',
  'APPLICATION/JSON',
  'application/json-patch+json',
  'application/jsonx',
  'application/vnd.api+json',
  'text/csv',
  'text/csv; charset=utf-8',
  'text/json',
  'application/json, text/csv',
  'application/json; boundary="',
  'application/octet-stream',
  '*/*',
];
for (const contentType of CONTENT_TYPES) {
  for (const url of [SIGNALS, BATCHES, OBJECTIONS]) {
    add((m, n) => {
      const csv = contentType?.startsWith('text/csv');
      const body = rnd.chance(0.2)
        ? ''
        : csv
          ? `${csvHeader(';')}\n${csvRow(m, n, ';')}\n`
          : contentType === 'application/x-www-form-urlencoded'
            ? `surname=${m.surname}&email=${encodeURIComponent(m.email)}&bsn=${m.bsn}`
            : url === OBJECTIONS
              ? json(validObjection(m))
              : url === SIGNALS
                ? json(validSignal(m, n))
                : json({ signals: [validSignal(m, n)] });
      return {
        name: `${url}: Content-Type ${json(contentType)}${body === '' ? ', empty' : ''}`,
        method: 'POST',
        url,
        ...(contentType === undefined ? {} : { contentType }),
        body,
      };
    });
  }
}
for (const url of [SIGNALS, BATCHES, OBJECTIONS]) {
  add(() => ({ name: `${url}: JSON, no body at all`, method: 'POST', url, contentType: JSON_TYPE }));
  add(() => ({ name: `${url}: JSON {}`, method: 'POST', url, contentType: JSON_TYPE, body: '{}' }));
  add((m) => ({
    name: `${url}: a Content-Type with the personal values`,
    method: 'POST',
    url,
    contentType: `application/json; name=${m.surname}; x=${m.bsn}`,
    body: json({ resident: { surname: m.surname } }),
  }));
  add((m) => ({
    name: `${url}: a bad Content-Type with the personal values`,
    method: 'POST',
    url,
    contentType: `${m.surname}/${m.bsn}`,
    body: json({ resident: { surname: m.surname } }),
  }));
}
add(() => ({
  name: 'batch: no signals',
  method: 'POST',
  url: BATCHES,
  contentType: JSON_TYPE,
  body: '{"signals":[]}',
}));

// Unknown keys named after the resident (a body keyed by BSN, or a name as a field name).
add((m, n) => ({
  name: 'signal: unknown top-level key = surname',
  method: 'POST',
  url: SIGNALS,
  contentType: JSON_TYPE,
  body: json({ ...validSignal(m, n), [m.surname]: 1 }),
}));
add((m, n) => ({
  name: 'signal: unknown resident key = e-mail',
  method: 'POST',
  url: SIGNALS,
  contentType: JSON_TYPE,
  body: json(
    (({ resident, ...s }) => ({ ...s, resident: { ...resident, [m.email]: 1 } }))(validSignal(m, n)),
  ),
}));
add((m, n) => ({
  name: 'batch: body keyed by BSN',
  method: 'POST',
  url: BATCHES,
  contentType: JSON_TYPE,
  body: json({ signals: [validSignal(m, n)], [m.bsn]: validSignal(m, n) }),
}));
add((m, n) => ({
  name: 'batch: row with an unknown key = BSN',
  method: 'POST',
  url: BATCHES,
  contentType: JSON_TYPE,
  body: json({ signals: [{ ...validSignal(m, n), [m.bsn]: true }] }),
}));
add((m) => ({
  name: 'objection: unknown resident key = surname',
  method: 'POST',
  url: OBJECTIONS,
  contentType: JSON_TYPE,
  body: json({ resident: { bsn: m.bsn, [m.surname]: m.email } }),
}));

// CSV shapes.
type CsvShape = (m: Markers, n: number, d: ';' | ',') => string | Buffer;
const CSV_SHAPES: Array<[string, CsvShape]> = [
  ['valid', (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d)}\n`],
  ['valid, no final newline', (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d)}`],
  ['valid, BOM', (m, n, d) => `\uFEFF${csvHeader(d)}\n${csvRow(m, n, d)}\n`],
  ['two BOMs', (m, n, d) => `\uFEFF\uFEFF${csvHeader(d)}\n${csvRow(m, n, d)}\n`],
  ['no header', (m, n, d) => `${csvRow(m, n, d)}\n${csvRow(m, n + 1, d)}\n`],
  ['only the header', (_m, _n, d) => `${csvHeader(d)}\n`],
  ['only the header, no newline', (_m, _n, d) => csvHeader(d)],
  ['empty', () => ''],
  ['only newlines', () => '\n\r\n\n'],
  ['a row too short', (m, n, d) => `${csvHeader(d)}\n${csvCells(m, n, d).slice(0, -1).join(d)}\n`],
  ['a row too long', (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d)}${d}${m.surname}\n`],
  ['rows of one cell', (m, _n, d) => `${csvHeader(d)}\n${m.surname}\n${m.email}\n${m.bsn}\n`],
  [
    'unclosed quote in a row',
    (m, n, d) =>
      `${csvHeader(d)}\n${csvRow(m, n, d).replace(m.surname, `"${m.surname}`)}\n${csvRow(m, n + 1, d)}\n`,
  ],
  [
    'unclosed quote at the end',
    (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d)}\n"${m.surname}${d}${m.bsn}`,
  ],
  ['unclosed quote in the header', (m, n, d) => `"${csvHeader(d)}\n${csvRow(m, n, d)}\n`],
  [
    'quote inside a field',
    (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d).replace(m.surname, `${m.surname}"x"`)}\n`,
  ],
  [
    'text after a closing quote',
    (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d).replace(m.surname, `"${m.surname}"${m.bsn}`)}\n`,
  ],
  [
    'quoted field over lines',
    (m, n, d) =>
      `${csvHeader(d)}\n${csvRow(m, n, d).replace(m.surname, `"${m.surname}\n${m.email}\r\n${m.bsn}"`)}\n`,
  ],
  [
    'doubled quotes',
    (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d).replace(m.surname, `"${m.surname}""${d}""${m.bsn}"`)}\n`,
  ],
  [
    'CRLF and LF mixed',
    (m, n, d) =>
      `${csvHeader(d)}\r\n${csvRow(m, n, d)}\n${csvRow(m, n + 1, d)}\r\n\r\n${csvRow(m, n + 2, d)}`,
  ],
  ['CR only', (m, n, d) => `${csvHeader(d)}\r${csvRow(m, n, d)}\r${csvRow(m, n + 1, d)}\r`],
  ['header ; rows ,', (m, n) => `${csvHeader(';')}\n${csvRow(m, n, ',')}\n`],
  ['header , rows ;', (m, n) => `${csvHeader(',')}\n${csvRow(m, n, ';')}\n`],
  ['tab separated', (m, n) => `${CSV_HEADERS.join('\t')}\n${csvCells(m, n, ',').join('\t')}\n`],
  [
    'header with the values as column names',
    (m, n, d) =>
      `${csvHeader(d)}${d}${m.surname}${d}${m.email}${d}${m.bsn}\n${csvRow(m, n, d)}${d}a${d}b${d}c\n`,
  ],
  [
    'header with a column twice',
    (m, n, d) => `${csvHeader(d)}${d}surname\n${csvRow(m, n, d)}${d}${m.surname}\n`,
  ],
  [
    'header missing surname',
    (m, n, d) =>
      `${CSV_HEADERS.filter((h) => h !== 'surname').join(d)}\n${csvCells(m, n, d)
        .filter((c) => c !== m.surname)
        .join(d)}\n`,
  ],
  ['header in capitals', (m, n, d) => `${csvHeader(d).toUpperCase()}\n${csvRow(m, n, d)}\n`],
  [
    'invalid UTF-8 in a cell',
    (m, n, d) =>
      Buffer.concat([
        Buffer.from(
          `${csvHeader(d)}\n${csvRow(m, n, d).replace(m.surname, `${m.surname}\u0001`)}`.replace(
            '\u0001',
            '',
          ),
        ),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(`\n${csvRow(m, n + 1, d)}\n`),
      ]),
  ],
  [
    'invalid UTF-8 in the header',
    (m, n, d) =>
      Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from(`${csvHeader(d)}\n${csvRow(m, n, d)}\n`)]),
  ],
  [
    'a multi-byte character split over the chunk edge',
    (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d).replace('Zwaluwstraat', 'Zwaluwstraße€😀')}\n`,
  ],
  [
    'NUL bytes in cells',
    (m, n, d) =>
      `${csvHeader(d)}\n${csvRow(m, n, d).replace(m.surname, `${m.surname}\u0000`).replace('FUZZ', 'FU\u0000ZZ')}\n`,
  ],
  [
    'NUL bytes in the header',
    (m, n, d) => `${csvHeader(d).replace('surname', 'sur\u0000name')}\n${csvRow(m, n, d)}\n`,
  ],
  ['UTF-16LE', (m, n, d) => Buffer.from(`\uFEFF${csvHeader(d)}\n${csvRow(m, n, d)}\n`, 'utf16le')],
  [
    'wrong values in every cell',
    (m, _n, d) =>
      `${csvHeader(d)}\n${CSV_HEADERS.map(() => m.surname).join(d)}\n${CSV_HEADERS.map(() => m.bsn).join(d)}\n`,
  ],
  ['10,000 empty columns', (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d)}${d.repeat(10_000)}\n`],
  ['1,000 short rows', (m, _n, d) => `${csvHeader(d)}\n${`${m.surname}${d}${m.bsn}\n`.repeat(1_000)}`],
  [
    'a row of 1 MiB without newline',
    (m, n, d) =>
      `${csvHeader(d)}\n${csvRow(m, n, d).replace(m.surname, `${m.surname} ${m.email} ${m.bsn} `.repeat(26_000))}`,
  ],
  ['a first line of 1 MiB without newline', (m) => `${m.surname};${m.email},${m.bsn} `.repeat(24_000)],
  [
    'a quoted field of 1 MiB never closed',
    (m, n, d) => `${csvHeader(d)}\n${csvRow(m, n, d)}\n"${`${m.surname}${d}${m.bsn}\n`.repeat(40_000)}`,
  ],
];
for (const [shape, build] of CSV_SHAPES) {
  for (const delimiter of [';', ','] as const) {
    add((m, n) => ({
      name: `batch CSV (${delimiter}): ${shape}`,
      method: 'POST',
      url: BATCHES,
      contentType: rnd.pick(['text/csv', 'text/csv; charset=utf-8', 'TEXT/CSV']),
      body: build(m, n, delimiter),
      ...(shape.startsWith('valid') ? { status: 202 } : {}),
    }));
  }
}
for (const [shape, build] of CSV_SHAPES.filter(([s]) => /1 MiB|valid|unclosed/.test(s))) {
  add((m, n) => {
    const data = build(m, n, ';');
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    // In pieces of a random size and without Content-Length, as a partner's streaming upload arrives.
    const size = 1 + rnd.int(70_000);
    return {
      name: `batch CSV streamed in pieces of ${size} bytes: ${shape}`,
      method: 'POST',
      url: BATCHES,
      contentType: 'text/csv',
      body: () =>
        Readable.from(
          (function* () {
            for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
          })(),
        ),
    };
  });
}
for (let k = 0; k < 30; k++) {
  add((m) => ({
    name: 'batch CSV: random noise',
    method: 'POST',
    url: BATCHES,
    contentType: 'text/csv',
    body: csvNoise(m),
  }));
}

// Feedback: bad and out-of-range instants, bad limits, unknown parameters.
for (const since of SINCE) {
  add(() => ({
    name: `feedback: since=${json(since.slice(0, 40))}`,
    method: 'GET',
    url: `${FEEDBACK}?since=${encodeURIComponent(since)}`,
  }));
}
for (const limit of [
  '0',
  '-1',
  '1',
  '10000',
  '10001',
  '1e3',
  '1.5',
  'abc',
  '',
  'Infinity',
  '0x10',
  ' 5 ',
  '99999999999999999999',
]) {
  add(() => ({
    name: `feedback: limit=${json(limit)}`,
    method: 'GET',
    url: `${FEEDBACK}?limit=${encodeURIComponent(limit)}`,
  }));
}
add(() => ({
  name: 'feedback: since twice',
  method: 'GET',
  url: `${FEEDBACK}?since=2026-01-01T00:00:00Z&since=2026-01-02T00:00:00Z`,
}));
add(() => ({ name: 'feedback: since[]', method: 'GET', url: `${FEEDBACK}?since[a]=2026-01-01T00:00:00Z` }));
add(() => ({
  name: 'feedback: broken percent-encoding',
  method: 'GET',
  url: `${FEEDBACK}?since=%ZZ&limit=%`,
}));
add((m) => ({
  name: 'feedback: with a body',
  method: 'GET',
  url: FEEDBACK,
  contentType: JSON_TYPE,
  body: json({ since: m.surname }),
}));

// Feedback and batch reports with the personal values in the URL.
add((m) => ({
  name: 'feedback: since = the values',
  method: 'GET',
  url: `${FEEDBACK}?since=${encodeURIComponent(`${m.surname} ${m.email} ${m.bsn}`)}`,
}));
add((m) => ({
  name: 'feedback: unknown parameter with the values',
  method: 'GET',
  url: `${FEEDBACK}?bsn=${m.bsn}&email=${encodeURIComponent(m.email)}&surname=${m.surname}`,
}));
add((m) => ({
  name: 'feedback: a parameter named after the resident',
  method: 'GET',
  url: `${FEEDBACK}?${m.surname}=1&${encodeURIComponent(m.email)}=2&${m.bsn}=3`,
}));
for (const id of [
  '{bsn}',
  '{surname}',
  '{email}',
  '{surname}%00',
  '{surname}%ZZ',
  `${randomUUID()}`,
  '00000000-0000-0000-0000-000000000000',
  '..%2F{bsn}',
  'x'.repeat(5_000),
]) {
  add((m) => {
    const path = id
      .replace('{bsn}', m.bsn)
      .replace('{surname}', m.surname)
      .replace('{email}', encodeURIComponent(m.email));
    return { name: `batch report: id ${json(id.slice(0, 40))}`, method: 'GET', url: `${BATCHES}/${path}` };
  });
}

// Authorization: missing, garbage, other schemes, other tokens; every route must answer 401.
const WRONG_AUTH: Array<[string, (token: string, m: Markers) => string | undefined]> = [
  ['none', () => undefined],
  ['empty', () => ''],
  ['Bearer alone', () => 'Bearer'],
  ['Bearer and a space', () => 'Bearer '],
  ['the token without Bearer', (t) => t],
  ['Basic with the values', (_t, m) => `Basic ${Buffer.from(`${m.email}:${m.bsn}`).toString('base64')}`],
  ['Token scheme', (t) => `Token ${t}`],
  ['the token one character short', (t) => `Bearer ${t.slice(0, -1)}`],
  ['the token one character longer', (t) => `Bearer ${t}x`],
  ['the token in capitals', (t) => `Bearer ${t.toUpperCase()}`],
  ['the token twice', (t) => `Bearer ${t} ${t}`],
  ['two Bearer words', (t) => `Bearer Bearer ${t}`],
  ['a made-up vsp_ token', () => `Bearer vsp_${randomUUID()}`],
  ['the values as token', (_t, m) => `Bearer ${m.surname}${m.email}${m.bsn}`],
  ['a token of 50,000 characters', (_t, m) => `Bearer ${m.surname.repeat(3_500)}`],
  ['SQL in the token', () => "Bearer ' or '1'='1"],
  ['a non-ASCII token', () => 'Bearer vsp_ëüï'],
];
const AUTH_ROUTES: Array<[string, 'GET' | 'POST', string]> = [
  ['signal', 'POST', SIGNALS],
  ['batch', 'POST', BATCHES],
  ['objection', 'POST', OBJECTIONS],
  ['feedback', 'GET', FEEDBACK],
  ['batch report', 'GET', `${BATCHES}/${randomUUID()}`],
];
for (const [what, header] of WRONG_AUTH) {
  add((m, n) => {
    const [route, method, url] = rnd.pick(AUTH_ROUTES);
    const body =
      method === 'GET'
        ? undefined
        : url === OBJECTIONS
          ? json(validObjection(m))
          : url === SIGNALS
            ? json(validSignal(m, n))
            : json({ signals: [validSignal(m, n)] });
    return {
      name: `${route}: Authorization ${what}`,
      method,
      url,
      contentType: JSON_TYPE,
      ...(body ? { body } : {}),
      auth: header,
      status: 401,
    };
  });
}
for (const [route, method, url] of AUTH_ROUTES) {
  add((m, n) => ({
    name: `${route}: a revoked token`,
    method,
    url,
    contentType: JSON_TYPE,
    ...(method === 'POST' ? { body: json(url === OBJECTIONS ? validObjection(m) : validSignal(m, n)) } : {}),
    auth: 'revoked',
    status: 401,
  }));
  add((m) => ({
    name: `${route}: a garbage token before a CSV body`,
    method,
    url,
    contentType: 'text/csv',
    ...(method === 'POST' ? { body: `${m.surname};${m.bsn}\n` } : {}),
    auth: (_t, mm) => `Bearer ${mm.bsn}`,
    status: 401,
  }));
}
add((m, n) => ({
  name: 'signal: bearer in lower case (valid)',
  method: 'POST',
  url: SIGNALS,
  contentType: JSON_TYPE,
  body: json(validSignal(m, n)),
  auth: (t) => `bearer ${t}`,
  status: 202,
}));

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

let h: TestHarness;
let app: FastifyInstance;
let token: string;
let revoked: string;
const logs = memoryLogger();
/** The request ids each case's request logged under. */
const requestIds = new Map<Case, Set<string>>();

beforeAll(async () => {
  h = await createHarness();
  app = await buildServer({
    db: h.db,
    temporal: h.client,
    taskQueue: h.taskQueue,
    municipality: MUNICIPALITY,
    logger: logs.logger,
    config: loadConfig({ PARTNER_RATE_LIMIT: '100000' }),
  });
  const partnerId = await ensurePartner(h.db, `Fuzzpartner ${randomUUID()}`, 'Huur');
  ({ token } = await createPartnerToken(h.db, partnerId, 'fuzz'));
  const old = await createPartnerToken(h.db, partnerId, 'fuzz, revoked');
  await revokePartnerToken(h.db, old.tokenId);
  revoked = old.token;
}, 120_000);
afterAll(async () => {
  await app?.close();
  await h?.close();
});

function authorization(c: Case): string | undefined {
  if (c.auth === 'valid') return `Bearer ${token}`;
  if (c.auth === 'revoked') return `Bearer ${revoked}`;
  return c.auth(token, c.markers);
}

/** Sends the case's request; returns the answer and the log lines written meanwhile. */
async function send(c: Case) {
  const headers: Record<string, string> = {};
  const auth = authorization(c);
  if (auth !== undefined) headers.authorization = auth;
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  const payload = typeof c.body === 'function' ? c.body() : c.body;
  const from = logs.lines.length;
  const res = await app.inject({
    method: c.method,
    url: c.url,
    headers,
    ...(payload === undefined ? {} : { payload }),
  });
  // `request completed` is written when the response has finished, which may be just after.
  await new Promise((resolve) => setImmediate(resolve));
  const lines = logs.lines.slice(from);
  const ids = new Set(lines.map((line) => String((JSON.parse(line) as { reqId?: unknown }).reqId ?? '')));
  ids.delete('');
  requestIds.set(c, ids);
  return { res, lines };
}

const BSNS = new Set(cases.map((c) => c.markers.bsn));
const PERSONAL = /fuzzkowski\d{4}|fuzz\d{4}(?:@|%40)example\.org|(?<!\d)\d{9}(?!\d)/gi;

/** The log lines holding any case's personal values. */
const leakedLines = (lines: readonly string[]) =>
  lines.filter((line) =>
    [...line.matchAll(PERSONAL)].some((match) => !/^\d{9}$/.test(match[0]) || BSNS.has(match[0])),
  );
const errorsIn = (lines: readonly string[]) =>
  lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((e) => Number(e.level) >= 50)
    .map((e) => `${e.msg} ${e.route ?? ''} ${JSON.stringify(e.err)?.slice(0, 300)}`);

describe(`the partner API under fuzzing (seed ${SEED}, ${cases.length} requests)`, () => {
  cases.forEach((c) => {
    it(c.name, async () => {
      const { res, lines } = await send(c);
      expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
      if (c.status !== undefined) expect(res.statusCode, res.body.slice(0, 300)).toBe(c.status);
      const answer = `${JSON.stringify(res.headers)}\n${res.body}`;
      expect(leaks(answer, c.markers), res.body.slice(0, 500)).toEqual([]);
      expect(leakedLines(lines).map((line) => line.slice(0, 400))).toEqual([]);
      expect(errorsIn(lines)).toEqual([]);
    });
  });

  it('reports a batch without the values of its rejected rows', async () => {
    const m = markersFor(9_000);
    BSNS.add(m.bsn);
    const auth = { authorization: `Bearer ${token}` };
    const rows = [
      validSignal(m, 9_000),
      withValue(validSignal(m, 9_001), 'amount', `${m.surname} ${m.bsn}`),
      withValue(validSignal(m, 9_002), 'resident.email', `${m.email}@`),
    ];
    const posted = await app.inject({
      method: 'POST',
      url: BATCHES,
      headers: auth,
      payload: { signals: rows },
    });
    expect(posted.statusCode).toBe(202);
    const report = await app.inject({ method: 'GET', url: String(posted.headers.location), headers: auth });
    expect(report.statusCode).toBe(200);
    expect(report.json().rejectedRows).toHaveLength(2);
    expect(leaks(report.body, m)).toEqual([]);
  });

  it('logged none of the values, and no error, after all requests', () => {
    const lines = logs.lines;
    // One line per request at least (api/server.ts logs each answer's route and status).
    expect(lines.length).toBeGreaterThanOrEqual(cases.length);
    expect(leakedLines(lines).map((line) => line.slice(0, 400))).toEqual([]);
    expect(errorsIn(lines)).toEqual([]);
  });
});
