import { inject } from 'vitest';
import './context.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../server/db/scratch-database.ts';

/**
 * An EMPTY database (no migrations) on the test run's PostgreSQL server, for tests of the migration
 * runner and the schema check. Tests that want a migrated database use createTestDatabase() from
 * tests/support/db.ts instead. The run's prefix lets the global teardown drop leftovers.
 */
export function createEmptyTestDatabase(): Promise<ScratchDatabase> {
  const infra = inject('switchyard');
  return createScratchDatabase(infra.adminUrl, infra.databasePrefix);
}

/** Any URL on the test run's PostgreSQL server (for code that makes its own scratch databases). */
export function testServerUrl(): string {
  return inject('switchyard').adminUrl;
}
