import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import type { ServerEnv } from '../env.ts';

export type { PrismaClient };
export type Db = PrismaClient;

/**
 * A new Prisma client with its own `pg` pool. Code that serves requests uses `getPrisma`;
 * this is for tests and scripts that need a client for a specific database and close it themselves.
 */
export function createPrisma(databaseUrl: string, poolSize?: number): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, ...(poolSize ? { max: poolSize } : {}) }) });
}

// On globalThis rather than in module scope: Vite HMR re-evaluates modules, and each evaluation
// would otherwise open another pool.
const registry = globalThis as typeof globalThis & { __switchyardPrisma?: Map<string, PrismaClient> };

/** The process-wide client for `env.DATABASE_URL`: created on first use, shared afterwards. */
export function getPrisma(env: Pick<ServerEnv, 'DATABASE_URL'> & Partial<Pick<ServerEnv, 'DATABASE_POOL_SIZE'>>): PrismaClient {
  const clients = (registry.__switchyardPrisma ??= new Map());
  let client = clients.get(env.DATABASE_URL);
  if (!client) {
    client = createPrisma(env.DATABASE_URL, env.DATABASE_POOL_SIZE);
    clients.set(env.DATABASE_URL, client);
  }
  return client;
}

/** Closes the clients made by `getPrisma` (graceful shutdown, end of a test run). */
export async function disconnectPrisma(): Promise<void> {
  const clients = registry.__switchyardPrisma;
  if (!clients) return;
  registry.__switchyardPrisma = undefined;
  await Promise.all([...clients.values()].map((c) => c.$disconnect()));
}
