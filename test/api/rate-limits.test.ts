/**
 * Brute force against the real API: an account locks after five failed sign-ins (whether the name exists
 * or not, so the lock tells nothing), the right password is then refused too until the lock passes, and
 * each failure is logged with the name and address but never the password. Per client address, sign-in
 * posts, DDAS token requests and partner API calls are limited and answer 429 with Retry-After.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../api/server.js';
import { ensurePartner } from '../../db/repositories/intake.js';
import { createPartnerToken } from '../../db/repositories/partner-tokens.js';
import { loadConfig } from '../../lib/config.js';
import { MUNICIPALITY } from '../helpers/fixtures.js';
import { memoryLogger } from '../helpers/logs.js';
import { createHarness, type TestHarness } from '../helpers/temporal.js';
import { makeUser, PASSWORD } from './caseworker-helpers.js';
import { DEMO_TOKEN_REQUEST } from './ddas-fixtures.js';

let h: TestHarness;
const logs = memoryLogger();

beforeAll(async () => {
  h = await createHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function server(env: Record<string, string> = {}): Promise<FastifyInstance> {
  return buildServer({
    db: h.db,
    temporal: h.client,
    taskQueue: h.taskQueue,
    municipality: MUNICIPALITY,
    logger: logs.logger,
    config: loadConfig(env),
  });
}

const login = (app: FastifyInstance, username: string, password: string, ip = '127.0.0.1') =>
  app.inject({ method: 'POST', url: '/login', payload: { username, password }, remoteAddress: ip });

describe('sign-in lock per account', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // The per-address limit out of the way: this is about one account tried from many addresses.
    app = await server({ LOGIN_RATE_LIMIT: '1000' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('locks after five wrong passwords, refuses the right one meanwhile, and logs who and where', async () => {
    const username = await makeUser(h.db, ['caseworker'], ['wijkteam']);
    for (let i = 1; i <= 4; i++) {
      expect((await login(app, username, `fout-${i}-geheim`, `10.0.0.${i}`)).statusCode).toBe(401);
    }
    const fifth = await login(app, username, 'fout-5-geheim', '10.0.0.5');
    expect(fifth.statusCode).toBe(429);
    expect(Number(fifth.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(fifth.body).toContain('Te veel mislukte inlogpogingen met deze gebruikersnaam. Probeer het over');
    const right = await login(app, username, PASSWORD, '10.0.0.6');
    expect(right.statusCode).toBe(429);
    expect(right.cookies).toEqual([]);

    // An existing account's name is logged as typed (a name nobody has only as a hash, below).
    const failed = logs.entries().filter((e) => e.event === 'login_failed' && e.username === username);
    expect(failed.map((e) => [e.ip, e.failures, e.level])).toEqual([
      ['10.0.0.1', 1, 40],
      ['10.0.0.2', 2, 40],
      ['10.0.0.3', 3, 40],
      ['10.0.0.4', 4, 40],
      ['10.0.0.5', 5, 40],
    ]);
    expect(logs.entries().some((e) => e.event === 'login_locked' && e.ip === '10.0.0.6')).toBe(true);
    expect(logs.lines.join('\n')).not.toMatch(/fout-\d-geheim|test-wachtwoord/);

    // The lock passed (moved into the past here): the right password works and the count starts again.
    await h.db
      .updateTable('login_throttle')
      .set({ locked_until: new Date(Date.now() - 1000) })
      .where('username', '=', username)
      .execute();
    expect((await login(app, username, PASSWORD)).statusCode).toBe(303);
    const row = await h.db
      .selectFrom('login_throttle')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('doubles the lock with each further failure', async () => {
    const username = await makeUser(h.db, ['caseworker'], ['wijkteam']);
    for (let i = 1; i <= 5; i++) await login(app, username, 'verkeerd-wachtwoord');
    const unlock = () =>
      h.db
        .updateTable('login_throttle')
        .set({ locked_until: new Date(Date.now() - 1000) })
        .where('username', '=', username)
        .execute();
    await unlock();
    const sixth = await login(app, username, 'verkeerd-wachtwoord');
    expect(sixth.statusCode).toBe(429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThanOrEqual(119);
    await unlock();
    const seventh = await login(app, username, 'verkeerd-wachtwoord');
    expect(Number(seventh.headers['retry-after'])).toBeGreaterThanOrEqual(239);
    expect(seventh.body).toMatch(/Probeer het over [45] minuten opnieuw/);
  });

  it('treats a name nobody has the same way, so the answers do not tell which names exist', async () => {
    const known = await makeUser(h.db, ['caseworker'], ['wijkteam']);
    const unknown = `niemand-${randomUUID().slice(0, 8)}`;
    const answers = async (name: string) => {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) codes.push((await login(app, name, 'verkeerd-wachtwoord')).statusCode);
      return codes;
    };
    expect(await answers(unknown)).toEqual(await answers(known));
    expect(await answers(unknown)).toEqual([429, 429, 429, 429, 429, 429]);
  });

  it('checks no more than five passwords when attempts arrive together, the right one among them', async () => {
    const username = await makeUser(h.db, ['caseworker'], ['wijkteam']);
    const attempts = Array.from({ length: 40 }, (_, i) =>
      login(app, username, i === 39 ? PASSWORD : `gok-${i}-geheim`, `10.1.${i}.1`),
    );
    const codes = (await Promise.all(attempts)).map((r) => r.statusCode);
    // At most five were checked: four wrong ones answer 401 (the fifth locks); the right one came too late.
    expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(4);
    expect(codes.filter((c) => c === 303)).toEqual([]);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(35);
    const checked = logs.entries().filter((e) => e.event === 'login_failed' && e.username === username);
    expect(checked.length).toBeLessThanOrEqual(5);
  });

  it('logs a name nobody has only as a hash: it may be a password typed in the wrong field', async () => {
    const typed = `Geheim-${randomUUID().slice(0, 8)}!`;
    expect((await login(app, typed, 'wat-dan-ook')).statusCode).toBe(401);
    expect(logs.lines.join('\n')).not.toContain(typed);
    const entry = logs
      .entries()
      .find((e) => e.event === 'login_failed' && typeof e.usernameHash === 'string');
    expect(entry?.usernameHash).toMatch(/^[0-9a-f]{12}$/);
  });

  it('lifts the lock when an administrator sets a new password', async () => {
    const { replacePassword } = await import('../../db/repositories/users.js');
    const { hashPassword } = await import('../../api/auth/password.js');
    const username = await makeUser(h.db, ['caseworker'], ['wijkteam']);
    for (let i = 1; i <= 5; i++) await login(app, username, 'verkeerd-wachtwoord');
    expect((await login(app, username, PASSWORD)).statusCode).toBe(429);
    await replacePassword(h.db, username, await hashPassword('een nieuw lang wachtwoord'));
    expect((await login(app, username, 'een nieuw lang wachtwoord')).statusCode).toBe(303);
  });
});

describe('limits per client address', () => {
  let app: FastifyInstance;
  let token: string;
  beforeAll(async () => {
    app = await server({ LOGIN_RATE_LIMIT: '3', DDAS_TOKEN_RATE_LIMIT: '3', PARTNER_RATE_LIMIT: '3' });
    const partner = await ensurePartner(h.db, `Limiet ${randomUUID()}`, 'Energie');
    ({ token } = await createPartnerToken(h.db, partner, 'test'));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers sign-in posts over the limit with the sign-in page, 429 and Retry-After', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      codes.push((await login(app, `spray-${i}-${randomUUID().slice(0, 4)}`, 'x', '192.0.2.10')).statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 429]);
    const over = await login(app, 'nog-een', 'x', '192.0.2.10');
    expect(over.headers['content-type']).toContain('text/html');
    expect(over.body).toContain('Probeer het over');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not held up by this one.
    expect((await login(app, 'ander-adres', 'x', '192.0.2.11')).statusCode).toBe(401);
  });

  it('counts an IPv6 client by its /64, so rotating addresses within it does not escape the limit', async () => {
    const codes: number[] = [];
    for (let i = 1; i <= 4; i++) {
      codes.push(
        (await login(app, `v6-${i}-${randomUUID().slice(0, 4)}`, 'x', `2001:db8:0:7::${i.toString(16)}`))
          .statusCode,
      );
    }
    expect(codes).toEqual([401, 401, 401, 429]);
    expect((await login(app, 'ander-netwerk', 'x', '2001:db8:0:8::1')).statusCode).toBe(401);
  });

  it('limits DDAS token requests', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      codes.push((await app.inject({ ...DEMO_TOKEN_REQUEST, remoteAddress: '192.0.2.20' })).statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 429]);
    const over = await app.inject({ ...DEMO_TOKEN_REQUEST, remoteAddress: '192.0.2.20' });
    expect(over.json()).toMatchObject({ status: 429, title: 'Te veel verzoeken' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits partner API calls, also with wrong tokens, before the token is looked up', async () => {
    const feedback = (authorization: string) =>
      app.inject({
        method: 'GET',
        url: '/api/v1/partner-feedback',
        headers: { authorization },
        remoteAddress: '192.0.2.30',
      });
    const codes = [
      (await feedback(`Bearer ${token}`)).statusCode,
      (await feedback('Bearer vsp_geraden1')).statusCode,
      (await feedback('Bearer vsp_geraden2')).statusCode,
      (await feedback(`Bearer ${token}`)).statusCode,
    ];
    expect(codes).toEqual([200, 401, 401, 429]);
    const over = await feedback(`Bearer ${token}`);
    expect(over.json()).toMatchObject({ error: 'too_many_requests' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
  });
});
