/**
 * Splits text into token-sized pieces whose concatenation is the text again: a word (at most
 * eight characters) or a punctuation mark with the whitespace before it, or trailing whitespace.
 */
const tokenPattern = /\s*[A-Za-z0-9_]{1,8}|\s*[^A-Za-z0-9_\s]|\s+/g;

export function tokenize(text: string): string[] {
  return text.match(tokenPattern) ?? [];
}
