import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { applyMigrations, defaultMigrationsDir, readMigrations } from '../../server/db/migrate.ts';
import { createEmptyTestDatabase } from './empty-database.ts';

/**
 * For a test of one migration on data as it stood: a scratch database with every migration before
 * `migration` applied and a client on it. `migrate()` then applies it and any after it. Both are
 * cleaned up when the test finishes.
 */
export async function databaseBefore(migration: string): Promise<{ client: pg.Client; migrate: () => Promise<void> }> {
  const db = await createEmptyTestDatabase();
  const before = await mkdtemp(join(tmpdir(), 'switchyard-migrations-'));
  const client = new pg.Client({ connectionString: db.url });
  onTestFinished(async () => {
    await client.end();
    await rm(before, { recursive: true, force: true });
    await db.drop();
  });
  for (const { name } of await readMigrations()) {
    if (name < migration) await cp(join(defaultMigrationsDir, name), join(before, name), { recursive: true });
  }
  await applyMigrations(db.url, before);
  await client.connect();
  return {
    client,
    migrate: async () => {
      await applyMigrations(db.url);
    },
  };
}
