-- CreateTable
CREATE TABLE "CatalogModel" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "contextLength" INTEGER NOT NULL,
    "inputPricePer1k" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "outputPricePer1k" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "maxOutputTokens" INTEGER NOT NULL,
    "ollamaModel" TEXT,
    "openaiModel" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CatalogModel_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CatalogModel_name_key" ON "CatalogModel"("name");

-- AlterTable
ALTER TABLE "Tier" ADD COLUMN     "maxOutputTokens" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "servedModel" TEXT;

-- AlterTable
ALTER TABLE "Result" ADD COLUMN     "truncated" BOOLEAN NOT NULL DEFAULT false;

-- Existing data: every model name a tier allows or a backend reports becomes a catalogue entry of
-- the same name. Names from tiers and Ollama backends map to the same name on Ollama; names an
-- OpenAI-compatible backend lists map on the OpenAI side, priced at the list prices the cloud
-- adapter charged until now (per 1k tokens here) and at its conservative default when unlisted. Context lengths are those known for the cloud models and a
-- modest 8,192 tokens otherwise, for admins to correct; every entry starts with a 4,096-token cap.
WITH cloud_prices ("model", "input", "output", "context") AS (
    VALUES
        ('gpt-4o-mini', 0.00015, 0.0006, 128000),
        ('gpt-4o', 0.0025, 0.01, 128000),
        ('gpt-4.1-nano', 0.0001, 0.0004, 1047576),
        ('gpt-4.1-mini', 0.0004, 0.0016, 1047576),
        ('gpt-4.1', 0.002, 0.008, 1047576),
        ('o4-mini', 0.0011, 0.0044, 200000),
        ('gpt-3.5-turbo', 0.0005, 0.0015, 16385)
),
named ("name", "side") AS (
    SELECT unnest("allowedModels"), 'ollama' FROM "Tier"
    UNION
    SELECT unnest("models"), CASE WHEN "kind"::text = 'ollama' THEN 'ollama' ELSE 'openai' END FROM "Backend"
),
entries AS (
    SELECT "name", bool_or("side" = 'ollama') AS "onOllama", bool_or("side" = 'openai') AS "onOpenai"
    FROM named
    WHERE "name" <> ''
    GROUP BY "name"
)
INSERT INTO "CatalogModel" ("id", "name", "contextLength", "inputPricePer1k", "outputPricePer1k", "maxOutputTokens", "ollamaModel", "openaiModel", "updatedAt")
SELECT
    gen_random_uuid(),
    e."name",
    COALESCE(p."context", 8192),
    CASE WHEN e."onOpenai" THEN COALESCE(p."input", 0.0025) ELSE 0 END,
    CASE WHEN e."onOpenai" THEN COALESCE(p."output", 0.01) ELSE 0 END,
    4096,
    CASE WHEN e."onOllama" THEN e."name" END,
    CASE WHEN e."onOpenai" THEN e."name" END,
    CURRENT_TIMESTAMP
FROM entries e
LEFT JOIN cloud_prices p ON p."model" = e."name";
