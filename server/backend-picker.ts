import type { BackendPicker } from '../activities/generate';
import type { LlmBackend } from './llm/types';

/**
 * Round-robin over the configured backends, shifted by the attempt number so that a retry goes
 * to the next backend. The scheduler replaces this with capacity-aware grants.
 */
export function createRoundRobinPicker(backends: LlmBackend[]): BackendPicker {
  if (backends.length === 0) throw new Error('no LLM backend is configured (set OLLAMA_URL)');
  let next = 0;
  return {
    pick(_model, attempt) {
      if (attempt <= 1) next = (next + 1) % backends.length;
      return backends[(next + attempt - 1) % backends.length]!;
    },
  };
}
