import type { AddressInfo } from 'node:net';
import express from 'express';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHistory } from '../support/histories';
import { useJobStack } from '../support/job-stack';
import type { ResourceConfig } from '../../workflows/resources';
import { resourceManagerWorkflowId, resourceStatusQuery } from '../../workflows/resources/api';
import { statusQuery } from '../../workflows/scheduler/api';
import { metricsHandler } from '../../server/http/metrics';
import { noFaults } from '../../simulator';
import { ensureResourceManager } from '../../server/temporal/resource-manager';
import { until } from '../support/until';

/**
 * Health probes, routing pressure and recommendations through the real resource manager and
 * scheduler workflows, with two simulated backends of one slot each.
 */

const simulator = { slots: 1, maxQueue: 0, tokensPerSecond: 400, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 60 };
const {
  temporal,
  stack,
  sims: [a, b],
} = useJobStack({ simulators: [simulator, simulator], slots: 1, leaseCheckMs: 1_000 });
let projectId: string;

const config: ResourceConfig = {
  sampleIntervalMs: 250,
  windowSize: 3,
  probeFailuresToDown: 2,
  preferCloudAfterWaitMs: 3_600_000,
  // Two instances below a minimum of three: a scale-out recommendation once the window is full.
  autoScaling: { minInstances: 3, maxInstances: 10, scaleUpQueueDepth: 50, scaleDownQueueDepth: 5, scaleUpCooldownMs: 600_000, scaleDownCooldownMs: 600_000 },
};

beforeAll(async () => {
  projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
  await ensureResourceManager(temporal.client, stack.taskQueue, config, { maxHistoryEvents: 150 });
});

afterAll(async () => {
  await temporal.client.workflow.getHandle(resourceManagerWorkflowId(stack.taskQueue)).terminate('test over').catch(() => {});
});


const backendOf = async (jobId: string) => (await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId } })).backendId;
const row = (jobId: string) => stack.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
const healthyIn = async (backendId: string) => (await stack.scheduler().query(statusQuery)).backends.find((x) => x.id === backendId)?.healthy;
const submit = async (requirements: string) => {
  const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  return (await demo.caller.jobs.submit({ projectId, requirements, priority: 'normal', clientKey: crypto.randomUUID() })).id;
};

describe('backend health', () => {
  it('finishes a killed backend’s job elsewhere, grants it nothing while down, and uses it again at once when back', async () => {
    const [idA, idB] = stack.backendIds as [string, string];
    a.configure({ tokensPerSecond: 20 });
    b.configure({ tokensPerSecond: 20 });
    try {
      const first = await submit('A TypeScript function that parses a CSV line');
      const second = await submit('A Python class for a ring buffer');
      const onA = await until(async () => {
        const rows = await Promise.all([first, second].map(row));
        return rows.find((r) => r.backendId === idA && r.status === 'running' && r.output.length > 20)?.id;
      }, 'a job to stream from backend A');

      a.setFaults({ refuseConnections: true });
      const requestsWhenKilled = a.stats().requests;
      await until(async () => (await healthyIn(idA)) === false, 'the scheduler to hear that A is down');
      // The run that sent "A is down", for the replay test once it has continued as new.
      const { runId: downRun } = await temporal.client.workflow.getHandle(resourceManagerWorkflowId(stack.taskQueue)).describe();
      // While A is down, new work waits for B, however long B takes.
      const whileDown = [await submit('A Go HTTP handler'), await submit('A Rust iterator adaptor')];
      b.configure({ tokensPerSecond: 400 });
      for (const id of [onA, ...whileDown]) await until(async () => (await row(id)).status === 'completed' && id, `job ${id} to complete`);
      for (const id of [onA, ...whileDown]) expect(await backendOf(id)).toBe(idB);
      expect(a.stats().requests).toBe(requestsWhenKilled);

      // The resumed text is whole: the same request run straight through gives the same answer.
      const reference = await submit((await row(onA)).requirements);
      await until(async () => (await row(reference)).status === 'completed', 'the reference job');
      expect((await row(onA)).output).toBe((await row(reference)).output);

      // B busy with a slow job and another waiting: the moment A is healthy, the waiting job runs there.
      b.configure({ tokensPerSecond: 5 });
      const blocker = await submit('A slow job for B');
      await until(async () => (await row(blocker)).status === 'running', 'B to be busy');
      const waiting = await submit('A job waiting for capacity');
      await until(async () => (await stack.scheduler().query(statusQuery)).waiting === 1, 'the job to wait');
      a.setFaults(noFaults);
      await until(async () => (await healthyIn(idA)) === true, 'the scheduler to hear that A is back');
      await until(async () => (await row(waiting)).status === 'completed', 'the waiting job to complete on A');
      expect(await backendOf(waiting)).toBe(idA);
      b.configure({ tokensPerSecond: 400 });
      await until(async () => (await row(blocker)).status === 'completed', 'the blocker to complete');

      // Nothing leaked: every slot is free again.
      const status = await until(async () => {
        const s = await stack.scheduler().query(statusQuery);
        return s.leases.length === 0 && s.waiting === 0 && s;
      }, 'every slot to be free');
      expect(status.backends.map((x) => x.running)).toEqual([0, 0]);
      expect(status.backends.every((x) => x.healthy)).toBe(true);
      await recordHistory(temporal.client, 'resource-manager', resourceManagerWorkflowId(stack.taskQueue), { runId: downRun });
    } finally {
      a.setFaults(noFaults);
      a.configure({ tokensPerSecond: 400 });
      b.configure({ tokensPerSecond: 400 });
    }
  }, 180_000);
});

describe('the resource manager', () => {
  it('shows load, health and its recommendation to admins only, and in /metrics', async () => {
    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const status = await until(async () => {
      const s = await admin.caller.resources.status();
      return s.pools[0]?.recommendation && s.backends.length === 2 && s.backends.every((x) => x.healthy) && s;
    }, 'a recommendation');
    expect(status.pools).toEqual([
      expect.objectContaining({
        pool: 'local',
        instances: 2,
        slots: 2,
        pressured: false,
        recommendation: expect.objectContaining({ action: 'scale_out', currentInstances: 2, targetInstances: 3 }),
      }),
    ]);
    expect(status.backends.map((x) => [x.id, x.healthy]).sort()).toEqual([...stack.backendIds].sort().map((id) => [id, true]));
    // The admin page's copy: stored by the workflow each tick, read from the database.
    const stored = await until(async () => {
      const snapshot = await admin.caller.resources.snapshot();
      return snapshot?.status.pools[0]?.recommendation && snapshot.status.backends.every((x) => x.healthy) && snapshot;
    }, 'a stored status with the recommendation');
    expect(stored.status.pools).toEqual([expect.objectContaining({ pool: 'local', instances: 2, recommendation: expect.objectContaining({ action: 'scale_out', targetInstances: 3 }) })]);
    expect(stored.status.sampledAt).toBeGreaterThan(0);

    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    await expect(demo.caller.resources.status()).rejects.toThrow(TRPCError);

    const app = express().get('/metrics', metricsHandler(stack.services, { token: 'a-metrics-token-of-some-length', production: true, maxWaitingJobs: 15_000 }));
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      const response = await fetch(url, { headers: { authorization: 'Bearer a-metrics-token-of-some-length' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toContain('# TYPE switchyard_pool_busy_slots gauge');
      expect(text).toMatch(/^switchyard_pool_slots\{pool="local"\} 2$/m);
      expect(text).toMatch(/^switchyard_pool_recommended_instances\{pool="local"\} 3$/m);
      for (const id of stack.backendIds) {
        expect(text).toContain(`switchyard_backend_up{backend="${id}",pool="local"} 1`);
        // The scheduler's view per backend, beside the resource manager's.
        expect(text).toContain(`switchyard_backend_slots{backend="${id}",pool="local"} 1`);
        expect(text).toMatch(new RegExp(`^switchyard_backend_busy_slots\\{backend="${id}",pool="local"\\} [01]$`, 'm'));
      }
      expect(text).toMatch(/^switchyard_status_up 1$/m);
      expect(text).toMatch(/^switchyard_admission_waiting_limit 15000$/m);
      expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);

  it('continues as new with its window and health counters', async () => {
    const handle = temporal.client.workflow.getHandle(resourceManagerWorkflowId(stack.taskQueue));
    const { runId } = await handle.describe();
    await until(async () => (await temporal.client.workflow.getHandle(resourceManagerWorkflowId(stack.taskQueue)).describe()).runId !== runId, 'a continue-as-new', 90_000);
    // The recommendation was made in the first run; the 10-minute cooldown means it was carried, not made again.
    const status = await handle.query(resourceStatusQuery);
    expect(status.pools).toEqual([expect.objectContaining({ pool: 'local', recommendation: expect.objectContaining({ action: 'scale_out' }) })]);
    expect(status.backends.map((x) => x.healthy)).toEqual([true, true]);
  }, 120_000);
});
