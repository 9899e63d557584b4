import { describe, expect, it } from 'vitest';
import { createRoundRobinPicker } from './backend-picker';
import type { LlmBackend } from './llm/types';

const backend = (id: string) => ({ id }) as LlmBackend;

describe('createRoundRobinPicker', () => {
  const picker = () => createRoundRobinPicker({ local: [backend('a'), backend('b'), backend('c')] });

  it('spreads first attempts across backends', () => {
    const p = picker();
    const ids = ['j1', 'j2', 'j3', 'j4'].map((jobId) => p.pick({ jobId, model: 'm', attempt: 1 }).id);
    expect(ids).toEqual(['a', 'b', 'c', 'a']);
  });

  it('moves a retried job to the next backend, whatever else was picked meanwhile', () => {
    const p = picker();
    expect(p.pick({ jobId: 'j1', model: 'm', attempt: 1 }).id).toBe('a');
    p.pick({ jobId: 'j2', model: 'm', attempt: 1 });
    expect(p.pick({ jobId: 'j1', model: 'm', attempt: 2 }).id).toBe('b');
    expect(p.pick({ jobId: 'j1', model: 'm', attempt: 3 }).id).toBe('c');
  });

  it('sends the cloud model to the cloud endpoint', () => {
    const p = createRoundRobinPicker({ local: [backend('a')], cloud: { backend: backend('cloud'), model: 'gpt-x' } });
    expect(p.pick({ jobId: 'j1', model: 'gpt-x', attempt: 1 }).id).toBe('cloud');
    expect(p.pick({ jobId: 'j2', model: 'qwen', attempt: 1 }).id).toBe('a');
  });

  it('refuses an empty pool', () => {
    expect(() => createRoundRobinPicker({ local: [] })).toThrow('no LLM backend is configured');
  });
});
