import { afterAll, describe, expect, it } from 'vitest';
import { Supervisor } from '../../scripts/lib/supervisor';
import { createPrisma } from '../../server/db/client';
import { isDatabaseUnavailable } from '../../server/db/unavailable';
import { answerDigest, createSimulator, type Simulator } from '../../simulator';
import { DATABASE_UNAVAILABLE, jobWorkflowId } from '../../workflows/definitions';
import { schedulerWorkflowId, statusQuery } from '../../workflows/scheduler/api';
import { useTestDatabase } from '../support/db';
import { startJobStack } from '../support/job-stack';
import { startTcpProxy } from '../support/tcp-proxy';
import { useTemporal } from '../support/temporal';
import { until } from '../support/until';
import { startWorkerProcess } from '../support/worker-process';

/**
 * PostgreSQL going away under a running job (a restart, a failover) is not its backend's fault:
 * the job keeps its grant, waits for the database, and completes with its whole text once the
 * database is back, its backend still healthy and granted once.
 */

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
const supervisor = new Supervisor({ echo: false });
let sim: Simulator | undefined;

afterAll(async () => {
  await supervisor.stop();
  await sim?.close();
});

/** The same database reached through `address` (host:port). */
function through(url: string, address: string): string {
  const via = new URL(url);
  via.host = address;
  return via.toString();
}

describe('a database outage', () => {
  it('is told from other database errors by what PostgreSQL and Prisma say', async () => {
    const prisma = createPrisma(db.url);
    const victim = createPrisma(db.url, 1);
    try {
      const unreachable = createPrisma(through(db.url, '127.0.0.1:1'));
      expect(isDatabaseUnavailable(await unreachable.user.count().catch((error: unknown) => error))).toBe(true);
      await unreachable.$disconnect();
      // 57P01, as every session gets when PostgreSQL shuts down.
      const [{ pid }] = await victim.$queryRaw<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
      const terminated = victim.$queryRaw`SELECT pg_sleep(30)`.catch((error: unknown) => error);
      await until(async () => (await prisma.$queryRaw<unknown[]>`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid} AND state = 'active'`).length === 1, 'the sleeping query');
      await prisma.$queryRaw`SELECT pg_terminate_backend(${pid})`;
      expect(isDatabaseUnavailable(await terminated)).toBe(true);
      const user = await prisma.user.findFirstOrThrow();
      const duplicate = await prisma.user.create({ data: { email: user.email, name: 'twin', passwordHash: 'x' } }).catch((error: unknown) => error);
      expect(duplicate).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(duplicate)).toBe(false);
    } finally {
      await Promise.all([prisma.$disconnect(), victim.$disconnect()]);
    }
  });

  it('holds a streaming job on its grant until PostgreSQL is back, and blames no backend', async () => {
    // Three seconds of answer: the link is cut while the job streams.
    sim = await createSimulator({ slots: 1, tokensPerSecond: 20, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 60 });
    const stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [sim.url], slots: 1, worker: false });
    const link = await startTcpProxy(new URL(db.url).host);
    try {
      await startWorkerProcess(supervisor, {
        name: 'worker-db-outage',
        databaseUrl: through(db.url, link.address),
        temporalAddress: temporal.connection.options.address,
        taskQueue: stack.taskQueue,
        ollamaUrls: [sim.url],
        slots: 1,
      });
      const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
      const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
      const { id } = await demo.caller.jobs.submit({ projectId: project.id, requirements: 'a database outage', priority: 'normal', clientKey: crypto.randomUUID() });
      await until(async () => (await stack.prisma.job.count({ where: { id, status: 'running', output: { not: '' } } })) === 1, 'the job to stream');

      // The worker loses PostgreSQL; the test's own client (and the scheduler's Temporal) keep it.
      link.cut();
      const workflow = temporal.client.workflow.getHandle(jobWorkflowId(id));
      const failedTypes = async () =>
        ((await workflow.fetchHistory()).events ?? []).flatMap((event) => {
          const failure = event.activityTaskFailedEventAttributes?.failure;
          return failure ? [failure.cause?.applicationFailureInfo?.type ?? failure.applicationFailureInfo?.type ?? ''] : [];
        });
      // Both attempts of the model call met the outage: the workflow now waits for the database.
      await until(async () => (await failedTypes()).length > 0, 'the model call to fail on the outage');
      link.heal();

      const ended = ['completed', 'failed', 'dead_letter', 'cancelled'];
      await until(async () => ended.includes((await stack.prisma.job.findUniqueOrThrow({ where: { id }, select: { status: true } })).status), 'the job to end', 180_000);
      const job = await stack.prisma.job.findUniqueOrThrow({ where: { id }, select: { status: true, output: true } });
      expect(job.status).toBe('completed');
      expect(new Set(await failedTypes())).toEqual(new Set([DATABASE_UNAVAILABLE]));
      // Whole, nothing doubled: the text is the answer the simulator planned for the job.
      expect(sim.requests().map((request) => request.answerDigest)).toContain(answerDigest(job.output));
      expect(await stack.prisma.result.count({ where: { jobId: id } })).toBe(1);
      const grants = ((await workflow.fetchHistory()).events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'grant');
      expect(grants).toHaveLength(1);
      const status = await until(async () => {
        const s = await temporal.client.workflow.getHandle(schedulerWorkflowId(stack.taskQueue)).query(statusQuery);
        return s.leases.length === 0 && s.waiting === 0 && s;
      }, 'the slot to be free');
      expect(status.backends.map((backend) => backend.healthy)).toEqual([true]);
    } finally {
      await stack.stop();
      await link.close();
    }
  }, 300_000);
});
