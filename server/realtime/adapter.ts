import { createAdapter as createPostgresAdapter } from '@socket.io/postgres-adapter';
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter';
import pg from 'pg';
import { createClient } from 'redis';
import type { Server } from 'socket.io';

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
  pool.on('error', () => undefined);
  io.adapter(
    createPostgresAdapter(pool, {
      heartbeatInterval: 5000,
      errorHandler: (error) => console.warn(`socket.io adapter: ${error.message}`),
    }),
  );
  return { close: () => pool.end() };
}
