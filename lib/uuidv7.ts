/**
 * Time-ordered UUIDs (version 7, RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter, then 62
 * random bits. Rows created together get ids that sort together, so a b-tree index on them (a primary key,
 * `residents.case_key`, `(municipality, signal_date, id)`) grows at its right edge instead of touching a
 * random page per row: intake writes tens of thousands of such rows per batch.
 *
 * Ids made by one process are strictly increasing (the counter breaks ties within a millisecond and, when
 * it runs out, borrows the next millisecond). They reveal when they were made, never anything else.
 */
import { randomFillSync } from 'node:crypto';

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes drawn in bulk: one system call per 512 ids. */
const pool = Buffer.alloc(8 * 512);
let offset = pool.length;
let lastMs = -1;
let counter = 0;

/** The id's first 15 characters (time and version) for `lastMs`, made once per millisecond. */
let prefix = '';

export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    // A random start in the lower half leaves room for thousands of ids in the same millisecond.
    counter = Math.floor(Math.random() * 0x800);
    prefix = '';
  } else {
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1;
      counter = 0;
      prefix = '';
    }
  }
  if (prefix === '') {
    const time = lastMs.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
  }
  if (offset + 8 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = offset;
  offset += 8;
  return (
    `${prefix}${HEX[counter >> 8]!.slice(1)}${HEX[counter & 0xff]}-` +
    `${HEX[(pool[r]! & 0x3f) | 0x80]}${HEX[pool[r + 1]!]}-` +
    `${HEX[pool[r + 2]!]}${HEX[pool[r + 3]!]}${HEX[pool[r + 4]!]}${HEX[pool[r + 5]!]}${HEX[pool[r + 6]!]}${HEX[pool[r + 7]!]}`
  );
}

/** The millisecond a version-7 id was made (for tests and diagnostics). */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
