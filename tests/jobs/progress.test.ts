import { expect, it } from 'vitest';
import type { JobProgressEvent } from '../../server/realtime/events';
import { useJobStack, type TestSocket } from '../support/job-stack';
import { until } from '../support/until';

/**
 * A job's page learns its stage, percent and ETA from the activities doing the work, pushed to the
 * job's room: reviewing and saving included, which no job update announces.
 */

const ANSWER_TOKENS = 60;
const { stack } = useJobStack({
  simulators: [{ tokensPerSecond: 40, timeToFirstTokenMs: 20, modelLoadMs: 0, outputTokens: ANSWER_TOKENS }],
});

async function watch(socket: TestSocket, jobId: string): Promise<JobProgressEvent[]> {
  const seen: JobProgressEvent[] = [];
  socket.on('job:progress', (event) => {
    if (event.jobId === jobId) seen.push(event);
  });
  const ack = await new Promise<{ ok: boolean }>((resolve) => socket.emit('join', { kind: 'job', id: jobId }, resolve));
  expect(ack).toEqual({ ok: true });
  return seen;
}

it('pushes each stage to the job’s room as it begins, generation with its tokens and ETA', async () => {
  const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
  const socket = await stack.connect(demo.token);

  // The first answer of the model teaches the worker its typical length; the second is estimated with it.
  for (const clientKey of ['progress-first', 'progress-second']) {
    const job = await demo.caller.jobs.submit({
      projectId: project.id,
      // Long and naming hard problems: reviewed, so every stage runs.
      requirements: 'Write a database migration runner with a transaction per step and a lock against concurrent runs',
      clientKey,
      priority: 'normal',
    });
    const seen = await watch(socket, job.id);
    await until(async () => (await demo.caller.jobs.get({ jobId: job.id })).status === 'completed', 'the job to complete');
    await until(() => seen.some((event) => event.stage === 'saving'), 'the saving stage to arrive');

    const stages = seen.map((event) => event.stage).filter((stage, i, all) => stage !== all[i - 1]);
    expect(stages.slice(stages.indexOf('generating'))).toEqual(['generating', 'reviewing', 'saving']);
    expect(seen.find((event) => event.stage === 'reviewing')).toMatchObject({ percent: 75, activity: 'reviewCode', etaMs: null });
    expect(seen.find((event) => event.stage === 'saving')).toMatchObject({ percent: 90, activity: 'saveResult' });
    const generating = seen.filter((event) => event.stage === 'generating');
    for (const [earlier, later] of generating.slice(1).map((event, i) => [generating[i]!, event] as const)) {
      expect(later.at).toBeGreaterThanOrEqual(earlier.at);
      expect(later.tokens!).toBeGreaterThanOrEqual(earlier.tokens!);
      expect(later.percent).toBeGreaterThanOrEqual(earlier.percent);
    }
    if (clientKey === 'progress-second') {
      // Mid-answer (about a second in at 40 tokens/s), with the speed measured and the length learnt.
      const mid = generating.find((event) => event.tokens! > 0 && event.etaMs !== null);
      expect(mid, 'a generating event with an ETA').toBeDefined();
      expect(mid).toMatchObject({ expectedTokens: ANSWER_TOKENS, activity: 'generate' });
      expect(mid!.tokensPerSecond).toBeGreaterThan(0);
      expect(mid!.percent).toBeGreaterThan(10);
      expect(mid!.percent).toBeLessThan(75);
    }
    socket.off('job:progress');
  }
}, 120_000);
