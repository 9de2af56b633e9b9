import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Time } from '../../lib/uuidv7.js';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('makes version-7, variant-10 UUIDs carrying the millisecond', () => {
    const at = Date.UTC(2026, 10, 27, 22, 30);
    const id = uuidv7(at + 5_000);
    expect(id).toMatch(FORMAT);
    expect(uuidv7Time(id)).toBe(at + 5_000);
  });

  it('is strictly increasing, also within one millisecond and when the clock goes back', () => {
    const at = Date.UTC(2027, 0, 1);
    const ids = [
      ...Array.from({ length: 10_000 }, () => uuidv7(at)),
      ...Array.from({ length: 10 }, () => uuidv7(at - 60_000)),
      ...Array.from({ length: 10 }, () => uuidv7(at + 60_000)),
    ];
    for (const id of ids) expect(id).toMatch(FORMAT);
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // 10,000 ids in one millisecond borrow a few following milliseconds, no more.
    expect(uuidv7Time(ids[9_999]!) - at).toBeLessThan(5);
    expect(uuidv7Time(ids.at(-1)!)).toBe(at + 60_000);
  });

  it('differs between calls in its random part', () => {
    const a = uuidv7(1_000);
    const b = uuidv7(2_000);
    expect(a.slice(19)).not.toBe(b.slice(19));
  });
});
