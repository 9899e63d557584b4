-- Admission's bound on waiting jobs counts them on every submit (MAX_WAITING_JOBS).
CREATE INDEX "Job_status_createdAt_idx" ON "Job"("status", "createdAt");
