/**
 * `npm run admin -- user:*` as an operator runs it (the real CLI, the password piped on standard input):
 * the account it adds signs in on the real API with its roles and teams; a password change and a disable
 * end the user's sessions at once; bad input names its reason and stores nothing.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApiHarness } from '../helpers/api.js';
import type { TestHarness } from '../helpers/temporal.js';

let h: TestHarness;
let app: FastifyInstance;

beforeAll(async () => {
  ({ h, app } = await startApiHarness());
}, 60_000);
afterAll(async () => {
  await app?.close();
  await h?.close();
});

/** Runs `npm run admin -- ...args` with `stdin` piped in. */
function admin(args: string[], stdin = ''): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/admin.ts', ...args], {
    env: { ...process.env, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'silent' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    out += c;
  });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ out, code })));
}

async function signIn(username: string, password: string) {
  return app.inject({ method: 'POST', url: '/login', payload: { username, password, next: '/taken' } });
}

const cookieOf = (res: Awaited<ReturnType<typeof signIn>>) =>
  res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');

describe('npm run admin -- user:*', () => {
  const name = `mw-${randomUUID().slice(0, 8)}`;
  const password = 'een lang wachtwoord 42';

  it('adds a user who signs in with the roles and teams given, and lists them without secrets', async () => {
    const added = await admin(
      ['user:add', name, 'Mila', 'de', 'Vries', '--roles', 'caseworker,teamlead', '--teams', 'wijkteam'],
      `${password}\n`,
    );
    expect(added, added.out).toMatchObject({ code: 0 });
    expect(added.out).toContain(`user ${name} added (caseworker, teamlead; wijkteam)`);
    expect(added.out).not.toContain(password);
    const res = await signIn(name, password);
    expect(res.statusCode).toBe(303);
    const tasks = await app.inject({
      method: 'GET',
      url: '/api/v1/tasks',
      headers: { cookie: cookieOf(res) },
    });
    expect(tasks.statusCode).toBe(200);
    const list = await admin(['user:list']);
    expect(list.code).toBe(0);
    const line = list.out.split('\n').find((l) => l.startsWith(name));
    expect(line).toMatch(/active +caseworker,teamlead +wijkteam +1 session\(s\) +Mila de Vries/);
    expect(list.out).not.toMatch(/scrypt|\$/);
  }, 60_000);

  it('refuses a short password, an unknown role or team, and an existing name, storing nothing', async () => {
    const other = `mw-${randomUUID().slice(0, 8)}`;
    const cases: Array<[string[], string, RegExp]> = [
      [
        ['user:add', other, 'Kort', '--roles', 'caseworker', '--teams', 'wijkteam'],
        'kort\n',
        /at least 12 characters/,
      ],
      [
        ['user:add', other, 'X', '--roles', 'baas', '--teams', 'wijkteam'],
        `${password}\n`,
        /--roles expects any of/,
      ],
      [
        ['user:add', other, 'X', '--roles', 'caseworker', '--teams', 'sport'],
        `${password}\n`,
        /--teams expects any of/,
      ],
      [['user:add', other, 'X', '--teams', 'wijkteam'], `${password}\n`, /--roles is required/],
      [
        ['user:add', other, '--roles', 'caseworker', '--teams', 'wijkteam'],
        `${password}\n`,
        /a display name/,
      ],
      [['user:add', name, 'Dubbel', '--roles', 'admin', '--teams', 'wijkteam'], `${password}\n`, /exists/],
      [['user:disable', 'niemand-hier'], '', /no user niemand-hier/],
    ];
    for (const [args, stdin, reason] of cases) {
      const result = await admin(args, stdin);
      expect([args.join(' '), result.code]).toEqual([args.join(' '), 2]);
      expect(result.out).toMatch(reason);
      expect(result.out).not.toContain(password);
    }
    expect((await signIn(other, password)).statusCode).toBe(401);
    // The existing user kept their roles: not made admin by the refused second add.
    const row = await h.db
      .selectFrom('users')
      .select('roles')
      .where('username', '=', name)
      .executeTakeFirstOrThrow();
    expect(row.roles).toEqual(['caseworker', 'teamlead']);
  }, 120_000);

  it('ends the sessions on a new password, sign-out everywhere and disable; enable lets the user in again', async () => {
    const session = cookieOf(await signIn(name, password));
    const tasks = () => app.inject({ method: 'GET', url: '/api/v1/tasks', headers: { cookie: session } });
    expect((await tasks()).statusCode).toBe(200);
    const changed = await admin(['user:password', name], 'nog een lang wachtwoord\n');
    expect(changed.out).toContain(`password of ${name} replaced`);
    expect((await tasks()).statusCode).toBe(401);
    expect((await signIn(name, password)).statusCode).toBe(401);

    const second = cookieOf(await signIn(name, 'nog een lang wachtwoord'));
    const signedOut = await admin(['user:signout', name]);
    expect(signedOut.out).toContain(`1 session(s) of ${name} ended`);
    const again = await app.inject({ method: 'GET', url: '/api/v1/tasks', headers: { cookie: second } });
    expect(again.statusCode).toBe(401);

    const third = cookieOf(await signIn(name, 'nog een lang wachtwoord'));
    expect((await admin(['user:disable', name])).out).toContain(`user ${name} disabled`);
    const disabled = await app.inject({ method: 'GET', url: '/api/v1/tasks', headers: { cookie: third } });
    expect(disabled.statusCode).toBe(401);
    expect((await signIn(name, 'nog een lang wachtwoord')).statusCode).toBe(401);
    expect((await admin(['user:enable', name])).code).toBe(0);
    expect((await signIn(name, 'nog een lang wachtwoord')).statusCode).toBe(303);
  }, 120_000);
});
