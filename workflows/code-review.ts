import { CancellationScope, ChildWorkflowFailure, executeChild, isCancellation, setHandler } from '@temporalio/workflow';
import type { ReviewItemOutcome } from '../activities/types';
import { Capacity } from './scheduler/job-capacity';
import { jobWorkflowId, reviewProgressQuery, type ReviewItemWorkflowInput, type ReviewOutcome, type ReviewProgress } from './definitions';
import { describe, endFailed, model, records, runOnGrant } from './job-steps';

/** Items of one review asking the scheduler at once: the user's other jobs keep their turn. */
const MAX_PARALLEL_ITEMS = 4;

/**
 * One code review: its files (or chunks of long files) are reviewed one child workflow each —
 * each asks the scheduler for its own slot, so a review spreads over free slots like as many
 * jobs, and its findings are stored once per item (activities/review-items.ts) — then the
 * review ends with a summary. Cancelling the review cancels the items under way and starts no
 * other; a retried review reviews only the items without findings.
 */
export async function codeReviewWorkflow({ jobId }: { jobId: string }): Promise<ReviewOutcome> {
  const progress: ReviewProgress = { reviewed: 0, total: 0, failed: 0 };
  setHandler(reviewProgressQuery, () => progress);
  // The review itself holds no slot; its items do. endFailed releases nothing then.
  const capacity = new Capacity(jobId);
  try {
    const review = await records.prepareReview(jobId);
    progress.total = review.total;
    progress.reviewed = review.total - review.pending.length;
    // Not more at once than the scheduler lets the user run: more would only wait in its queue.
    const parallel = Math.max(1, Math.min(MAX_PARALLEL_ITEMS, review.tier.maxRunningPerUser || MAX_PARALLEL_ITEMS));
    const queue = [...review.pending];
    const lane = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const { projectId: _project, total: _total, pending: _pending, ...shared } = review;
        const outcome = await reviewOne(jobId, { ...shared, itemId: item.id });
        progress.reviewed++;
        if (outcome.status === 'failed') progress.failed++;
      }
    };
    // Every lane ends before the review does: on a cancel, the items under way finish their own
    // cancellation (and give their slots back) before the review is recorded as cancelled.
    const lanes = await Promise.allSettled(Array.from({ length: parallel }, lane));
    const stopped = lanes.find((ended) => ended.status === 'rejected');
    if (stopped) throw stopped.reason;
    const { status, summary, projectId } = await records.finishReview(jobId);
    await records.notifyUser({ jobId, projectId, status });
    return { jobId, status, summary };
  } catch (error) {
    return endFailed(capacity, jobId, error);
  }
}

/** One item's child workflow; one that ends other than by cancellation marks its item failed. */
async function reviewOne(jobId: string, input: ReviewItemWorkflowInput): Promise<ReviewItemOutcome> {
  try {
    return await executeChild(reviewItemWorkflow, { workflowId: jobWorkflowId(input.itemId), args: [input] });
  } catch (error) {
    if (isCancellation(error) || (error instanceof ChildWorkflowFailure && isCancellation(error.cause))) throw error;
    await records.failReviewItem({ jobId, itemId: input.itemId, error: describe(error) });
    return { status: 'failed', findings: 0 };
  }
}

/**
 * One file (or chunk) of a review, scheduled like a job of its own: the scheduler knows it by
 * its item's id, so its grant, lease and place in the queue are its own. Its failure after its
 * grants are spent is the item's, not the review's.
 */
export async function reviewItemWorkflow(input: ReviewItemWorkflowInput): Promise<ReviewItemOutcome> {
  const capacity = new Capacity(input.itemId);
  try {
    const { value, serviceMs } = await runOnGrant(
      capacity,
      { teamId: input.teamId, userId: input.userId, tierPolicy: input.tier, model: input.model, priority: input.priority, batchable: input.batchable },
      () => undefined,
      (grant) =>
        model.reviewItem({ jobId: input.jobId, itemId: input.itemId, model: input.model, outputCap: input.outputCap, depth: input.depth, backendId: grant.backendId, pool: grant.pool }),
    );
    await capacity.release({ ok: true, serviceMs });
    return value;
  } catch (error) {
    await capacity.release({ ok: false });
    if (isCancellation(error)) throw error;
    await CancellationScope.nonCancellable(() => records.failReviewItem({ jobId: input.jobId, itemId: input.itemId, error: describe(error) }));
    return { status: 'failed', findings: 0 };
  }
}
