-- Code review jobs: the job's source and depth, and one row per file (or chunk) reviewed.
CREATE TYPE "ReviewItemStatus" AS ENUM ('pending', 'done', 'failed');

ALTER TABLE "Job" ADD COLUMN "review" JSONB;

CREATE TABLE "ReviewItem" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "path" TEXT NOT NULL,
    "chunk" INTEGER NOT NULL,
    "startLine" INTEGER NOT NULL,
    "content" TEXT NOT NULL,
    "status" "ReviewItemStatus" NOT NULL DEFAULT 'pending',
    "findings" JSONB,
    "answer" TEXT NOT NULL DEFAULT '',
    "backendId" TEXT,
    "servedModel" TEXT,
    "promptTokens" INTEGER NOT NULL DEFAULT 0,
    "completionTokens" INTEGER NOT NULL DEFAULT 0,
    "costUsd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "error" TEXT,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "ReviewItem_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "ReviewItem_jobId_path_chunk_key" ON "ReviewItem"("jobId", "path", "chunk");

ALTER TABLE "ReviewItem" ADD CONSTRAINT "ReviewItem_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
