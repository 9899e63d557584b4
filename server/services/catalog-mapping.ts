import type { CatalogModel } from '../generated/prisma/client';
import type { BackendInit, BackendKind, TierPolicy } from '../../workflows/scheduler/core';
import { sameOllamaModel } from '../llm/model-names';

/**
 * The catalogue's mapping, as pure functions: catalogue names (what users choose, what jobs and the
 * scheduler carry) to the concrete model on each kind of backend, and what follows from it — which
 * backends serve an entry, whether a tier can ever place it, the output cap and the price.
 */

export type CatalogEntry = Pick<
  CatalogModel,
  'name' | 'enabled' | 'contextLength' | 'maxOutputTokens' | 'inputPricePer1k' | 'outputPricePer1k' | 'ollamaModel' | 'openaiModel'
>;

export const catalogEntrySelect = {
  name: true,
  enabled: true,
  contextLength: true,
  maxOutputTokens: true,
  inputPricePer1k: true,
  outputPricePer1k: true,
  ollamaModel: true,
  openaiModel: true,
} as const satisfies Record<keyof CatalogEntry, true>;

/**
 * The entry a submitted name refers to: the one of that exact name, else the one Ollama would take
 * it for, so `tiny-stop` finds the entry `tiny-stop:latest` (and the other way round).
 */
export function findCatalogEntry<T extends Pick<CatalogEntry, 'name'>>(entries: readonly T[], name: string): T | undefined {
  return entries.find((entry) => entry.name === name) ?? entries.find((entry) => sameOllamaModel(entry.name, name));
}

/** The concrete model an entry is on one kind of backend; null when that kind does not serve it. */
export function concreteModel(entry: Pick<CatalogEntry, 'ollamaModel' | 'openaiModel'>, kind: BackendKind): string | null {
  return kind === 'ollama' ? entry.ollamaModel : entry.openaiModel;
}

/**
 * The catalogue names a backend can serve: the entries whose concrete model for its kind it
 * reports — matched as Ollama matches names on an Ollama backend, exactly on an OpenAI one.
 */
export function servedNames(backend: { kind: BackendKind; models: readonly string[] }, entries: readonly CatalogEntry[]): string[] {
  const same = backend.kind === 'ollama' ? sameOllamaModel : (a: string, b: string) => a === b;
  return entries
    .filter((entry) => {
      const concrete = concreteModel(entry, backend.kind);
      return concrete !== null && backend.models.some((reported) => same(reported, concrete));
    })
    .map((entry) => entry.name);
}

/**
 * Whether the scheduler could ever place a job of `model` for this tier: some backend of the
 * tier's pools serves it, or a cloud backend does and the tier falls back to cloud (the same
 * eligibility as the planner's, workflows/scheduler/core/planner.ts). Health is not considered:
 * a backend that is down may come back.
 */
export function tierCanServe(
  tier: Pick<TierPolicy, 'poolPreference' | 'cloudFallback'>,
  backends: readonly Pick<BackendInit, 'kind' | 'pool' | 'models'>[],
  model: string,
): boolean {
  return backends.some(
    (backend) => backend.models.includes(model) && (tier.poolPreference.includes(backend.pool) || (tier.cloudFallback && backend.kind === 'openai')),
  );
}

/** The entries a tier's teams can submit now: enabled, allowed by the tier, and served for it. */
export function usableEntries<T extends CatalogEntry>(
  tier: Pick<TierPolicy, 'allowedModels' | 'poolPreference' | 'cloudFallback'>,
  entries: readonly T[],
  backends: readonly Pick<BackendInit, 'kind' | 'pool' | 'models'>[],
): T[] {
  return entries.filter(
    (entry) =>
      entry.enabled &&
      (tier.allowedModels.length === 0 || tier.allowedModels.includes(entry.name)) &&
      tierCanServe(tier, backends, entry.name),
  );
}

/** Completion tokens one job may produce: the entry's cap, lowered by the tier's (0 = no tier cap). */
export function outputCap(entry: Pick<CatalogEntry, 'maxOutputTokens'>, tierMaxOutputTokens: number): number {
  return tierMaxOutputTokens > 0 ? Math.min(entry.maxOutputTokens, tierMaxOutputTokens) : entry.maxOutputTokens;
}

/** What a job costs at the entry's prices, whichever backend answered. */
export function catalogCost(entry: Pick<CatalogEntry, 'inputPricePer1k' | 'outputPricePer1k'>, promptTokens: number, completionTokens: number): number {
  return (promptTokens * entry.inputPricePer1k + completionTokens * entry.outputPricePer1k) / 1_000;
}
