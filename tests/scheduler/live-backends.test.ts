import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../simulator';
import { statusQuery } from '../../workflows/scheduler/api';
import { useTestDatabase } from '../support/db';
import { startJobStack, type JobStack } from '../support/job-stack';
import { useTemporal } from '../support/temporal';
import { until } from '../support/until';
import { holdSlot } from '../support/hold-slot';

/**
 * Backends changed by an admin while jobs run, on the real Temporal dev server with simulated
 * Ollama instances: the scheduler is told at once and the worker builds the new client from the
 * stored row, so nothing restarts. The stack starts with one local backend of one slot.
 */

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
const fast = { slots: 1, tokensPerSecond: 400, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 30 };
let first: Simulator;
const added: Simulator[] = [];
let stack: JobStack;

beforeAll(async () => {
  first = await createSimulator(fast);
  stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [first.url], slots: 1, leaseCheckMs: 1_000 });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([first, ...added].map((sim) => sim?.close()));
});

const row = (id: string) => stack.prisma.job.findUniqueOrThrow({ where: { id }, select: { status: true, backendId: true, startedAt: true } });

async function demo() {
  const { caller } = await stack.signIn('demo@switchyard.dev', 'demo-password');
  const projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
  const submit = (requirements: string) => caller.jobs.submit({ projectId, requirements, model: 'qwen2.5-coder:7b', clientKey: randomUUID(), priority: 'normal' });
  return Object.assign(submit, { cancel: (jobId: string) => caller.jobs.cancel({ jobId }) });
}

async function addSimulator(options: Partial<typeof fast> = {}): Promise<Simulator> {
  const sim = await createSimulator({ ...fast, ...options });
  added.push(sim);
  return sim;
}

describe('backends as live configuration', () => {
  it('a backend added by an admin receives a waiting job within 5 s, with no restart', async () => {
    const submit = await demo();
    const { caller: admin } = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const holder = await holdSlot({ sim: first, pace: fast, submit: () => submit('hold the only slot'), cancel: submit.cancel, prisma: stack.prisma });
    const waiting = await submit('wait for a slot');
    await stack.untilScheduled(waiting.id);
    expect(await row(waiting.id)).toMatchObject({ status: 'queued' });

    const sim = await addSimulator();
    const addedAt = Date.now();
    const { backend, scheduler } = await admin.backends.create({ kind: 'ollama', name: 'second GPU', url: sim.url, pool: 'local', slots: 1 });
    expect(scheduler).toBe('updated');
    await until(async () => (await row(waiting.id)).startedAt !== null, 'the waiting job to start on the new backend', 30_000);
    const startedAfterMs = (await row(waiting.id)).startedAt!.getTime() - addedAt;
    console.log(`live-backends: the waiting job started ${startedAfterMs} ms after the admin added the backend`);
    expect(startedAfterMs).toBeLessThan(5_000);
    await until(async () => (await row(waiting.id)).status === 'completed', 'the job to finish there');
    expect(await row(waiting.id)).toMatchObject({ backendId: backend.id });

    await holder.release();
    await until(async () => (await row(holder.jobId)).status === 'cancelled', 'the holder to end');
  }, 120_000);

  it('a drained backend gets no new grant, its running job completes, and it shows draining then drained', async () => {
    const submit = await demo();
    const { caller: admin } = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const sim = await addSimulator({ tokensPerSecond: 2 });
    const { backend } = await admin.backends.create({ kind: 'ollama', name: 'to retire', url: sim.url, pool: 'local', slots: 1 });
    // Every other backend leaves, so the first job can only land on the one to drain.
    const others = (await stack.prisma.backend.findMany({ where: { id: { not: backend.id } } })).map((b) => b.id);
    for (const id of others) await admin.backends.update({ backendId: id, enabled: false });

    const running = await submit('finish on the drained backend');
    await until(async () => (await row(running.id)).status === 'running', 'the job to run on the backend to drain');
    expect(await row(running.id)).toMatchObject({ backendId: backend.id });

    await admin.backends.drain({ backendId: backend.id });
    for (const id of others) await admin.backends.update({ backendId: id, enabled: true });
    expect(await admin.backends.get({ backendId: backend.id })).toMatchObject({ state: 'draining', runningJobs: 1 });
    const status = await stack.scheduler().query(statusQuery);
    expect(status.backends.map((b) => b.id)).not.toContain(backend.id);

    const later = [await submit('after the drain, one'), await submit('after the drain, two')];
    for (const job of later) await until(async () => (await row(job.id)).status === 'completed', 'later jobs to finish elsewhere', 60_000);
    for (const job of later) expect((await row(job.id)).backendId).not.toBe(backend.id);

    sim.configure({ tokensPerSecond: 400 });
    await until(async () => (await row(running.id)).status === 'completed', 'the drained backend’s job to complete');
    expect(await row(running.id)).toMatchObject({ backendId: backend.id });
    expect(await admin.backends.get({ backendId: backend.id })).toMatchObject({ state: 'drained', runningJobs: 0 });
    expect(await stack.prisma.job.count({ where: { backendId: backend.id } })).toBe(1);
  }, 180_000);
});
