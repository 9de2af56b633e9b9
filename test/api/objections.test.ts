/**
 * The objection register on the real Temporal dev server and PostgreSQL: partners report objections
 * (`POST /api/v1/objections`), caseworkers record them with an outcome, and in both cases a later signal
 * for that resident (through `POST /api/v1/signals`) is not picked up and starts no outreach, while a round
 * of outreach already running ends as objected (through the objection outbox, `dispatchObjections`).
 */

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDelivery } from '../../api/ddas/delivery.js';
import { OWN_UPDATE_FIRST_MS } from '../../api/routes/caseworkers/complete-task.js';
import { buildServer } from '../../api/server.js';
import { ensurePartner } from '../../db/repositories/intake.js';
import { objectionKeys } from '../../db/repositories/objections.js';
import { createPartnerToken } from '../../db/repositories/partner-tokens.js';
import { loadConfig } from '../../lib/config.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import { dispatchObjections } from '../../worker/objection-dispatcher.js';
import { OBJECTION_RESULT } from '../../workflows/case-machine.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import type { OutreachPolicy } from '../../workflows/policy.js';
import { startApiHarness } from '../helpers/api.js';
import { MUNICIPALITY } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';
import { eventually, makeUser, openTask, signIn, testPolicy } from './caseworker-helpers.js';

const SECRET = 'objections-test-matching-secret';
const OBJECTED = 'Niet opgepakt: andere reden';

let h: TestHarness;
let app: FastifyInstance;

beforeAll(async () => {
  ({ h, app } = await startApiHarness({ config: loadConfig({ MATCHING_SECRET: SECRET }) }));
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

/** A random BSN that passes the elfproef (so tests sharing the database never meet). */
function randomBsn(): string {
  for (;;) {
    const digits = Array.from({ length: 8 }, () => Math.floor(Math.random() * 10));
    const sum = digits.reduce((s, d, i) => s + d * (9 - i), 0);
    const check = sum % 11;
    if (check < 10 && digits[0] !== 0) return `${digits.join('')}${check}`;
  }
}

/** A fictitious resident, unique per call, in the partner's JSON shape. */
function person(withBsn = false) {
  const n = Math.floor(Math.random() * 1e9);
  return {
    resident: {
      ...(withBsn ? { bsn: randomBsn() } : {}),
      firstNames: 'Geertje',
      surnamePrefix: 'de',
      surname: `Bezwaarmaker${n}`,
      birthDate: '1968-05-21',
    },
    address: {
      postcode: `${1000 + (n % 8999)} RB`,
      houseNumber: 1 + (n % 500),
      houseNumberAddition: 'A',
      street: 'Bezwaarstraat',
      city: 'Wieringerwerf',
    },
  };
}
type Person = ReturnType<typeof person>;

/** The objection body for a person: only what matching needs. */
function objectionOf(p: Person, parts: { bsn?: boolean; person?: boolean } = { person: true }) {
  const r = p.resident as Person['resident'] & { bsn?: string };
  return {
    resident: {
      ...(parts.bsn ? { bsn: r.bsn } : {}),
      ...(parts.person ? { surnamePrefix: r.surnamePrefix, surname: r.surname, birthDate: r.birthDate } : {}),
    },
    ...(parts.person
      ? {
          address: {
            postcode: p.address.postcode,
            houseNumber: p.address.houseNumber,
            houseNumberAddition: p.address.houseNumberAddition,
          },
        }
      : {}),
  };
}

async function partner(type: string) {
  const partnerId = await ensurePartner(h.db, `Objection test ${type} ${randomUUID()}`, type);
  const { token } = await createPartnerToken(h.db, partnerId, 'test');
  return { partnerId, headers: { authorization: `Bearer ${token}` } };
}

async function sendSignal(headers: Record<string, string>, p: Person, withBsn = true) {
  const { bsn, ...rest } = p.resident as Person['resident'] & { bsn?: string };
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/signals',
    headers,
    payload: {
      partnerReference: `OBJ-${randomUUID()}`,
      signalDate: '2026-11-01',
      arrearsSince: '2026-08-01',
      amount: 350,
      resident: withBsn && bsn ? { bsn, ...rest } : rest,
      address: p.address,
    },
  });
  expect(res.statusCode).toBe(202);
  return res.json() as { signalId: string; status: string; duplicate: boolean; classification: string };
}

/** The DDAS status the municipality stored for a signal (the partner's answer never carries it). */
async function storedStatus(signalId: string) {
  const row = await h.db
    .selectFrom('signals')
    .select('status')
    .where('id', '=', signalId)
    .executeTakeFirstOrThrow();
  return row.status;
}

async function dispatch(
  signalId: string,
  policyFor: () => OutreachPolicy = testPolicy,
  taskQueue: string = h.taskQueue,
) {
  await dispatchPending({
    db: h.db,
    client: h.client,
    taskQueue,
    policyFor,
    signalIds: [signalId],
  });
  return h.db.selectFrom('signals').select('case_key').where('id', '=', signalId).executeTakeFirstOrThrow();
}

/** The case once its workflow screened the first signal, with its tasks and letters. */
async function screenedCase(caseKey: string) {
  const c = await eventually(() =>
    h.db
      .selectFrom('cases')
      .select(['id', 'stage'])
      .where('case_key', '=', caseKey)
      .where('stage', 'not in', ['screening', 'waitingForSignal'])
      .executeTakeFirst(),
  );
  const count = (table: 'tasks' | 'outbound_messages') =>
    h.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('case_id', '=', c.id)
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  return { ...c, tasks: await count('tasks'), letters: await count('outbound_messages') };
}

const registerRows = (p: Person, parts: { bsn?: boolean; person?: boolean }) => {
  const r = p.resident as Person['resident'] & { bsn?: string };
  const keys = objectionKeys(SECRET, {
    bsn: parts.bsn ? (r.bsn ?? null) : null,
    person: parts.person
      ? {
          surnamePrefix: r.surnamePrefix,
          surname: r.surname,
          birthDate: r.birthDate,
          postcode: p.address.postcode,
          houseNumber: p.address.houseNumber,
          houseNumberAddition: p.address.houseNumberAddition,
        }
      : null,
  });
  return h.db
    .selectFrom('objections')
    .select(['match_key', 'source'])
    .where('municipality', '=', MUNICIPALITY)
    .where('match_key', 'in', keys)
    .execute();
};

/** A resident (with a BSN) whose case has sent its letter and now has its first call open. */
async function caseWithPhoneTask(policyFor?: () => OutreachPolicy) {
  const insurer = await partner('Zorg');
  const p = person(true);
  const first = await sendSignal(insurer.headers, p, true);
  const { case_key } = await dispatch(first.signalId, policyFor);
  const task = await openTask(h.db, case_key, 'phone', 1);
  return { insurer, p, task, caseKey: case_key };
}

/** `POST /api/v1/objections` with a partner's headers (on `server`, default the app over the real servers). */
const postObjection = (headers: Record<string, string>, payload: object, server: FastifyInstance = app) =>
  server.inject({ method: 'POST', url: '/api/v1/objections', headers, payload });

/** The objection outbox rows of a resident's case. */
const deliveriesOf = (caseKey: string) =>
  h.db
    .selectFrom('objection_deliveries')
    .select(['outcome', 'attempts', 'last_error', 'delivered_at', 'deliver_after'])
    .where('case_key', '=', caseKey)
    .orderBy('created_at')
    .execute();

const deliverObjections = (caseKey: string, client: Client = h.client) =>
  dispatchObjections({ db: h.db, client, objectionCaseKeys: [caseKey], handOverTimeoutMs: 2_000 });

/** What a running case has done so far: stage and result, open tasks, letters sent. */
async function caseState(caseKey: string) {
  const c = await h.db
    .selectFrom('cases')
    .select(['id', 'stage', 'result'])
    .where('case_key', '=', caseKey)
    .orderBy('started_at', 'desc')
    .executeTakeFirstOrThrow();
  const tasks = await h.db
    .selectFrom('tasks')
    .select(['kind', 'status'])
    .where('case_id', '=', c.id)
    .orderBy('created_at')
    .execute();
  const letters = await h.db
    .selectFrom('outbound_messages')
    .select('template')
    .where('case_id', '=', c.id)
    .execute();
  return { ...c, tasks, letters: letters.map((l) => l.template) };
}

/** Waits until the case's round has ended as objected. */
const objectedRound = (caseKey: string) =>
  eventually(async () => {
    const state = await caseState(caseKey);
    return state.result === OBJECTION_RESULT ? state : undefined;
  });

/** Waits until the case's round has ended as objected, and the workflow has finished (data deleted). */
async function objectedAndClosed(caseKey: string) {
  const ended = await objectedRound(caseKey);
  await h.client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, caseKey)).result();
  return { ended, closed: await caseState(caseKey) };
}

describe('POST /api/v1/objections', () => {
  it("keeps a later signal from any partner from starting outreach: 'Niet opgepakt: andere reden'", async () => {
    const insurer = await partner('Zorg');
    const landlord = await partner('Huur');
    const p = person();
    const res = await postObjection(landlord.headers, objectionOf(p));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      status: 'registered',
      message: 'Het bezwaar staat in het register: signalen over deze inwoner leiden niet tot contact.',
    });
    expect(await registerRows(p, { person: true })).toEqual([expect.objectContaining({ source: 'partner' })]);

    // A resident with no objection, signalled at the same moment, is picked up as usual.
    const control = await sendSignal(insurer.headers, person(), false);
    expect(await storedStatus(control.signalId)).toBe('Nog niet opgepakt');

    const signal = await sendSignal(insurer.headers, p, false);
    expect(await storedStatus(signal.signalId)).toBe(OBJECTED);
    // The partner cannot tell: the answer is the same as for a resident not on the register.
    expect({ ...signal, signalId: '' }).toEqual({ ...control, signalId: '' });
    expect(JSON.stringify(signal)).not.toMatch(/opgepakt|reden|bezwaar|objected/i);
    const { case_key } = await dispatch(signal.signalId);
    const screened = await screenedCase(case_key);
    expect(screened.stage).not.toMatch(/letter|phone|visit/);
    expect({ tasks: screened.tasks, letters: screened.letters }).toEqual({ tasks: 0, letters: 0 });
  });

  it('answers a re-send, and a report from a second partner, exactly as the first: one register entry', async () => {
    const a = await partner('Water');
    const b = await partner('Energie');
    const p = person();
    const send = (headers: Record<string, string>) => postObjection(headers, objectionOf(p));
    const first = await send(a.headers);
    const again = await send(a.headers);
    const other = await send(b.headers);
    for (const res of [again, other]) {
      expect(res.statusCode).toBe(first.statusCode);
      expect(res.body).toBe(first.body);
    }
    expect(await registerRows(p, { person: true })).toHaveLength(1);
  });

  it('registers BSN and birth date + address alike, so signals with and without a BSN are both stopped', async () => {
    const insurer = await partner('Zorg');
    const p = person(true);
    const res = await postObjection(insurer.headers, objectionOf(p, { bsn: true, person: true }));
    expect(res.statusCode).toBe(201);
    expect(await registerRows(p, { bsn: true, person: true })).toHaveLength(2);
    expect(await storedStatus((await sendSignal(insurer.headers, p, true)).signalId)).toBe(OBJECTED);
    expect(await storedStatus((await sendSignal(insurer.headers, p, false)).signalId)).toBe(OBJECTED);
  });

  it('flags a resident already known by BSN when the objection names only birth date and address', async () => {
    const insurer = await partner('Zorg');
    const landlord = await partner('Huur');
    const p = person(true);
    const first = await sendSignal(insurer.headers, p, true);
    expect(await storedStatus(first.signalId)).toBe('Nog niet opgepakt');
    const res = await postObjection(landlord.headers, objectionOf(p, { person: true }));
    expect(res.statusCode).toBe(201);
    const resident = await h.db
      .selectFrom('residents as r')
      .innerJoin('signals as s', 's.resident_id', 'r.id')
      .select('r.objected')
      .where('s.id', '=', first.signalId)
      .executeTakeFirstOrThrow();
    expect(resident.objected).toBe(true);
    expect(await storedStatus((await sendSignal(insurer.headers, p, true)).signalId)).toBe(OBJECTED);
  });

  it('refuses invalid identities with every field and reason, never echoing a value', async () => {
    const { headers } = await partner('Huur');
    const post = (payload: unknown) => postObjection(headers, payload as object);
    const problemsOf = async (payload: unknown) => {
      const res = await post(payload);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ error: 'invalid', message: 'het bezwaar is ongeldig' });
      return res;
    };

    const empty = await problemsOf({ resident: {} });
    expect(empty.json().problems).toEqual([
      { field: 'resident.surname', reason: 'verplicht veld ontbreekt (of geef een bsn)' },
      { field: 'resident.birthDate', reason: 'verplicht veld ontbreekt (of geef een bsn)' },
      { field: 'address', reason: 'verplicht veld ontbreekt (of geef een bsn)' },
    ]);

    const badBsn = await problemsOf({ resident: { bsn: '123456789' } });
    expect(badBsn.json().problems).toEqual([
      { field: 'resident.bsn', reason: 'voldoet niet aan de elfproef' },
    ]);
    expect(badBsn.body).not.toContain('123456789');

    const partial = await problemsOf({ resident: { bsn: randomBsn(), surname: 'Visser' } });
    expect(partial.json().problems).toEqual([
      {
        field: 'resident.birthDate',
        reason: 'verplicht zodra geboortedatum, achternaam of adres is opgegeven',
      },
      { field: 'address', reason: 'verplicht zodra geboortedatum, achternaam of adres is opgegeven' },
    ]);

    const p = person();
    const wrong = objectionOf(p) as { resident: Record<string, unknown>; address: Record<string, unknown> };
    wrong.resident.firstNames = 'Geertje';
    wrong.resident.birthDate = '2999-01-01';
    wrong.address.postcode = '0123 XY';
    const many = await problemsOf(wrong);
    expect(many.json().problems).toEqual(
      expect.arrayContaining([
        {
          field: 'resident.(onbekend veld)',
          reason: 'onbekend veld (de naam wordt niet herhaald; zie de documentatie voor de veldnamen)',
        },
        { field: 'resident.birthDate', reason: 'ligt in de toekomst' },
        { field: 'address.postcode', reason: 'moet een Nederlandse postcode zijn (1234 AB)' },
      ]),
    );
    expect(many.body).not.toContain(p.resident.surname);
    expect(many.body).not.toContain('0123');

    const badJson = await app.inject({
      method: 'POST',
      url: '/api/v1/objections',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"resident":',
    });
    expect(badJson.statusCode).toBe(400);
    const csv = await app.inject({
      method: 'POST',
      url: '/api/v1/objections',
      headers: { ...headers, 'content-type': 'text/csv' },
      payload: 'bsn\n123456782\n',
    });
    expect(csv.statusCode).toBe(415);
    expect(await registerRows(p, { person: true })).toEqual([]);
  });

  it('needs a partner token, and offers partners no reading or withdrawal of the register', async () => {
    const p = person();
    const anonymous = await app.inject({
      method: 'POST',
      url: '/api/v1/objections',
      payload: objectionOf(p),
    });
    expect(anonymous.statusCode).toBe(401);
    const forged = await app.inject({
      method: 'POST',
      url: '/api/v1/objections',
      headers: { authorization: 'Bearer vsp_not-a-token' },
      payload: objectionOf(p),
    });
    expect(forged.statusCode).toBe(401);
    expect(await registerRows(p, { person: true })).toEqual([]);

    const a = await partner('Huur');
    const b = await partner('Zorg');
    await postObjection(a.headers, objectionOf(p));
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await app.inject({ method, url: '/api/v1/objections', headers: b.headers });
      expect(res.statusCode).toBe(404);
    }
    expect(await registerRows(p, { person: true })).toHaveLength(1);
  });

  it('ends a round already running: the open call is cancelled and no further letter goes out', async () => {
    const { p, caseKey: case_key } = await caseWithPhoneTask();
    const landlord = await partner('Huur');
    const running = await caseState(case_key);
    expect(running.letters).toEqual(['first']);
    expect(running.tasks).toEqual([{ kind: 'phone', status: 'open' }]);

    // Another partner reports the objection, naming the resident without the BSN.
    const res = await postObjection(landlord.headers, objectionOf(p));
    expect(res.statusCode).toBe(201);
    expect(await deliverObjections(case_key)).toBe(1);

    const { ended, closed } = await objectedAndClosed(case_key);
    expect(ended.stage).toBe('objected');
    expect(closed.stage).toBe('closed');
    expect(closed.tasks).toEqual([{ kind: 'phone', status: 'cancelled' }]);
    expect(closed.letters).toEqual(['first']);
    const notified = await h.db
      .selectFrom('partner_notifications')
      .select('message')
      .where('case_id', '=', closed.id)
      .execute();
    expect(notified).toEqual([{ message: 'not_picked_up' }]);
    const rounds = await h.db
      .selectFrom('case_rounds')
      .select(['round', 'result'])
      .where('case_id', '=', closed.id)
      .execute();
    expect(rounds).toEqual([{ round: 1, result: OBJECTION_RESULT }]);
    expect(await deliveriesOf(case_key)).toEqual([expect.objectContaining({ outcome: 'signalled' })]);
  });

  it('changes nothing for a resident without a running case', async () => {
    const insurer = await partner('Zorg');
    // Never signalled: the register takes the entry, and there is no case to tell.
    const stranger = person(true);
    const unknown = await postObjection(insurer.headers, objectionOf(stranger, { bsn: true, person: true }));
    expect(unknown.statusCode).toBe(201);
    expect(await registerRows(stranger, { bsn: true, person: true })).toHaveLength(2);

    // Known, but their case workflow no longer runs: the notice finds no case and is settled.
    const { p, caseKey: case_key } = await caseWithPhoneTask();
    await h.client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, case_key)).terminate('test: case gone');
    const res = await postObjection(insurer.headers, objectionOf(p, { bsn: true }));
    expect(res.statusCode).toBe(201);
    expect(res.body).toBe(unknown.body);
    expect(await deliverObjections(case_key)).toBe(1);
    expect(await deliveriesOf(case_key)).toEqual([expect.objectContaining({ outcome: 'no_case' })]);
    expect(await deliverObjections(case_key)).toBe(0);
  });

  it('answers 201 while Temporal is down, and ends the running round once it is back', async () => {
    const dead = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
    const offline = await buildServer({
      db: h.db,
      temporal: dead,
      taskQueue: h.taskQueue,
      municipality: MUNICIPALITY,
      config: loadConfig({ MATCHING_SECRET: SECRET }),
    });
    try {
      const { insurer, p, caseKey: case_key } = await caseWithPhoneTask();
      const res = await postObjection(insurer.headers, objectionOf(p, { bsn: true }), offline);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ status: 'registered' });

      // The dispatcher cannot reach Temporal: the notice stays queued and backs off.
      expect(await deliverObjections(case_key, dead)).toBe(0);
      const [waiting] = await deliveriesOf(case_key);
      expect(waiting).toMatchObject({ outcome: null, delivered_at: null, attempts: 1 });
      expect(waiting?.last_error).toBeTruthy();
      expect(waiting!.deliver_after.getTime()).toBeGreaterThan(Date.now());
      expect((await caseState(case_key)).tasks).toEqual([{ kind: 'phone', status: 'open' }]);

      // Back: once the back-off has passed, the round ends.
      await h.db
        .updateTable('objection_deliveries')
        .set({ deliver_after: sql<Date>`now()` })
        .where('case_key', '=', case_key)
        .execute();
      expect(await deliverObjections(case_key)).toBe(1);
      const { closed } = await objectedAndClosed(case_key);
      expect(closed.tasks).toEqual([{ kind: 'phone', status: 'cancelled' }]);
      expect(closed.letters).toEqual(['first']);
    } finally {
      await offline.close();
      await dead.connection.close();
    }
  });

  it('is described in /openapi.json', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const op = doc.paths['/api/v1/objections'].post;
    expect(op.security).toEqual([{ partnerToken: [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['201', '401', '422']));
    expect(Object.keys(op.requestBody.content['application/json'].schema.properties)).toEqual([
      'resident',
      'address',
    ]);
  });
});

describe('a round ended as objected, as caseworkers and CBS see it', () => {
  it('shows the end on the case page without actions, drops the call from the tasks, and reports it to DDAS', async () => {
    // Retention long enough to look at the case while it waits, objected, for the deletion.
    const policy = () => ({
      ...testPolicy(),
      retention: { ...testPolicy().retention, afterDeclineMs: 120_000 },
    });
    const { insurer, p, task, caseKey } = await caseWithPhoneTask(policy);
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const { cookie } = await signIn(app, user);
    const casePage = async () =>
      (await app.inject({ method: 'GET', url: `/zaken/${task.case_id}`, headers: { cookie } })).body;
    const teamTasks = async () => {
      const url = `/api/v1/tasks?scope=team&area=${p.address.postcode.slice(0, 4)}&pageSize=100`;
      const items = (await app.inject({ method: 'GET', url, headers: { cookie } })).json().items;
      return (items as Array<{ id: string }>).map((t) => t.id);
    };
    // While the round runs: the call is a task, and the page offers the resident's own contact.
    const running = await casePage();
    expect(running).toContain('De inwoner nam zelf contact op');
    expect(running).toContain(`href="/taken/${task.id}"`);
    expect(await teamTasks()).toContain(task.id);

    expect((await postObjection(insurer.headers, objectionOf(p, { bsn: true }))).statusCode).toBe(201);
    expect(await deliverObjections(caseKey)).toBe(1);
    const ended = await objectedRound(caseKey);
    expect(ended.stage).toBe('objected');

    const page = await casePage();
    expect(page).toContain('<dd id="case-stage">Bezwaar tegen gegevensdeling (afgesloten)</dd>');
    expect(page).toContain(`<dt>Resultaat</dt><dd>${OBJECTED}</dd>`);
    expect(page).toContain('Gegevens verwijderen op');
    expect(page).toContain('Taak vervallen: Bellen, poging 1');
    expect(page).not.toContain('De inwoner nam zelf contact op');
    expect(page).not.toContain(`action="/zaken/${task.case_id}/contact"`);
    expect(page).not.toContain('uitkomst vastleggen');
    expect(await teamTasks()).not.toContain(task.id);
    const json = await app.inject({
      method: 'GET',
      url: `/api/v1/cases/${task.case_id}`,
      headers: { cookie },
    });
    expect(json.json()).toMatchObject({ stage: 'objected', result: OBJECTED, closedAt: null });

    // DDAS: the zaak ended "Niet opgepakt: andere reden" after its letter; the signal itself was picked up.
    const now = new Date();
    const delivery = await buildDelivery(
      h.db,
      {
        aanleverperiodeStartdatum: '2026-11-01',
        aanleverperiodeEinddatum: new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' }).format(
          now,
        ),
        aanleverende_organisatie: MUNICIPALITY,
      },
      { municipality: MUNICIPALITY, supplierCode: 'test', organisationName: 'Gemeente Test', now },
    );
    type Zaak = {
      resultaat?: string;
      einddatumMatchingperiode?: string;
      vroegsignalen?: Array<{ ID: string }>;
      contactpogingen?: Array<{ soort?: string; bereikt?: boolean }>;
    };
    const gegevens = JSON.parse(delivery.body.toString('utf8')).gegevens as {
      leveringen: Array<{
        gemeentecode: string;
        vroegsignalen?: Array<{ ID: string; status?: string }>;
        vroegsignaalzaken?: Zaak[];
      }>;
    };
    const levering = gegevens.leveringen.find((l) => l.gemeentecode === MUNICIPALITY)!;
    const [signal] = await h.db.selectFrom('signals').select('id').where('case_key', '=', caseKey).execute();
    const zaak = levering.vroegsignaalzaken?.find((z) => z.vroegsignalen?.some((v) => v.ID === signal!.id));
    expect(zaak).toMatchObject({ resultaat: OBJECTED, einddatumMatchingperiode: expect.any(String) });
    expect(zaak!.contactpogingen?.map((c) => `${c.soort}:${c.bereikt}`)).toEqual(['Brief:false']);
    expect(levering.vroegsignalen?.find((v) => v.ID === signal!.id)?.status).toBe('Opgepakt');
    await h.client.workflow.getHandle(caseWorkflowId(MUNICIPALITY, caseKey)).terminate('test finished');
  });
});

describe('an objection registered before the first letter, its notice not yet handled', () => {
  it('withholds the letter (no contact attempt), says why on the case page and in the history, and ends the round', async () => {
    // The case's first step runs on a queue of its own, on a worker started only once the register has
    // the resident: as if the notice were still on its way while the case registered and chose its letter.
    const later = await createHarness();
    try {
      const insurer = await partner('Zorg');
      const p = person(true);
      const sent = await sendSignal(insurer.headers, p, true);
      expect(await storedStatus(sent.signalId)).toBe('Nog niet opgepakt');
      const { case_key: caseKey } = await dispatch(sent.signalId, testPolicy, later.taskQueue);
      expect((await postObjection(insurer.headers, objectionOf(p, { bsn: true }))).statusCode).toBe(201);
      await later.startWorker();

      // The first step is done once its deadline (the letter's wait) is in the read model.
      const c = await eventually(() =>
        h.db
          .selectFrom('cases')
          .select(['id', 'stage'])
          .where('case_key', '=', caseKey)
          .where('next_deadline', 'is not', null)
          .executeTakeFirst(),
      );
      expect(c.stage).toBe('letter');
      const letters = await h.db
        .selectFrom('outbound_messages')
        .select(['template', 'status', 'content'])
        .where('case_id', '=', c.id)
        .execute();
      expect(letters).toEqual([{ template: 'first', status: 'objected', content: null }]);
      const attempts = await h.db
        .selectFrom('contact_attempts')
        .select('soort')
        .where('case_id', '=', c.id)
        .execute();
      expect(attempts).toEqual([]);

      expect(await deliverObjections(caseKey, later.client)).toBe(1);
      const ended = await objectedRound(caseKey);
      expect(ended.stage).toBe('objected');

      const user = await makeUser(h.db, ['caseworker', 'manager'], ['schulddienstverlening'], 'mgr');
      const { cookie } = await signIn(app, user);
      const page = (await app.inject({ method: 'GET', url: `/zaken/${c.id}`, headers: { cookie } })).body;
      expect(page).toContain('Eerste brief niet verstuurd: de inwoner staat in het bezwaarregister');
      expect(page).not.toContain('Eerste brief verstuurd');
      const history = await app.inject({
        method: 'GET',
        url: `/api/v1/cases/${c.id}/history`,
        headers: { cookie },
      });
      expect(history.statusCode).toBe(200);
      const texts = (history.json() as { entries: Array<{ kind: string; text: string }> }).entries.map(
        (e) => `${e.kind}: ${e.text}`,
      );
      expect(texts).toContain(
        'withheld: Eerste brief niet verstuurd: de inwoner staat in het bezwaarregister',
      );
      expect(texts).toContain('objection: Bezwaar geregistreerd');
      expect(texts.some((t) => t.includes('Contactpoging'))).toBe(false);
      // The objected round may already have run its short retention and closed the case: nothing to end then.
      await h.client.workflow
        .getHandle(caseWorkflowId(MUNICIPALITY, caseKey))
        .terminate('test finished')
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
    } finally {
      await later.close();
    }
  });
});

describe('objection recorded by a caseworker', () => {
  const formPost = (url: string, cookie: string, fields: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields).toString(),
    });

  it('registers the objection with the declined outcome; the case page shows it and a new signal starts nothing', async () => {
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const { cookie, csrf } = await signIn(app, user);
    const { insurer, p, task, caseKey } = await caseWithPhoneTask();

    const formPage = await app.inject({ method: 'GET', url: `/taken/${task.id}`, headers: { cookie } });
    expect(formPage.body).toMatch(
      /<input[^>]+id="taak-objection"[^>]*>\s*<label[^>]+for="taak-objection">Inwoner maakt bezwaar tegen het delen van gegevens door schuldeisers<\/label>/,
    );

    // Not reached: an objection cannot have been made, and nothing is registered.
    const refused = await formPost(`/taken/${task.id}/afronden`, cookie, {
      _csrf: csrf,
      submissionId: randomUUID(),
      reached: 'nee',
      objection: 'ja',
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('het bezwaar');
    expect(await registerRows(p, { bsn: true, person: true })).toEqual([]);

    const done = await formPost(`/taken/${task.id}/afronden`, cookie, {
      _csrf: csrf,
      submissionId: randomUUID(),
      reached: 'ja',
      dagdeel: 'Middag',
      outcome: 'declined',
      objection: 'ja',
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/zaken/${task.case_id}?melding=vastgelegd`);
    const rows = await registerRows(p, { bsn: true, person: true });
    expect(rows.map((r) => r.source)).toEqual(['visit', 'visit']);
    const resident = await h.db
      .selectFrom('residents')
      .select('objected')
      .where('case_key', '=', caseKey)
      .executeTakeFirstOrThrow();
    expect(resident.objected).toBe(true);

    const casePage = await app.inject({ method: 'GET', url: `/zaken/${task.case_id}`, headers: { cookie } });
    expect(casePage.body).toContain('Deze inwoner staat in het bezwaarregister');
    expect(casePage.body).toContain('vastgelegd door een medewerker');

    // The round ends as objected with the call recorded; the task is done, and no letter follows.
    const ended = await objectedRound(caseKey);
    expect(ended.stage).toBe('objected');
    expect(ended.tasks).toEqual([{ kind: 'phone', status: 'completed' }]);
    expect(ended.letters).toEqual(['first']);
    const attempts = await h.db
      .selectFrom('contact_attempts')
      .select(['soort', 'bereikt'])
      .where('case_id', '=', task.case_id)
      .orderBy('attempted_at')
      .execute();
    expect(attempts).toEqual([
      { soort: 'Brief', bereikt: false },
      { soort: 'Telefoon', bereikt: true },
    ]);
    // The register's own notice waits, so the caseworker's update came first; it then finds the round over.
    const [notice] = await deliveriesOf(caseKey);
    expect(notice).toMatchObject({ outcome: null, attempts: 0 });
    expect(notice!.deliver_after.getTime()).toBeGreaterThan(Date.now() + OWN_UPDATE_FIRST_MS - 30_000);

    // A later signal from another partner, with or without the BSN, is not picked up.
    const landlord = await partner('Huur');
    expect(await storedStatus((await sendSignal(landlord.headers, p, false)).signalId)).toBe(OBJECTED);
    const later = await sendSignal(insurer.headers, p, true);
    expect(await storedStatus(later.signalId)).toBe(OBJECTED);
    await dispatch(later.signalId);
    // Once the workflow recorded the signal (its case is set), the status stands and no task is open.
    const recorded = await eventually(() =>
      h.db
        .selectFrom('signals')
        .select(['case_id', 'status'])
        .where('id', '=', later.signalId)
        .where('case_id', 'is not', null)
        .executeTakeFirst(),
    );
    expect(recorded.status).toBe(OBJECTED);
    const open = await h.db
      .selectFrom('tasks')
      .select('id')
      .where('case_id', '=', recorded.case_id)
      .where('status', '=', 'open')
      .execute();
    expect(open).toEqual([]);
  });

  it('takes the objection through the JSON API with a resident contact, and refuses it with consent', async () => {
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const { cookie, csrf } = await signIn(app, user);
    const { p, task, caseKey } = await caseWithPhoneTask();
    const headers = { cookie, 'x-csrf-token': csrf };

    const withConsent = await app.inject({
      method: 'POST',
      url: `/api/v1/cases/${task.case_id}/resident-contact`,
      headers,
      payload: {
        channel: 'phone',
        outcome: { kind: 'consent', consentDate: '2026-11-27', consentReference: 'TF-9' },
        objection: true,
      },
    });
    expect(withConsent.statusCode).toBe(400);
    expect(withConsent.json().issues.join(' ')).toContain('objection: bezwaar kan alleen');

    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/cases/${task.case_id}/resident-contact`,
      headers,
      payload: { channel: 'desk', outcome: { kind: 'selfManaged' }, objection: true },
    });
    expect(res.statusCode).toBe(200);
    // The planned call is cancelled and the round ends as objected.
    const { ended, closed } = await objectedAndClosed(caseKey);
    expect(ended.stage).toBe('objected');
    expect(closed.tasks).toEqual([{ kind: 'phone', status: 'cancelled' }]);
    expect(closed.letters).toEqual(['first']);
    // The resident's stored keys (BSN and birth date + address) both go on the register.
    const rows = await registerRows(p, { bsn: true, person: true });
    expect(rows.map((r) => r.source)).toEqual(['visit', 'visit']);
  });
});

describe('npm run admin -- objection:...', () => {
  const admin = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bin/admin.ts', ...args],
      {
        env: {
          ...process.env,
          DATABASE_URL: inject('databaseUrl'),
          MATCHING_SECRET: SECRET,
          LOG_LEVEL: 'silent',
        },
      },
    ).catch((err: { stdout: string; code: number }) => ({ stdout: `${err.stdout}exit ${err.code}\n` }));
    return stdout;
  };

  it('registers, counts and withdraws a paper list, printing counts and problems but no personal data', async () => {
    const [a, b] = [person(true), person()];
    const row = (p: Person, bsn: string) =>
      [
        bsn,
        p.resident.surnamePrefix,
        p.resident.surname,
        p.resident.birthDate,
        p.address.postcode,
        p.address.houseNumber,
        p.address.houseNumberAddition,
      ].join(';');
    const dir = mkdtempSync(join(tmpdir(), 'objections-'));
    const file = join(dir, 'lijst.csv');
    writeFileSync(
      file,
      '\uFEFFbsn;surnamePrefix;surname;birthDate;postcode;houseNumber;houseNumberAddition\n' +
        `${row(a, (a.resident as { bsn?: string }).bsn ?? '')}\n${row(b, '')}\n${row(b, '123456789')}\n`,
    );
    const known = await sendSignal((await partner('Water')).headers, b, false);
    const objected = () =>
      h.db
        .selectFrom('residents as r')
        .innerJoin('signals as s', 's.resident_id', 'r.id')
        .select('r.objected')
        .where('s.id', '=', known.signalId)
        .executeTakeFirstOrThrow()
        .then((r) => r.objected);
    const registered = await admin('objection:register', file, '--municipality', MUNICIPALITY);
    expect(registered).toContain(
      `${MUNICIPALITY}: 2 residents on the objection register, 1 of them known from signals`,
    );
    const knownCase = await h.db
      .selectFrom('signals')
      .select('case_key')
      .where('id', '=', known.signalId)
      .executeTakeFirstOrThrow();
    // The known resident's case is to be told (here it never started: the notice waits for the signal).
    expect(await deliveriesOf(knownCase.case_key)).toEqual([expect.objectContaining({ outcome: null })]);
    expect(await deliverObjections(knownCase.case_key)).toBe(0);
    expect(registered).toContain('line 4, resident.bsn: voldoet niet aan de elfproef');
    expect(registered).toContain('exit 1');
    for (const value of [a.resident.surname, b.resident.surname, b.address.postcode, '123456789']) {
      expect(registered).not.toContain(value);
    }
    expect(await registerRows(a, { bsn: true, person: true })).toHaveLength(2);
    expect(await registerRows(b, { person: true })).toEqual([expect.objectContaining({ source: 'partner' })]);
    expect(await objected()).toBe(true);
    const total = (out: string) => Number(/: (\d+) register entries/.exec(out)?.[1]);
    expect(total(await admin('objection:count', '--municipality', MUNICIPALITY))).toBeGreaterThanOrEqual(3);

    const withdrawn = await admin('objection:withdraw', file, '--municipality', MUNICIPALITY);
    expect(withdrawn).toContain(
      `${MUNICIPALITY}: 2 residents taken off the objection register, 0 were not on it`,
    );
    expect(await registerRows(a, { bsn: true, person: true })).toEqual([]);
    expect(await registerRows(b, { person: true })).toEqual([]);
    expect(await objected()).toBe(false);
  });
});
