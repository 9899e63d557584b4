import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../server/generated/prisma/client';
import { useTestDatabase } from '../support/db';
import { startJobStack, type JobStack } from '../support/job-stack';
import { startOllama, type TestOllama } from '../support/ollama';
import { useTemporal } from '../support/temporal';
import { until } from '../support/until';
import { answerOf, tinyLoop, tinyStop, type TinyModel } from './tiny-model';
import { runnersIdle } from './wire';

/**
 * Switchyard's job path on two real Ollama servers (one slot each): a job completes with the
 * model's text, a server killed mid-stream hands the job to the other one, which continues the
 * answer, and a cancel stops the generation on the server.
 */

/** The never-stopping model with a cap the job path does not send: seconds of tokens, then "length". */
const tinyCapped: TinyModel = { ...tinyLoop, name: 'tiny-capped:latest', file: 'tiny-capped', numPredict: 20_000 };
/** The never-stopping model without a cap: hours of tokens, so only a cancel ends it. */
const tinyForever: TinyModel = { ...tinyLoop, name: 'tiny-forever:latest', file: 'tiny-forever' };
const models = [tinyStop, tinyCapped, tinyForever];

/**
 * A tier allowed the tiny models on the local pool, and the demo team moved onto it. The one
 * place that says which models a team may use here (a catalogue would add its rows here too).
 */
async function allowTinyModels(prisma: PrismaClient, names: string[]): Promise<void> {
  await prisma.catalogModel.createMany({
    data: names.map((name) => ({ name, contextLength: 4_096, maxOutputTokens: 20_000, ollamaModel: name })),
  });
  const tier = await prisma.tier.create({
    data: { name: 'tiny', allowedModels: names, poolPreference: ['local'], maxRunningPerUser: 4, maxQueuedPerUser: 10 },
  });
  await prisma.team.update({ where: { slug: 'demo' }, data: { tierId: tier.id } });
}

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
let servers: TestOllama[] = [];
let stack: JobStack;
let projectId: string;

beforeAll(async () => {
  servers = await Promise.all([startOllama({ numParallel: 1, models }), startOllama({ numParallel: 1, models })]);
  stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: servers.map((s) => s.url), slots: 1 });
  await allowTinyModels(stack.prisma, models.map((m) => m.name));
  await stack.configureScheduler();
  projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all(servers.map((s) => s.stop()));
});

async function submit(model: TinyModel, clientKey: string) {
  const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  // Short requirements: no review step, so the job makes exactly one model call.
  const job = await demo.caller.jobs.submit({ projectId, requirements: 'Say something', model: model.name, priority: 'normal', clientKey });
  return { demo, id: job.id };
}

const jobRow = (id: string) =>
  stack.prisma.job.findUniqueOrThrow({ where: { id }, select: { status: true, output: true, backendId: true, attempts: true, completionTokens: true } });

/** The server generating the job, once it has streamed some text. */
async function streamingServer(id: string): Promise<{ server: TestOllama; backendId: string }> {
  const row = await until(async () => {
    const r = await jobRow(id);
    return r.status === 'running' && r.output.length > 0 && r.backendId ? r : null;
  }, `job ${id} to stream`);
  return { server: servers[stack.backendIds.indexOf(row.backendId!)]!, backendId: row.backendId! };
}

/** True when `text` is the tiny loop's answer cut at a token boundary: nothing missing, nothing doubled. */
function isLoopPrefix(text: string): boolean {
  const sentence = answerOf(tinyLoop);
  const whole = sentence.repeat(Math.ceil(text.length / sentence.length) + 1);
  return whole.startsWith(text);
}

describe('a job on real Ollama servers', () => {
  it('completes with the model text and records the backend', async () => {
    const { demo, id } = await submit(tinyStop, 'ollama-job-stop');
    await until(async () => (await jobRow(id)).status === 'completed', 'the job to complete', 120_000);
    const saved = await demo.caller.jobs.get({ jobId: id });
    expect(saved.output).toBe(answerOf(tinyStop));
    expect(stack.backendIds).toContain((await jobRow(id)).backendId);
    // Six pieces and the EOS token.
    expect(saved.completionTokens).toBe(7);
    expect(await stack.prisma.result.count({ where: { jobId: id } })).toBe(1);
  });

  it('cancelled through the service, stops generating on the server', async () => {
    const { demo, id } = await submit(tinyForever, 'ollama-job-cancel');
    const { server } = await streamingServer(id);
    expect(await runnersIdle(server)).toBe(false); // hours of tokens ahead of it
    await demo.caller.jobs.cancel({ jobId: id });
    await until(async () => (await jobRow(id)).status === 'cancelled', 'the job to be cancelled');
    await until(() => runnersIdle(server), 'the server to stop generating');
  });

  it('resumes on the other server when the one generating it is killed mid-stream, with nothing missing or doubled', async () => {
    const { demo, id } = await submit(tinyCapped, 'ollama-job-kill');
    const { server, backendId } = await streamingServer(id);
    const before = (await jobRow(id)).output;
    await server.kill();

    await until(async () => (await jobRow(id)).status === 'completed', 'the job to complete on the other server', 300_000);
    const saved = await demo.caller.jobs.get({ jobId: id });
    const other = stack.backendIds.find((b) => b !== backendId);
    expect((await jobRow(id)).backendId).toBe(other);
    // What the first server streamed is kept, and the second continued it at a token boundary.
    expect(saved.output.startsWith(before)).toBe(true);
    expect(saved.output.length).toBeGreaterThan(before.length);
    expect(isLoopPrefix(saved.output)).toBe(true);
    // The second server's part alone is the cap's worth of tokens (it ended on "length").
    expect(saved.completionTokens).toBe(tinyCapped.numPredict);
    expect((await jobRow(id)).attempts).toBeGreaterThanOrEqual(2);
    // The other server generates the whole cap: a minute or more on a busy machine.
  }, 360_000);
});
