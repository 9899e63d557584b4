-- Batching (#19): per-tier settings, and generation jobs marked simple.
ALTER TABLE "Tier" ADD COLUMN "batchEnabled" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "maxBatchSize" INTEGER NOT NULL DEFAULT 5,
ADD COLUMN "batchTimeoutSec" INTEGER NOT NULL DEFAULT 30;

ALTER TABLE "Job" ADD COLUMN "simple" BOOLEAN NOT NULL DEFAULT false;
