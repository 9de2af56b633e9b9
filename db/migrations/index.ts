/**
 * The migration list, imported statically so it works the same from source (tsx), bundles and tests.
 * Add each new file here; names sort by their timestamp.
 */
import type { Migration } from 'kysely';
import * as m0001 from './2026_11_27_0001_initial.js';

export const migrations: Record<string, Migration> = {
  '2026_11_27_0001_initial': m0001,
};
