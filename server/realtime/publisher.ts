import { Server } from 'socket.io';
import { attachAdapter } from './adapter';
import type { ClientToServerEvents, Publisher, ServerToClientEvents } from './events';

/**
 * A Socket.IO server with no HTTP listener: it joins the adapter's cluster only to broadcast,
 * which keeps the wire format exactly the one the web processes' adapter expects.
 */
export async function createPublisher(config: { databaseUrl: string; redisUrl?: string | undefined }) {
  const io = new Server<ClientToServerEvents, ServerToClientEvents>();
  const adapter = await attachAdapter(io, config);
  const publisher: Publisher & { close(): Promise<void> } = {
    emit(room, event, payload) {
      // The generic event/payload pair is checked by Publisher's signature.
      (io.to(room).emit as (e: string, p: unknown) => boolean)(event, payload);
    },
    async close() {
      // io.close() would also stop an HTTP engine this server never had.
      await io.of('/').adapter.close();
      await adapter.close();
    },
  };
  return publisher;
}
