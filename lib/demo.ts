/**
 * Demo data for `npm start`: what a first-time user needs to try the system (partner token, users).
 * Each feature adds its own seeding here; every step is idempotent, so a second start changes nothing.
 * Returns lines to print below the URLs.
 */
import type { Db } from '../db/database.js';
import type { Config } from './config.js';

export async function seedDemo(_db: Db, _config: Config): Promise<string[]> {
  const lines: string[] = [];
  return lines;
}
