import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import './context';
import { dropDatabase } from '../../server/db/scratch-database';
import { perFile } from './per-file';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh database cloned from the run's migrated template (CREATE DATABASE … TEMPLATE: a file
 * copy, tens of milliseconds). `seed: true` also runs the project seed (demo users, tiers, …).
 */
export async function createTestDatabase(options: { seed?: boolean } = {}): Promise<TestDatabase> {
  const infra = inject('switchyard');
  const name = `${infra.databasePrefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: infra.adminUrl });
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE ${admin.escapeIdentifier(infra.templateDatabase)}`);
        break;
      } catch (error) {
        // 55006: the template is briefly "being accessed by other users" (e.g. autovacuum). Retry.
        if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(infra.adminUrl);
  url.pathname = `/${name}`;
  const database: TestDatabase = {
    url: url.toString(),
    name,
    drop: () => dropDatabase(infra.adminUrl, name),
  };
  if (options.seed) {
    const { seedDatabase } = await import('../../prisma/seed');
    await seedDatabase(database.url, { demo: true });
  }
  return database;
}

/**
 * Hook form for a test file: a database created before the file's tests and dropped after them.
 * Read `.url` inside tests or hooks, not at module level.
 */
export function useTestDatabase(options: { seed?: boolean } = {}): TestDatabase {
  return perFile('useTestDatabase()', () => createTestDatabase(options), (database) => database.drop());
}
