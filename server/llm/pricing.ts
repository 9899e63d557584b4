export interface ModelPrice {
  /** USD per million prompt tokens. */
  input: number;
  /** USD per million completion tokens. */
  output: number;
}

export interface CloudModel extends ModelPrice {
  contextWindow: number;
}

/** List prices of common OpenAI models (USD per 1M tokens), checked 2025-06. Dated snapshots match by prefix. */
export const cloudModels: Readonly<Record<string, CloudModel>> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6, contextWindow: 128_000 },
  'gpt-4o': { input: 2.5, output: 10, contextWindow: 128_000 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, contextWindow: 1_047_576 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, contextWindow: 1_047_576 },
  'gpt-4.1': { input: 2, output: 8, contextWindow: 1_047_576 },
  'o4-mini': { input: 1.1, output: 4.4, contextWindow: 200_000 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5, contextWindow: 16_385 },
};

/** Unknown cloud models are charged like a large model, so budgets err on the safe side. */
export const unknownCloudPrice: ModelPrice = { input: 2.5, output: 10 };

export const localPrice: ModelPrice = { input: 0, output: 0 };

export function findCloudModel(model: string): CloudModel | undefined {
  const exact = cloudModels[model];
  if (exact) return exact;
  // Longest prefix first, so "gpt-4o-mini-2024-07-18" is not priced as "gpt-4o".
  const prefix = Object.keys(cloudModels)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? cloudModels[prefix] : undefined;
}

export function cloudPrice(model: string, overrides: Readonly<Record<string, ModelPrice>> = {}): ModelPrice {
  return overrides[model] ?? findCloudModel(model) ?? unknownCloudPrice;
}

export function costUsd(price: ModelPrice, promptTokens: number, completionTokens: number): number {
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
}
