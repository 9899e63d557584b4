import { describe, expect, it } from 'vitest';
import { createSchedulerState, dispatch, enqueue, indexWaiting, release, removeWaiting } from '.';
import { ollama, prng, tier } from './simulation';

describe('the waiting index a scheduler run keeps', () => {
  it('stays equal to one built from the list through arrivals, grants, releases and cancellations', () => {
    const T0 = 1_700_000_000_000;
    const state = createSchedulerState({
      tiers: [tier('gold', { maxQueuedPerUser: 4, maxRunningPerUser: 1 }), tier('std', { maxQueuedPerUser: 3 })],
      backends: [ollama('o1', 2, ['m1', 'm2']), ollama('o2', 1, ['m1'])],
      now: T0,
    });
    const index = indexWaiting(state);
    const random = prng(5);
    const refusals = new Set<string>();
    for (let step = 0; step < 2_000; step++) {
      const now = T0 + step * 100;
      const roll = random();
      if (roll < 0.5) {
        const user = Math.floor(random() * 12);
        const result = enqueue(
          state,
          { jobId: `j${Math.floor(random() * 400)}`, teamId: `t${user % 3}`, userId: `u${user}`, tier: user % 2 ? 'gold' : 'std', model: random() < 0.7 ? 'm1' : 'm2' },
          now,
          index,
        );
        if (!result.ok) refusals.add(result.reason);
      } else if (roll < 0.7) {
        const leases = Object.keys(state.leases);
        if (leases.length > 0) release(state, leases[Math.floor(random() * leases.length)]!, now, { ok: true, serviceMs: 1_000 });
      } else if (roll < 0.8) {
        removeWaiting(state, `j${Math.floor(random() * 400)}`, index);
      } else {
        dispatch(state, now, index);
      }
      expect(index).toEqual(indexWaiting(state));
    }
    // The run went through the paths that matter: full queues, and jobs already running asked again.
    expect(refusals).toEqual(new Set(['user-queue-full', 'already-running']));
  });
});
