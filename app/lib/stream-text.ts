/** A piece of a job's output as the job room pushes it: `text` starting at `offset`. */
export interface StreamPiece {
  offset: number;
  text: string;
}

/**
 * What a page shows of a streaming output: `text`, and the pieces that arrived beyond its end
 * (a page joins a job's room after the job began, or a socket drops a few pieces), held until a
 * stored copy of the output closes the gap before them.
 */
export interface StreamState {
  text: string;
  held: StreamPiece[];
}

export const streamOf = (text: string): StreamState => ({ text, held: [] });

/**
 * Merges a streamed piece into `current`. Returns the new text, or null when there is a gap
 * between the end of `current` and the piece.
 */
export function mergeStreamed(current: string, offset: number, text: string): string | null {
  if (offset > current.length) return null;
  const end = offset + text.length;
  if (end <= current.length) return current;
  return current + text.slice(current.length - offset);
}

/**
 * A pushed piece arrives. `gap` is true when it had to be held: the caller fetches the stored
 * output (without cancelling a fetch already under way, or a slow server never answers one).
 */
export function receivePiece(state: StreamState, piece: StreamPiece): { state: StreamState; gap: boolean } {
  const merged = mergeStreamed(state.text, piece.offset, piece.text);
  if (merged === null) return { state: { text: state.text, held: [...state.held, piece] }, gap: true };
  return { state: applyHeld(merged, state.held), gap: false };
}

/**
 * The stored output arrives. It replaces the text when it is longer or disagrees with it (a new
 * attempt started over); then the held pieces that now join it are applied.
 */
export function receiveStored(state: StreamState, stored: string): StreamState {
  const text = stored.length >= state.text.length || !state.text.startsWith(stored) ? stored : state.text;
  return applyHeld(text, state.held);
}

function applyHeld(text: string, held: readonly StreamPiece[]): StreamState {
  if (held.length === 0) return { text, held: [] };
  let current = text;
  const still: StreamPiece[] = [];
  for (const piece of [...held].sort((a, b) => a.offset - b.offset)) {
    const merged = mergeStreamed(current, piece.offset, piece.text);
    if (merged === null) still.push(piece);
    else current = merged;
  }
  return { text: current, held: still };
}
