const FENCE = '```';
/**
 * How far into an answer the fence is looked for: about the largest output cap an admin can set
 * (1,000,000 tokens). Model output is attacker-shaped text, so the scan is linear and bounded.
 */
export const MAX_SCANNED_CHARS = 4_000_000;

/** The leading run of `[\w+-]` characters of a fence's info string: its language. */
function languageOf(info: string): string {
  let end = 0;
  while (end < info.length && /[\w+-]/.test(info[end]!)) end += 1;
  return info.slice(0, end);
}

/**
 * The first fenced code block of a model's answer, or the whole answer when it has none.
 * One forward pass with `indexOf`: a regex with a lazy body and overlapping info-string classes
 * backtracks quadratically on an unterminated fence, blocking the worker's event loop.
 */
export function extractCode(text: string): { code: string; language: string } {
  const scanned = text.length > MAX_SCANNED_CHARS ? text.slice(0, MAX_SCANNED_CHARS) : text;
  const open = scanned.indexOf(FENCE);
  const lineEnd = open < 0 ? -1 : scanned.indexOf('\n', open + FENCE.length);
  const close = lineEnd < 0 ? -1 : scanned.indexOf(FENCE, lineEnd + 1);
  if (close < 0) return { code: text.trim(), language: '' };
  const body = scanned.slice(lineEnd + 1, close);
  return { code: body.endsWith('\n') ? body.slice(0, -1) : body, language: languageOf(scanned.slice(open + FENCE.length, lineEnd)) };
}
