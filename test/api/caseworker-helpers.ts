/** Helpers for the caseworker API and browser tests: users, sign-in, cases started on the real server. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../api/auth/index.js';
import type { Db } from '../../db/database.js';
import { createUserIfMissing } from '../../db/repositories/users.js';
import { dispatchPending } from '../../worker/dispatcher.js';
import { type OutreachPolicy, shortPolicy } from '../../workflows/policy.js';
import { residentRecord, storeTestSignal } from '../helpers/fixtures.js';
import type { TestHarness } from '../helpers/temporal.js';

export const PASSWORD = 'test-wachtwoord-123';
// One hash for every test user: each takes about a second (api/auth/password.ts).
let passwordHash: Promise<string> | undefined;

/** A user with a unique name in the given teams and roles. */
export async function makeUser(db: Db, roles: string[], teams: string[], prefix = 'mw'): Promise<string> {
  const username = `${prefix}-${randomUUID().slice(0, 8)}`;
  passwordHash ??= hashPassword(PASSWORD);
  await createUserIfMissing(db, {
    username,
    displayName: `Test ${username}`,
    passwordHash: await passwordHash,
    roles,
    teams,
  });
  return username;
}

/** Signs in through the login form; returns the cookie header and the CSRF token. */
export async function signIn(app: FastifyInstance, username: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username, password: PASSWORD, next: '/taken' },
  });
  if (res.statusCode !== 303) throw new Error(`login failed: ${res.statusCode}`);
  const cookie = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const page = await app.inject({ method: 'GET', url: '/taken', headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (!csrf) throw new Error('no csrf token on the page');
  return { cookie, csrf };
}

/** The ladder in seconds, with two phone attempts so tests reach the home visits sooner. */
export function testPolicy(): OutreachPolicy {
  const p = shortPolicy(1_000);
  return { ...p, phone: { ...p.phone, maxAttempts: 2 } };
}

/** Stores a signal (Zorg: the debt team) at a postcode area of its own, and starts its case. */
export async function startCase(h: TestHarness, partnerType = 'Zorg', policy: OutreachPolicy = testPolicy()) {
  const area = String(1000 + Math.floor(Math.random() * 8999));
  const record = residentRecord();
  record.address.postcode = `${area} QZ`;
  const stored = await storeTestSignal(h.db, record, { name: `Test ${partnerType}`, type: partnerType });
  await dispatchPending({
    db: h.db,
    client: h.client,
    taskQueue: h.taskQueue,
    policyFor: () => policy,
    signalIds: [stored.signalId],
  });
  return { stored, record, area };
}

/** Polls until `read` returns a value (the server runs real time). */
export async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The open task of a case, once the workflow has created it. */
export async function openTask(db: Db, caseKey: string, kind: 'phone' | 'visit', attempt: number) {
  return eventually(() =>
    db
      .selectFrom('tasks as t')
      .innerJoin('cases as c', 'c.id', 't.case_id')
      .select(['t.id', 't.case_id', 't.kind', 't.attempt'])
      .where('c.case_key', '=', caseKey)
      .where('t.status', '=', 'open')
      .where('t.kind', '=', kind)
      .where('t.attempt', '=', attempt)
      .executeTakeFirst(),
  );
}
