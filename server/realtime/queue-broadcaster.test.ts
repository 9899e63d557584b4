import { Server } from 'socket.io';
import { describe, expect, it } from 'vitest';
import type { QueueService } from '../services/queue';
import { createQueueBroadcaster } from './queue-broadcaster';
import type { IoServer } from './types';

/** A promise the test settles. */
function gate<T>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

// A Socket.IO server attached to nothing: its adapter's rooms are all the broadcaster watches.
describe('queue broadcaster', () => {
  it('stops without waiting for a scheduler query no worker answers', async () => {
    const io = new Server() as IoServer;
    const asked = gate<void>();
    const queue = {
      snapshot: () => {
        asked.open();
        return new Promise(() => {}); // no worker polls: never answered
      },
    } as unknown as QueueService;
    const broadcaster = createQueueBroadcaster(io, queue, { intervalMs: 10 });
    await io.of('/').adapter.addAll('socket-1', new Set(['queue:default']));
    await asked.promise;
    await broadcaster.stop();
  });

  it('waits for a publish under way, which reads the database, before it stops', async () => {
    const io = new Server() as IoServer;
    const describing = gate<void>();
    const described = gate<Map<string, unknown>>();
    const queue = {
      snapshot: async () => ({ version: 1, pools: [], teams: { t1: {} } }),
      record: () => {},
      teamRefs: () => [{ jobId: 'job-1' }],
      describe: () => {
        describing.open();
        return described.promise;
      },
      teamEvent: () => ({}),
    } as unknown as QueueService;
    const broadcaster = createQueueBroadcaster(io, queue, { intervalMs: 10 });
    await io.of('/').adapter.addAll('socket-1', new Set(['team:t1']));
    await describing.promise;
    let stopped = false;
    const stopping = broadcaster.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    described.open(new Map());
    await stopping;
    expect(stopped).toBe(true);
  });
});
