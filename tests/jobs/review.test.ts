import { TRPCError } from '@trpc/server';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FindingSet } from '../../server/services/review-findings';
import { jobWorkflowId } from '../../workflows/definitions';
import { statusQuery } from '../../workflows/scheduler/api';
import { recordHistory } from '../support/histories';
import { until } from '../support/until';
import { useWorkerProcessStack } from '../support/worker-process';

/**
 * Code reviews end to end on real Temporal and simulated backends: a repository's files each
 * reviewed by its own child workflow and slot, once, through a worker crash; cancelled as a
 * whole; bad input refused before anything exists. Workers are real `server/worker.ts`
 * processes where a crash matters, so a crash is a SIGKILL.
 */

// Two backends with two slots each; 1.5 s an answer.
const pace = { tokensPerSecond: 80, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 120 };
const env = useWorkerProcessStack('review', pace);

beforeEach(() => {
  for (const sim of env.sims) sim.configure(pace);
});

const repository = (files: number) =>
  Array.from({ length: files }, (_, i) => ({
    path: `src/module-${String(i).padStart(2, '0')}.ts`,
    content: `export function f${i}(items: string[]) {\n  const out = [];\n  for (let j = 0; j <= items.length; j++) out.push(items[j].trim());\n  return out;\n}\n`,
  }));

async function demo() {
  const user = await env.stack.signIn('demo@switchyard.dev', 'demo-password');
  const project = await env.stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
  return { caller: user.caller, projectId: project.id };
}

const requests = () => env.sims.reduce((sum, sim) => sum + sim.stats().requests, 0);

describe('code reviews', () => {
  it('reviews a 50-file repository once per file through a worker killed mid-way', async () => {
    let worker = await env.startWorker();
    const { caller, projectId } = await demo();
    const before = requests();
    const { id } = await caller.reviews.submit({ projectId, source: { kind: 'files', files: repository(50) }, depth: 'standard', priority: 'normal', clientKey: crypto.randomUUID() });

    await until(async () => (await env.stack.prisma.reviewItem.count({ where: { jobId: id, status: 'done' } })) >= 8, 'a few files reviewed', 240_000);
    worker.killNow();
    await worker.exited;
    worker = await env.startWorker();
    // The crash has struck mid-review: the files left need not take 1.5 s each.
    for (const sim of env.sims) sim.configure({ tokensPerSecond: 800 });

    await until(async () => (await env.stack.prisma.job.findUniqueOrThrow({ where: { id } })).status === 'completed', 'the review to complete', 480_000);
    const items = await env.stack.prisma.reviewItem.findMany({ where: { jobId: id } });
    expect(items).toHaveLength(50);
    for (const item of items) {
      expect(item.status).toBe('done');
      expect((item.findings as unknown as FindingSet).parsed).toBe(true);
    }
    // One stored finding set per file, counted once: the job's totals are its items' sums.
    const job = await env.stack.prisma.job.findUniqueOrThrow({ where: { id } });
    expect(job.completionTokens).toBe(items.reduce((sum, item) => sum + item.completionTokens, 0));
    expect(job.costUsd).toBeCloseTo(items.reduce((sum, item) => sum + item.costUsd, 0), 9);
    expect(job.output).toMatch(/^Reviewed 50 files: /);
    // Its author is told once that it ended, as of any job (a dead-lettered review is told as failed).
    // The workflow announces after writing the end (notifyUser after finishReview): wait for it.
    const told = await until(async () => {
      const rows = await env.stack.prisma.notification.findMany({ where: { jobId: id }, select: { userId: true, event: true, title: true } });
      return rows.length > 0 ? rows : null;
    }, 'the author to be told', 60_000);
    expect(told).toEqual([{ userId: job.userId, event: 'job.completed', title: expect.stringMatching(/^Completed: /) }]);
    // The team's usage ledger has every answered request, the ones whose findings were kept among them.
    const usage = await env.stack.prisma.usageRecord.aggregate({ where: { jobId: id, kind: 'review' }, _sum: { completionTokens: true }, _count: true });
    expect(usage._count).toBeGreaterThanOrEqual(50);
    expect(usage._count).toBeLessThanOrEqual(requests() - before);
    expect(usage._sum.completionTokens).toBeGreaterThanOrEqual(job.completionTokens);
    // Only the items cut by the crash (at most the review's parallel items) were asked twice.
    expect(requests() - before).toBeGreaterThanOrEqual(50);
    expect(requests() - before).toBeLessThanOrEqual(54);

    await recordHistory(env.temporal.client, 'review-through-worker-crash', jobWorkflowId(id));
    await recordHistory(env.temporal.client, 'review-item', jobWorkflowId(items.find((item) => item.path === 'src/module-49.ts')!.id));

    const files = await caller.reviews.files({ jobId: id });
    expect(files).toMatchObject({ reviewed: 50, total: 50, source: 'files' });
    const file = await caller.reviews.file({ jobId: id, path: 'src/module-07.ts' });
    expect(file.chunks[0]!.findings!.findings.length).toBeGreaterThan(0);
    for (const finding of file.chunks[0]!.findings!.findings) expect(finding.line).toBeGreaterThanOrEqual(1);
    worker.killNow();
    await worker.exited;
  }, 900_000);

  it('cancels as a whole: no pending file is reviewed after the cancel', async () => {
    const worker = await env.startWorker();
    const { caller, projectId } = await demo();
    const { id } = await caller.reviews.submit({ projectId, source: { kind: 'files', files: repository(20) }, depth: 'quick', priority: 'normal', clientKey: crypto.randomUUID() });
    await until(async () => (await env.stack.prisma.reviewItem.count({ where: { jobId: id, status: 'done' } })) >= 2, 'two files reviewed', 240_000);
    await caller.jobs.cancel({ jobId: id });
    await until(async () => (await env.stack.prisma.job.findUniqueOrThrow({ where: { id } })).status === 'cancelled', 'the review to be cancelled', 240_000);

    // Every item's workflow has ended, none holds or waits for a slot: nothing can review a file now.
    const items = await env.stack.prisma.reviewItem.findMany({ where: { jobId: id }, select: { id: true, status: true } });
    for (const item of items) {
      const status = await env.temporal.client.workflow
        .getHandle(jobWorkflowId(item.id))
        .describe()
        .then((d) => d.status.name)
        .catch(() => 'NOT_FOUND');
      expect(status, item.id).not.toBe('RUNNING');
    }
    const scheduler = await until(async () => {
      const s = await env.stack.scheduler().query(statusQuery);
      return s.leases.length === 0 && s.waiting === 0 && s;
    }, 'every slot free');
    expect(scheduler.backends.every((backend) => backend.running === 0)).toBe(true);
    await recordHistory(env.temporal.client, 'review-cancelled', jobWorkflowId(id));
    const pending = items.filter((item) => item.status === 'pending').length;
    expect(pending).toBeGreaterThan(0);
    expect(items.filter((item) => item.status === 'failed')).toHaveLength(0);
    worker.killNow();
    await worker.exited;
  }, 600_000);

  it('refuses bad input with a clear 400 and creates nothing', async () => {
    const { caller, projectId } = await demo();
    const jobsBefore = await env.stack.prisma.job.count();
    const refused = async (source: unknown, message: RegExp) => {
      const error = await caller.reviews
        .submit({ projectId, source: source as never, depth: 'standard', priority: 'normal', clientKey: crypto.randomUUID() })
        .then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe('BAD_REQUEST');
      expect((error as TRPCError).message).toMatch(message);
    };
    await refused({ kind: 'code', code: 'a\u0000b' }, /control characters/);
    await refused({ kind: 'code', code: 'x\ud800' }, /broken character/);
    await refused({ kind: 'files', files: [{ path: '../etc/passwd', content: 'x' }] }, /relative/);
    await refused({ kind: 'files', files: repository(201) }, /at most 200 files/);
    await refused({ kind: 'diff', diff: 'no diff here' }, /no file changes/);
    await refused({ kind: 'files', files: [{ path: 'a.ts', content: ' ' }] }, /nothing to review/);
    expect(await env.stack.prisma.job.count()).toBe(jobsBefore);
  });
});
