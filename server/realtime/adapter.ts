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
  // When every token batch was its own NOTIFY, 4 connections queued 100 streaming jobs' batches
  // for seconds in the worker (bench:fanout p50 1.4 s → 56 ms with 12). A worker now relays a
  // turn's emits in a few NOTIFYs (relay.ts); the pool stays sized for bursts of them.
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
