import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalog } from '../../prisma/seed';
import { startAppStack, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { expectTrpcError, fieldsOf } from '../support/trpc';

/** The catalogue's admin procedures against the real PostgreSQL: what they accept, refuse and audit. */

const db = useTestDatabase({ seed: true });
let stack: AppStack;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
});

afterAll(async () => {
  await stack?.stop();
});

const admin = async () => (await stack.signIn('admin@switchyard.dev', 'admin-password')).caller;

const model = {
  description: 'A model for this test.',
  contextLength: 8_192,
  inputPricePer1k: 0.001,
  outputPricePer1k: 0.002,
  maxOutputTokens: 1_024,
  ollamaModel: 'mistral:7b',
  openaiModel: null,
  enabled: true,
};

/** Everything bad input could have changed. */
const state = async () => ({
  models: await stack.prisma.catalogModel.findMany({ orderBy: { name: 'asc' } }),
  audits: await stack.prisma.auditLog.count(),
});

describe('catalogue admin: bad input changes nothing', () => {
  it('refuses NUL bytes, lone surrogates, duplicates, an empty mapping and inconsistent limits with a 4xx per field', async () => {
    const caller = await admin();
    const before = await state();
    const qwen = await stack.prisma.catalogModel.findUniqueOrThrow({ where: { name: 'qwen2.5-coder:7b' } });

    const refusals: [() => Promise<unknown>, Record<string, string | RegExp>][] = [
      [() => caller.admin.createModel({ ...model, name: 'nul\u0000model' }), { name: /letters, digits/ }],
      [() => caller.admin.createModel({ ...model, name: 'fine:1b', description: 'a\u0000b' }), { description: 'Description must not contain control characters.' }],
      [() => caller.admin.createModel({ ...model, name: 'fine:1b', description: 'half \uD83D pair' }), { description: 'Description is not valid text (it holds a broken character).' }],
      [() => caller.admin.createModel({ ...model, name: 'fine:1b', ollamaModel: 'mistral\u0000:7b' }), { ollamaModel: /letters, digits/ }],
      [() => caller.admin.createModel({ ...model, name: 'fine:1b', openaiModel: '\uDC00gpt' }), { openaiModel: /letters, digits/ }],
      [() => caller.admin.createModel({ ...model, name: 'fine:1b', ollamaModel: null, openaiModel: null }), { ollamaModel: /at least one kind of backend/ }],
      [() => caller.admin.createModel({ ...model, name: 'fine:1b', ollamaModel: '' }), { ollamaModel: 'Ollama model is required.' }],
      [() => caller.admin.createModel({ ...model, name: 'fine:1b', maxOutputTokens: 10_000 }), { maxOutputTokens: 'The output cap cannot exceed the context length.' }],
      [() => caller.admin.createModel({ ...model, name: 'fine:1b', inputPricePer1k: -1, contextLength: 12.5 }), { inputPricePer1k: 'Input price cannot be negative.', contextLength: 'Context length must be a whole number.' }],
      // Taken, exactly or as Ollama would read the name.
      [() => caller.admin.createModel({ ...model, name: 'qwen2.5-coder:7b' }), { name: 'qwen2.5-coder:7b is already in the catalogue.' }],
      [() => caller.admin.createModel({ ...model, name: 'Qwen2.5-Coder:7B' }), { name: 'Qwen2.5-Coder:7B is already in the catalogue as qwen2.5-coder:7b.' }],
      [() => caller.admin.updateModel({ ...model, modelId: qwen.id, description: 'x\uDFFF' }), { description: 'Description is not valid text (it holds a broken character).' }],
      [() => caller.admin.updateModel({ ...model, modelId: qwen.id, ollamaModel: null }), { ollamaModel: /at least one kind of backend/ }],
    ];
    for (const [call, fields] of refusals) {
      const error = await expectTrpcError(call(), 'BAD_REQUEST');
      expect(fieldsOf(error)).toEqual(Object.fromEntries(Object.entries(fields).map(([key, message]) => [key, typeof message === 'string' ? message : expect.stringMatching(message)])));
    }
    await expectTrpcError(caller.admin.updateModel({ ...model, modelId: randomUUID() }), 'NOT_FOUND');
    await expectTrpcError(caller.admin.deleteModel({ modelId: 'not-a-uuid' }), 'BAD_REQUEST');
    await expectTrpcError(caller.admin.deleteModel({ modelId: randomUUID() }), 'NOT_FOUND');

    // A model a tier names cannot be deleted; nor one an unfinished job uses.
    const named = await expectTrpcError(caller.admin.deleteModel({ modelId: qwen.id }), 'BAD_REQUEST');
    expect(named.message).toBe('The free, premium tiers allow qwen2.5-coder:7b; remove it there first, or disable it.');
    expect(await state()).toEqual(before);
  });

  it('refuses everyone but admins', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const before = await state();
    await expectTrpcError(demo.caller.admin.createModel({ ...model, name: 'sneaky:1b' }), 'FORBIDDEN');
    await expectTrpcError(demo.caller.admin.models(), 'FORBIDDEN');
    expect(await state()).toEqual(before);
  });
});

describe('catalogue admin: edits', () => {
  it('creates, edits and deletes a model, auditing each change with before and after, and offers it to tier forms', async () => {
    const caller = await admin();
    const created = await caller.admin.createModel({ ...model, name: 'mistral:7b' });
    expect(created.scheduler).toBe('not-running');
    const { id } = created.model;
    expect((await caller.admin.tiers()).options.models).toEqual([...seedCatalog.map((m) => m.name), 'mistral:7b'].sort());
    const listed = (await caller.admin.models()).find((m) => m.id === id);
    // No backend reports mistral:7b here, and no tier names it yet.
    expect(listed).toMatchObject({ name: 'mistral:7b', servedBy: [], tiers: [] });

    await caller.admin.updateModel({ ...model, modelId: id, openaiModel: 'gpt-4o-mini', maxOutputTokens: 512 });
    expect(await caller.admin.model({ modelId: id })).toMatchObject({ openaiModel: 'gpt-4o-mini', maxOutputTokens: 512, ollamaModel: 'mistral:7b' });

    const job = await stack.prisma.job.findFirst({ where: { model: 'mistral:7b' } });
    expect(job).toBeNull();
    await caller.admin.deleteModel({ modelId: id });
    expect(await stack.prisma.catalogModel.findUnique({ where: { id } })).toBeNull();

    const audits = await stack.prisma.auditLog.findMany({ where: { targetType: 'catalogModel', targetId: id }, orderBy: { id: 'asc' } });
    expect(audits.map((a) => [a.action, a.data])).toEqual([
      ['catalog.create', { name: 'mistral:7b', after: model }],
      ['catalog.update', { name: 'mistral:7b', before: { openaiModel: null, maxOutputTokens: 1_024 }, after: { openaiModel: 'gpt-4o-mini', maxOutputTokens: 512 } }],
      ['catalog.delete', { name: 'mistral:7b', before: { ...model, openaiModel: 'gpt-4o-mini', maxOutputTokens: 512 } }],
    ]);
  });

  it('keeps a model that unfinished jobs use', async () => {
    const caller = await admin();
    const { model: created } = await caller.admin.createModel({ ...model, name: 'in-use:1b' });
    const demo = await stack.prisma.user.findUniqueOrThrow({ where: { email: 'demo@switchyard.dev' } });
    const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    await stack.prisma.job.create({
      data: { teamId: project.teamId, projectId: project.id, userId: demo.id, clientKey: randomUUID(), requirements: 'x', model: 'in-use:1b', workflowId: randomUUID() },
    });
    const refused = await expectTrpcError(caller.admin.deleteModel({ modelId: created.id }), 'BAD_REQUEST');
    expect(refused.message).toBe('1 unfinished job use in-use:1b; disable it instead, or wait for them.');
    expect(await stack.prisma.catalogModel.findUnique({ where: { id: created.id } })).not.toBeNull();
  });
});
