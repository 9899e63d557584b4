import { describe, expect, it } from 'vitest';
import { databaseBefore } from '../support/migration-database.ts';

const CATALOG_MIGRATION = '20261206110000_model_catalog';

describe(`migration ${CATALOG_MIGRATION}`, () => {
  it('turns every model a tier allows or a backend reports into a catalogue entry mapped where it was served', async () => {
    // The migrations before this one, then data as it stood, then this one and any after it.
    const { client, migrate } = await databaseBefore(CATALOG_MIGRATION);
    await client.query(`
      INSERT INTO "Tier" ("id", "name", "allowedModels", "poolPreference", "updatedAt") VALUES
        (gen_random_uuid(), 'free', '{qwen2.5-coder:7b,tiny-stop}', '{local}', now()),
        (gen_random_uuid(), 'all', '{}', '{local,cloud}', now());
      INSERT INTO "Backend" ("id", "kind", "url", "pool", "models", "updatedAt") VALUES
        ('ollama@a', 'ollama', 'http://a:11434', 'local', '{qwen2.5-coder:7b,llama3.1:8b}', now()),
        ('openai@b', 'openai', 'https://b/v1', 'cloud', '{gpt-4o-mini,qwen2.5-coder:7b,brand-new}', now());`);
    await migrate();

    const { rows } = await client.query(
      'SELECT "name", "ollamaModel", "openaiModel", "contextLength", "inputPricePer1k", "outputPricePer1k", "maxOutputTokens", "enabled" FROM "CatalogModel" ORDER BY "name"',
    );
    const entry = (name: string, ollamaModel: string | null, openaiModel: string | null, contextLength: number, input: number, output: number) => ({
      name,
      ollamaModel,
      openaiModel,
      contextLength,
      inputPricePer1k: input,
      outputPricePer1k: output,
      maxOutputTokens: 4096,
      enabled: true,
    });
    expect(rows).toEqual([
      entry('brand-new', null, 'brand-new', 8192, 0.0025, 0.01),
      entry('gpt-4o-mini', null, 'gpt-4o-mini', 128_000, 0.00015, 0.0006),
      entry('llama3.1:8b', 'llama3.1:8b', null, 8192, 0, 0),
      // Served on both sides before the catalogue existed: it keeps both.
      entry('qwen2.5-coder:7b', 'qwen2.5-coder:7b', 'qwen2.5-coder:7b', 8192, 0.0025, 0.01),
      entry('tiny-stop', 'tiny-stop', null, 8192, 0, 0),
    ]);
    // The later migration 20261206140000_live_backends names existing backends after their URL's host.
    const backends = await client.query('SELECT "id", "name", "draining" FROM "Backend" ORDER BY "id"');
    expect(backends.rows).toEqual([
      { id: 'ollama@a', name: 'a:11434', draining: false },
      { id: 'openai@b', name: 'b', draining: false },
    ]);
    const tiers = await client.query('SELECT "name", "maxOutputTokens" FROM "Tier" ORDER BY "name"');
    expect(tiers.rows).toEqual([
      { name: 'all', maxOutputTokens: 0 },
      { name: 'free', maxOutputTokens: 0 },
    ]);
  });
});
