/**
 * Production mode (`NODE_ENV=production`): the process refuses to start while any development default is
 * in force, and says which variable (or which stored demo account) to change. Outside production these
 * defaults are what makes `npm start` work with no configuration; in production each one would be a hole:
 * a known matching secret and the partner token derived from it, the demo token endpoint that hands CBS
 * data to whoever read the README, demo users with a printed password, a self-signed signing key, the demo
 * SMTP server, a payload key created silently on disk, and plain-text links to outside services.
 */
import { DEMO_PASSWORD, DEMO_USERS } from '../api/auth/demo-users.js';
import { verifyPassword } from '../api/auth/password.js';
import type { Db } from '../db/database.js';
import { demoToken, hashToken } from '../db/repositories/partner-tokens.js';
import { type Config, ConfigError, DEVELOPMENT_MATCHING_SECRET, isProduction } from './config.js';

/** Which parts this process runs: the API (pages, partner intake, DDAS) and/or the worker (letters, e-mail). */
export interface ProductionParts {
  api: boolean;
  worker: boolean;
}

/** The development defaults in force in `config`, one line each naming the variable and what to set. */
export function productionConfigProblems(config: Config, parts: ProductionParts): string[] {
  const problems: string[] = [];
  const add = (variable: string, reason: string) => problems.push(`  ${variable}: ${reason}`);
  if (!config.DATABASE_URL) add('DATABASE_URL', 'unset (the embedded PostgreSQL is for development)');
  if (!config.TEMPORAL_ADDRESS) add('TEMPORAL_ADDRESS', 'unset (the Temporal dev server is for development)');
  if (!config.PAYLOAD_ENCRYPTION_KEY) {
    add(
      'PAYLOAD_ENCRYPTION_KEY',
      'unset (set base64 of 32 random bytes; no key file is created in production)',
    );
  }
  if (config.MATCHING_SECRET === DEVELOPMENT_MATCHING_SECRET) {
    add('MATCHING_SECRET', 'the development default (set a long random value)');
  }
  if (config.TEMPORAL_UI_URL?.startsWith('http://')) add('TEMPORAL_UI_URL', 'plain http:// (use https://)');
  if (parts.api) {
    if (!config.PUBLIC_ORIGIN)
      add('PUBLIC_ORIGIN', 'unset (the https origin users reach, checked against Host)');
    else if (!config.PUBLIC_ORIGIN.startsWith('https://'))
      add('PUBLIC_ORIGIN', 'plain http:// (use https://)');
    if (!config.DDAS_OAUTH_JWKS_URL) {
      add(
        'DDAS_OAUTH_JWKS_URL',
        'unset, so the DDAS demo token endpoint would issue tokens (set the https JWKS URL)',
      );
    } else if (!config.DDAS_OAUTH_JWKS_URL.startsWith('https://')) {
      add('DDAS_OAUTH_JWKS_URL', 'plain http:// (use https://)');
    }
    if (!config.DDAS_OAUTH_ISSUER) add('DDAS_OAUTH_ISSUER', 'unset (the issuer DDAS tokens must name)');
    if (!config.DDAS_OAUTH_AUDIENCE) add('DDAS_OAUTH_AUDIENCE', 'unset (the audience DDAS tokens must name)');
    if (!config.DDAS_SIGNING_KEY_FILE || !config.DDAS_SIGNING_CERT_FILE) {
      add(
        'DDAS_SIGNING_KEY_FILE / DDAS_SIGNING_CERT_FILE',
        'unset (a self-signed demo pair would sign DDAS answers)',
      );
    }
  }
  if (parts.worker) {
    if (!config.SMTP_URL) add('SMTP_URL', 'unset (e-mail to residents needs a real SMTP server)');
    else if (config.SMTP_URL.startsWith('smtp://') && !/[?&]requireTLS=true\b/.test(config.SMTP_URL)) {
      add('SMTP_URL', 'plain smtp:// (use smtps://, or smtp:// with ?requireTLS=true for STARTTLS)');
    }
  }
  return problems;
}

/** Demo accounts stored in the database: the seeded users and the demo partner token. */
export async function productionDataProblems(db: Db, config: Config): Promise<string[]> {
  const problems: string[] = [];
  // A demo name alone is no demo account (a municipality may well have a `manager`): only one whose stored
  // hash still takes the printed demo password.
  const named = await db
    .selectFrom('users')
    .select(['username', 'password_hash'])
    .where(
      'username',
      'in',
      DEMO_USERS.map((u) => u.username),
    )
    .where('active', '=', true)
    .orderBy('username')
    .execute();
  const demoUsers: string[] = [];
  for (const u of named) if (await verifyPassword(DEMO_PASSWORD, u.password_hash)) demoUsers.push(u.username);
  if (demoUsers.length > 0) {
    problems.push(
      `  demo users active with the demo password: ${demoUsers.join(', ')} (npm run admin -- user:disable <name>, or user:password <name>)`,
    );
  }
  const demoTokens = await db
    .selectFrom('partner_tokens')
    .select('id')
    .where('token_hash', 'in', [
      hashToken(demoToken(config.MATCHING_SECRET)),
      hashToken(demoToken(DEVELOPMENT_MATCHING_SECRET)),
    ])
    .where('revoked_at', 'is', null)
    .execute();
  for (const token of demoTokens) {
    problems.push(`  demo partner token active: id ${token.id} (npm run admin -- token:revoke ${token.id})`);
  }
  return problems;
}

/** Throws a ConfigError listing every problem, when the process runs in production mode and has any. */
export function refuseDevelopmentDefaults(config: Config, problems: string[]): void {
  if (!isProduction(config) || problems.length === 0) return;
  throw new ConfigError(
    `NODE_ENV=production refuses to start with development defaults:\n${problems.join('\n')}`,
  );
}
