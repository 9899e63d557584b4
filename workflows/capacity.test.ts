import { describe, expect, it } from 'vitest';
import { reaskDelayMs } from './capacity';

const minutes = (ms: number) => ms / 60_000;

describe('re-asking the scheduler', () => {
  it('waits about ten minutes first, then twice as long each time, up to an hour', () => {
    expect([0, 1, 2, 3, 4, 10].map((reasks) => minutes(reaskDelayMs(reasks, 0.5)))).toEqual([10, 20, 40, 60, 60, 60]);
  });

  it('spreads each wait by a quarter either way, so a burst of jobs does not re-ask together', () => {
    expect(minutes(reaskDelayMs(0, 0))).toBe(7.5);
    expect(minutes(reaskDelayMs(0, 0.999_999))).toBeCloseTo(12.5, 3);
    expect(minutes(reaskDelayMs(5, 0))).toBe(45);
    const spread = new Set(Array.from({ length: 100 }, (_, i) => reaskDelayMs(0, i / 100)));
    expect(spread.size).toBe(100);
  });
});
