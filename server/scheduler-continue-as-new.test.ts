import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../scripts/testing/db';
import { recordHistory } from '../scripts/testing/histories';
import { startJobStack, type JobStack } from '../scripts/testing/job-stack';
import { useTemporal } from '../scripts/testing/temporal';
import { until } from '../scripts/testing/until';
import { defaultPayloadConverter } from '@temporalio/common';
import { schedulerWorkflowId, statusQuery, type SchedulerInput } from '../workflows/scheduler-api';
import { createSimulator, type Simulator } from './llm/simulator';

/**
 * The scheduler continuing as new every few dozen events while jobs keep arriving and finishing:
 * grants still on their way at each hand-over are sent again by the next run, none is lost.
 */

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
let sim: Simulator;
let stack: JobStack;

beforeAll(async () => {
  sim = await createSimulator({ slots: 2, tokensPerSecond: 400, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 20 });
  stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [sim.url], slots: 2, schedulerHistoryLimit: 40 });
});

afterAll(async () => {
  await stack?.stop();
  await sim?.close();
});

describe('the scheduler continuing as new', () => {
  it('hands a burst of jobs from run to run and completes every one of them, leaking no slot', async () => {
    // One user submits the whole burst: lift the tier's queue cap (10) above it.
    await stack.prisma.tier.update({ where: { name: 'premium' }, data: { maxQueuedPerUser: 50 } });
    await stack.configureScheduler();
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    const jobs = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        demo.caller.jobs.submit({ projectId: project.id, requirements: `continued ${i}`, clientKey: `continued-${i}`, priority: 'normal' }),
      ),
    );
    const ids = jobs.map((job) => job.id);
    await until(
      async () => (await stack.prisma.job.count({ where: { id: { in: ids }, status: 'completed' } })) === ids.length,
      'every job to complete',
      120_000,
    );

    const workflowId = schedulerWorkflowId(stack.taskQueue);
    const runs = [];
    for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const status = await temporal.client.workflow.getHandle(workflowId).query(statusQuery);
    expect(status.waiting).toBe(0);
    expect(status.leases).toEqual([]);
    // Each run ends right after a dispatch round, its grants usually still on their way.
    const handedOver = [];
    for (const run of runs) {
      const history = await temporal.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      const [input] = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
      const { undelivered = [] } = input ? (defaultPayloadConverter.fromPayload(input) as SchedulerInput) : {};
      if (undelivered.length > 0) handedOver.push(run.runId);
    }
    expect(handedOver.length).toBeGreaterThan(0);
    await recordHistory(temporal.client, 'scheduler-handed-over', workflowId, handedOver[0]);
  }, 180_000);
});
