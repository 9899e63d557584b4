-- Residency read from Ollama (/api/tags, /api/ps) by the resource loop (docs/residency.md).
ALTER TABLE "Backend" ADD COLUMN "memoryBudgetMb" INTEGER,
ADD COLUMN "maxLoadedModels" INTEGER;

-- CreateTable
CREATE TABLE "BackendResidency" (
    "backendId" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "present" BOOLEAN NOT NULL,
    "loaded" BOOLEAN NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "seenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BackendResidency_pkey" PRIMARY KEY ("backendId","model")
);

-- AddForeignKey
ALTER TABLE "BackendResidency" ADD CONSTRAINT "BackendResidency_backendId_fkey" FOREIGN KEY ("backendId") REFERENCES "Backend"("id") ON DELETE CASCADE ON UPDATE CASCADE;
