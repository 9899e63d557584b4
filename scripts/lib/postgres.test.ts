import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports';
import { startPostgres } from './postgres';

describe('startPostgres (embedded)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-pg-test-'));
  fs.chmodSync(dir, 0o755);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('initialises once, creates the database, stops, and reuses the data dir', async () => {
    const dataDir = path.join(dir, 'pg');
    const first = await startPostgres({ dataDir, port: await freePort(), ephemeral: true });
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE kept (id int)');
    await client.end();
    await first.stop();
    expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

    const second = await startPostgres({ dataDir, port: await freePort() });
    const again = new pg.Client({ connectionString: second.url });
    await again.connect();
    const { rows } = await again.query("SELECT to_regclass('kept') AS t");
    await again.end();
    await second.stop();
    expect(rows[0].t).toBe('kept');
  });
});
