-- CreateEnum
CREATE TYPE "UsageKind" AS ENUM ('generation', 'review', 'chat');

-- CreateTable
CREATE TABLE "UsageRecord" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "jobId" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "apiKeyId" UUID,
    "kind" "UsageKind" NOT NULL,
    "model" TEXT NOT NULL,
    "backendId" TEXT NOT NULL,
    "servedModel" TEXT NOT NULL,
    "promptTokens" INTEGER NOT NULL,
    "completionTokens" INTEGER NOT NULL,
    "estimated" BOOLEAN NOT NULL DEFAULT false,
    "inputPricePer1k" DOUBLE PRECISION NOT NULL,
    "outputPricePer1k" DOUBLE PRECISION NOT NULL,
    "costUsd" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UsageRecord_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UsageDay" (
    "day" DATE NOT NULL,
    "teamId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "apiKeyId" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "kind" "UsageKind" NOT NULL,
    "promptTokens" BIGINT NOT NULL,
    "completionTokens" BIGINT NOT NULL,
    "costUsd" DOUBLE PRECISION NOT NULL,
    "requests" INTEGER NOT NULL,
    "jobs" INTEGER NOT NULL,

    CONSTRAINT "UsageDay_pkey" PRIMARY KEY ("teamId","day","userId","apiKeyId","model","kind")
);

-- CreateIndex
CREATE UNIQUE INDEX "UsageRecord_key_key" ON "UsageRecord"("key");

-- CreateIndex
CREATE INDEX "UsageRecord_teamId_createdAt_idx" ON "UsageRecord"("teamId", "createdAt");

-- CreateIndex
CREATE INDEX "UsageRecord_jobId_idx" ON "UsageRecord"("jobId");

-- CreateIndex
CREATE INDEX "UsageDay_userId_day_idx" ON "UsageDay"("userId", "day");

-- AddForeignKey
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageDay" ADD CONSTRAINT "UsageDay_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageDay" ADD CONSTRAINT "UsageDay_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: each finished job's tokens as its row recorded them (the answer's last attempt; earlier
-- attempts and reviews were never counted), priced as the job was, dated when it finished, so the
-- current budget window and the usage history carry on.
INSERT INTO "UsageRecord" ("key", "jobId", "teamId", "userId", "apiKeyId", "kind", "model", "backendId", "servedModel",
                           "promptTokens", "completionTokens", "estimated", "inputPricePer1k", "outputPricePer1k", "costUsd", "createdAt")
SELECT 'backfill:' || j."id", j."id", j."teamId", j."userId", j."apiKeyId",
       (CASE WHEN j."kind" = 'chat' THEN 'chat' ELSE 'generation' END)::"UsageKind",
       j."model", COALESCE(j."backendId", ''), COALESCE(j."servedModel", ''), j."promptTokens", j."completionTokens", false,
       COALESCE(c."inputPricePer1k", 0), COALESCE(c."outputPricePer1k", 0), j."costUsd", COALESCE(j."finishedAt", j."updatedAt")
FROM "Job" j
LEFT JOIN "CatalogModel" c ON c."name" = j."model"
WHERE j."status" IN ('completed', 'failed', 'cancelled', 'dead_letter') AND j."promptTokens" + j."completionTokens" > 0;

INSERT INTO "UsageDay" ("day", "teamId", "userId", "apiKeyId", "model", "kind", "promptTokens", "completionTokens", "costUsd", "requests", "jobs")
SELECT r."createdAt"::date, r."teamId", r."userId", COALESCE(r."apiKeyId"::text, ''), r."model", r."kind",
       SUM(r."promptTokens"), SUM(r."completionTokens"), SUM(r."costUsd"), COUNT(*), COUNT(DISTINCT r."jobId")
FROM "UsageRecord" r
GROUP BY 1, 2, 3, 4, 5, 6;
