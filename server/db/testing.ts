import { loadStackEnv } from '../env.ts';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.ts';

/**
 * A fresh, empty database for one test file: on DATABASE_URL's server when set, else on the
 * local PostgreSQL at 127.0.0.1:5432. The shared harness (scripts/testing/db.ts) replaces this once
 * it exists.
 */
export function createTestDatabase(): Promise<ScratchDatabase> {
  const server = loadStackEnv().DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  return createScratchDatabase(server, 'switchyard_test');
}
