import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../server/db/migrate';
import { loadStackEnv } from '../../server/env';
import { freePort } from '../../scripts/lib/ports';
import { startPostgres } from '../../scripts/lib/postgres';
import { Supervisor } from '../../scripts/lib/supervisor';
import { startTemporalDevServer } from '../../scripts/lib/temporal-cli';
import type { TestInfra } from './context';

/**
 * One PostgreSQL (embedded, or the server of DATABASE_URL) with a migrated template database, and
 * one headless in-memory Temporal dev server, for the whole vitest run. Test files clone the
 * template (tests/support/db.ts) and use their own task queues (tests/support/temporal.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const env = loadStackEnv();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-vitest-'));
  fs.chmodSync(runDir, 0o755); // the embedded PostgreSQL runs as the postgres user when we are root
  const logFile = path.join(runDir, 'infra.log');
  const supervisor = new Supervisor({ echo: (name) => name === 'sup', logFile });
  const databasePrefix = `switchyard_test_${runId}`;
  let adminUrl: string | undefined;

  const teardown = async () => {
    if (adminUrl && env.DATABASE_URL) await dropRunDatabases(adminUrl, databasePrefix).catch(() => {});
    await supervisor.stop();
    fs.rmSync(runDir, { recursive: true, force: true });
  };

  try {
    const [db, temporal] = await Promise.all([
      startPostgres({
        supervisor,
        dataDir: path.join(runDir, 'postgres'),
        port: await freePort(),
        databaseUrl: env.DATABASE_URL,
        database: `${databasePrefix}_template`,
        ephemeral: true,
      }),
      startTemporalDevServer({ supervisor, headless: true }),
    ]);
    adminUrl = db.adminUrl;
    await applyMigrations(db.url);
    const infra: TestInfra = {
      adminUrl: db.adminUrl,
      templateDatabase: `${databasePrefix}_template`,
      databasePrefix,
      temporalAddress: temporal.address,
      temporalNamespace: 'default',
      runDir,
    };
    project.provide('switchyard', infra);
    console.log(`test infrastructure ready in ${((Date.now() - started) / 1000).toFixed(1)}s (PostgreSQL ${db.embedded ? 'embedded' : 'from DATABASE_URL'}, Temporal ${temporal.address})`);
    return teardown;
  } catch (error) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
    await teardown();
    throw new Error(`test infrastructure failed to start: ${error instanceof Error ? error.message : String(error)}\n${log}`);
  }
}

async function dropRunDatabases(adminUrl: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
