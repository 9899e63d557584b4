-- The scheduler's waiting list across continue-as-new (activities/carried-waiting.ts): the next run
-- reads it back in parts, so its length is not bounded by Temporal's 2 MB payload limit.
CREATE TABLE "SchedulerWaiting" (
    "workflowId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "part" INTEGER NOT NULL,
    "data" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SchedulerWaiting_pkey" PRIMARY KEY ("workflowId","runId","part")
);
