import { Counter, Histogram, type Registry } from 'prom-client';

/** How a job ended, as its row's final status says. */
export type JobOutcome = 'completed' | 'failed' | 'cancelled' | 'dead_letter';

const seconds = (from: Date, to: Date) => Math.max(0, to.getTime() - from.getTime()) / 1000;

/**
 * The job metrics a worker counts, each where its event happens (docs/observability.md): the
 * activities that write a job's start and end count them from the very timestamps they store,
 * so the counts and sums agree with the jobs' rows.
 */
export function createJobMetrics(registry: Registry) {
  const registers = [registry];
  const jobs = new Counter({
    name: 'switchyard_jobs_total',
    help: 'Jobs that ended, by outcome (completed, failed, cancelled, dead_letter), tier and catalogue model.',
    labelNames: ['outcome', 'tier', 'model'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'switchyard_job_duration_seconds',
    help: 'From submission to the end of the job (its createdAt to finishedAt), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers,
  });
  const queueWait = new Histogram({
    name: 'switchyard_queue_wait_seconds',
    help: 'From submission to the first model request (createdAt to startedAt): admission, waiting for a slot, dispatch.',
    labelNames: ['pool', 'tier'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers,
  });
  const firstToken = new Histogram({
    name: 'switchyard_time_to_first_token_seconds',
    help: 'From a model request leaving the worker to its first streamed piece (model load included).',
    labelNames: ['backend', 'model'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers,
  });
  const dispatchGap = new Histogram({
    name: 'switchyard_dispatch_gap_seconds',
    help: 'From the scheduler granting a slot to the model request leaving the worker (grant signal, workflow task, activity start).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const tokens = new Counter({
    name: 'switchyard_tokens_total',
    help: 'Tokens of jobs’ model requests (every attempt and review, as their usage records count them), by direction (prompt, completion), kind (generation, review, chat), catalogue model and backend.',
    labelNames: ['direction', 'kind', 'model', 'backend'] as const,
    registers,
  });
  const teamTokens = new Counter({
    name: 'switchyard_team_tokens_total',
    help: 'The same tokens by team (its slug), prompt and completion together: per-team usage.',
    labelNames: ['team'] as const,
    registers,
  });

  return {
    registry,
    /** A job's row was moved to its final status (once per job, whoever retries the write). */
    jobEnded(job: { outcome: JobOutcome; tier: string; model: string; createdAt: Date; finishedAt: Date }) {
      jobs.inc({ outcome: job.outcome, tier: job.tier, model: job.model });
      duration.observe({ outcome: job.outcome }, seconds(job.createdAt, job.finishedAt));
    },
    /** A job's first model request was recorded (its startedAt written). */
    jobStarted(job: { pool: string; tier: string; createdAt: Date; startedAt: Date }) {
      queueWait.observe({ pool: job.pool, tier: job.tier }, seconds(job.createdAt, job.startedAt));
    },
    /** A granted job's model request is leaving for its backend. */
    dispatched(grantedAt: number, now: number) {
      dispatchGap.observe(Math.max(0, now - grantedAt) / 1000);
    },
    firstToken(labels: { backend: string; model: string }, latencySeconds: number) {
      firstToken.observe(labels, latencySeconds);
    },
    /** Tokens a backend took or produced for a job; counted per request, so a retried attempt's count too. */
    tokensUsed(usage: { kind: string; model: string; backend: string; team: string; prompt: number; completion: number }) {
      const labels = { kind: usage.kind, model: usage.model, backend: usage.backend };
      if (usage.prompt > 0) tokens.inc({ ...labels, direction: 'prompt' }, usage.prompt);
      if (usage.completion > 0) tokens.inc({ ...labels, direction: 'completion' }, usage.completion);
      if (usage.prompt + usage.completion > 0) teamTokens.inc({ team: usage.team }, usage.prompt + usage.completion);
    },
  };
}

export type JobMetrics = ReturnType<typeof createJobMetrics>;
