import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * Applies the committed SQL migrations (prisma/migrations/<name>/migration.sql) with plain `pg`,
 * because the Prisma 7 CLI cannot run its schema engine offline. The bookkeeping is Prisma's own
 * `_prisma_migrations` table (same columns, checksum = sha256 of the file), so `prisma migrate
 * deploy` can take over on a database migrated here, and the other way round.
 */

// Resolves to <repo>/prisma/migrations both from server/db/ and from a bundle in dist/<dir>/.
export const defaultMigrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// The key `prisma migrate deploy` locks on, so our starters and Prisma's CLI exclude each other too.
const ADVISORY_LOCK_KEY = 72707369;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function readMigrations(dir: string = defaultMigrationsDir): Promise<LocalMigration[]> {
  if (!existsSync(dir)) throw new MigrationError(`Migrations folder not found: ${dir}`);
  const lockFile = join(dir, 'migration_lock.toml');
  if (existsSync(lockFile)) {
    const provider = /^\s*provider\s*=\s*"([^"]+)"/m.exec(await readFile(lockFile, 'utf8'))?.[1];
    if (provider !== 'postgresql') {
      throw new MigrationError(`${lockFile} names provider "${provider}", expected "postgresql".`);
    }
  }
  const entries = await readdir(dir, { withFileTypes: true });
  const migrations: LocalMigration[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const file = join(dir, entry.name, 'migration.sql');
    if (!existsSync(file)) continue;
    const sql = await readFile(file, 'utf8');
    migrations.push({ name: entry.name, sql, checksum: sha256(sql) });
  }
  return migrations;
}

// Prisma accepts a file whose line endings were converted by git (CRLF <-> LF) as unchanged.
function checksumMatches(local: LocalMigration, recorded: string): boolean {
  return (
    recorded === local.checksum ||
    recorded === sha256(local.sql.replace(/\r\n/g, '\n')) ||
    recorded === sha256(local.sql.replace(/\r?\n/g, '\r\n'))
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * Applies every pending migration, each in its own transaction, under a PostgreSQL advisory lock
 * so that concurrent starters (web, worker, tests) wait for each other instead of colliding.
 * Returns the names of the migrations it applied (empty when the database was up to date).
 *
 * Refuses, before changing anything, when an applied migration's file changed, an applied
 * migration is missing locally, or a migration recorded by Prisma failed half-way.
 *
 * Trap: a migration runs inside a transaction, so statements PostgreSQL forbids there
 * (CREATE INDEX CONCURRENTLY, using an enum value added by ALTER TYPE … ADD VALUE in the same
 * file) belong in a migration of their own, written without them.
 */
export async function applyMigrations(databaseUrl: string, dir: string = defaultMigrationsDir): Promise<string[]> {
  const local = await readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'switchyard-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    try {
      await client.query(`
        CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
          "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
          "checksum"            VARCHAR(64) NOT NULL,
          "finished_at"         TIMESTAMPTZ,
          "migration_name"      VARCHAR(255) NOT NULL,
          "logs"                TEXT,
          "rolled_back_at"      TIMESTAMPTZ,
          "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
          "applied_steps_count" INTEGER NOT NULL DEFAULT 0
        )`);
      const { rows } = await client.query<AppliedRow>(
        `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
          WHERE rolled_back_at IS NULL ORDER BY started_at`,
      );
      verifyHistory(local, rows);

      const applied = new Set(rows.map((r) => r.migration_name));
      const done: string[] = [];
      for (const migration of local.filter((m) => !applied.has(m.name))) {
        await applyOne(client, migration);
        done.push(migration.name);
      }
      return done;
    } finally {
      // Ending the session releases the lock anyway; do not let a failed unlock hide the real error.
      await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

function verifyHistory(local: LocalMigration[], rows: AppliedRow[]): void {
  const byName = new Map(local.map((m) => [m.name, m]));
  for (const row of rows) {
    if (row.finished_at === null) {
      throw new MigrationError(
        `Migration ${row.migration_name} started but did not finish (recorded by another tool). ` +
          `Fix the database by hand, then mark it with \`prisma migrate resolve\`.`,
      );
    }
    const migration = byName.get(row.migration_name);
    if (!migration) {
      throw new MigrationError(
        `Migration ${row.migration_name} is applied to the database but missing from the migrations folder. ` +
          `Restore it (git) instead of deleting applied migrations.`,
      );
    }
    if (!checksumMatches(migration, row.checksum)) {
      throw new MigrationError(
        `Migration ${row.migration_name} was modified after it was applied (checksum ${row.checksum.slice(0, 12)}… ` +
          `in the database, ${migration.checksum.slice(0, 12)}… on disk). Revert the edit and add a new migration.`,
      );
    }
  }
}

async function applyOne(client: pg.Client, migration: LocalMigration): Promise<void> {
  await client.query('BEGIN');
  try {
    // Simple-query protocol (no parameters): the whole file runs as one multi-statement script.
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    const message = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${message}`, { cause: error });
  }
}
