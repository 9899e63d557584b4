import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTiers } from '../../prisma/seed';
import { isError, ValidationError } from '../../server/errors';
import { createSimulator, type Simulator } from '../../simulator';
import { jobWorkflowId } from '../../workflows/definitions';
import { useTestDatabase } from '../support/db';
import { startJobStack, type JobStack } from '../support/job-stack';
import { useTemporal } from '../support/temporal';
import { expectTrpcError } from '../support/trpc';
import { until } from '../support/until';

/**
 * The two failures seen against a real Ollama, through the whole job path: a name typed as users
 * type it (`tiny-stop`, which Ollama serves as `tiny-stop:latest`), and a model that never stops.
 * One backend of one slot serving the models the catalogue maps them to; the team is on a tier
 * of its own ("lab": every model, local only, answers capped at 48 tokens).
 */

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
let sim: Simulator;
let stack: JobStack;
let lab: Awaited<ReturnType<typeof labTeam>>;

const TIER_CAP = 48;

async function labTeam() {
  const { caller: admin } = await stack.signIn('admin@switchyard.dev', 'admin-password');
  const { name: _name, ...settings } = seedTiers.find((tier) => tier.name === 'enterprise')!;
  const { tier } = await admin.admin.createTier({
    ...settings,
    name: 'lab',
    poolPreference: ['local'],
    cloudFallback: false,
    maxOutputTokens: TIER_CAP,
  });
  for (const [name, ollamaModel, maxOutputTokens] of [['tiny-stop', 'tiny-stop', 256], ['tiny', 'tiny', 64]] as const) {
    const description = name === 'tiny' ? 'Repeats itself until something stops it.' : 'Stops by itself.';
    await admin.admin.createModel({ name, description, contextLength: 4_096, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens, ollamaModel, openaiModel: null, enabled: true });
  }
  const team = await admin.teams.create({ name: 'Lab' });
  const project = await admin.teams.createProject({ teamId: team.id, name: 'Lab project' });
  await admin.admin.setTeamTier({ teamId: team.id, tierId: tier.id });
  const submit = (model: string, requirements = 'write a function that reverses a string') =>
    admin.jobs.submit({ projectId: project.id, requirements, model, clientKey: randomUUID(), priority: 'normal' });
  return { admin, project, submit };
}

beforeAll(async () => {
  sim = await createSimulator({
    slots: 1,
    tokensPerSecond: 400,
    timeToFirstTokenMs: 5,
    modelLoadMs: 0,
    outputTokens: 30,
    models: [
      { name: 'qwen2.5-coder:7b', contextWindow: 32_768 },
      { name: 'tiny-stop:latest', contextWindow: 4_096 },
      { name: 'tiny:latest', contextWindow: 4_096, endless: true },
    ],
  });
  // The tests edit the catalogue and submit at once: the worker reads it afresh for every job.
  stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [sim.url], slots: 1, leaseCheckMs: 1_000, catalogCacheMs: 0 });
  lab = await labTeam();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await sim?.close();
});

const row = (id: string) => stack.prisma.job.findUniqueOrThrow({ where: { id }, include: { result: true } });
const finished = (id: string) =>
  until(async () => {
    const job = await row(id);
    return ['completed', 'failed', 'dead_letter'].includes(job.status) && job;
  }, `job ${id} to finish`);
const workflowsOnQueue = async () =>
  (await temporal.client.workflow.count(`TaskQueue = '${stack.taskQueue}' AND WorkflowType = 'codeGenerationWorkflow'`)).count;

describe('model names as Ollama matches them', () => {
  it('runs `tiny-stop` on a backend that has `tiny-stop:latest`, however the user spells it', async () => {
    const offered = (await lab.admin.projects.get({ projectId: lab.project.id })).models;
    expect(offered).toEqual([
      { name: 'qwen2.5-coder:7b', description: expect.stringContaining('Qwen2.5 Coder 7B') },
      { name: 'tiny', description: 'Repeats itself until something stops it.' },
      { name: 'tiny-stop', description: 'Stops by itself.' },
    ]);
    for (const spelled of ['tiny-stop', 'Tiny-Stop:latest']) {
      const job = await lab.submit(spelled);
      expect(await finished(job.id)).toMatchObject({ status: 'completed', model: 'tiny-stop', servedModel: 'tiny-stop', completionTokens: 30 });
    }
    expect(sim.requests().filter((request) => request.model.startsWith('tiny-stop')).length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

describe('admission by what the backends serve', () => {
  it('refuses a model no backend of the tier serves with no job row and no workflow, naming what it can use', async () => {
    const rows = await stack.prisma.job.count();
    await until(async () => (await workflowsOnQueue()) === rows, 'every earlier workflow to be visible');

    // In the catalogue, allowed by the tier, but on no backend it can use.
    const unserved = await expectTrpcError(lab.submit('qwen2.5-coder:32b'), 'BAD_REQUEST');
    expect(unserved.message).toBe('No backend the lab tier can use serves qwen2.5-coder:32b; the lab tier can use qwen2.5-coder:7b, tiny, tiny-stop.');
    expect(isError(unserved.cause, ValidationError) && unserved.cause.field).toBe('model');
    const unknown = await expectTrpcError(lab.submit('tiny-stop:q8'), 'BAD_REQUEST');
    expect(unknown.message).toBe('There is no model tiny-stop:q8 in the catalogue; the lab tier can use qwen2.5-coder:7b, tiny, tiny-stop.');
    // A tier allowing "every model" ([]) means every catalogue model: the cloud's own names (what
    // the catalogue maps to, or the priciest the key could reach) are not models users may name.
    expect((await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'lab' } })).allowedModels).toEqual([]);
    for (const cloudName of ['gpt-4o', 'gpt-4o-mini', 'o1-pro']) {
      const refused = await expectTrpcError(lab.submit(cloudName), 'BAD_REQUEST');
      expect(refused.message).toBe(`There is no model ${cloudName} in the catalogue; the lab tier can use qwen2.5-coder:7b, tiny, tiny-stop.`);
    }
    expect(await stack.prisma.job.count()).toBe(rows);

    // The next admitted job's workflow is visible, and it is the only one added.
    const admitted = await lab.submit('tiny-stop');
    await until(async () => (await temporal.client.workflow.count(`WorkflowId = '${jobWorkflowId(admitted.id)}'`)).count === 1, 'the admitted job’s workflow');
    expect(await workflowsOnQueue()).toBe(rows + 1);
    await finished(admitted.id);
  }, 60_000);

  it('shows a waiting job whose model no backend serves any more as blocked, and runs it when one does again', async () => {
    const [backendId] = stack.backendIds;
    sim.configure({ tokensPerSecond: 1 });
    const holder = await lab.submit('qwen2.5-coder:7b');
    await until(async () => (await row(holder.id)).status === 'running', 'the holder to take the slot');
    const waiting = await lab.submit('tiny-stop');
    await stack.untilScheduled(waiting.id);

    await lab.admin.backends.update({ backendId: backendId!, enabled: false });
    const blocked = await until(async () => {
      const { queue } = await lab.admin.jobs.live({ jobId: waiting.id });
      return queue?.blocked && queue;
    }, 'the waiting job to show as blocked');
    expect(blocked).toMatchObject({ blocked: 'no-backend-for-model', etaMs: null });
    await until(async () => {
      const { teamQueues } = await lab.admin.queue.get();
      return teamQueues.flatMap((team) => team.waiting).some((job) => job.jobId === waiting.id && job.blocked === 'no-backend-for-model');
    }, 'the queue to show it blocked');

    await lab.admin.backends.update({ backendId: backendId!, enabled: true });
    await lab.admin.jobs.cancel({ jobId: holder.id });
    sim.configure({ tokensPerSecond: 400 });
    expect(await finished(waiting.id)).toMatchObject({ status: 'completed', backendId });
  }, 90_000);
});

describe('output caps', () => {
  it('stops a model that never stops at the cap, says so, and resumes a cut stream asking only for what is left', async () => {
    const before = sim.requests().length;
    // The first attempt is cut after 20 tokens; its retry must ask for the 28 left of the cap.
    sim.setFaults({ cutAfterTokens: 20, cutMode: 'destroy' });
    const job = await lab.submit('tiny');
    await until(() => sim.stats().cuts >= 1, 'the first attempt to be cut');
    sim.setFaults({ cutAfterTokens: null });
    const done = await finished(job.id);

    expect(done).toMatchObject({ status: 'completed', model: 'tiny', servedModel: 'tiny', completionTokens: TIER_CAP, attempts: 2 });
    expect(done.result).toMatchObject({ truncated: true });
    const asked = sim.requests().slice(before).filter((request) => request.model === 'tiny');
    // Generation: the whole cap, then what the cut left; the review asks for the cap again.
    expect(asked.slice(0, 2).map((request) => [request.maxTokens, request.outcome])).toEqual([
      [TIER_CAP, 'cut'],
      [TIER_CAP - 20, 'completed'],
    ]);
    expect(asked.slice(2).every((request) => request.maxTokens === TIER_CAP)).toBe(true);
    const page = await lab.admin.jobs.get({ jobId: job.id });
    expect(page).toMatchObject({ completionTokens: TIER_CAP, result: { truncated: true } });
  }, 60_000);

  it('caps by the model’s own limit when it is below the tier’s, and refuses a disabled model', async () => {
    const tinyStop = await stack.prisma.catalogModel.findUniqueOrThrow({ where: { name: 'tiny-stop' } });
    const { id: _id, name: _name, createdAt: _c, updatedAt: _u, ...settings } = tinyStop;
    await lab.admin.admin.updateModel({ ...settings, modelId: tinyStop.id, maxOutputTokens: 12 });
    const before = sim.requests().length;
    const job = await lab.submit('tiny-stop');
    expect(await finished(job.id)).toMatchObject({ status: 'completed', completionTokens: 12, result: { truncated: true } });
    expect(sim.requests().slice(before)[0]!.maxTokens).toBe(12);

    await lab.admin.admin.updateModel({ ...settings, modelId: tinyStop.id, enabled: false });
    const refused = await expectTrpcError(lab.submit('tiny-stop'), 'BAD_REQUEST');
    expect(refused.message).toBe('tiny-stop is disabled; the lab tier can use qwen2.5-coder:7b, tiny.');
    await lab.admin.admin.updateModel({ ...settings, modelId: tinyStop.id });
  }, 60_000);
});
