-- Collaboration jobs: templates per team, and a collaboration's steps as child jobs of its job.
CREATE TYPE "CollaborationFailurePolicy" AS ENUM ('retry_other_model', 'proceed');

CREATE TYPE "ApprovalTimeoutAction" AS ENUM ('proceed', 'cancel');

ALTER TABLE "Job" ADD COLUMN "parentId" UUID,
ADD COLUMN "part" TEXT,
ADD COLUMN "role" TEXT,
ADD COLUMN "collaboration" JSONB,
ADD COLUMN "approval" JSONB;

CREATE TABLE "CollaborationTemplate" (
    "id" UUID NOT NULL,
    "teamId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "agents" JSONB NOT NULL,
    "integrator" JSONB NOT NULL,
    "reviewer" JSONB NOT NULL,
    "failurePolicy" "CollaborationFailurePolicy" NOT NULL DEFAULT 'proceed',
    "fallbackModel" TEXT,
    "approval" BOOLEAN NOT NULL DEFAULT false,
    "approvalTimeoutSeconds" INTEGER NOT NULL DEFAULT 3600,
    "approvalTimeoutAction" "ApprovalTimeoutAction" NOT NULL DEFAULT 'cancel',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CollaborationTemplate_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "Job_parentId_idx" ON "Job"("parentId");

CREATE UNIQUE INDEX "CollaborationTemplate_teamId_name_key" ON "CollaborationTemplate"("teamId", "name");

ALTER TABLE "Job" ADD CONSTRAINT "Job_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "CollaborationTemplate" ADD CONSTRAINT "CollaborationTemplate_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;
