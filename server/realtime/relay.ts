import type { ServerToClientEvents } from './events';

/**
 * How a worker's emits reach the browsers: the worker packs the emits of one event-loop turn into
 * a few server-side events, and each web process emits them to its own sockets (same events, same
 * rooms; a socket in several of the rooms still gets one copy). An adapter broadcast per emit
 * would be a NOTIFY (or Redis PUBLISH) per token batch of every streaming job — each a commit in
 * PostgreSQL, a round trip from the worker's pool and a message every web process parses.
 * Web processes must know this event before workers send it: deploy web first.
 */

/** The server-side event that carries relayed emits. */
export const RELAY_EVENT = 'relay';

/** One `Publisher.emit`, as it travels from a worker to the web processes. */
export interface RelayedEmit {
  rooms: string | string[];
  event: keyof ServerToClientEvents;
  payload: unknown;
}

export interface InterServerEvents {
  [RELAY_EVENT]: (emits: RelayedEmit[]) => void;
}

/**
 * PostgreSQL refuses a NOTIFY payload of 8000 bytes or more, and the PostgreSQL adapter sends
 * anything above its 8000-byte threshold through a table insert and a select instead; this leaves
 * room for the adapter's envelope (uid, namespace, type, event name).
 */
export const RELAY_CHUNK_BYTES = 7000;

/**
 * Splits emits, in order, into chunks whose JSON stays within `maxBytes`. An emit larger than
 * that on its own travels alone (the adapter still delivers it, by the slower path).
 */
export function packRelay(emits: RelayedEmit[], maxBytes = RELAY_CHUNK_BYTES): RelayedEmit[][] {
  const chunks: RelayedEmit[][] = [];
  let chunk: RelayedEmit[] = [];
  // Two bytes of brackets, then each emit and its separating comma.
  let bytes = 2;
  for (const emit of emits) {
    const size = Buffer.byteLength(JSON.stringify(emit)) + 1;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 2;
    }
    chunk.push(emit);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
