import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/paths';
import { recordHistory } from '../support/histories';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';
import { jobWorkflowId } from '../../workflows/definitions';
import { noFaults } from '../../simulator';

const simulator = { tokensPerSecond: 400, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 60 };
const {
  db,
  temporal,
  stack,
  sims: [flaky, healthy],
} = useJobStack({ simulators: [simulator, simulator], worker: false });
let projectId: string;

beforeAll(async () => {
  projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
});

/** The job's status once it is one of `statuses`. */
const waitForStatus = async (jobId: string, statuses: string[], timeoutMs = 60_000) =>
  (
    await until(async () => {
      const job = await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { status: true } });
      return statuses.includes(job.status) && job;
    }, `job ${jobId} to reach ${statuses.join('/')}`, timeoutMs)
  ).status;

const submit = async (requirements: string, extra: { reviewTimeoutSeconds?: number; model?: string } = {}) => {
  const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  const job = await demo.caller.jobs.submit({
    projectId,
    requirements,
    priority: 'normal',
    clientKey: crypto.randomUUID(),
    ...extra,
  });
  return { job, demo };
};

describe('the code-generation workflow', () => {
  it('finishes the text of a job whose worker was killed mid-generation, once and whole', async () => {
    const requirements = 'A TypeScript function that merges two sorted arrays';
    healthy.configure({ tokensPerSecond: 25, outputTokens: 60 });
    flaky.setFaults({ refuseConnections: true });
    // The scheduler hears of only the healthy backend when the child worker starts.
    const [flakyId] = stack.backendIds;
    await stack.prisma.backend.update({ where: { id: flakyId }, data: { enabled: false } });
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/worker.ts'], {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        TEMPORAL_ADDRESS: temporal.connection.options.address,
        TEMPORAL_NAMESPACE: temporal.namespace,
        TEMPORAL_TASK_QUEUE: stack.taskQueue,
        OLLAMA_URL: `${flaky.url},${healthy.url}`,
      },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('worker ready') && resolve());
        child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
      });
      const { job } = await submit(requirements);
      // Killed once it has streamed part of the answer and heartbeated a checkpoint.
      for (let i = 0; i < 200; i++) {
        const row = await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
        if (row.output.length > 40) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      process.kill(-child.pid!, 'SIGKILL');
      const partial = (await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).output;
      expect(partial.length).toBeGreaterThan(0);

      healthy.configure({ tokensPerSecond: 400 });
      await stack.startWorker();
      expect(await waitForStatus(job.id, ['completed', 'failed', 'dead_letter'], 90_000)).toBe('completed');

      // The same request run straight through gives the same text: nothing lost, nothing doubled.
      const { job: reference } = await submit(requirements);
      await waitForStatus(reference.id, ['completed']);
      const [resumed, straight] = await Promise.all(
        [job.id, reference.id].map((id) => stack.prisma.job.findUniqueOrThrow({ where: { id } })),
      );
      expect(resumed!.output.startsWith(partial.slice(0, 40))).toBe(true);
      expect(resumed!.output).toBe(straight!.output);
      expect(resumed!.attempts).toBeGreaterThanOrEqual(2);
      expect(await stack.prisma.result.count({ where: { jobId: job.id } })).toBe(1);
      await recordHistory(temporal.client, 'job-resumed-after-worker-crash', jobWorkflowId(job.id));
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      flaky.setFaults(noFaults);
      healthy.configure({ tokensPerSecond: 400 });
      await stack.prisma.backend.update({ where: { id: flakyId }, data: { enabled: true } });
      await stack.startWorker();
      await stack.configureScheduler();
    }
  }, 120_000);

  it('re-queues a failing backend’s job for another backend and resumes it there', async () => {
    await stack.startWorker();
    // Where the first grant goes depends on what each backend has loaded (read from /api/ps), so
    // both fail until one has been asked: that one stays failing, the other recovers.
    const errorsBefore = new Map([flaky, healthy].map((sim) => [sim, sim.stats().errors]));
    const errorsOf = (sim: typeof flaky) => sim.stats().errors - errorsBefore.get(sim)!;
    for (const sim of [flaky, healthy]) sim.setFaults({ errorRate: 1 });
    try {
      const { job, demo } = await submit('reverse a string', { model: 'llama3.1:8b' });
      const failing = await until(() => [flaky, healthy].find((sim) => errorsOf(sim) > 0), 'the first attempt to fail');
      const other = failing === flaky ? healthy : flaky;
      other.setFaults(noFaults);
      expect(await waitForStatus(job.id, ['completed', 'failed', 'dead_letter'])).toBe('completed');
      const saved = await demo.caller.jobs.get({ jobId: job.id });
      const otherId = stack.backendIds[failing === flaky ? 1 : 0];
      expect((await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).backendId).toBe(otherId);
      // Two attempts on the failing backend (one retry stays on the grant), one on the other.
      expect(saved.attempts).toBe(3);
      expect([errorsOf(failing), errorsOf(other)]).toEqual([2, 0]);
      expect(saved.result?.reviewStatus).toBe('skipped');
      await recordHistory(temporal.client, 'job-failover', jobWorkflowId(job.id));
    } finally {
      for (const sim of [flaky, healthy]) sim.setFaults(noFaults);
    }
  });

  it('completes without the review when the review outlives its timeout', async () => {
    await stack.startWorker();
    for (const sim of [flaky, healthy]) sim.configure({ timeToFirstTokenMs: 1500 });
    try {
      const { job, demo } = await submit('A function that adds two numbers and returns the sum as an integer value', {
        reviewTimeoutSeconds: 1,
      });
      expect(await waitForStatus(job.id, ['completed', 'failed', 'dead_letter'])).toBe('completed');
      const saved = await demo.caller.jobs.get({ jobId: job.id });
      expect(saved.result?.reviewStatus).toBe('timed_out');
      expect(saved.result?.code.length).toBeGreaterThan(0);
      await recordHistory(temporal.client, 'job-review-timed-out', jobWorkflowId(job.id));
    } finally {
      for (const sim of [flaky, healthy]) sim.configure({ timeToFirstTokenMs: 10 });
    }
  });

  it('dead-letters a job that exhausts its retries; an admin retry then completes it', async () => {
    await stack.startWorker();
    for (const sim of [flaky, healthy]) sim.setFaults({ errorRate: 1 });
    const { job, demo } = await submit('A function that says hello');
    try {
      expect(await waitForStatus(job.id, ['completed', 'failed', 'dead_letter'])).toBe('dead_letter');
      const dead = await demo.caller.jobs.get({ jobId: job.id });
      // The backend named as its user may see it: by name, not address.
      expect(dead.error).toMatch(/local #\d: /);
      expect(dead.error).not.toContain('127.0.0.1');
      const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
      expect((await admin.caller.jobs.deadLetters({ limit: 10 })).map((j) => j.id)).toContain(job.id);
      await recordHistory(temporal.client, 'job-dead-letter', jobWorkflowId(job.id));
    } finally {
      for (const sim of [flaky, healthy]) sim.setFaults(noFaults);
    }
    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const failedRunId = (await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).runId!;
    await admin.caller.jobs.retry({ jobId: job.id });
    expect(await waitForStatus(job.id, ['completed', 'failed', 'dead_letter'])).toBe('completed');
    // A new run of the same workflow id; the dead-lettered run's history stays in Temporal.
    const retried = await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(retried.runId).not.toBe(failedRunId);
    const workflowId = jobWorkflowId(job.id);
    await temporal.client.workflow.getHandle(workflowId, retried.runId!).result();
    expect((await temporal.client.workflow.getHandle(workflowId, failedRunId).describe()).status.name).toBe('FAILED');
    expect(await stack.prisma.auditLog.count({ where: { action: 'job.retry', targetId: job.id } })).toBe(1);
  });
});
