import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports';
import { Supervisor, type Child } from '../../scripts/lib/supervisor';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal-cli';
import { useTestDatabase } from '../support/db';
import { startJobStack, type JobStack } from '../support/job-stack';
import { connectTemporal, useTemporal, type TestTemporal } from '../support/temporal';
import { jobWorkflowId } from '../../workflows/definitions';
import { schedulerWorkflowId, statusQuery } from '../../workflows/scheduler/api';
import { answerDigest, createSimulator, type Simulator } from '../../simulator';
import { until } from '../support/until';
import { startTcpProxy } from '../support/tcp-proxy';
import { startWorkerProcess } from '../support/worker-process';
import { peakRequests } from '../support/llm';

/**
 * The scheduler's state (waiting jobs, leases) lives in its workflow history: a worker killed, or
 * the Temporal server restarted, while jobs wait and hold slots loses no grant and makes none twice.
 * Workers are real `server/worker.ts` processes, so a crash is a SIGKILL.
 */

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
const supervisor = new Supervisor({ echo: false });
let x: Simulator;
let y: Simulator;

// One slot each: a slot granted twice shows as two requests overlapping on one backend (peakRequests).
// Ten seconds per answer: "two streaming, four waiting" lasts long enough to be seen on a busy machine.
const pace = { slots: 1, tokensPerSecond: 20, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 200 };

beforeAll(async () => {
  [x, y] = await Promise.all([createSimulator(pace), createSimulator(pace)]);
});

beforeEach(() => {
  for (const sim of [x, y]) sim.configure(pace);
});

afterAll(async () => {
  await supervisor.stop();
  await Promise.all([x?.close(), y?.close()]);
});

let workers = 0;
const startWorker = (stack: JobStack, temporalAddress: string): Promise<Child> =>
  startWorkerProcess(supervisor, {
    name: `worker-${++workers}`,
    databaseUrl: db.url,
    temporalAddress,
    taskQueue: stack.taskQueue,
    ollamaUrls: [x.url, y.url],
    slots: 1,
    env: { RESOURCE_SAMPLE_INTERVAL_MS: '1000' },
  });

/** Probe errors (a server restarting) count as "not yet". */
const untilUp = <T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 120_000) =>
  until(() => probe().catch(() => null), what, timeoutMs);

/**
 * Six jobs on two one-slot backends: two hold leases and stream, four wait. `interrupt` strikes
 * then; afterwards every job must complete exactly once, with exactly one grant, and every slot
 * must be free again.
 */
async function survives(stack: JobStack, client: Client, interrupt: () => Promise<void>) {
  const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  const jobs: string[] = [];
  for (let i = 0; i < 6; i++) {
    jobs.push((await demo.caller.jobs.submit({ projectId: await demoProject(stack), requirements: `durable job ${i}`, priority: 'normal', clientKey: crypto.randomUUID() })).id);
  }
  const scheduler = client.workflow.getHandle(schedulerWorkflowId(stack.taskQueue));
  await untilUp(async () => {
    const status = await scheduler.query(statusQuery);
    const streaming = await stack.prisma.job.count({ where: { id: { in: jobs }, status: 'running', output: { not: '' } } });
    return status.leases.length === 2 && status.waiting === 4 && streaming === 2;
  }, 'two jobs streaming and four waiting');
  const requestsBefore = x.stats().requests + y.stats().requests;

  await interrupt();
  // Only the state before the interruption needs slow answers; what runs after it may be quick.
  for (const sim of [x, y]) sim.configure({ tokensPerSecond: 400 });

  await untilUp(async () => (await stack.prisma.job.count({ where: { id: { in: jobs }, status: 'completed' } })) === jobs.length, 'every job to complete', 240_000);
  const rows = await stack.prisma.job.findMany({ where: { id: { in: jobs } }, select: { id: true, attempts: true, output: true } });
  expect(await stack.prisma.result.count({ where: { jobId: { in: jobs } } })).toBe(jobs.length);
  // Nothing lost or written twice across the interruption: each text is a whole answer the simulators planned.
  const answers = new Set([...x.requests(), ...y.requests()].map((request) => request.answerDigest));
  for (const row of rows) expect(answers.has(answerDigest(row.output)), `the text of ${row.id} is whole`).toBe(true);
  // Each attempt sent exactly one request, and no backend was ever asked for more than its slot.
  expect(x.stats().requests + y.stats().requests - requestsBefore).toBe(rows.reduce((sum, row) => sum + row.attempts, 0) - 2);
  expect(x.stats().rejected + y.stats().rejected).toBe(0);
  expect([peakRequests(x), peakRequests(y)]).toEqual([1, 1]);
  // The scheduler granted each job once: no grant lost (all finished), none duplicated.
  for (const id of jobs) {
    const history = await client.workflow.getHandle(jobWorkflowId(id)).fetchHistory();
    const grants = history.events!.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'grant');
    expect(grants, `grants of ${id}`).toHaveLength(1);
  }
  const status = await untilUp(async () => {
    const s = await scheduler.query(statusQuery);
    return s.leases.length === 0 && s.waiting === 0 && s;
  }, 'every slot to be free');
  expect(status.backends.map((backend) => backend.running)).toEqual([0, 0]);
}

const demoProject = async (stack: JobStack) => (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;

describe('scheduler durability', () => {
  it('survives a worker killed while jobs wait and hold leases', async () => {
    const stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [x.url, y.url], slots: 1, worker: false });
    try {
      const address = temporal.connection.options.address;
      let worker = await startWorker(stack, address);
      await survives(stack, temporal.client, async () => {
        worker.killNow();
        await worker.exited;
        worker = await startWorker(stack, address);
      });
    } finally {
      await stack.stop();
    }
  }, 600_000);

  // A worker that loses Temporal keeps its streams; Temporal times their attempts out (no heartbeat
  // for 5 s) and retries them on their grants, on a worker it can reach. The cut-off worker must
  // have stopped each stream by then, though it never hears of the retry, or a slot serves two requests.
  it('survives a worker cut off from Temporal while another takes over its jobs', async () => {
    const stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [x.url, y.url], slots: 1, worker: false });
    const address = temporal.connection.options.address;
    const [linkA, linkB] = await Promise.all([startTcpProxy(address), startTcpProxy(address)]);
    // Thirty seconds per answer: the streams cut off outlast the cut and the retries that follow it.
    for (const sim of [x, y]) sim.configure({ outputTokens: 1200, tokensPerSecond: 40 });
    try {
      await startWorker(stack, linkA.address);
      await startWorker(stack, linkB.address);
      // B is unreachable until the cut: the first jobs all stream on A.
      linkB.cut();
      await survives(stack, temporal.client, async () => {
        const before = x.stats().requests + y.stats().requests;
        linkA.cut();
        linkB.heal();
        await untilUp(async () => x.stats().requests + y.stats().requests >= before + 2, 'the streaming jobs to be retried on B');
        linkA.heal();
      });
    } finally {
      await stack.stop();
      await Promise.all([linkA.close(), linkB.close()]);
    }
  }, 600_000);

  it('survives a restart of the Temporal server', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-durable-'));
    const dbFile = path.join(dir, 'temporal.sqlite');
    const port = await freePort();
    // A private supervisor per server: stopping it on purpose must not bring down the workers' one.
    const start = () => startTemporalDevServer({ port, dbFile, headless: true, name: 'temporal-durable' });
    let server: TemporalDevServer | undefined;
    let own: TestTemporal | undefined;
    let stack: JobStack | undefined;
    try {
      server = await start();
      own = await connectTemporal(server.address, 'default');
      stack = await startJobStack({ databaseUrl: db.url, temporal: own, ollamaUrls: [x.url, y.url], slots: 1, worker: false });
      await startWorker(stack, server.address);
      await survives(stack, own.client, async () => {
        await server!.stop();
        server = await start();
      });
    } finally {
      await stack?.stop();
      await own?.close();
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
