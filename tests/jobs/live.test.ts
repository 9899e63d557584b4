import { expect, it } from 'vitest';
import { createServices } from '../../server/services';
import { LIVE_QUERY_DEADLINE_MS } from '../../server/services/jobs';
import { createTemporalProvider, type TemporalProvider } from '../../server/temporal/client';
import { createCaller } from '../../server/trpc/root';
import { testBackendUrls, testWebhookUrls, testKeyring } from '../support/app-stack';
import { useJobStack } from '../support/job-stack';
import { testDataConverter } from '../support/temporal';
import { until } from '../support/until';

/**
 * A job page paints from the database, never from a workflow query: with the job's worker dead, a
 * query waits for the server's own timeout (10 s and more), and the page would wait with it.
 */

const { temporal, stack } = useJobStack({
  worker: false,
  simulators: [{ tokensPerSecond: 400, timeToFirstTokenMs: 20, modelLoadMs: 0, outputTokens: 40 }],
});

/** The stack's services over a real Temporal client that counts how often anyone reaches for it. */
function countingServices() {
  const real = createTemporalProvider({ address: temporal.connection.options.address, namespace: temporal.namespace, taskQueue: stack.taskQueue, dataConverter: testDataConverter });
  const counted = { calls: 0 };
  const provider: TemporalProvider = { ...real, get: () => (counted.calls++, real.get()), close: () => real.close() };
  const services = createServices({
    prisma: stack.prisma,
    temporal: provider,
    sessionSecret: 'test-session-secret-of-at-least-32-chars',
    defaultModel: 'qwen2.5-coder:7b',
    temporalUiUrl: 'http://localhost:8233',
    maxTeamsPerUser: 0,
    keyring: testKeyring,
    backendUrls: testBackendUrls,
    webhookUrls: testWebhookUrls,
  });
  return { services, counted, close: () => real.close() };
}

it('paints a job from the database with no Temporal call while no worker runs its workflow, and fills the live state in once one does', async () => {
  const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
  const job = await demo.caller.jobs.submit({ projectId: project.id, requirements: 'A function that reverses a string', clientKey: 'live-while-dead', priority: 'normal' });

  const { services, counted, close } = countingServices();
  try {
    const caller = createCaller({ services, user: demo.user });
    const page = await caller.jobs.get({ jobId: job.id });
    expect(page).toMatchObject({ id: job.id, status: 'queued', requirements: 'A function that reverses a string', output: '', result: null });
    expect(page.temporalUrl).toContain(page.workflowId);
    expect(counted.calls, 'jobs.get reached for Temporal').toBe(0);

    // The live state gives up at its deadline instead of Temporal's own 10+ s, answering nothing.
    const asked = Date.now();
    expect(await caller.jobs.live({ jobId: job.id })).toEqual({ progress: null, queue: null });
    expect(Date.now() - asked).toBeLessThan(LIVE_QUERY_DEADLINE_MS * 4);

    await stack.startWorker();
    const seen = await until(async () => {
      const live = await caller.jobs.live({ jobId: job.id });
      const { status } = await caller.jobs.get({ jobId: job.id });
      return (live.progress !== null || status === 'completed') && { live, status };
    }, 'the workflow to answer once a worker runs it');
    if (seen.status !== 'completed') expect(seen.live.progress).toMatchObject({ stage: expect.any(String) });
    await until(async () => (await caller.jobs.get({ jobId: job.id })).status === 'completed', 'the job to complete');
    expect(await caller.jobs.live({ jobId: job.id })).toEqual({ progress: null, queue: null });
  } finally {
    await close();
  }
}, 90_000);
