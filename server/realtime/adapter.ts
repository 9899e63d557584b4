import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import pg from 'pg';
import type { Server } from 'socket.io';
import { getLogger } from '../log';

export interface AdapterHandle {
  close(): Promise<void>;
}

/**
 * Connects `io` to the other web and worker processes: through Redis pub/sub when REDIS_URL is
 * set, otherwise through PostgreSQL LISTEN/NOTIFY on the app database.
 */
export async function attachAdapter(
  io: Server,
  config: { databaseUrl: string; redisUrl?: string | undefined },
): Promise<AdapterHandle> {
  if (config.redisUrl) {
    // Imported only when configured: unused, the client and its adapter cost every process memory.
    const [{ createClient }, { createAdapter: createRedisAdapter }] = await Promise.all([import('redis'), import('@socket.io/redis-adapter')]);
    const pub = createClient({ url: config.redisUrl });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createRedisAdapter(pub, sub));
    return {
      close: async () => {
        await Promise.all([pub.quit(), sub.quit()]);
      },
    };
  }
  // Sized for bursts of NOTIFYs from a worker relaying many streaming jobs (relay.ts): with too
  // few connections the token batches queue in the worker for seconds.
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 12 });
  const warn = (err: unknown) => getLogger().warn({ err }, 'socket.io adapter failed');
  pool.on('error', () => undefined);
  // The adapter keeps one client out of the pool for LISTEN and gives it no 'error' listener (the
  // pool's own is removed at checkout): when PostgreSQL restarts, that client's error was uncaught
  // and ended the web and worker processes. Handled, the adapter sees the client end and listens again.
  pool.on('connect', (client) => {
    client.on('error', warn);
    // The LISTEN client (the one with a 'notification' listener) is never given back when its
    // connection ends: the adapter drops it and listens on a new one, and the pool would wait for
    // it forever on close.
    client.on('end', () => {
      if (client.listenerCount('notification') > 0) client.release(new Error('the LISTEN connection ended'));
    });
  });
  io.adapter(createPostgresAdapter(pool, { heartbeatInterval: 5000, errorHandler: warn }));
  return { close: () => pool.end() };
}
