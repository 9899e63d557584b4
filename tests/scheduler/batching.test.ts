import { beforeAll, describe, expect, it } from 'vitest';
import { positionQuery } from '../../workflows/scheduler/api';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';

/**
 * Batching end to end (workflows/scheduler/core/planner.ts): two simulated Ollama instances of one
 * slot that keep one model resident, simple generation jobs (batchable, like review items) of the
 * demo team's tier with batching turned on. Without batching the first two jobs of a model would
 * go to the two free backends and load the model twice.
 */

const MODEL = 'qwen2.5-coder:7b';
// A job generates for about a second: without batching the second would start on the other backend while the first runs.
const simulator = { slots: 1, maxLoadedModels: 1, modelLoadMs: 50, tokensPerSecond: 20, timeToFirstTokenMs: 5, outputTokens: 20 };
const { stack, sims } = useJobStack({ simulators: [simulator, simulator], slots: 1, leaseCheckMs: 1_000 });
let projectId: string;

beforeAll(async () => {
  projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
});

/** The demo team's tier; jobs bring it to the scheduler as they ask for a slot. */
const setBatching = (maxBatchSize: number, batchTimeoutSec: number) =>
  stack.prisma.tier.update({ where: { name: 'premium' }, data: { batchEnabled: true, maxBatchSize, batchTimeoutSec, maxRunningPerUser: 4, maxQueuedPerUser: 10 } });

describe('batching', () => {
  it('groups simple jobs of one model onto one backend, which loads the model once', async () => {
    // A timeout longer than any test: only a full batch sends them.
    await setBatching(3, 600);
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const jobs: { id: string }[] = [];
    for (let i = 0; i < 3; i++) {
      jobs.push(await demo.caller.jobs.submit({ projectId, model: MODEL, simple: true, requirements: `function ${i}`, clientKey: crypto.randomUUID(), priority: 'normal' }));
    }
    const rows = await until(async () => {
      const found = await stack.prisma.job.findMany({ where: { id: { in: jobs.map((job) => job.id) } }, select: { backendId: true, status: true } });
      return found.every((row) => row.status === 'completed') && found;
    }, 'the batch to complete');
    expect(new Set(rows.map((row) => row.backendId)).size).toBe(1);
    expect(sims.reduce((sum, sim) => sum + sim.stats().modelLoads, 0)).toBe(1);
  }, 120_000);

  it('sends a partial batch when its timeout comes, and not before', async () => {
    const timeoutSec = 5;
    await setBatching(5, timeoutSec);
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    // The model is loaded on one backend now: a job of another model must load it, so it waits.
    const job = await demo.caller.jobs.submit({ projectId, model: 'llama3.1:8b', simple: true, requirements: 'alone', clientKey: crypto.randomUUID(), priority: 'normal' });
    const held = await until(() => stack.scheduler().query(positionQuery, job.id), 'the job to wait in the queue');
    // The published estimate is the timeout, at most: the scheduler wakes for it with no other event.
    expect(held.etaMs).not.toBeNull();
    expect(held.etaMs!).toBeLessThanOrEqual(timeoutSec * 1000);
    const row = await until(async () => {
      const found = await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id }, select: { status: true, createdAt: true, startedAt: true } });
      return found.status === 'completed' && found;
    }, 'the held job to complete');
    expect(row.startedAt!.getTime() - row.createdAt.getTime()).toBeGreaterThanOrEqual(timeoutSec * 1000);
  }, 120_000);
});
