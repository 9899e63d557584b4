/**
 * Context windows of common OpenAI models, which OpenAI's /v1/models does not report (checked
 * 2025-06). Dated snapshots ("gpt-4o-mini-2024-07-18") match their model by prefix.
 */
const contextWindows: Readonly<Record<string, number>> = {
  'gpt-4o-mini': 128_000,
  'gpt-4o': 128_000,
  'gpt-4.1-nano': 1_047_576,
  'gpt-4.1-mini': 1_047_576,
  'gpt-4.1': 1_047_576,
  'o4-mini': 200_000,
  'gpt-3.5-turbo': 16_385,
};

export function knownContextWindow(model: string): number | undefined {
  const exact = contextWindows[model];
  if (exact) return exact;
  // Longest prefix first, so "gpt-4o-mini-2024-07-18" is not read as "gpt-4o".
  const prefix = Object.keys(contextWindows)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? contextWindows[prefix] : undefined;
}
