/**
 * `NODE_ENV=production` as an operator meets it: the API and the worker processes refuse to start while
 * any development default is in force, each refusal naming the variable (or the stored demo account) to
 * change, and both start with a complete production configuration on a database of their own.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { seedDemoUsers } from '../../api/auth/demo-users.js';
import { hashPassword } from '../../api/auth/password.js';
import { generateSelfSigned } from '../../api/ddas/signing.js';
import { createDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { ensurePartner } from '../../db/repositories/intake.js';
import { demoToken, ensurePartnerToken } from '../../db/repositories/partner-tokens.js';
import { freePort } from '../helpers/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'vroeg-production-'));
const databaseName = `production_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
let databaseUrl = '';
let complete: Record<string, string> = {};

beforeAll(async () => {
  // A database of its own: the shared test database holds the demo users other tests create.
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  await admin.query(`create database ${databaseName}`);
  await admin.end();
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${databaseName}`;
  databaseUrl = url.toString();
  const { keyPem, certPem } = generateSelfSigned('vroegsignalering test');
  writeFileSync(join(dir, 'ddas-key.pem'), keyPem);
  writeFileSync(join(dir, 'ddas-cert.pem'), certPem);
  complete = {
    NODE_ENV: 'production',
    DATA_DIR: dir,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    // Its own queue: this worker must not take tasks of the other tests' workflows.
    TEMPORAL_TASK_QUEUE: `production-${randomUUID()}`,
    PAYLOAD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    MATCHING_SECRET: randomBytes(32).toString('base64url'),
    DDAS_OAUTH_JWKS_URL: 'https://idp.gemeente.example/.well-known/jwks.json',
    DDAS_OAUTH_ISSUER: 'https://idp.gemeente.example',
    DDAS_OAUTH_AUDIENCE: 'vroegsignalering-ddas',
    DDAS_SIGNING_KEY_FILE: join(dir, 'ddas-key.pem'),
    DDAS_SIGNING_CERT_FILE: join(dir, 'ddas-cert.pem'),
    SMTP_URL: 'smtps://mail.gemeente.example:465',
    TEMPORAL_UI_URL: 'https://temporal.gemeente.example',
    PUBLIC_ORIGIN: 'https://vroegsignalering.gemeente.example',
    HTTP_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  };
}, 60_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  await admin.query(`drop database if exists ${databaseName} with (force)`);
  await admin.end();
});

interface Outcome {
  /** The exit code, or 'running' when the ready line appeared (the process is then stopped). */
  result: number | 'running';
  output: string;
}

/** Runs `entry` with `env` over a clean environment until it prints `ready` or exits. */
function run(
  entry: 'bin/api.ts' | 'bin/worker.ts',
  env: Record<string, string | undefined>,
): Promise<Outcome> {
  const clean: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) clean[key] = value;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: clean,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = entry === 'bin/api.ts' ? 'API listening' : 'worker running';
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} neither ran nor exited in 60 s:\n${output}`));
    }, 60_000);
    const seen = (chunk: Buffer) => {
      output += chunk;
      if (output.includes(ready)) {
        clearTimeout(timer);
        child.once('exit', () => resolve({ result: 'running', output }));
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!output.includes(ready)) resolve({ result: code ?? -1, output });
    });
  });
}

describe('NODE_ENV=production', () => {
  it('starts the API and the worker with a complete production configuration', async () => {
    const api = await run('bin/api.ts', complete);
    expect(api.result, api.output).toBe('running');
    const worker = await run('bin/worker.ts', complete);
    expect(worker.result, worker.output).toBe('running');
  }, 120_000);

  // Each development default alone, on an otherwise complete configuration: refused, naming it.
  const refusals: Array<
    [string, 'bin/api.ts' | 'bin/worker.ts', Record<string, string | undefined>, string]
  > = [
    ['no DATABASE_URL', 'bin/api.ts', { DATABASE_URL: undefined }, 'DATABASE_URL'],
    ['no TEMPORAL_ADDRESS', 'bin/worker.ts', { TEMPORAL_ADDRESS: undefined }, 'TEMPORAL_ADDRESS'],
    ['the default matching secret', 'bin/api.ts', { MATCHING_SECRET: undefined }, 'MATCHING_SECRET'],
    [
      'no payload key (no key file is made)',
      'bin/worker.ts',
      { PAYLOAD_ENCRYPTION_KEY: undefined },
      'PAYLOAD_ENCRYPTION_KEY',
    ],
    ['the DDAS demo token endpoint', 'bin/api.ts', { DDAS_OAUTH_JWKS_URL: undefined }, 'DDAS_OAUTH_JWKS_URL'],
    [
      'a JWKS over plain http',
      'bin/api.ts',
      { DDAS_OAUTH_JWKS_URL: 'http://idp.example/jwks' },
      'DDAS_OAUTH_JWKS_URL',
    ],
    ['no PUBLIC_ORIGIN', 'bin/api.ts', { PUBLIC_ORIGIN: undefined }, 'PUBLIC_ORIGIN'],
    [
      'a public origin over plain http',
      'bin/api.ts',
      { PUBLIC_ORIGIN: 'http://vroeg.example' },
      'PUBLIC_ORIGIN',
    ],
    ['no DDAS issuer', 'bin/api.ts', { DDAS_OAUTH_ISSUER: undefined }, 'DDAS_OAUTH_ISSUER'],
    ['no DDAS audience', 'bin/api.ts', { DDAS_OAUTH_AUDIENCE: undefined }, 'DDAS_OAUTH_AUDIENCE'],
    [
      'the self-signed DDAS demo pair',
      'bin/api.ts',
      { DDAS_SIGNING_KEY_FILE: undefined, DDAS_SIGNING_CERT_FILE: undefined },
      'DDAS_SIGNING_KEY_FILE',
    ],
    ['the demo SMTP server', 'bin/worker.ts', { SMTP_URL: undefined }, 'SMTP_URL'],
    ['SMTP without TLS', 'bin/worker.ts', { SMTP_URL: 'smtp://mail.gemeente.example:25' }, 'SMTP_URL'],
    [
      'a Temporal UI over plain http',
      'bin/api.ts',
      { TEMPORAL_UI_URL: 'http://temporal.gemeente.example' },
      'TEMPORAL_UI_URL',
    ],
  ];
  it.each(refusals)(
    'refuses %s, naming it',
    async (_what, entry, change, variable) => {
      const outcome = await run(entry, { ...complete, ...change });
      expect(outcome.result, outcome.output).toBe(2);
      expect(outcome.output).toContain('NODE_ENV=production refuses to start');
      expect(outcome.output).toMatch(new RegExp(`^  ${variable}\\b`, 'm'));
      // Exactly one problem: the rest of the configuration is complete.
      expect(outcome.output.match(/^ {2}\S/gm)).toHaveLength(1);
      // A refused value is never repeated (it may be a secret).
      for (const value of Object.values(change)) if (value) expect(outcome.output).not.toContain(value);
    },
    60_000,
  );

  it('refuses a misspelt NODE_ENV instead of starting in development mode', async () => {
    const outcome = await run('bin/api.ts', { ...complete, NODE_ENV: 'Production' });
    expect(outcome.result, outcome.output).toBe(2);
    expect(outcome.output).toMatch(/^ {2}NODE_ENV: /m);
  }, 60_000);

  it('accepts SMTP with STARTTLS required', async () => {
    const worker = await run('bin/worker.ts', {
      ...complete,
      SMTP_URL: 'smtp://mail.gemeente.example:587?requireTLS=true',
    });
    expect(worker.result, worker.output).toBe('running');
  }, 60_000);

  it('refuses the stored demo users and the demo partner token, naming each, until they are disabled', async () => {
    const db = createDatabase(databaseUrl, { max: 2 });
    try {
      await migrateToLatest(db);
      await seedDemoUsers(db);
      const partner = await ensurePartner(db, 'Demo Woningcorporatie', 'Huur');
      await ensurePartnerToken(db, partner, 'demo', demoToken(complete.MATCHING_SECRET!));
      const refused = await run('bin/api.ts', complete);
      expect(refused.result, refused.output).toBe(2);
      expect(refused.output).toMatch(
        /demo users active with the demo password: beheerder, manager, medewerker, teamleider, wijkteam/,
      );
      expect(refused.output).toMatch(
        /demo partner token active: id \S+ \(npm run admin -- token:revoke \S+\)/,
      );
      // A real account under a demo name (a new password) is no demo account; the others are disabled.
      await db
        .updateTable('users')
        .set({ password_hash: await hashPassword('een echt en lang wachtwoord') })
        .where('username', '=', 'manager')
        .execute();
      await db.updateTable('users').set({ active: false }).where('username', '<>', 'manager').execute();
      await db.updateTable('partner_tokens').set({ revoked_at: new Date() }).execute();
      const started = await run('bin/api.ts', complete);
      expect(started.result, started.output).toBe('running');
    } finally {
      await db.destroy();
    }
  }, 120_000);
});
