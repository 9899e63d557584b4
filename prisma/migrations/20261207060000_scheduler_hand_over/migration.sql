-- A scheduler workflow's hand-over across continue-as-new: while "heldUntil" is ahead, every worker
-- process holds its jobs' messages to that scheduler (activities/hand-over-gate.ts).
CREATE TABLE "SchedulerHandOver" (
    "workflowId" TEXT NOT NULL,
    "heldUntil" TIMESTAMPTZ(6),

    CONSTRAINT "SchedulerHandOver_pkey" PRIMARY KEY ("workflowId")
);
