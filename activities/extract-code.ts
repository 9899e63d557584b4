const FENCE = /```([\w+-]*)[^\n]*\n([\s\S]*?)```/;

/** The first fenced code block of a model's answer, or the whole answer when it has none. */
export function extractCode(text: string): { code: string; language: string } {
  const match = FENCE.exec(text);
  if (!match) return { code: text.trim(), language: '' };
  return { code: match[2]!.replace(/\n$/, ''), language: match[1] ?? '' };
}
