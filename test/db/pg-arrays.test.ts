/**
 * Binary array parameters (db/pg-arrays.ts) read back by PostgreSQL exactly as the text form would be.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, type Db } from '../../db/database.js';
import { boolArray, dateArray, int4Array, int8Array, textArray, uuidArray } from '../../db/pg-arrays.js';

let db: Db;
beforeAll(() => {
  db = createDatabase(inject('databaseUrl'), { max: 1 });
});
afterAll(async () => {
  await db?.destroy();
});

/** The elements of `param` as PostgreSQL reads them, each as text (NULL as null). */
async function roundTrip(param: Buffer, type: string): Promise<Array<string | null>> {
  const { rows } = await sql<{ v: string | null }>`
    select v::text as v from unnest(${param}::${sql.raw(type)}[]) with ordinality as t(v, n) order by n`.execute(
    db,
  );
  return rows.map((r) => r.v);
}

describe('binary array parameters', () => {
  it('sends UUIDs', async () => {
    const ids = [
      '00000000-0000-0000-0000-000000000000',
      '0192f3c1-7a2b-7c3d-8e4f-a1b2c3d4e5f6',
      'ffffffff-ffff-4fff-bfff-ffffffffffff',
    ];
    expect(await roundTrip(uuidArray(ids), 'uuid')).toEqual(ids);
    expect(() => uuidArray(['not-a-uuid'])).toThrow(/UUID/);
    expect(() => uuidArray(['0192f3c1-7a2b-7c3d-8e4f-a1b2c3d4e5fg'])).toThrow(/UUID/);
  });

  it('sends dates before and after 2000, leap days included', async () => {
    const dates = [
      '1900-01-01',
      '1969-12-31',
      '1999-12-31',
      '2000-01-01',
      '2024-02-29',
      '2026-11-27',
      '2099-12-31',
    ];
    expect(await roundTrip(dateArray(dates), 'date')).toEqual(dates);
  });

  it('sends text with NULLs, quotes, backslashes, commas, braces and non-ASCII letters', async () => {
    const texts = [
      'Proefpersoon',
      null,
      'met "aanhalingstekens"',
      'a\\b',
      'a,b',
      '{x}',
      '',
      'Ĳsselmeer-Ærøskøbing 👍',
      'NULL',
    ];
    expect(await roundTrip(textArray(texts), 'text')).toEqual(texts);
  });

  it('sends integers, big integers and booleans', async () => {
    expect(await roundTrip(int4Array([0, -1, 2_147_483_647, -2_147_483_648]), 'int4')).toEqual([
      '0',
      '-1',
      '2147483647',
      '-2147483648',
    ]);
    expect(await roundTrip(int8Array([0, 1_234_567_890_123, -5]), 'int8')).toEqual([
      '0',
      '1234567890123',
      '-5',
    ]);
    expect(() => int8Array([0.5])).toThrow(/safe integer/);
    expect(await roundTrip(boolArray([true, false]), 'bool')).toEqual(['true', 'false']);
  });

  it('sends empty arrays', async () => {
    expect(await roundTrip(uuidArray([]), 'uuid')).toEqual([]);
    expect(await roundTrip(textArray([]), 'text')).toEqual([]);
  });

  it('is refused when the element type does not match the cast', async () => {
    await expect(roundTrip(textArray(['x']), 'uuid')).rejects.toThrow(/element type/);
  });
});
