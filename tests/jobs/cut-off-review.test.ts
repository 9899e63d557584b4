import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Supervisor, type Child } from '../../scripts/lib/supervisor';
import { createSimulator, type Simulator } from '../../simulator';
import { useTestDatabase } from '../support/db';
import { peakRequests } from '../support/llm';
import { startJobStack, type JobStack } from '../support/job-stack';
import { startTcpProxy } from '../support/tcp-proxy';
import { useTemporal } from '../support/temporal';
import { until } from '../support/until';
import { startWorkerProcess } from '../support/worker-process';

/**
 * A review's items stream on a worker that then loses Temporal: Temporal times their attempts out
 * (no heartbeat for 5 s) and retries them on their grants, on a worker it can reach. The cut-off
 * worker never hears of the retries, so each item's attempt must stop its own request before
 * then (the attempt lease, keyed by the item: the items are parallel child workflows whose
 * activity ids are the same), or a slot serves two requests. Workers are real `server/worker.ts`
 * processes behind links the test cuts.
 */

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
const supervisor = new Supervisor({ echo: false });
let x: Simulator;
let y: Simulator;

// One slot each, a minute an answer: a request the cut-off worker keeps open outlasts the retries.
const pace = { slots: 1, tokensPerSecond: 20, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 1200 };

beforeAll(async () => {
  [x, y] = await Promise.all([createSimulator(pace), createSimulator(pace)]);
});

afterAll(async () => {
  await supervisor.stop();
  await Promise.all([x?.close(), y?.close()]);
});

const requests = () => x.stats().requests + y.stats().requests;

describe('a review whose worker is cut off from Temporal', () => {
  it('has each item retried elsewhere only after its request on the cut-off worker ended', async () => {
    const stack: JobStack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [x.url, y.url], slots: 1, worker: false });
    const address = temporal.connection.options.address;
    const [linkA, linkB] = await Promise.all([startTcpProxy(address), startTcpProxy(address)]);
    let workers = 0;
    const startWorker = (link: string): Promise<Child> =>
      startWorkerProcess(supervisor, { name: `cut-off-review-${++workers}`, databaseUrl: db.url, temporalAddress: link, taskQueue: stack.taskQueue, ollamaUrls: [x.url, y.url], slots: 1 });
    try {
      await startWorker(linkA.address);
      await startWorker(linkB.address);
      // B is unreachable until the cut: both items start on A.
      linkB.cut();
      const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
      const { id: projectId } = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
      const files = ['a', 'b'].map((name) => ({ path: `src/${name}.ts`, content: `export const ${name} = (s: string) => s.trim();\n` }));
      // The demo team's tier runs two at once per user: one item on each backend.
      const { id } = await demo.caller.reviews.submit({ projectId, source: { kind: 'files', files }, depth: 'quick', priority: 'normal', clientKey: crypto.randomUUID() });
      await until(async () => x.stats().active === 1 && y.stats().active === 1 && x.stats().tokensStreamed > 0 && y.stats().tokensStreamed > 0, 'both items streaming on A', 180_000);
      expect(requests()).toBe(2);

      linkA.cut();
      linkB.heal();
      await until(() => requests() >= 4, 'both items to be retried on B', 180_000);
      linkA.heal();
      // Only the requests before the cut need to be slow.
      for (const sim of [x, y]) sim.configure({ tokensPerSecond: 800 });

      await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id } })).status === 'completed', 'the review to complete', 240_000);
      const items = await stack.prisma.reviewItem.findMany({ where: { jobId: id }, select: { status: true } });
      expect(items).toEqual([{ status: 'done' }, { status: 'done' }]);
      await until(() => x.stats().active + x.stats().queued + y.stats().active + y.stats().queued === 0, 'every request to end', 120_000);
      // Each item asked twice (the attempt cut off, then its retry on the same grant), never both at once.
      expect([x.stats().requests, y.stats().requests]).toEqual([2, 2]);
      expect([peakRequests(x), peakRequests(y)]).toEqual([1, 1]);
    } finally {
      await stack.stop();
      await Promise.all([linkA.close(), linkB.close()]);
    }
  }, 600_000);
});
