-- Whether a job is counted in its usage day's "jobs" (server/services/usage-ledger.ts): the usage
-- record that sets it counts the job. A conditional update of the flag is what lets one statement
-- decide the first of a job's records written in parallel (a review's items), where a count of the
-- records would not see a concurrent transaction's row.
ALTER TABLE "Job" ADD COLUMN "usageCounted" BOOLEAN NOT NULL DEFAULT false;

-- Jobs charged before the flag existed were counted by their first record.
UPDATE "Job" SET "usageCounted" = true WHERE EXISTS (SELECT 1 FROM "UsageRecord" r WHERE r."jobId" = "Job"."id");
