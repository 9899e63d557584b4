-- The resource manager's latest status, stored every tick for the admin page (docs/resource-manager.md).
-- CreateTable
CREATE TABLE "ResourceSnapshot" (
    "taskQueue" TEXT NOT NULL,
    "status" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ResourceSnapshot_pkey" PRIMARY KEY ("taskQueue")
);
