import { describe, expect, it } from 'vitest';
import { reaskDelayMs, unitHash } from './job-capacity';

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

  it('draws the spread from the job id, evenly: the same on replay, different across a burst of jobs', () => {
    expect(unitHash('job-1:0')).toBe(unitHash('job-1:0'));
    const draws = Array.from({ length: 1000 }, () => unitHash(`${crypto.randomUUID()}:0`));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    // Each tenth of [0, 1) gets its share (100 expected; well within chance either way).
    const tenths = Array.from({ length: 10 }, (_, t) => draws.filter((d) => Math.floor(d * 10) === t).length);
    for (const count of tenths) expect(count).toBeGreaterThan(50);
  });
});
