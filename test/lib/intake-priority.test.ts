/** Partners' deliveries first: the dispatcher holds while a delivery is received, but never for too long. */
import { describe, expect, it } from 'vitest';
import { IntakePriority, MAX_HOLD_MS } from '../../lib/intake-priority.js';

describe('intake priority', () => {
  it('holds while any delivery is being received, and lets go when the last one ends', () => {
    const priority = new IntakePriority();
    expect(priority.holding()).toBe(false);
    const first = priority.begin();
    const second = priority.begin();
    expect(priority.holding()).toBe(true);
    first();
    first(); // ending twice counts once
    expect(priority.holding()).toBe(true);
    second();
    expect(priority.holding()).toBe(false);
  });

  it('lets the dispatcher go on after MAX_HOLD_MS of deliveries in a row', () => {
    const priority = new IntakePriority();
    const end = priority.begin();
    expect(priority.holding(Date.now() + MAX_HOLD_MS - 1_000)).toBe(true);
    expect(priority.holding(Date.now() + MAX_HOLD_MS + 1)).toBe(false);
    end();
  });
});
