import { describe, expect, it } from 'vitest';
import { applyResidency, createSchedulerState, dispatch, enqueue, loadModel, release, switchCost, type Residency, type SchedulerState } from '.';
import { ollama, tier } from './simulation';

const T0 = 1_700_000_000_000;
const coder = 'qwen2.5-coder:7b';
const llama = 'llama3.1:8b';
const big = 'qwen2.5-coder:32b';
const sizes = { [coder]: 5_600, [llama]: 6_200, [big]: 21_000 };

const residency = (fields: Partial<Residency>): Residency => ({ loaded: [], maxLoaded: 3, budgetMb: 0, sizesMb: sizes, ...fields });

function submit(state: SchedulerState, jobId: string, model: string, at = T0) {
  const result = enqueue(state, { jobId, teamId: 't', userId: `u-${jobId}`, tier: 'std', model }, at);
  if (!result.ok) throw new Error(result.reason);
}

describe('residency: what an Ollama backend holds', () => {
  it('evicts the least recently used model past the model count', () => {
    const r = residency({ loaded: [llama, coder], maxLoaded: 2 });
    expect(switchCost(r, big)).toBe(2);
    expect(loadModel(r, big)).toEqual([coder]);
    expect(r.loaded).toEqual([big, llama]);
  });

  it('evicts past the memory budget even below the model count, as many as it takes', () => {
    const r = residency({ loaded: [coder, llama], budgetMb: 24_000 });
    expect(switchCost(r, big)).toBe(2);
    expect(loadModel(r, big)).toEqual([llama, coder]);
    expect(r.loaded).toEqual([big]);
  });

  it('loads beside the others while count and memory allow, and a use only reorders', () => {
    const r = residency({ loaded: [coder], budgetMb: 12_000 });
    expect(switchCost(r, llama)).toBe(1);
    expect(loadModel(r, llama)).toEqual([]);
    expect(loadModel(r, coder)).toEqual([]);
    expect(r.loaded).toEqual([coder, llama]);
    expect(switchCost(r, coder)).toBe(0);
  });

  it('loads a model bigger than the whole budget alone rather than never', () => {
    const r = residency({ loaded: [coder], budgetMb: 8_000 });
    expect(loadModel(r, big)).toEqual([coder]);
    expect(r.loaded).toEqual([big]);
  });
});

describe('placement by residency read from the backends', () => {
  const build = () =>
    createSchedulerState({
      tiers: [tier('std')],
      // Both serve every model; the guess (no read yet) is that nothing is loaded anywhere.
      backends: [ollama('gpu-a', 2, [coder, llama], { maxLoadedModels: 3 }), ollama('gpu-b', 2, [coder, llama], { maxLoadedModels: 3 })],
      now: T0,
    });

  it('places a job on the backend whose /api/ps lists its model, not on the emptier one that would load it', () => {
    const state = build();
    applyResidency(state, { backendId: 'gpu-a', models: [coder, llama], loaded: [], sizesMb: sizes });
    applyResidency(state, { backendId: 'gpu-b', models: [coder, llama], loaded: [llama], sizesMb: sizes });
    submit(state, 'j1', llama);
    expect(dispatch(state, T0).grants.map((g) => g.backendId)).toEqual(['gpu-b']);
  });

  it('learns a memory budget from the largest total read, and then prefers a backend where the model fits', () => {
    const state = build();
    // gpu-a was seen holding one model of 6.2 GB at most: a second one would evict it.
    applyResidency(state, { backendId: 'gpu-a', models: [coder, llama], loaded: [llama], sizesMb: sizes });
    applyResidency(state, { backendId: 'gpu-b', models: [coder, llama], loaded: [coder, llama], sizesMb: sizes });
    applyResidency(state, { backendId: 'gpu-b', models: [coder, llama], loaded: [llama], sizesMb: sizes });
    expect(state.backends['gpu-a']).toMatchObject({ peakLoadedMb: 6_200 });
    expect(state.backends['gpu-b']).toMatchObject({ peakLoadedMb: 11_800, loadedModels: [llama] });
    submit(state, 'j1', coder);
    // Both have a free slot and neither has coder loaded; gpu-b has room for it beside llama.
    expect(dispatch(state, T0).grants.map((g) => g.backendId)).toEqual(['gpu-b']);
    expect(state.backends['gpu-b']!.loadedModels).toEqual([coder, llama]);
  });

  it('an admin budget overrides the learned one', () => {
    const state = build();
    applyResidency(state, { backendId: 'gpu-a', models: [coder, llama], loaded: [llama], sizesMb: sizes });
    state.backends['gpu-a']!.memoryBudgetMb = 16_000;
    submit(state, 'j1', coder);
    applyResidency(state, { backendId: 'gpu-b', models: [coder, llama], loaded: [big], sizesMb: { ...sizes } });
    expect(dispatch(state, T0).grants.map((g) => g.backendId)).toEqual(['gpu-a']);
  });

  it('keeps the model of a running lease loaded when a read misses it, and reports whether anything changed', () => {
    const state = build();
    submit(state, 'j1', coder);
    const [grant] = dispatch(state, T0).grants;
    const backendId = grant!.backendId;
    const read = { backendId, models: [coder, llama], loaded: [llama], sizesMb: sizes };
    expect(applyResidency(state, read)).toBe(true);
    expect(state.backends[backendId]!.loadedModels).toEqual([coder, llama]);
    expect(applyResidency(state, read)).toBe(false);
    release(state, 'j1', T0 + 1_000);
    applyResidency(state, read);
    expect(state.backends[backendId]!.loadedModels).toEqual([llama]);
  });

  it('takes the served models from the read: a model pulled onto a backend becomes placeable there', () => {
    const state = build();
    submit(state, 'j1', big);
    expect(dispatch(state, T0).grants).toEqual([]);
    applyResidency(state, { backendId: 'gpu-b', models: [coder, llama, big], loaded: [], sizesMb: sizes });
    expect(dispatch(state, T0).grants.map((g) => g.backendId)).toEqual(['gpu-b']);
  });
});
