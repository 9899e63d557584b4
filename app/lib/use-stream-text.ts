import { useCallback, useEffect, useRef, useState } from 'react';
import { receivePiece, receiveStored, streamOf, type StreamPiece, type StreamState } from './stream-text';

/**
 * The text a page shows of a streaming output: the stored copy (`stored`, once fetched; `storedAt`
 * when it was fetched) extended by the pieces the job room pushes. A piece beyond a gap is held
 * and `fetchStored` asked for a newer stored copy; it must not cancel a fetch already under way.
 */
export function useStreamText(stored: string | undefined, storedAt: number, fetchStored: () => void) {
  const state = useRef<StreamState>(streamOf(stored ?? ''));
  const [text, setText] = useState(state.current.text);
  const latestFetch = useRef(fetchStored);
  latestFetch.current = fetchStored;

  const show = useCallback((next: StreamState) => {
    state.current = next;
    setText(next.text);
  }, []);
  useEffect(() => {
    if (stored !== undefined) show(receiveStored(state.current, stored));
    // storedAt: each fetch counts, even of the same text (after a reset, say).
  }, [stored, storedAt, show]);

  const receive = useCallback(
    (piece: StreamPiece) => {
      const { state: next, gap } = receivePiece(state.current, piece);
      show(next);
      if (gap) latestFetch.current();
    },
    [show],
  );
  const reset = useCallback(() => show(streamOf('')), [show]);
  return { text, receive, reset };
}
