import { describe, expect, it } from 'vitest';
import {
  catalogCost,
  concreteModel,
  findCatalogEntry,
  outputCap,
  servedNames,
  tierCanServe,
  usableEntries,
  type CatalogEntry,
} from './catalog-mapping';

const entry = (name: string, ollamaModel: string | null, openaiModel: string | null, overrides: Partial<CatalogEntry> = {}): CatalogEntry => ({
  name,
  enabled: true,
  contextLength: 32_768,
  maxOutputTokens: 2_048,
  inputPricePer1k: 0,
  outputPricePer1k: 0,
  ollamaModel,
  openaiModel,
  ...overrides,
});

const catalogue = [
  entry('qwen2.5-coder:7b', 'qwen2.5-coder:7b', 'gpt-4o-mini'),
  entry('llama3.1:8b', 'llama3.1:8b', null),
  entry('tiny-stop', 'tiny-stop', null),
  entry('gpt-4o', null, 'gpt-4o'),
];

describe('the catalogue mapping', () => {
  it('finds an entry by its name, or by a name Ollama takes for it', () => {
    expect(findCatalogEntry(catalogue, 'llama3.1:8b')?.name).toBe('llama3.1:8b');
    expect(findCatalogEntry(catalogue, 'tiny-stop:latest')?.name).toBe('tiny-stop');
    expect(findCatalogEntry(catalogue, 'Qwen2.5-Coder:7B')?.name).toBe('qwen2.5-coder:7b');
    expect(findCatalogEntry(catalogue, 'llama3.1:70b')).toBeUndefined();
  });

  it('gives each backend the catalogue names whose concrete model it reports', () => {
    expect(servedNames({ kind: 'ollama', models: ['qwen2.5-coder:7b', 'tiny-stop:latest', 'gpt-4o'] }, catalogue)).toEqual(['qwen2.5-coder:7b', 'tiny-stop']);
    // OpenAI ids match exactly, and an OpenAI endpoint serves an entry only on its OpenAI side.
    expect(servedNames({ kind: 'openai', models: ['gpt-4o-mini', 'GPT-4o', 'llama3.1:8b'] }, catalogue)).toEqual(['qwen2.5-coder:7b']);
    expect(concreteModel(catalogue[0]!, 'openai')).toBe('gpt-4o-mini');
    expect(concreteModel(catalogue[1]!, 'openai')).toBeNull();
  });

  it('says whether a tier can ever place a model: its pools, or any cloud backend when it falls back', () => {
    const backends = [
      { kind: 'ollama' as const, pool: 'dedicated', models: ['qwen2.5-coder:7b', 'llama3.1:8b'] },
      { kind: 'openai' as const, pool: 'cloud', models: ['qwen2.5-coder:7b'] },
    ];
    const local = { poolPreference: ['local'], cloudFallback: false };
    expect(tierCanServe(local, backends, 'qwen2.5-coder:7b')).toBe(false);
    expect(tierCanServe({ ...local, cloudFallback: true }, backends, 'qwen2.5-coder:7b')).toBe(true);
    expect(tierCanServe({ ...local, cloudFallback: true }, backends, 'llama3.1:8b')).toBe(false);
    expect(tierCanServe({ poolPreference: ['dedicated', 'local'], cloudFallback: false }, backends, 'llama3.1:8b')).toBe(true);
  });

  it('offers a tier the enabled entries it allows and can place', () => {
    const backends = [{ kind: 'ollama' as const, pool: 'local', models: ['qwen2.5-coder:7b', 'llama3.1:8b', 'tiny-stop'] }];
    const withDisabled = [...catalogue.slice(0, 2), { ...catalogue[2]!, enabled: false }, catalogue[3]!];
    const tier = { allowedModels: [], poolPreference: ['local'], cloudFallback: true };
    expect(usableEntries(tier, withDisabled, backends).map((e) => e.name)).toEqual(['qwen2.5-coder:7b', 'llama3.1:8b']);
    expect(usableEntries({ ...tier, allowedModels: ['llama3.1:8b', 'gpt-4o'] }, withDisabled, backends).map((e) => e.name)).toEqual(['llama3.1:8b']);
  });

  it('caps output by the entry, lowered by the tier; prices by the entry', () => {
    expect(outputCap({ maxOutputTokens: 2_048 }, 0)).toBe(2_048);
    expect(outputCap({ maxOutputTokens: 2_048 }, 512)).toBe(512);
    expect(outputCap({ maxOutputTokens: 256 }, 512)).toBe(256);
    expect(catalogCost({ inputPricePer1k: 0.00015, outputPricePer1k: 0.0006 }, 2_000, 1_000)).toBeCloseTo(0.0009, 12);
  });
});
