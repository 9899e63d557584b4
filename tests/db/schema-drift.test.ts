import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkSchema, defaultSchemaPath, formatDrift } from '../../scripts/check-schema.ts';
import { testServerUrl } from '../support/empty-database.ts';

// The checker makes (and drops) its own empty scratch database on the test server for each check.
const server = { get url() { return testServerUrl(); } };
let schema: string;
beforeAll(async () => {
  schema = await readFile(defaultSchemaPath, 'utf8');
});

function edit(text: string, from: string, to: string): string {
  expect(text, `the schema no longer contains ${JSON.stringify(from)}; update this test`).toContain(from);
  return text.replace(from, to);
}

async function sql(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe('schema drift check', () => {
  it('finds no drift between prisma/migrations and prisma/schema.prisma', async () => {
    const result = await checkSchema({ serverUrl: server.url });
    expect(result.migrations.length).toBeGreaterThan(0);
    expect(result.differences, formatDrift(result)).toEqual([]);
  });

  it('reports a model and a field that no migration creates', async () => {
    let drifted = edit(schema, '  isAdmin      Boolean      @default(false)\n', '  isAdmin      Boolean      @default(false)\n  nickname     String?\n');
    drifted += '\nmodel Invoice {\n  id     Int    @id @default(autoincrement())\n  amount Decimal\n}\n';
    const { differences } = await checkSchema({ serverUrl: server.url, schemaText: drifted });
    expect(differences).toEqual([
      '+ column "User"."nickname": text  (in schema.prisma, no migration creates it)',
      '+ table "Invoice": exists  (in schema.prisma, no migration creates it)',
    ]);
  });

  it('reports changed types, nullability, defaults, indexes, uniques and referential actions', async () => {
    let drifted = edit(schema, '  weight                Int      @default(1)', '  weight                Int      @default(2)');
    drifted = edit(drifted, '  maxPromptChars        Int      @default(16000)', '  maxPromptChars        BigInt   @default(16000)');
    drifted = edit(drifted, '  name         String\n', '  name         String?\n');
    drifted = edit(drifted, '  slug        String       @unique', '  slug        String');
    drifted = edit(drifted, '  @@index([teamId, status])\n', '');
    drifted = edit(drifted, '@@index([projectId, createdAt(sort: Desc)])', '@@index([projectId, createdAt])');
    drifted = edit(drifted, '  @@index([userId])\n}', '  @@index([userId])\n  @@index([expiresAt])\n}');
    drifted = edit(
      drifted,
      'user      User     @relation(fields: [userId], references: [id], onDelete: Cascade)\n  expiresAt',
      'user      User     @relation(fields: [userId], references: [id])\n  expiresAt',
    );
    const { differences } = await checkSchema({ serverUrl: server.url, schemaText: drifted });
    expect(differences.map((d) => d.replace(/:.*/, ''))).toEqual([
      '~ column "Tier"."maxPromptChars"',
      '~ column "Tier"."weight"',
      '~ column "User"."name"',
      '~ foreign key "Session_userId_fkey"',
      '~ index "Job_projectId_createdAt_idx"',
      '- index "Job_teamId_status_idx"',
      '+ index "Session_expiresAt_idx"',
      '- index "Team_slug_key"',
    ]);
    expect(differences).toContain(
      '~ column "Tier"."weight": schema.prisma wants integer NOT NULL DEFAULT 2; the migrations create integer NOT NULL DEFAULT 1',
    );
  });

  it('reports objects a migration creates that the schema does not have', async () => {
    const { differences } = await checkSchema({
      serverUrl: server.url,
      afterMigrate: (url) =>
        sql(url, 'ALTER TABLE "Project" ADD COLUMN "archived" boolean NOT NULL DEFAULT false; DROP INDEX "Membership_teamId_idx";'),
    });
    expect(differences).toEqual([
      '- column "Project"."archived": boolean NOT NULL DEFAULT false  (created by the migrations, not in schema.prisma)',
      '+ index "Membership_teamId_idx": ON "Membership" ("teamId")  (in schema.prisma, no migration creates it)',
    ]);
  });
});
