import { describe, expect, it } from 'vitest';
import { databaseBefore } from '../support/migration-database.ts';

const USAGE_MIGRATION = '20261207010000_usage';

describe(`migration ${USAGE_MIGRATION}`, () => {
  it('carries finished jobs’ tokens over as usage records and days, and leaves unfinished jobs to the ledger', async () => {
    // The migrations before this one, then data as it stood, then this one and any after it.
    const { client, migrate } = await databaseBefore(USAGE_MIGRATION);
    const job = (id: number, status: string, prompt: number, completion: number, finished: string | null) =>
      `('00000000-0000-0000-0000-00000000000${id}', 'k${id}', '${status}', 'qwen2.5-coder:7b', 'w${id}', ${prompt}, ${completion}, ${(prompt + completion) / 1000}, ${finished ? `'${finished}'` : 'NULL'})`;
    await client.query(`
      INSERT INTO "Tier" ("id", "name", "allowedModels", "poolPreference", "updatedAt") VALUES ('00000000-0000-0000-0000-0000000000a1', 'free', '{}', '{local}', now());
      INSERT INTO "Team" ("id", "name", "slug", "tierId") VALUES ('00000000-0000-0000-0000-0000000000b1', 'T', 't', '00000000-0000-0000-0000-0000000000a1');
      INSERT INTO "User" ("id", "email", "name", "passwordHash") VALUES ('00000000-0000-0000-0000-0000000000c1', 'u@example.com', 'U', 'x');
      INSERT INTO "Project" ("id", "teamId", "name") VALUES ('00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-0000000000b1', 'P');
      INSERT INTO "CatalogModel" ("id", "name", "contextLength", "inputPricePer1k", "outputPricePer1k", "maxOutputTokens", "ollamaModel", "updatedAt")
        VALUES (gen_random_uuid(), 'qwen2.5-coder:7b', 32768, 0.5, 2, 4096, 'qwen2.5-coder:7b', now());
      INSERT INTO "Job" ("id", "teamId", "projectId", "userId", "clientKey", "status", "model", "workflowId", "promptTokens", "completionTokens", "costUsd", "finishedAt", "requirements", "updatedAt")
      SELECT v.id::uuid, '00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-0000000000c1', v.k, v.s::"JobStatus", v.m, v.w, v.p, v.c, v.cost, v.f::timestamp, 'r', now()
      FROM (VALUES ${[
        job(1, 'completed', 10, 30, '2026-12-01 10:00:00'),
        job(2, 'cancelled', 5, 7, '2026-12-01 23:00:00'),
        job(3, 'completed', 20, 40, '2026-12-02 01:00:00'),
        job(4, 'running', 0, 15, null),
      ].join(', ')}) AS v(id, k, s, m, w, p, c, cost, f);`);
    await migrate();

    const records = await client.query('SELECT "jobId", "kind", "promptTokens", "completionTokens", "costUsd", "inputPricePer1k", "createdAt"::text FROM "UsageRecord" ORDER BY "jobId"');
    expect(records.rows.map((r: { jobId: string; promptTokens: number; completionTokens: number; costUsd: number; createdAt: string }) => [r.jobId.slice(-1), r.promptTokens, r.completionTokens, r.costUsd, r.createdAt])).toEqual([
      ['1', 10, 30, 0.04, '2026-12-01 10:00:00'],
      ['2', 5, 7, 0.012, '2026-12-01 23:00:00'],
      ['3', 20, 40, 0.06, '2026-12-02 01:00:00'],
    ]);
    const days = await client.query('SELECT "day"::text, "apiKeyId", "kind", "promptTokens"::int, "completionTokens"::int, "requests", "jobs" FROM "UsageDay" ORDER BY "day"');
    expect(days.rows).toEqual([
      { day: '2026-12-01', apiKeyId: '', kind: 'generation', promptTokens: 15, completionTokens: 37, requests: 2, jobs: 2 },
      { day: '2026-12-02', apiKeyId: '', kind: 'generation', promptTokens: 20, completionTokens: 40, requests: 1, jobs: 1 },
    ]);
  });
});
