/**
 * Sign-in and sessions (api/auth) on a PostgreSQL database of their own, so the test's clock may move
 * hours ahead without expiring the sessions of other test files: where the browser goes after signing in,
 * the cross-site check, the idle and absolute timeouts, the purge of expired sessions, and password hashes.
 */
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerAuth, requireUser, userOf } from '../../api/auth/index.js';
import { hashPassword, verifyPassword } from '../../api/auth/password.js';
import { createDatabase, type Db } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createUserIfMissing } from '../../db/repositories/users.js';

const PASSWORD = 'test-wachtwoord-123';
const MINUTE = 60_000;
const admin = createDatabase(inject('adminDatabaseUrl'), { max: 1 });
const name = `vroeg_auth_${process.pid}_${Date.now()}`;
let db: Db;
let app: FastifyInstance;
let passwordHash: string;
/** The app's clock; each test moves it on from where the last one left it. */
let clock = Date.now();

beforeAll(async () => {
  await sql`create database ${sql.id(name)}`.execute(admin);
  db = createDatabase(inject('adminDatabaseUrl').replace(/\/[^/]*$/, `/${name}`), { max: 3 });
  await migrateToLatest(db);
  passwordHash = await hashPassword(PASSWORD);
  app = Fastify();
  await registerAuth(app, { db, now: () => new Date(clock) });
  app.get('/taken', { preHandler: requireUser() }, async (request) => `hallo ${userOf(request).username}`);
  app.post('/taken', { preHandler: requireUser() }, async () => 'ok');
});
afterAll(async () => {
  await app?.close();
  await db?.destroy();
  await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
  await admin.destroy();
});

async function makeUser(hash = passwordHash): Promise<string> {
  const username = `mw-${randomBytes(4).toString('hex')}`;
  await createUserIfMissing(db, {
    username,
    displayName: `Test ${username}`,
    passwordHash: hash,
    roles: ['caseworker'],
    teams: ['wijkteam'],
  });
  return username;
}

const login = (username: string, next?: string) =>
  app.inject({ method: 'POST', url: '/login', payload: { username, password: PASSWORD, next } });

async function signIn(username: string): Promise<string> {
  const res = await login(username);
  expect(res.statusCode).toBe(303);
  return res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}

/** Whether the session is still signed in (the page answers) rather than sent to the login. */
async function signedIn(cookie: string): Promise<boolean> {
  const res = await app.inject({ method: 'GET', url: '/taken', headers: { cookie } });
  if (res.statusCode === 200) return true;
  expect(res.statusCode).toBe(303);
  expect(res.headers.location).toBe('/login?next=%2Ftaken');
  return false;
}

const sessionsOf = async (username: string) =>
  db
    .selectFrom('user_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select('s.id_hash')
    .where('u.username', '=', username)
    .execute();

describe('after signing in', () => {
  it('goes only to a path on this site, whatever the browser would make of `next`', async () => {
    const offSite = [
      '/\t/example.org',
      '/\n/example.org',
      '\t//example.org',
      '//example.org',
      '/\\example.org',
      '\\\\example.org',
      '/..//example.org',
      'https://example.org/taken',
      'javascript:alert(1)',
    ];
    // The form carries `next` on to the sign-in; both read it the same way.
    for (const next of offSite) {
      const page = await app.inject({ method: 'GET', url: `/login?next=${encodeURIComponent(next)}` });
      expect(page.body, JSON.stringify(next)).toContain('name="next" value="/taken"');
    }
    const user = await makeUser();
    // As the security review found it: /login?next=%2F%09%2Fexample.org, then signing in.
    expect((await login(user, '/\t/example.org')).headers.location).toBe('/taken');
    expect((await login(user, '/beheer/../taken?scope=team&area=1761#lijst')).headers.location).toBe(
      '/taken?scope=team&area=1761#lijst',
    );
  });
});

describe('the cross-site check', () => {
  it('refuses a state-changing request whose Origin cannot be read with 403, as a cross-site one', async () => {
    for (const origin of ['http://[', 'not a url', 'null', 'https://evil.example']) {
      const res = await app.inject({
        method: 'POST',
        url: '/login',
        headers: { host: 'vs.example', origin },
        payload: { username: 'x', password: 'y' },
      });
      expect(res.statusCode, origin).toBe(403);
      expect(res.json()).toEqual({ error: 'cross-site request refused' });
    }
    const sameSite = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { host: 'vs.example', origin: 'https://vs.example' },
      payload: { username: 'niemand', password: 'y' },
    });
    expect(sameSite.statusCode).toBe(401);
  });
});

describe('sessions', () => {
  it('end after 30 minutes without a request', async () => {
    const cookie = await signIn(await makeUser());
    clock += 29 * MINUTE;
    expect(await signedIn(cookie)).toBe(true);
    clock += 31 * MINUTE;
    expect(await signedIn(cookie)).toBe(false);
  });

  it('stay open while in use, but never longer than 10 hours after signing in', async () => {
    const signedInAt = clock;
    const cookie = await signIn(await makeUser());
    while (clock + 20 * MINUTE < signedInAt + 10 * 60 * MINUTE) {
      clock += 20 * MINUTE;
      expect(await signedIn(cookie), `${(clock - signedInAt) / MINUTE} minutes`).toBe(true);
    }
    clock = signedInAt + 10 * 60 * MINUTE + 1;
    expect(await signedIn(cookie)).toBe(false);
  });

  it('made before there was an idle timeout get one at their next request', async () => {
    const username = await makeUser();
    const { id } = await db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    const secret = randomBytes(32).toString('base64url');
    await db
      .insertInto('user_sessions')
      .values({
        id_hash: createHash('sha256').update(secret).digest('hex'),
        user_id: id,
        csrf_token: 'csrf',
        created_at: new Date(clock),
        expires_at: new Date(clock + 10 * 60 * MINUTE),
      })
      .execute();
    const cookie = `__Host-vs_session=${secret}`;
    clock += MINUTE;
    expect(await signedIn(cookie)).toBe(true);
    clock += 31 * MINUTE;
    expect(await signedIn(cookie)).toBe(false);
  });

  it('that expired are removed when someone signs in', async () => {
    const earlier = await makeUser();
    await signIn(earlier);
    expect(await sessionsOf(earlier)).toHaveLength(1);
    clock += 31 * MINUTE;
    const later = await makeUser();
    await signIn(later);
    expect(await sessionsOf(earlier)).toEqual([]);
    expect(await sessionsOf(later)).toHaveLength(1);
  });
});

describe('password hashes', () => {
  /** Memory (KiB), iterations and lanes of an Argon2id PHC string. */
  const parametersOf = (hash: string) => {
    const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[\w+/]+\$[\w+/]+$/.exec(hash);
    return m ? { m: Number(m[1]), t: Number(m[2]), p: Number(m[3]) } : null;
  };

  it("are Argon2id with at least OWASP's minimum: 19 MiB, 2 iterations, 1 lane", async () => {
    const made = await hashPassword('een-wachtwoord');
    const p = parametersOf(made);
    expect(p, made).not.toBeNull();
    expect(p!.m).toBeGreaterThanOrEqual(19_456);
    expect(p!.t).toBeGreaterThanOrEqual(2);
    expect(p!.p).toBeGreaterThanOrEqual(1);
    expect(await verifyPassword('een-wachtwoord', made)).toBe(true);
    expect(await verifyPassword('een-wachtwoorD', made)).toBe(false);
  });

  it('made with scrypt before 2026-12-07 still verify, and are replaced by Argon2id at sign-in', async () => {
    const salt = randomBytes(16);
    const key = scryptSync(PASSWORD, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const old = `scrypt$${2 ** 15}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await verifyPassword(PASSWORD, old)).toBe(true);
    expect(await verifyPassword('fout', old)).toBe(false);
    const user = await makeUser(old);
    const cookie = await signIn(user);
    expect(await signedIn(cookie)).toBe(true);
    const stored = await db
      .selectFrom('users')
      .select('password_hash')
      .where('username', '=', user)
      .executeTakeFirstOrThrow();
    expect(parametersOf(stored.password_hash)?.m).toBeGreaterThanOrEqual(19_456);
    expect(await verifyPassword(PASSWORD, stored.password_hash)).toBe(true);
  });
});
