import { Server } from 'socket.io';
import { attachAdapter } from './adapter';
import type { ClientToServerEvents, Publisher, ServerToClientEvents } from './events';
import { packRelay, RELAY_EVENT, type InterServerEvents, type RelayedEmit } from './relay';

/**
 * A Socket.IO server with no HTTP listener: it joins the adapter's cluster only to send relayed
 * emits (see relay.ts) to the web processes, which deliver them to their sockets.
 */
export async function createPublisher(config: { databaseUrl: string; redisUrl?: string | undefined }) {
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents>();
  const adapter = await attachAdapter(io, config);
  let pending: RelayedEmit[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  // Every job's token batcher flushes on the same clock tick (see TextBatcher), so one turn of
  // the event loop collects the batches of all streaming jobs.
  const send = () => {
    scheduled = undefined;
    const emits = pending;
    pending = [];
    for (const chunk of packRelay(emits)) io.serverSideEmit(RELAY_EVENT, chunk);
  };
  const publisher: Publisher & { close(): Promise<void> } = {
    emit(rooms, event, payload) {
      pending.push({ rooms, event, payload });
      scheduled ??= setImmediate(send);
    },
    async close() {
      clearImmediate(scheduled);
      send();
      // io.close() would also stop an HTTP engine this server never had.
      await io.of('/').adapter.close();
      await adapter.close();
    },
  };
  return publisher;
}
