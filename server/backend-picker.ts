import type { BackendPicker } from '../activities/generate';
import type { LlmBackend } from './llm/types';

const REMEMBERED_JOBS = 10_000;

export interface PickerConfig {
  /** Ollama instances; every local model is assumed to be on each. */
  local: LlmBackend[];
  /** The cloud endpoint and the model it serves, when one is configured. */
  cloud?: { backend: LlmBackend; model: string } | undefined;
}

/**
 * Routes the cloud model to the cloud endpoint and everything else round-robin over the local
 * backends. A job's retry goes to the backend after the one its previous attempt used, so a
 * failing backend is not hit twice in a row by the same job. The scheduler replaces this with
 * capacity-aware grants.
 */
export function createRoundRobinPicker({ local, cloud }: PickerConfig): BackendPicker {
  if (local.length === 0 && !cloud) throw new Error('no LLM backend is configured (set OLLAMA_URL)');
  let cursor = 0;
  const firstPick = new Map<string, number>();
  return {
    pick({ jobId, model, attempt }) {
      if (cloud && model === cloud.model) return cloud.backend;
      if (local.length === 0) throw new Error(`no local backend serves ${model}`);
      let start = firstPick.get(jobId);
      if (start === undefined) {
        start = cursor;
        cursor = (cursor + 1) % local.length;
        firstPick.set(jobId, start);
        if (firstPick.size > REMEMBERED_JOBS) firstPick.delete(firstPick.keys().next().value!);
      }
      return local[(start + Math.max(0, attempt - 1)) % local.length]!;
    },
  };
}
