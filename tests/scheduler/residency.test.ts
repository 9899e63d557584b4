import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureResourceManager } from '../../server/temporal/resource-manager';
import type { ResourceConfig } from '../../workflows/resources';
import { resourceManagerWorkflowId } from '../../workflows/resources/api';
import { statusQuery } from '../../workflows/scheduler/api';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';

/**
 * Residency read from the backends, end to end: two simulated Ollama instances serving the same
 * models, one of which has a model loaded by a call from outside Switchyard. The resource manager
 * reads it from /api/ps; the scheduler then places that model's job there, although its guess
 * (nothing loaded anywhere) ties both backends and breaks the tie the other way.
 */

const llama = 'llama3.1:8b';
const simulator = { slots: 1, maxLoadedModels: 3, modelLoadMs: 400, tokensPerSecond: 400, timeToFirstTokenMs: 5, outputTokens: 20 };
const { temporal, stack, sims } = useJobStack({ simulators: [simulator, simulator], slots: 1, leaseCheckMs: 1_000 });
const config: ResourceConfig = {
  sampleIntervalMs: 250,
  windowSize: 3,
  probeFailuresToDown: 2,
  preferCloudAfterWaitMs: 3_600_000,
  autoScaling: { minInstances: 1, maxInstances: 10, scaleUpQueueDepth: 50, scaleDownQueueDepth: 0, scaleUpCooldownMs: 600_000, scaleDownCooldownMs: 600_000 },
};
let projectId: string;

beforeAll(async () => {
  projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
});

afterAll(async () => {
  await temporal.client.workflow.getHandle(resourceManagerWorkflowId(stack.taskQueue)).terminate('test over').catch(() => {});
});

describe('residency read from the backends', () => {
  it('places a job on the backend whose /api/ps lists its model, not on the one that would have to load it', async () => {
    // The tie-break between two equal backends is the lower id: load the model on the other one.
    const [first, last] = [...stack.backendIds].sort() as [string, string];
    const simOf = (backendId: string) => sims[stack.backendIds.indexOf(backendId)]!;
    await new Ollama({ host: simOf(last).url }).chat({ model: llama, messages: [{ role: 'user', content: 'warm up' }] });

    await ensureResourceManager(temporal.client, stack.taskQueue, config);
    await until(async () => (await stack.scheduler().query(statusQuery)).backends.find((b) => b.id === last)?.loadedModels.includes(llama), 'the scheduler to read llama loaded');
    const stored = await stack.prisma.backendResidency.findUniqueOrThrow({ where: { backendId_model: { backendId: last, model: llama } } });
    expect(stored).toMatchObject({ present: true, loaded: true });
    expect(Number(stored.sizeBytes)).toBeGreaterThan(0);
    expect(stored.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(await stack.prisma.backendResidency.count({ where: { backendId: first, loaded: true } })).toBe(0);

    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const job = await demo.caller.jobs.submit({ projectId, model: llama, requirements: 'a function that reverses a string', clientKey: crypto.randomUUID(), priority: 'normal' });
    const done = await until(async () => {
      const row = await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id }, select: { status: true, backendId: true } });
      return row.status === 'completed' && row;
    }, 'the job to complete');
    expect(done.backendId).toBe(last);
    expect([simOf(first).stats().modelLoads, simOf(last).stats().modelLoads]).toEqual([0, 1]);
  }, 120_000);
});
