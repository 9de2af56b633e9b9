/**
 * Demo data for `npm start`: what a first-time user needs to try the system (partner token, users).
 * Each feature adds its own seeding here; every step is idempotent, so a second start changes nothing.
 * Returns lines to print below the URLs.
 */
import { seedDemoUsers } from '../api/auth/demo-users.js';
import { ddasDemoLines } from '../api/ddas/demo.js';
import type { Db } from '../db/database.js';
import { ensurePartner } from '../db/repositories/intake.js';
import { demoToken, ensurePartnerToken } from '../db/repositories/partner-tokens.js';
import type { Config } from './config.js';

export async function seedDemo(_db: Db, _config: Config): Promise<string[]> {
  const lines: string[] = [];
  const demoPartner = await ensurePartner(_db, 'Demo Woningcorporatie', 'Huur');
  const token = demoToken(_config.MATCHING_SECRET);
  await ensurePartnerToken(_db, demoPartner, 'demo', token);
  lines.push(
    `  Partner API docs  http://${_config.HTTP_HOST}:${_config.HTTP_PORT}/docs`,
    `  Demo partner token ${token}  (Demo Woningcorporatie, Huur)`,
  );
  lines.push(...(await seedDemoUsers(_db)));
  lines.push(...ddasDemoLines(_config));
  if (!_config.SMTP_URL) {
    lines.push(
      `  Demo e-mail       http://${_config.HTTP_HOST}:${_config.HTTP_PORT}/demo/mail  (SMTP 127.0.0.1:${_config.DEMO_SMTP_PORT}; sign in as beheerder)`,
    );
  }
  return lines;
}
