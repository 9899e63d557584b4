/**
 * Prompt size estimate used before calling a backend: about four characters a token. Real
 * tokenizers differ by model; the estimate only has to catch prompts that clearly cannot fit.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimatePromptTokens(messages: ReadonlyArray<{ content: string }>): number {
  return messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);
}
