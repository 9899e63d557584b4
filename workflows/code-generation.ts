import { ActivityCancellationType, CancellationScope, isCancellation, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ReviewOutcome } from '../activities/types';
import { Capacity } from './scheduler/job-capacity';
import {
  DEFAULT_REVIEW_TIMEOUT_SECONDS,
  progressQuery,
  STAGE_PERCENT,
  type JobOutcome,
  type JobProgress,
  type JobStage,
  type JobWorkflowInput,
} from './definitions';
import { describe, endFailed, generateOnGrant, records } from './job-steps';

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

  const enter = (stage: JobStage, activity: string | null) => {
    const now = Date.now();
    const previous = progress.timings[progress.stage];
    if (previous && previous.endedAt === undefined) previous.endedAt = now;
    progress.stage = stage;
    progress.percent = STAGE_PERCENT[stage];
    progress.activity = activity;
    progress.timings[stage] = { startedAt: now };
  };

  const capacity = new Capacity(jobId);
  try {
    enter('validating', 'prepareJob');
    const job = await records.prepareJob(jobId);

    const { grant, generated, serviceMs } = await generateOnGrant(
      capacity,
      { teamId: job.teamId, userId: job.userId, tierPolicy: job.tier, model: job.model, priority: job.priority, batchable: job.batchable },
      { jobId, projectId: job.projectId, model: job.model, outputCap: job.outputCap, messages: job.messages },
      (stage) => enter(stage, stage === 'waiting' ? null : 'generate'),
    );
    progress.tokens = generated.completionTokens;

    let review: ReviewOutcome = { status: 'skipped', notes: [] };
    if (job.reviewLevel !== 'none') {
      enter('reviewing', 'reviewCode');
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

    enter('saving', 'saveResult');
    const resultId = await records.saveResult({ jobId, ...generated, review });

    enter('done', 'notifyUser');
    await records.notifyUser({ jobId, projectId: job.projectId, status: 'completed' });
    progress.activity = null;
    return { jobId, status: 'completed', resultId };
  } catch (error) {
    return endFailed(capacity, jobId, error);
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
