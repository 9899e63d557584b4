import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalog, seedTiers } from '../../prisma/seed';
import { createSimulator, type Simulator } from '../../simulator';
import { useTestDatabase } from '../support/db';
import { startJobStack, type JobStack } from '../support/job-stack';
import { openaiCloud } from '../support/llm';
import { useTemporal } from '../support/temporal';
import { until } from '../support/until';

/**
 * The seed's promise "queue + cloud fallback at peak" against a cloud endpoint that behaves like
 * OpenAI: it lists only `gpt-4o-mini` and answers 404 for any other name. Users choose
 * `qwen2.5-coder:7b`; only the catalogue's mapping can send their job there.
 */

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
let local: Simulator;
let cloud: Simulator;
let stack: JobStack;

beforeAll(async () => {
  local = await createSimulator({ slots: 1, tokensPerSecond: 400, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 30 });
  cloud = await createSimulator({ ...openaiCloud, slots: 4, tokensPerSecond: 400, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 30 });
  stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [local.url], cloudUrl: cloud.url, slots: 1, leaseCheckMs: 1_000 });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([local?.close(), cloud?.close()]);
});

/** A new team, on the free tier as every new team is, with its owner signed in. */
async function freeTeam(name: string) {
  const email = `${name}-${randomUUID().slice(0, 8)}@example.com`;
  await stack.services.auth.signUp({ name, email, password: `${name}-password` }, { ip: '127.0.0.1' });
  const member = await stack.signIn(email, `${name}-password`);
  const team = await member.caller.teams.create({ name: `${name} team` });
  const project = await member.caller.teams.createProject({ teamId: team.id, name: `${name} project` });
  const submit = (requirements: string) =>
    member.caller.jobs.submit({ projectId: project.id, requirements, model: 'qwen2.5-coder:7b', clientKey: randomUUID(), priority: 'normal' });
  return { member, submit };
}

const row = (id: string) => stack.prisma.job.findUniqueOrThrow({ where: { id }, include: { result: true } });

describe('cloud fallback through the catalogue', () => {
  it('sends a free-tier job waiting past its threshold to the cloud as gpt-4o-mini, and records what answered', async () => {
    const [localId, cloudId] = stack.backendIds;
    const { caller: admin } = await stack.signIn('admin@switchyard.dev', 'admin-password');
    // The seeded free tier falls back after 30 s of expected wait; a second is enough to show it.
    const { name: _name, ...free } = seedTiers.find((tier) => tier.name === 'free')!;
    const freeTier = await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } });
    await admin.admin.updateTier({ ...free, tierId: freeTier.id, cloudFallbackAfterSec: 1 });

    const [holder, waiter] = [await freeTeam('holder'), await freeTeam('waiter')];
    local.configure({ tokensPerSecond: 2 });
    const blocker = await holder.submit('hold the only local slot');
    await until(async () => (await row(blocker.id)).status === 'running', 'the blocker to hold the local slot');

    const job = await waiter.submit('write a function that parses CSV rows');
    const done = await until(async () => {
      const found = await row(job.id);
      return found.status === 'completed' && found;
    }, 'the waiting job to finish in the cloud', 60_000);

    // What the user chose, and what really answered, where.
    expect(done).toMatchObject({ model: 'qwen2.5-coder:7b', servedModel: 'gpt-4o-mini', backendId: cloudId, completionTokens: 30 });
    const catalogued = seedCatalog.find((model) => model.name === 'qwen2.5-coder:7b')!;
    expect(done.costUsd).toBeCloseTo((done.promptTokens * catalogued.inputPricePer1k + 30 * catalogued.outputPricePer1k) / 1_000, 12);
    expect(done.result).toMatchObject({ truncated: false });
    // The cloud was only ever asked for its own model, with the free tier's output cap.
    const asked = cloud.requests();
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked.map((request) => [request.model, request.maxTokens].join(' ')))).toEqual(new Set(['gpt-4o-mini 1024']));
    expect((await waiter.member.caller.jobs.get({ jobId: job.id })).servedModel).toBe('gpt-4o-mini');

    // The local job was answered locally, as the same catalogue model under its Ollama name.
    await holder.member.caller.jobs.cancel({ jobId: blocker.id });
    local.configure({ tokensPerSecond: 400 });
    expect(await row(blocker.id)).toMatchObject({ model: 'qwen2.5-coder:7b', servedModel: 'qwen2.5-coder:7b', backendId: localId });
  }, 120_000);
});
