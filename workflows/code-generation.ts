import {
  ActivityCancellationType,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  progressQuery,
  type JobOutcome,
  type JobProgress,
  type JobStage,
  type JobWorkflowInput,
} from './definitions';

// Bookkeeping activities are short and idempotent: retry them patiently.
const records = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 20 },
});

// The model call heartbeats every few hundred ms; a 5 s heartbeat timeout notices a dead worker
// quickly, and waiting for the cancellation to complete keeps the partial output.
const model = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '5 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['InvalidJob', 'BackendRejected'],
  },
});

export async function codeGenerationWorkflow({ jobId }: JobWorkflowInput): Promise<JobOutcome> {
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

  try {
    enter('validating', 0, 'prepareJob');
    const job = await records.prepareJob(jobId);

    enter('generating', 10, 'generate');
    const generated = await model.generate({
      jobId,
      projectId: job.projectId,
      model: job.model,
      messages: job.messages,
    });
    progress.tokens = generated.completionTokens;

    enter('saving', 90, 'saveResult');
    const resultId = await records.saveResult({ jobId, ...generated });

    enter('done', 100, 'notifyUser');
    await records.notifyUser({ jobId, projectId: job.projectId, status: 'completed' });
    progress.activity = null;
    return { jobId, status: 'completed', resultId };
  } catch (error) {
    const status = isCancellation(error) ? 'cancelled' : 'failed';
    // The workflow may itself be cancelled; recording the outcome must still happen.
    await CancellationScope.nonCancellable(async () => {
      await records.finishJob({ jobId, status, error: status === 'failed' ? describe(error) : null });
    });
    throw error;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
