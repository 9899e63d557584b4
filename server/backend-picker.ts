import type { BackendPicker } from '../activities/generate';
import type { LlmBackend } from './llm/types';

const REMEMBERED_JOBS = 10_000;

/**
 * Round-robin over the configured backends. A job's retry goes to the backend after the one its
 * previous attempt used, so a failing backend is not hit twice in a row by the same job. The
 * scheduler replaces this with capacity-aware grants.
 */
export function createRoundRobinPicker(backends: LlmBackend[]): BackendPicker {
  if (backends.length === 0) throw new Error('no LLM backend is configured (set OLLAMA_URL)');
  let cursor = 0;
  const firstPick = new Map<string, number>();
  return {
    pick({ jobId, attempt }) {
      let start = firstPick.get(jobId);
      if (start === undefined) {
        start = cursor;
        cursor = (cursor + 1) % backends.length;
        firstPick.set(jobId, start);
        if (firstPick.size > REMEMBERED_JOBS) firstPick.delete(firstPick.keys().next().value!);
      }
      return backends[(start + Math.max(0, attempt - 1)) % backends.length]!;
    },
  };
}
