import { describe, expect, it } from 'vitest';
import { packWaiting, unpackWaiting } from './carried';
import { createSchedulerState, dispatch, type SchedulerState } from '.';
import { fill, ollama, prng, tier } from './simulation';

const T0 = 1_700_000_000_000;

/** 5,000 waiting jobs with ids shaped like the real ones (UUID jobs, cuid teams and users). */
function bigQueue(): SchedulerState {
  const state = createSchedulerState({
    tiers: [tier('gold'), tier('std')],
    backends: [ollama('o1', 4, ['m1', 'm2']), ollama('o2', 4, ['m1', 'm2'])],
    now: T0,
  });
  fill(state, 5_000, 7, T0, ['m1', 'm2']);
  const random = prng(11);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const cuid = new Map<string, string>();
  const realId = (id: string) => cuid.get(id) ?? cuid.set(id, `c${hex(24)}`).get(id)!;
  for (const job of state.waiting) {
    job.jobId = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
    job.teamId = realId(job.teamId);
    job.userId = realId(`${job.userId}-${Math.floor(random() * 50)}`);
  }
  return state;
}

describe('the waiting list carried across continue-as-new', () => {
  it('comes back exactly as it went, through the JSON of a payload', () => {
    const state = bigQueue();
    dispatch(state, T0 + 10_000);
    state.waiting[3]!.fallbackSince = T0 + 5;
    state.waiting[40]!.avoid = ['o1'];
    state.waiting[41]!.boost = 2;
    state.waiting[42]!.priority = -1;
    const before = structuredClone(state);

    const packed = JSON.parse(JSON.stringify(packWaiting(state.waiting)));
    expect(packed.uuidHex).toHaveLength(32 * state.waiting.length);
    expect(unpackWaiting(packed)).toEqual(before.waiting);
  });

  it('carries job ids that are not all UUIDs as they are', () => {
    const state = bigQueue();
    state.waiting[7]!.jobId = 'review-7:agent-0';
    const before = structuredClone(state);

    const packed = JSON.parse(JSON.stringify(packWaiting(state.waiting)));
    expect(packed.uuidHex).toBe('');
    expect(unpackWaiting(packed)).toEqual(before.waiting);
  });

  it('packs 5,000 waiting jobs into less than a quarter of their JSON as objects', () => {
    const state = bigQueue();
    const plain = JSON.stringify(state.waiting).length;
    const packed = JSON.stringify(packWaiting(state.waiting)).length;
    expect(plain).toBeGreaterThan(1_000_000);
    expect(packed).toBeLessThan(plain / 4);
  });
});
