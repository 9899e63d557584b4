import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { Activities } from '../activities';
import type { GenerateOutput, ReviewOutcome } from '../activities/types';
import { Capacity } from './scheduler/job-capacity';
import type { Grant } from './scheduler/core';
import {
  DEFAULT_REVIEW_TIMEOUT_SECONDS,
  progressQuery,
  type JobOutcome,
  type JobProgress,
  type JobStage,
  type JobWorkflowInput,
} from './definitions';

// Bookkeeping is a few milliseconds of database work and idempotent: run it as local activities,
// inside the workflow task, which saves a server round trip per step; retry patiently.
const records = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 20 },
});

// The model call heartbeats with every piece of text; a 5 s heartbeat timeout notices a dead
// worker quickly, and waiting for the cancellation to complete keeps the partial output. One retry
// stays on the granted backend (a worker crash, a cut stream); after that the job is re-queued
// for another backend.
const model = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '5 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 2,
    nonRetryableErrorTypes: ['InvalidJob', 'BackendRejected'],
  },
});

/** Grants a job may use before it is dead-lettered. */
const MAX_GRANTS = 3;
/** Failure types that say "this backend", not "this request". */
const RETRY_ELSEWHERE = ['BackendUnavailable', 'GenerationError'];

// A review that outlives its timeout is abandoned, not awaited.
const reviewer = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '1 second', maximumAttempts: 2, nonRetryableErrorTypes: ['InvalidJob', 'BackendRejected'] },
});

/**
 * One code-generation job: validate → generate (streamed, checkpointed, resumed on retry) →
 * review raced against its timeout → save → notify. Cancellation, failure and exhausted
 * retries each end the job in their own recorded state.
 */
export async function codeGenerationWorkflow(input: JobWorkflowInput): Promise<JobOutcome> {
  const { jobId } = input;
  const progress: JobProgress = { stage: 'validating', percent: 0, tokens: 0, activity: null, timings: {} };
  setHandler(progressQuery, () => progress);

  const enter = (stage: JobStage, percent: number, activity: string | null) => {
    const now = Date.now();
    const previous = progress.timings[progress.stage];
    if (previous && previous.endedAt === undefined) previous.endedAt = now;
    progress.stage = stage;
    progress.percent = percent;
    progress.activity = activity;
    progress.timings[stage] = { startedAt: now };
  };

  const capacity = new Capacity(jobId);
  try {
    enter('validating', 0, 'prepareJob');
    const job = await records.prepareJob(jobId);

    // A backend that fails a job's generation (after its retries on that backend) gives the
    // slot back as failed; the job queues again for another backend and resumes its text.
    const avoid: string[] = [];
    let grant: Grant;
    let generated: GenerateOutput;
    let serviceMs: number;
    for (let grants = 1; ; grants++) {
      enter('waiting', 5, null);
      grant = await capacity.acquire(
        { teamId: job.teamId, userId: job.userId, tierPolicy: job.tier, model: job.model, priority: job.priority },
        avoid,
      );
      enter('generating', 10, 'generate');
      const started = Date.now();
      try {
        generated = await model.generate({
          jobId,
          projectId: job.projectId,
          model: job.model,
          outputCap: job.outputCap,
          messages: job.messages,
          backendId: grant.backendId,
        });
        serviceMs = Date.now() - started;
        break;
      } catch (error) {
        if (grants >= MAX_GRANTS || !backendFailed(error)) throw error;
        await capacity.release({ ok: false });
        avoid.push(grant.backendId);
      }
    }
    progress.tokens = generated.completionTokens;

    let review: ReviewOutcome = { status: 'skipped', notes: [] };
    if (job.reviewLevel !== 'none') {
      enter('reviewing', 75, 'reviewCode');
      review = await reviewWithTimeout(
        {
          jobId,
          model: job.model,
          outputCap: job.outputCap,
          backendId: grant.backendId,
          level: job.reviewLevel,
          requirements: job.requirements,
          text: generated.text,
        },
        (input.reviewTimeoutSeconds ?? DEFAULT_REVIEW_TIMEOUT_SECONDS) * 1000,
      );
    }

    await capacity.release({ ok: true, serviceMs });

    enter('saving', 90, 'saveResult');
    const resultId = await records.saveResult({ jobId, ...generated, review });

    enter('done', 100, 'notifyUser');
    await records.notifyUser({ jobId, projectId: job.projectId, status: 'completed' });
    progress.activity = null;
    return { jobId, status: 'completed', resultId };
  } catch (error) {
    await capacity.release({ ok: !backendFailed(error) });
    const status = isCancellation(error) ? 'cancelled' : retriesExhausted(error) ? 'dead_letter' : 'failed';
    // The workflow may itself be cancelled; recording the outcome must still happen.
    await CancellationScope.nonCancellable(() =>
      records.finishJob({ jobId, status, error: status === 'cancelled' ? null : describe(error) }),
    );
    throw error;
  }
}

async function reviewWithTimeout(
  input: Parameters<Activities['reviewCode']>[0],
  timeoutMs: number,
): Promise<ReviewOutcome> {
  const review = new CancellationScope();
  const timer = new CancellationScope();
  const outcome = await Promise.race([
    review.run(() => reviewer.reviewCode(input)).catch((error: unknown): ReviewOutcome => {
      if (isCancellation(error)) throw error;
      return { status: 'skipped', notes: [`The review failed: ${describe(error)}`] };
    }),
    timer.run(() => sleep(timeoutMs)).then((): ReviewOutcome => ({ status: 'timed_out', notes: [] })),
  ]);
  review.cancel();
  timer.cancel();
  return outcome;
}

/** The model call failed for the backend's sake (not the request's) and its retries are spent. */
function backendFailed(error: unknown): boolean {
  return (
    retriesExhausted(error) &&
    error instanceof ActivityFailure &&
    error.cause instanceof ApplicationFailure &&
    RETRY_ELSEWHERE.includes(error.cause.type ?? '')
  );
}

function retriesExhausted(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    (error.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED || error.retryState === RetryState.TIMEOUT)
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
