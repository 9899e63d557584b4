import { describe, expect, it } from 'vitest';
import { SlotPool } from './slots';

describe('simulator: slot pool', () => {
  it('counts slot-milliseconds held, including slots still held, and not time spent queued', async () => {
    let now = 1_000;
    const pool = new SlotPool(() => ({ slots: 2 }), () => now);
    const first = pool.request();
    const second = pool.request();
    const queued = pool.request();
    await Promise.all([first.granted, second.granted]);
    expect(pool.queued).toBe(1);
    now += 100;
    expect(pool.busyMs()).toBe(200);
    first.release();
    await queued.granted;
    now += 50;
    second.release();
    queued.release();
    now += 1_000;
    expect(pool.busyMs()).toBe(200 + 2 * 50);
    expect(pool.active).toBe(0);
  });
});
