import { describe, expect, it } from 'vitest';
import { noFaults } from '../../simulator';
import { useJobStack } from '../support/job-stack';
import { peakRequests } from '../support/llm';
import { until } from '../support/until';

/**
 * A review whose backend hangs mid-answer (headers and three tokens, then nothing) has one model
 * request open at a time. Its attempt must keep heartbeating through the silence and hold the
 * attempt lease: otherwise Temporal times the attempt out (no heartbeat for 10 s), and its retry
 * reaches the backend while the silent request is still open, holding the job's slot.
 */

// The generation is quick and whole; the backend hangs only from the moment the review begins.
const { stack, sim } = useJobStack({
  simulators: [{ tokensPerSecond: 400, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 60 }],
  aroundActivities: (activities) => ({
    ...activities,
    reviewCode: (input) => {
      sim.setFaults({ stallAfterTokens: 3 });
      return activities.reviewCode(input);
    },
  }),
});

/**
 * Longer than the review's heartbeat timeout and retry backoff (10 s + 1 s), so that a retry of an
 * attempt timed out for its silence would start before the review's timeout ends it; shorter than
 * the 30 s a stream may fall silent (server/llm/stall.ts), so the timeout, not the stall bound, ends it.
 */
const REVIEW_TIMEOUT_SECONDS = 20;

describe('a review whose backend falls silent', () => {
  it('keeps one request open, never a retry beside it, until the review times out', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const { id: projectId } = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    try {
      const job = await demo.caller.jobs.submit({
        projectId,
        // Long enough to be reviewed (activities/complexity.ts).
        requirements: 'A function that reverses each word of a string and keeps the spaces between the words',
        priority: 'normal',
        clientKey: crypto.randomUUID(),
        reviewTimeoutSeconds: REVIEW_TIMEOUT_SECONDS,
      });
      const ended = await until(async () => {
        const row = await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id }, select: { status: true } });
        return ['completed', 'failed', 'dead_letter'].includes(row.status) && row;
      }, 'the job to end', 120_000);
      expect(ended.status).toBe('completed');
      expect((await demo.caller.jobs.get({ jobId: job.id })).result?.reviewStatus).toBe('timed_out');
      // The simulator logs a request once it sees it close: every request of the review, cancelled or retried.
      await until(() => sim.stats().active + sim.stats().queued === 0, 'every request to the backend to end', 120_000);
      expect(sim.stats().stalls).toBeGreaterThan(0);
      expect(peakRequests(sim)).toBe(1);
    } finally {
      sim.setFaults(noFaults);
    }
  });
});
