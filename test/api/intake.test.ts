import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { buildServer } from '../../api/server.js';
import { createDatabase } from '../../db/database.js';
import { ensurePartner } from '../../db/repositories/intake.js';
import { createPartnerToken, revokePartnerToken } from '../../db/repositories/partner-tokens.js';
import { loadConfig } from '../../lib/config.js';

const db = createDatabase(inject('databaseUrl'), { max: 3 });
let connection: Connection;
let server: FastifyInstance;

/** A valid signal (fictitious resident) in the partner's JSON shape. */
function signal(overrides: Record<string, unknown> = {}) {
  const n = Math.floor(Math.random() * 1e6);
  return {
    partnerReference: `T-${randomUUID()}`,
    signalDate: '2026-11-01',
    arrearsSince: '2026-08-15',
    amount: 412.5,
    resident: {
      firstNames: 'Jantine',
      surnamePrefix: 'van der',
      surname: `Zwaluwstaart${n}`,
      birthDate: '1971-03-14',
      phone: '06 1234 5678',
      email: 'jantine@voorbeeld.nl',
    },
    address: {
      postcode: '1761ab',
      houseNumber: 100 + (n % 900),
      houseNumberAddition: 'b',
      street: 'Zwaluwstraat',
      city: 'Anna Paulowna',
    },
    ...overrides,
  };
}

async function partnerWithToken(type = 'Huur') {
  const partnerId = await ensurePartner(db, `Partner ${randomUUID()}`, type);
  const { token } = await createPartnerToken(db, partnerId, 'test');
  return { partnerId, token, auth: { authorization: `Bearer ${token}` } };
}

/** How many signals a partner has stored. */
async function signalsOf(partnerId: string): Promise<number> {
  const { n } = await db
    .selectFrom('signals')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('partner_id', '=', partnerId)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** The API with intake limits of its own. */
const serverWith = (limits: Record<string, string>) =>
  buildServer({
    db,
    temporal: new Client({ connection }),
    taskQueue: 't',
    municipality: 'GM1911',
    config: loadConfig(limits),
  });

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  server = await serverWith({ INTAKE_MAX_BODY_BYTES: '200000', INTAKE_MAX_ROWS: '500' });
});
afterAll(async () => {
  await server.close();
  await connection.close();
  await db.destroy();
});

describe('POST /api/v1/signals', () => {
  it('stores a valid signal before answering 202, with normalised postcode and phone', async () => {
    const p = await partnerWithToken();
    const body = signal();
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: p.auth,
      payload: body,
    });
    expect(res.statusCode).toBe(202);
    const { signalId, status, duplicate } = res.json();
    expect(status).toBe('received');
    expect(duplicate).toBe(false);
    const row = await db
      .selectFrom('signals')
      .innerJoin('residents', 'residents.id', 'signals.resident_id')
      .select([
        'signals.partner_id',
        'signals.partner_type',
        'residents.postcode',
        'residents.phone',
        'signals.dispatched_at',
      ])
      .where('signals.id', '=', signalId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      partner_id: p.partnerId,
      partner_type: 'Huur',
      postcode: '1761 AB',
      phone: '0612345678',
    });
    expect(row.dispatched_at).toBeNull();
  });

  it('answers a re-sent partnerReference as duplicate and creates nothing new', async () => {
    const p = await partnerWithToken();
    const body = signal();
    const first = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: p.auth,
      payload: body,
    });
    const again = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: p.auth,
      payload: body,
    });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({
      signalId: first.json().signalId,
      status: 'duplicate',
      duplicate: true,
      classification: 'single',
    });
    const n = await db
      .selectFrom('signals')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('partner_id', '=', p.partnerId)
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1);
  });

  it('stores a signal below the minimum amount with its DDAS status up front, and answers as for any other', async () => {
    const p = await partnerWithToken();
    const send = (payload: Record<string, unknown>) =>
      server.inject({ method: 'POST', url: '/api/v1/signals', headers: p.auth, payload });
    const refused = await send(signal({ amount: 20 }));
    const taken = await send(signal());
    const stored = await db
      .selectFrom('signals')
      .select(['id', 'status'])
      .where('id', 'in', [refused.json().signalId, taken.json().signalId])
      .execute();
    expect(new Map(stored.map((r) => [r.id, r.status]))).toEqual(
      new Map([
        [refused.json().signalId, 'Niet opgepakt: onterecht signaal'],
        [taken.json().signalId, 'Nog niet opgepakt'],
      ]),
    );
    // The screening's verdict is the municipality's: the partner gets the same receipt either way.
    for (const res of [refused, taken]) {
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({
        signalId: expect.any(String),
        status: 'received',
        duplicate: false,
        classification: 'single',
      });
      expect(res.body).not.toMatch(/opgepakt|onterecht/i);
    }
  });

  it('answers JSON that does not parse with a fixed Dutch message, never a piece of the body', async () => {
    const p = await partnerWithToken();
    const post = (url: string, payload: string) =>
      server.inject({
        method: 'POST',
        url,
        headers: { ...p.auth, 'content-type': 'application/json' },
        payload,
      });
    const broken = '{"resident": {"surname": Fuzzkowski, "bsn": "111222333"}}';
    for (const url of ['/api/v1/signals', '/api/v1/signal-batches']) {
      const res = await post(url, broken);
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toEqual({
        error: 'FST_ERR_CTP_INVALID_JSON_BODY',
        message: 'de body is geen geldige JSON',
      });
      expect(res.body).not.toMatch(/Fuzzkowski|111222333|surname/);
    }
    const empty = await post('/api/v1/signals', '');
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({
      error: 'FST_ERR_CTP_EMPTY_JSON_BODY',
      message: 'de body is leeg; stuur JSON',
    });
  });

  it('answers 415 for a body that is not JSON, in Dutch', async () => {
    const p = await partnerWithToken();
    const post = (url: string, contentType: string, payload: string) =>
      server.inject({ method: 'POST', url, headers: { ...p.auth, 'content-type': contentType }, payload });
    const csv = await post('/api/v1/signals', 'text/csv', 'partnerReference;signalDate\nR-1;2026-11-01\n');
    expect(csv.statusCode).toBe(415);
    expect(csv.json()).toEqual({
      error: 'unsupported_media_type',
      message:
        'stuur JSON (Content-Type: application/json); CSV kan alleen als levering naar /api/v1/signal-batches',
    });
    const xml = await post('/api/v1/signals', 'application/xml', '<signal/>');
    expect(xml.statusCode).toBe(415);
    expect(xml.json().message).toBe(csv.json().message);
    const text = await post('/api/v1/signal-batches', 'text/plain', 'signals');
    expect(text.statusCode).toBe(415);
    expect(text.json()).toEqual({
      error: 'unsupported_media_type',
      message: 'stuur JSON (Content-Type: application/json) of CSV (Content-Type: text/csv)',
    });
    const stored = await db
      .selectFrom('signal_batches')
      .select('id')
      .where('partner_id', '=', p.partnerId)
      .union(db.selectFrom('signals').select('id').where('partner_id', '=', p.partnerId))
      .execute();
    expect(stored).toEqual([]);
  });

  const today = new Date();
  const tomorrow = new Date(today.getTime() + 2 * 86_400_000).toISOString().slice(0, 10);
  const base = signal();
  const rules: Array<[string, Record<string, unknown>, string, string]> = [
    [
      'missing partnerReference',
      { partnerReference: undefined },
      'partnerReference',
      'verplicht veld ontbreekt',
    ],
    [
      'too long partnerReference',
      { partnerReference: 'x'.repeat(101) },
      'partnerReference',
      'mag hoogstens 100 tekens bevatten',
    ],
    [
      'a partnerType other than the credential',
      { partnerType: 'Zorg' },
      'partnerType',
      'wijkt af van het type van deze partner (Huur)',
    ],
    [
      'an unknown partnerType',
      { partnerType: 'Telefonie' },
      'partnerType',
      'moet een DDAS-signaalpartner zijn',
    ],
    [
      'a malformed date',
      { signalDate: '01-11-2026' },
      'signalDate',
      'moet een datum zijn in de vorm JJJJ-MM-DD',
    ],
    ['an impossible date', { signalDate: '2026-02-30' }, 'signalDate', 'is geen bestaande datum'],
    ['a future date', { signalDate: tomorrow }, 'signalDate', 'ligt in de toekomst'],
    [
      'arrears after the signal',
      { arrearsSince: '2026-11-02' },
      'arrearsSince',
      'moet voor signalDate liggen',
    ],
    ['a zero amount', { amount: 0 }, 'amount', 'moet groter dan 0 zijn'],
    ['a negative amount', { amount: -5 }, 'amount', 'moet groter dan 0 zijn'],
    ['three decimals', { amount: 10.125 }, 'amount', 'mag hoogstens 2 decimalen hebben'],
    ['an amount as text', { amount: '10' }, 'amount', 'moet een bedrag in euro zijn'],
    ['crisis not a boolean', { crisis: 'ja' }, 'crisis', 'moet true of false zijn'],
    [
      'an unknown field (its name not repeated)',
      { colour: 'blue' },
      '(onbekend veld)',
      'onbekend veld (de naam wordt niet herhaald; zie de documentatie voor de veldnamen)',
    ],
    [
      'a BSN of 8 digits',
      { resident: { ...base.resident, bsn: '12345678' } },
      'resident.bsn',
      'moet 9 cijfers bevatten',
    ],
    [
      'a BSN failing the elfproef',
      { resident: { ...base.resident, bsn: '123456788' } },
      'resident.bsn',
      'voldoet niet aan de elfproef',
    ],
    [
      'no surname',
      { resident: { ...base.resident, surname: '  ' } },
      'resident.surname',
      'mag niet leeg zijn',
    ],
    [
      'a future birth date',
      { resident: { ...base.resident, birthDate: tomorrow } },
      'resident.birthDate',
      'ligt in de toekomst',
    ],
    [
      'an unknown sex',
      { resident: { ...base.resident, sex: 'V' } },
      'resident.sex',
      'moet een van Man, Vrouw, Onbekend zijn',
    ],
    [
      'an implausible phone',
      { resident: { ...base.resident, phone: '12345' } },
      'resident.phone',
      'moet een telefoonnummer zijn (10 cijfers, of internationaal met +)',
    ],
    [
      'an implausible e-mail',
      { resident: { ...base.resident, email: 'jantine@' } },
      'resident.email',
      'moet een e-mailadres zijn',
    ],
    [
      'an unknown resident field (its name not repeated)',
      { resident: { ...base.resident, nickname: 'J' } },
      'resident.(onbekend veld)',
      'onbekend veld (de naam wordt niet herhaald; zie de documentatie voor de veldnamen)',
    ],
    [
      'a foreign postcode',
      { address: { ...base.address, postcode: '12345' } },
      'address.postcode',
      'moet een Nederlandse postcode zijn (1234 AB)',
    ],
    [
      'a postcode with SS',
      { address: { ...base.address, postcode: '1234 SS' } },
      'address.postcode',
      'moet een Nederlandse postcode zijn (1234 AB)',
    ],
    [
      'a fractional house number',
      { address: { ...base.address, houseNumber: 1.5 } },
      'address.houseNumber',
      'moet een geheel getal zijn',
    ],
    [
      'house number 0',
      { address: { ...base.address, houseNumber: 0 } },
      'address.houseNumber',
      'moet minstens 1 zijn',
    ],
    [
      'a long addition',
      { address: { ...base.address, houseNumberAddition: 'ABCDEFG' } },
      'address.houseNumberAddition',
      'moet 1 tot 6 letters of cijfers zijn',
    ],
    [
      'no city',
      { address: { ...base.address, city: undefined } },
      'address.city',
      'verplicht veld ontbreekt',
    ],
    [
      'a city too long',
      { address: { ...base.address, city: 'A'.repeat(101) } },
      'address.city',
      'mag hoogstens 100 tekens bevatten',
    ],
    ['no address', { address: undefined }, 'address', 'verplicht veld ontbreekt'],
    ['no resident', { resident: undefined }, 'resident', 'verplicht veld ontbreekt'],
    [
      'a tab inside partnerReference',
      { partnerReference: 'REF\t42' },
      'partnerReference',
      'mag alleen letters, cijfers en leestekens bevatten',
    ],
    [
      'arrears since the signal date itself',
      { arrearsSince: '2026-11-01' },
      'arrearsSince',
      'moet voor signalDate liggen',
    ],
    ['an amount over ten million', { amount: 10_000_000.01 }, 'amount', 'mag hoogstens 10.000.000 zijn'],
    ['an amount below a cent', { amount: 0.000000001 }, 'amount', 'moet minstens 0,01 zijn'],
    [
      'a control character in a name',
      { resident: { ...base.resident, firstNames: 'Jan\u0007tine' } },
      'resident.firstNames',
      'bevat ongeldige tekens',
    ],
    [
      'a birth date before 1900',
      { resident: { ...base.resident, birthDate: '1899-12-31' } },
      'resident.birthDate',
      'ligt voor 1900',
    ],
    [
      'a surname prefix too long',
      { resident: { ...base.resident, surnamePrefix: 'v'.repeat(21) } },
      'resident.surnamePrefix',
      'mag hoogstens 20 tekens bevatten',
    ],
    [
      'an e-mail address over 254 characters',
      {
        resident: {
          ...base.resident,
          email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.nl`,
        },
      },
      'resident.email',
      'mag hoogstens 254 tekens bevatten',
    ],
    [
      'a postcode starting with 0',
      { address: { ...base.address, postcode: '0123 AB' } },
      'address.postcode',
      'moet een Nederlandse postcode zijn (1234 AB)',
    ],
    [
      'a house number over 99999',
      { address: { ...base.address, houseNumber: 100_000 } },
      'address.houseNumber',
      'mag hoogstens 99999 zijn',
    ],
  ];
  for (const [name, change, field, reason] of rules) {
    it(`refuses ${name} with 422 naming ${field}`, async () => {
      const p = await partnerWithToken();
      const res = await server.inject({
        method: 'POST',
        url: '/api/v1/signals',
        headers: p.auth,
        payload: { ...signal(), ...change },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().problems).toEqual([{ field, reason }]);
      const stored = await db
        .selectFrom('signals')
        .select('id')
        .where('partner_id', '=', p.partnerId)
        .execute();
      expect(stored).toEqual([]);
    });
  }

  it('never echoes a refused BSN or name in the answer', async () => {
    const p = await partnerWithToken();
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: p.auth,
      payload: signal({
        resident: { ...base.resident, bsn: '123456788', surname: 'Geheimnaam' },
        amount: -1,
      }),
    });
    expect(res.statusCode).toBe(422);
    expect(res.body).not.toContain('123456788');
    expect(res.body).not.toContain('Geheimnaam');
  });

  it('answers 401 without a token, with an unknown token and with a revoked token', async () => {
    const p = await partnerWithToken();
    const none = await server.inject({ method: 'POST', url: '/api/v1/signals', payload: signal() });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    const wrong = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: { authorization: `Bearer ${p.token}x` },
      payload: signal(),
    });
    expect(wrong.statusCode).toBe(401);
    const partner = await db
      .selectFrom('partner_tokens')
      .select('id')
      .where('partner_id', '=', p.partnerId)
      .executeTakeFirstOrThrow();
    expect(await revokePartnerToken(db, partner.id)).toBe(true);
    const revoked = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: p.auth,
      payload: signal(),
    });
    expect(revoked.statusCode).toBe(401);
  });

  it('stores tokens only as hashes', async () => {
    const p = await partnerWithToken();
    const rows = await db
      .selectFrom('partner_tokens')
      .selectAll()
      .where('partner_id', '=', p.partnerId)
      .execute();
    expect(JSON.stringify(rows)).not.toContain(p.token);
  });
});

describe('POST /api/v1/signal-batches', () => {
  it('accepts the good rows of a mixed JSON batch and reports every bad row', async () => {
    const p = await partnerWithToken();
    const good = [signal(), signal(), signal()];
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: p.auth,
      payload: {
        signals: [
          good[0],
          { ...signal(), amount: 0 },
          good[1],
          { ...signal(), signalDate: 'gisteren' },
          good[2],
        ],
      },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      status: 'accepted',
      received: 5,
      accepted: 3,
      rejected: 2,
      duplicate: 0,
    });
    expect(res.headers.location).toBe(`/api/v1/signal-batches/${res.json().batchId}`);
    const report = await server.inject({
      method: 'GET',
      url: res.headers.location as string,
      headers: p.auth,
    });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({
      received: 5,
      accepted: 3,
      rejected: 2,
      duplicate: 0,
      started: 0,
      rejectedRows: [
        { row: 2, field: 'amount', reason: 'moet groter dan 0 zijn' },
        { row: 4, field: 'signalDate', reason: 'moet een datum zijn in de vorm JJJJ-MM-DD' },
      ],
    });
  });

  it('reports a whole re-sent batch as duplicates and creates nothing new', async () => {
    const p = await partnerWithToken();
    const signals = [signal(), signal(), signal(), signal()];
    const first = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: p.auth,
      payload: { signals },
    });
    expect(first.json()).toMatchObject({ accepted: 4, duplicate: 0 });
    const count = () => signalsOf(p.partnerId);
    const residentsBefore = await db
      .selectFrom('residents')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const again = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: p.auth,
      payload: { signals },
    });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ received: 4, accepted: 0, duplicate: 4, rejected: 0 });
    expect(await count()).toBe(4);
    const residentsAfter = await db
      .selectFrom('residents')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(residentsAfter.n).toBe(residentsBefore.n);
  });

  it('counts a reference repeated within one batch once', async () => {
    const p = await partnerWithToken();
    const s = signal();
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: p.auth,
      payload: { signals: [s, s] },
    });
    expect(res.json()).toMatchObject({ received: 2, accepted: 1, duplicate: 1 });
  });

  it('answers 422 with every problem when no row is valid, storing no signal', async () => {
    const p = await partnerWithToken();
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: p.auth,
      payload: {
        signals: [
          { ...signal(), amount: 0 },
          { ...signal(), extra: 1 },
        ],
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().problems).toEqual([
      { row: 1, field: 'amount', reason: 'moet groter dan 0 zijn' },
      {
        row: 2,
        field: '(onbekend veld)',
        reason: 'onbekend veld (de naam wordt niet herhaald; zie de documentatie voor de veldnamen)',
      },
    ]);
    expect(
      await db.selectFrom('signals').select('id').where('partner_id', '=', p.partnerId).execute(),
    ).toEqual([]);
  });

  it('refuses a body without a signals list', async () => {
    const p = await partnerWithToken();
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: p.auth,
      payload: { rows: [] },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().problems).toEqual([
      { field: 'signals', reason: 'verplicht veld ontbreekt of is geen lijst' },
    ]);
  });

  const header =
    'partnerReference;signalDate;arrearsSince;amount;crisis;bsn;firstNames;surnamePrefix;surname;birthDate;postcode;houseNumber;houseNumberAddition;street;city';
  const csvRow = (ref: string, amount = '412,50', postcode = '1761 AB') =>
    `${ref};2026-11-01;2026-08-01;${amount};nee;;Jantine;van der;Zwaluw${ref};1971-03-14;${postcode};12;;Zwaluwstraat, achter;Anna Paulowna`;

  it('reads CSV with ; and a UTF-8 BOM, Dutch decimal commas, and a comma inside a value', async () => {
    const p = await partnerWithToken();
    const body = `\uFEFF${header}\r\n${csvRow('C1')}\r\n${csvRow('C2', '0')}\r\n${csvRow('C3', '12.5', '99999')}\r\n${csvRow('C4')}\r\n`;
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...p.auth, 'content-type': 'text/csv; charset=utf-8' },
      payload: body,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ received: 4, accepted: 2, rejected: 2 });
    const report = await server.inject({
      method: 'GET',
      url: `/api/v1/signal-batches/${res.json().batchId}`,
      headers: p.auth,
    });
    expect(report.json().rejectedRows).toEqual([
      { row: 3, field: 'amount', reason: 'moet groter dan 0 zijn' },
      { row: 4, field: 'postcode', reason: 'moet een Nederlandse postcode zijn (1234 AB)' },
    ]);
    const amounts = await db
      .selectFrom('signals')
      .select(['amount'])
      .where('partner_id', '=', p.partnerId)
      .orderBy('partner_reference')
      .execute();
    expect(amounts.map((a) => a.amount)).toEqual(['412.50', '412.50']);
  });

  it('reads a small CSV file sent over a real connection in one piece (as curl and partners send it)', async () => {
    // A body that arrives in one chunk ends the request stream at once; the reader must not lose it.
    const p = await partnerWithToken();
    await server.listen({ host: '127.0.0.1', port: 0 });
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    for (const [separator, body] of [
      [';', `${header}\n${csvRow('S1')}\n${csvRow('S2')}\n`],
      [
        ',',
        `${header.replaceAll(';', ',')}\n${csvRow('S3', '12.50').replace('Zwaluwstraat, achter', 'Zwaluwstraat').replaceAll(';', ',')}`,
      ],
      [';', `\uFEFF${header}`],
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/signal-batches`, {
        method: 'POST',
        headers: { ...p.auth, 'content-type': 'text/csv' },
        body,
      });
      const answer = (await res.json()) as Record<string, unknown>;
      if (body.includes('S1'))
        expect([res.status, answer]).toMatchObject([202, { received: 2, accepted: 2 }]);
      else if (separator === ',')
        expect([res.status, answer]).toMatchObject([202, { received: 1, accepted: 1 }]);
      // A header alone: read, and no row to accept.
      else expect([res.status, answer.message]).toEqual([422, 'de levering bevat geen signalen']);
    }
  });

  it('reads CSV separated by , with a row of the wrong width rejected alone', async () => {
    const p = await partnerWithToken();
    const toComma = (line: string) =>
      line.replace('Zwaluwstraat, achter', 'Zwaluwstraat').replace('412,50', '412.50').replaceAll(';', ',');
    const body = [toComma(header), toComma(csvRow('K1')), 'K2,2026-11-01', toComma(csvRow('K3'))].join('\n');
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...p.auth, 'content-type': 'text/csv' },
      payload: body,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ received: 3, accepted: 2, rejected: 1 });
    const report = await server.inject({
      method: 'GET',
      url: `/api/v1/signal-batches/${res.json().batchId}`,
      headers: p.auth,
    });
    expect(report.json().rejectedRows).toEqual([
      {
        row: 3,
        field: '(rij)',
        reason: 'rij kan niet gelezen worden: aantal kolommen of aanhalingstekens klopt niet',
      },
    ]);
  });

  it('refuses a CSV with an unknown or missing column before storing anything', async () => {
    const p = await partnerWithToken();
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...p.auth, 'content-type': 'text/csv' },
      payload: `${header.replace('surname;', 'achternaam;')}\n${csvRow('H1')}\n`,
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().problems).toEqual([
      { row: 1, field: 'kolom 9', reason: 'onbekende kolomnaam' },
      { row: 1, field: 'surname', reason: 'verplichte kolom ontbreekt' },
    ]);
    expect(
      await db.selectFrom('signal_batches').select('id').where('partner_id', '=', p.partnerId).execute(),
    ).toEqual([]);
  });

  it('names header cells that are no column name by position only: a CSV without its header row repeats none of its values', async () => {
    const p = await partnerWithToken();
    const row = (ref: string) =>
      `${ref};2026-11-01;2026-08-01;412,50;nee;111222333;Fuzzkowski;;Zwaluw;1971-03-14;1761 AB;12;;Zwaluwstraat;Anna Paulowna`;
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...p.auth, 'content-type': 'text/csv' },
      payload: `${row('H-1')}\n${row('H-2')}\n`,
    });
    expect(res.statusCode).toBe(422);
    for (const value of ['H-1', '111222333', 'Fuzzkowski', 'Zwaluw', '1971-03-14', '1761', 'Anna Paulowna']) {
      expect(res.body).not.toContain(value);
    }
    const answer = res.json();
    expect(answer.message).toBe(
      'de eerste regel van de levering is geen kopregel: zet de kolomnamen op de eerste regel',
    );
    expect(answer.problems).toEqual(
      expect.arrayContaining([
        { row: 1, field: 'kolom 1', reason: 'onbekende kolomnaam' },
        { row: 1, field: 'kolom 15', reason: 'onbekende kolomnaam' },
        { row: 1, field: 'surname', reason: 'verplichte kolom ontbreekt' },
      ]),
    );
  });

  it('refuses a repeated column, a row that is not UTF-8, and the rows past the row limit, each with its reason', async () => {
    const p = await partnerWithToken();
    const csv = (payload: string | Buffer) =>
      server.inject({
        method: 'POST',
        url: '/api/v1/signal-batches',
        headers: { ...p.auth, 'content-type': 'text/csv' },
        payload,
      });
    const repeated = await csv(`${header};city\n${csvRow('K1')};Anna Paulowna\n`);
    expect(repeated.statusCode).toBe(422);
    expect(repeated.json().problems).toEqual([
      { row: 1, field: 'city', reason: 'kolom komt twee keer voor' },
    ]);

    // Row 3 holds a byte that is no UTF-8 (0xE9: "é" in Latin-1) in its surname.
    const good = `${header}\n${csvRow('U1')}\n`;
    const bad = csvRow('U2');
    const at = bad.indexOf('Zwaluw');
    const body = Buffer.concat([
      Buffer.from(good),
      Buffer.from(bad.slice(0, at)),
      Buffer.from([0x43, 0xe9, 0x6c]),
      Buffer.from(`${bad.slice(at)}\n`),
    ]);
    const encoding = await csv(body);
    expect(encoding.statusCode).toBe(202);
    const report = await server.inject({
      method: 'GET',
      url: `/api/v1/signal-batches/${encoding.json().batchId}`,
      headers: p.auth,
    });
    expect(report.json()).toMatchObject({ accepted: 1, rejected: 1 });
    expect(report.json().rejectedRows).toEqual([
      { row: 3, field: 'surname', reason: 'is geen geldige UTF-8' },
    ]);

    // The server here takes at most 500 rows: row 502 (the 501st) and what follows are not read.
    const rows = Array.from({ length: 503 }, (_, i) => csvRow(`L${i}`)).join('\n');
    const limited = await csv(`${header}\n${rows}\n`);
    expect(limited.statusCode).toBe(202);
    const limitedReport = await server.inject({
      method: 'GET',
      url: `/api/v1/signal-batches/${limited.json().batchId}`,
      headers: p.auth,
    });
    expect(limitedReport.json()).toMatchObject({ accepted: 500, rejected: 1 });
    expect(limitedReport.json().rejectedRows).toEqual([
      {
        row: 502,
        field: '(batch)',
        reason: 'te veel rijen: hoogstens 500 per levering; deze en volgende rijen zijn niet gelezen',
      },
    ]);
  });

  it('reads a delivery without line breaks as one too-long header (422), and a too-long row as one refused row', async () => {
    const p = await partnerWithToken();
    const csv = (payload: string) =>
      server.inject({
        method: 'POST',
        url: '/api/v1/signal-batches',
        headers: { ...p.auth, 'content-type': 'text/csv' },
        payload,
      });
    const oneLine = await csv(`${header};${'Fuzzkowski;'.repeat(15_000)}`);
    expect(oneLine.statusCode).toBe(422);
    expect(oneLine.json()).toMatchObject({
      message: 'de eerste regel van de levering is geen kopregel: hij is te lang',
      problems: [{ row: 1, field: '(rij)', reason: expect.stringContaining('langer dan 65536 tekens') }],
    });
    expect(oneLine.body).not.toContain('Fuzzkowski');
    const longRow = await csv(
      `${header}\n${csvRow('T1')}\n${'Fuzzkowski;'.repeat(7_000)}\n${csvRow('T2')}\n`,
    );
    expect(longRow.statusCode).toBe(202);
    const report = await server.inject({
      method: 'GET',
      url: `/api/v1/signal-batches/${longRow.json().batchId}`,
      headers: p.auth,
    });
    expect(report.json()).toMatchObject({ accepted: 2, rejected: 1 });
    expect(report.json().rejectedRows).toEqual([
      { row: 3, field: '(rij)', reason: expect.stringContaining('ontbreekt een regeleinde') },
    ]);
  });

  it('answers 413 for a body over the limit, JSON and CSV', async () => {
    const p = await partnerWithToken();
    const big = Array.from({ length: 600 }, () => signal());
    const json = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: p.auth,
      payload: { signals: big },
    });
    expect(json.statusCode).toBe(413);
    expect(json.json()).toEqual({
      error: 'bad_request',
      message: 'de body is groter dan toegestaan (200000 bytes); er is niets opgeslagen',
      problems: [],
    });
    const lines = [header, ...Array.from({ length: 2000 }, (_, i) => csvRow(`B${i}`))].join('\n');
    const csv = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...p.auth, 'content-type': 'text/csv' },
      payload: lines,
    });
    expect(csv.statusCode).toBe(413);
    expect(csv.json()).toEqual(json.json());
    // Streamed without a Content-Length: counted while it arrives.
    const streamed = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...p.auth, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' },
      payload: Readable.from([
        `${header}\n`,
        ...lines
          .split('\n')
          .slice(1, 400)
          .map((l) => `${l}\n`),
        'x'.repeat(200_000),
      ]),
    });
    expect(streamed.statusCode).toBe(413);
    // Cut off before its first chunk committed: nothing stored.
    expect(streamed.json()).toEqual({
      ...json.json(),
      batchId: expect.any(String),
      received: 0,
      accepted: 0,
      rejected: 0,
      duplicate: 0,
    });
  });

  it('answers 413 with what stays stored when a streamed CSV passes the limit after a chunk committed', async () => {
    // More rows than the shared server's row limit, within a smaller body limit.
    const small = await serverWith({ INTAKE_MAX_BODY_BYTES: '150000' });
    onTestFinished(() => small.close());
    const p = await partnerWithToken();
    const rowsOf = (refs: string[]) =>
      refs.map((r) => `${csvRow(r, r === 'S9' ? '0' : '412,50')}\n`).join('');
    const sendCsv = (payload: string | Readable, chunked = false) =>
      small.inject({
        method: 'POST',
        url: '/api/v1/signal-batches',
        headers: {
          ...p.auth,
          'content-type': 'text/csv',
          ...(chunked ? { 'transfer-encoding': 'chunked' } : {}),
        },
        payload,
      });
    const earlier = Array.from({ length: 10 }, (_, i) => `D${i}`);
    expect((await sendCsv(`${header}\n${rowsOf(earlier)}`)).json()).toMatchObject({ accepted: 10 });
    const storedSignals = () => signalsOf(p.partnerId);
    // 10 re-sent rows, one bad row (S9, line 21) and new ones: the first chunk (500 good rows) commits,
    // then the body passes the limit while the next rows are still being read.
    const refs = [...earlier, ...Array.from({ length: 600 }, (_, i) => `S${i}`)];
    async function* body() {
      yield `${header}\n`;
      yield rowsOf(refs);
      const until = Date.now() + 20_000;
      while ((await storedSignals()) < 500 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      yield 'x'.repeat(150_000);
    }
    const res = await sendCsv(Readable.from(body()), true);
    expect(res.statusCode).toBe(413);
    const answer = res.json();
    expect(answer).toEqual({
      error: 'bad_request',
      message:
        'de levering is groter dan toegestaan (150000 bytes) en is afgebroken; de eerste 501 rijen zijn wel ' +
        'verwerkt en blijven bewaard (490 opgeslagen, 1 afgewezen, 10 eerder ontvangen). Stuur de overige ' +
        'rijen in een kleinere levering; wie de verwerkte rijen opnieuw stuurt, krijgt ze gemeld als dubbel',
      problems: [],
      batchId: expect.any(String),
      received: 501,
      accepted: 490,
      rejected: 1,
      duplicate: 10,
    });
    expect(await storedSignals()).toBe(500);
    const report = await small.inject({
      method: 'GET',
      url: `/api/v1/signal-batches/${answer.batchId}`,
      headers: p.auth,
    });
    expect(report.json()).toMatchObject({ status: 'failed', received: 501, accepted: 490, rejected: 1 });
    // As the answer says: the rows it counted come back as duplicates.
    const again = await sendCsv(`${header}\n${rowsOf(refs.slice(0, 501))}`);
    expect(again.json()).toMatchObject({ received: 501, accepted: 0, rejected: 1, duplicate: 500 });
  });

  it('rejects rows beyond the row limit', async () => {
    const p = await partnerWithToken();
    const lines = [header, ...Array.from({ length: 502 }, (_, i) => csvRow(`L${i}`))].join('\n');
    expect(Buffer.byteLength(lines)).toBeLessThan(200_000);
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: { ...p.auth, 'content-type': 'text/csv' },
      payload: lines,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 500, rejected: 1 });
  });

  it("hides another partner's batch", async () => {
    const a = await partnerWithToken();
    const b = await partnerWithToken();
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signal-batches',
      headers: a.auth,
      payload: { signals: [signal()] },
    });
    const other = await server.inject({
      method: 'GET',
      url: `/api/v1/signal-batches/${res.json().batchId}`,
      headers: b.auth,
    });
    expect(other.statusCode).toBe(404);
  });
});

describe('matching', () => {
  it("joins two partners' signals for one resident into one case, and links the household", async () => {
    const huur = await partnerWithToken('Huur');
    const zorg = await partnerWithToken('Zorg');
    const s = signal();
    const a = await server.inject({ method: 'POST', url: '/api/v1/signals', headers: huur.auth, payload: s });
    // Same person written differently: prefix inside the surname, postcode without space, lower case.
    const resident = {
      ...s.resident,
      surnamePrefix: undefined,
      surname: `Van der ${s.resident.surname.toUpperCase()}`,
    };
    const b = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: zorg.auth,
      payload: { ...s, partnerReference: 'Z-1', resident, address: { ...s.address, postcode: '1761AB' } },
    });
    const housemate = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: zorg.auth,
      payload: {
        ...s,
        partnerReference: 'Z-2',
        resident: { ...s.resident, firstNames: 'Kees', surname: 'Anders', birthDate: '1970-01-01' },
      },
    });
    const rows = await db
      .selectFrom('signals')
      .innerJoin('residents', 'residents.id', 'signals.resident_id')
      .select(['signals.id', 'signals.case_key', 'residents.household_key'])
      .where('signals.id', 'in', [a.json().signalId, b.json().signalId, housemate.json().signalId])
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const [ra, rb, rh] = [a, b, housemate].map((r) => byId.get(r.json().signalId)!);
    expect(rb!.case_key).toBe(ra!.case_key);
    expect(rh!.case_key).not.toBe(ra!.case_key);
    expect(rh!.household_key).toBe(ra!.household_key);
  });
});

describe('GET /api/v1/partner-feedback', () => {
  /** A case of the municipality's (the workflow would have made it). */
  async function caseRow() {
    const caseId = randomUUID();
    await db
      .insertInto('cases')
      .values({
        id: caseId,
        workflow_id: `case:GM1911:${caseId}`,
        municipality: 'GM1911',
        case_key: caseId,
        team: 'wijkteam',
        stage: 'declined',
        priority: 'normal',
        policy: JSON.stringify({}),
        partner_types: ['Huur'],
        started_at: new Date(),
      })
      .execute();
    return caseId;
  }

  /** A notification as the workflow records it, begun `secondsAgo` (feedback holds back the last few). */
  async function notify(
    caseId: string,
    signalId: string,
    partnerId: string,
    message: 'picked_up' | 'declined' | 'no_contact' | 'not_picked_up',
    secondsAgo = 60,
  ) {
    await db
      .insertInto('partner_notifications')
      .values({
        idempotency_key: `k-${randomUUID()}`,
        case_id: caseId,
        signal_id: signalId,
        partner_id: partnerId,
        message,
        created_at: sql<Date>`now() - make_interval(secs => ${secondsAgo})`,
      })
      .execute();
  }

  async function send(p: { auth: Record<string, string> }, body = signal()) {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: p.auth,
      payload: body,
    });
    return res.json().signalId as string;
  }

  const feedback = (p: { auth: Record<string, string> }, since?: string | null) =>
    server.inject({
      method: 'GET',
      url: `/api/v1/partner-feedback${since ? `?since=${encodeURIComponent(since)}` : ''}`,
      headers: p.auth,
    });

  it('refuses a since outside the years 2000 to 9999 with 400 naming the field, and reads on at either end', async () => {
    const p = await partnerWithToken();
    for (const since of ['0000-01-01T00:00:00Z', '1999-12-31T23:59:59Z', '0001-01-01T00:00:00+01:00']) {
      const res = await feedback(p, since);
      expect(res.statusCode, since).toBe(400);
      expect(res.json()).toEqual({
        error: 'bad_request',
        message: 'ongeldige parameter: since',
        problems: [{ field: 'since', reason: 'moet een tijdstip tussen de jaren 2000 en 9999 zijn' }],
      });
    }
    for (const since of ['2000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z']) {
      const res = await feedback(p, since);
      expect(res.statusCode, since).toBe(200);
      expect(res.json()).toEqual({ feedback: [], next: null });
    }
  });

  it("gives a partner its own feedback only, never another partner's", async () => {
    const a = await partnerWithToken();
    const b = await partnerWithToken();
    const signalId = await send(a);
    await notify(await caseRow(), signalId, a.partnerId, 'declined');
    const mine = await feedback(a);
    expect(mine.statusCode).toBe(200);
    expect(mine.json().feedback).toEqual([
      expect.objectContaining({
        signalId,
        partnerReference: expect.any(String),
        pickedUp: true,
        declined: true,
      }),
    ]);
    const theirs = await feedback(b);
    expect(theirs.json()).toEqual({ feedback: [], next: null });
    const later = await feedback(a, mine.json().next);
    expect(later.json().feedback).toEqual([]);
    const bad = await server.inject({
      method: 'GET',
      url: '/api/v1/partner-feedback?since=gisteren',
      headers: a.auth,
    });
    expect(bad.statusCode).toBe(400);
  });

  it('gives two partners of one resident each their own rounds, an objected one as not picked up only', async () => {
    const huur = await partnerWithToken('Huur');
    const zorg = await partnerWithToken('Zorg');
    const s = signal();
    const fromHuur = await send(huur, s);
    const fromZorg = await send(zorg, { ...s, partnerReference: `Z-${randomUUID()}` });
    const other = await send(zorg);
    const caseId = await caseRow();
    // The resident objected: the round ended "Niet opgepakt: andere reden" for both partners' signals.
    await db
      .updateTable('signals')
      .set({ status: 'Niet opgepakt: andere reden' })
      .where('id', 'in', [fromHuur, fromZorg])
      .execute();
    await notify(caseId, fromHuur, huur.partnerId, 'not_picked_up', 30);
    await notify(caseId, fromZorg, zorg.partnerId, 'not_picked_up', 30);
    await notify(await caseRow(), other, zorg.partnerId, 'picked_up', 20);

    const ofHuur = await feedback(huur);
    expect(ofHuur.json().feedback).toEqual([
      {
        signalId: fromHuur,
        partnerReference: s.partnerReference,
        pickedUp: false,
        declined: false,
        at: expect.any(String),
      },
    ]);
    const ofZorg = await feedback(zorg);
    expect(ofZorg.json().feedback).toEqual([
      expect.objectContaining({ signalId: fromZorg, pickedUp: false, declined: false }),
      expect.objectContaining({ signalId: other, pickedUp: true, declined: false }),
    ]);
    for (const res of [ofHuur, ofZorg]) {
      expect(Object.keys(res.json().feedback[0]).sort()).toEqual([
        'at',
        'declined',
        'partnerReference',
        'pickedUp',
        'signalId',
      ]);
      expect(res.body).not.toMatch(/reden|bezwaar|opgepakt|objected|not_picked_up/i);
    }
  });

  it('holds back notifications of the last seconds, so one that commits late is not skipped', async () => {
    const p = await partnerWithToken();
    const [first, second] = [await send(p), await send(p)];
    const caseId = await caseRow();
    // The second notification is in; the first began a moment earlier but has not committed yet.
    await notify(caseId, second, p.partnerId, 'picked_up', 1);
    const poll = await feedback(p);
    expect(poll.json()).toEqual({ feedback: [], next: null });
    await notify(caseId, first, p.partnerId, 'declined', 2);
    // Both are settled a few seconds later (aged here instead of waiting).
    await sql`update partner_notifications set created_at = created_at - interval '10 seconds'
      where partner_id = ${p.partnerId}`.execute(db);
    const next = await feedback(p, poll.json().next);
    expect(next.json().feedback.map((f: { signalId: string }) => f.signalId)).toEqual([first, second]);
  });
});

describe('OpenAPI', () => {
  it('describes the partner routes at /openapi.json and serves /docs', async () => {
    const res = await server.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const spec = res.json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/signals',
        '/api/v1/signal-batches',
        '/api/v1/signal-batches/{id}',
        '/api/v1/partner-feedback',
      ]),
    );
    expect(spec.components.securitySchemes.partnerToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    const docs = await server.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
  });
});
