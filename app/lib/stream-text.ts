/**
 * Merges a streamed piece (`text` starting at `offset`) into what the page already shows.
 * Returns the new text, or null when there is a gap and the page must refetch.
 */
export function mergeStreamed(current: string, offset: number, text: string): string | null {
  if (offset > current.length) return null;
  const end = offset + text.length;
  if (end <= current.length) return current;
  return current + text.slice(current.length - offset);
}
