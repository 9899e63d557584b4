import { classifyError } from './errors';
import type { HealthReport } from './types';

/** Times `probe` (which lists the models that answer without a load delay); never rejects. */
export async function probeHealth(probe: () => Promise<string[]>): Promise<HealthReport> {
  const started = performance.now();
  try {
    const loadedModels = await probe();
    return { ok: true, latencyMs: performance.now() - started, loadedModels };
  } catch (err) {
    return { ok: false, latencyMs: performance.now() - started, error: classifyError(err).message, loadedModels: [] };
  }
}
