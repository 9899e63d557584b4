import { createHash } from 'node:crypto';
import { cp, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, defaultMigrationsDir, readMigrations } from '../../server/db/migrate.ts';
import { createEmptyTestDatabase } from '../support/empty-database.ts';
import type { ScratchDatabase } from '../../server/db/scratch-database.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(): Promise<ScratchDatabase> {
  const db = await createEmptyTestDatabase();
  cleanups.push(db.drop);
  return db;
}

async function migrationsCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp(defaultMigrationsDir, dir, { recursive: true });
  return dir;
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(join(dir, name));
  await writeFile(join(dir, name, 'migration.sql'), sql);
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('applyMigrations', () => {
  it('applies every migration once and records it as Prisma does', async () => {
    const db = await database();
    const local = await readMigrations();
    expect(local.length).toBeGreaterThan(0);

    expect(await applyMigrations(db.url)).toEqual(local.map((m) => m.name));
    expect(await applyMigrations(db.url)).toEqual([]);

    const rows = await query<{ migration_name: string; checksum: string; applied_steps_count: number; finished_at: Date | null }>(
      db.url,
      'SELECT migration_name, checksum, applied_steps_count, finished_at FROM "_prisma_migrations" ORDER BY migration_name',
    );
    const first = local[0]!;
    const sha = createHash('sha256').update(await readFile(join(defaultMigrationsDir, first.name, 'migration.sql'))).digest('hex');
    expect(rows[0]).toMatchObject({ migration_name: first.name, checksum: sha, applied_steps_count: 1 });
    expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
  });

  it('lets concurrent starters through one at a time', async () => {
    const db = await database();
    const results = await Promise.all([applyMigrations(db.url), applyMigrations(db.url), applyMigrations(db.url)]);
    const local = await readMigrations();
    expect(results.flat().sort()).toEqual(local.map((m) => m.name).sort());
    expect(results.filter((r) => r.length > 0)).toHaveLength(1);
  });

  it('applies a later migration on top of earlier ones', async () => {
    const db = await database();
    const dir = await migrationsCopy();
    await applyMigrations(db.url, dir);
    await addMigration(dir, '29990101000000_add_note', 'ALTER TABLE "Project" ADD COLUMN "note" TEXT;');
    expect(await applyMigrations(db.url, dir)).toEqual(['29990101000000_add_note']);
  });

  it('refuses when an applied migration was edited', async () => {
    const db = await database();
    const dir = await migrationsCopy();
    await applyMigrations(db.url, dir);
    const [first] = await readMigrations(dir);
    const file = join(dir, first!.name, 'migration.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited\n`);
    await expect(applyMigrations(db.url, dir)).rejects.toThrow(/was modified after it was applied/);
  });

  it('accepts an applied migration whose line endings git converted', async () => {
    const db = await database();
    const dir = await migrationsCopy();
    await applyMigrations(db.url, dir);
    const [first] = await readMigrations(dir);
    const file = join(dir, first!.name, 'migration.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/\n/g, '\r\n'));
    expect(await applyMigrations(db.url, dir)).toEqual([]);
  });

  it('refuses when an applied migration is missing locally', async () => {
    const db = await database();
    const dir = await migrationsCopy();
    await addMigration(dir, '29990101000000_add_note', 'ALTER TABLE "Project" ADD COLUMN "note" TEXT;');
    await applyMigrations(db.url, dir);
    await rm(join(dir, '29990101000000_add_note'), { recursive: true });
    await expect(applyMigrations(db.url, dir)).rejects.toThrow(/29990101000000_add_note is applied to the database but missing/);
  });

  it('rolls a failing migration back entirely and keeps the ones before it', async () => {
    const db = await database();
    const dir = await migrationsCopy();
    await addMigration(dir, '29990101000000_broken', 'CREATE TABLE "Half" (id int);\nSELECT * FROM "NoSuchTable";');
    await expect(applyMigrations(db.url, dir)).rejects.toThrow(/29990101000000_broken failed and was rolled back: .*NoSuchTable/);

    const tables = await query<{ relname: string }>(db.url, `SELECT relname FROM pg_class WHERE relname IN ('Half', 'User')`);
    expect(tables.map((t) => t.relname)).toEqual(['User']);
    const recorded = await query<{ migration_name: string }>(db.url, 'SELECT migration_name FROM "_prisma_migrations"');
    expect(recorded.map((r) => r.migration_name)).not.toContain('29990101000000_broken');
  });
});
