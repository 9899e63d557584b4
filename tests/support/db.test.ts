import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './db';

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    return rows.map((r) => r.tablename);
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  it('clones the migrated template into isolated databases, quickly', async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const elapsed = Date.now() - started;
    try {
      expect(await tables(a.url)).toContain('_prisma_migrations');
      const client = new pg.Client({ connectionString: a.url });
      await client.connect();
      await client.query('CREATE TABLE only_in_a (id int)');
      await client.end();
      expect(await tables(a.url)).toContain('only_in_a');
      expect(await tables(b.url)).not.toContain('only_in_a');
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
    const admin = new pg.Client({ connectionString: a.url.replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = ANY($1)', [[a.name, b.name]]);
    await admin.end();
    expect(rowCount).toBe(0);
  });
});
