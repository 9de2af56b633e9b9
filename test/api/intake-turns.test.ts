import { describe, expect, it } from 'vitest';
import { inTurn } from '../../api/routes/partners/intake.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('inTurn (chunks of one municipality wait in this process, not on a pool connection)', () => {
  it('runs the work of one municipality one at a time, in arrival order, and others beside it', async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const work = (name: string, ms: number) => async () => {
      running += 1;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      running -= 1;
      return name;
    };
    const other: string[] = [];
    const results = await Promise.all([
      inTurn('GM0001', work('a', 30)),
      inTurn('GM0001', work('b', 5)),
      inTurn('GM0002', async () => {
        other.push(`while ${log.at(-1)}`);
        return 'other';
      }),
      inTurn('GM0001', work('c', 1)),
    ]);
    expect(results).toEqual(['a', 'b', 'other', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(most).toBe(1);
    // Another municipality did not wait for GM0001's work.
    expect(other).toEqual(['while start a']);
  });

  it('lets the next work run after one fails', async () => {
    const failing = inTurn('GM0003', async () => {
      await tick(5);
      throw new Error('chunk failed');
    });
    const next = inTurn('GM0003', async () => 'next');
    await expect(failing).rejects.toThrow('chunk failed');
    expect(await next).toBe('next');
  });
});
