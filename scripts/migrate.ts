/** `npm run db:migrate`: applies pending migrations (prisma/migrations) to DATABASE_URL. */
import { loadOrExit, loadStackEnv } from '../server/env.ts';
import { applyMigrations, MigrationError } from '../server/db/migrate.ts';

const env = loadOrExit(() => loadStackEnv());
if (!env.DATABASE_URL) {
  console.error(
    'DATABASE_URL is not set. `npm run dev` starts the embedded PostgreSQL and applies the migrations itself; ' +
      'to migrate another database, set DATABASE_URL=postgresql://… and run `npm run db:migrate` again.',
  );
  process.exit(1);
}

try {
  const started = performance.now();
  const applied = await applyMigrations(env.DATABASE_URL);
  const ms = Math.round(performance.now() - started);
  console.log(applied.length ? `Applied ${applied.length} migration(s) in ${ms} ms: ${applied.join(', ')}` : 'Database is up to date.');
} catch (error) {
  console.error(error instanceof MigrationError ? error.message : error);
  process.exit(1);
}
