import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { noFaults } from '../../simulator';
import type { Prisma } from '../../server/generated/prisma/client';
import { budgetWindow } from '../../server/services/admission';
import { tokensUsedSince, utcDay } from '../../server/services/usage-ledger';
import { useJobStack } from '../support/job-stack';
import { expectTrpcError } from '../support/trpc';
import { until } from '../support/until';

/**
 * The usage ledger on the whole job path (real PostgreSQL, Temporal, scheduler, two simulated
 * Ollama backends): every model request of a job — cut attempts, the attempt on the next backend,
 * the review — is charged, and budgets are charged from those records.
 */
const simulator = { tokensPerSecond: 400, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 80 };
const { stack, sims } = useJobStack({ simulators: [simulator, simulator], catalogCacheMs: 0 });

const MODEL = 'qwen2.5-coder:7b';
// Long enough to be reviewed (activities/complexity.ts): a standard review follows the answer.
const REVIEWED = 'A TypeScript function that merges two sorted arrays into one sorted array, keeping duplicates, with tests';

let admin: Awaited<ReturnType<typeof stack.signIn>>;
beforeAll(async () => {
  admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
});

/** A team on a tier of its own (pool "local"), with one owner and one project. */
async function teamOn(tier: Partial<Prisma.TierCreateInput> = {}) {
  const tag = randomUUID().slice(0, 8);
  const created = await stack.prisma.tier.create({ data: { name: `u-${tag}`, allowedModels: [], poolPreference: ['local'], maxQueuedPerUser: 0, ...tier } });
  const user = await stack.prisma.user.create({
    data: { email: `usage-${tag}@example.com`, name: `Usage ${tag}`, passwordHash: 'unused' },
    select: { id: true, email: true, name: true, isAdmin: true },
  });
  const team = await stack.prisma.team.create({
    data: { name: `Team ${tag}`, slug: `usage-${tag}`, tierId: created.id, memberships: { create: { userId: user.id, role: 'owner' } }, projects: { create: { name: 'P' } } },
    include: { projects: true },
  });
  const submit = (requirements = REVIEWED) =>
    stack.caller(user).jobs.submit({ projectId: team.projects[0]!.id, requirements, model: MODEL, clientKey: randomUUID(), priority: 'normal' });
  return { tier: created, user, team, submit };
}

const finished = (jobId: string) =>
  until(async () => {
    const job = await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { result: true } });
    return job.finishedAt && job;
  }, `job ${jobId} to end`, 90_000);

const recordsOf = (jobId: string) => stack.prisma.usageRecord.findMany({ where: { jobId }, orderBy: { id: 'asc' } });
const total = (records: { promptTokens: number; completionTokens: number }[]) => records.reduce((t, r) => t + r.promptTokens + r.completionTokens, 0);

describe('usage: every request of a job is charged', () => {
  it('counts both cut attempts, the attempt on the next backend and the review, each priced, summed per day and charged to the budget', async () => {
    const { team, user, submit } = await teamOn();
    const catalogued = await stack.prisma.catalogModel.findUniqueOrThrow({ where: { name: MODEL } });
    const before = sims.map((sim) => sim.requests().length);
    const asked = (i: number) => sims[i]!.requests().length - before[i]!;
    // Whichever backend is asked first cuts every stream after 20 tokens; the other then serves.
    for (const sim of sims) sim.setFaults({ cutAfterTokens: 20 });
    try {
      const job = await submit();
      // An index, so wrapped: index 0 would read as "not yet".
      const { failing } = await until(() => [0, 1].map((failing) => ({ failing })).find(({ failing }) => asked(failing) > 0), 'the first attempt');
      sims[1 - failing]!.setFaults(noFaults);
      const done = await finished(job.id);
      expect(done.status).toBe('completed');
      expect(done.result?.reviewStatus).not.toBe('skipped');

      const records = await recordsOf(job.id);
      const [failingId, otherId] = failing === 0 ? stack.backendIds : [stack.backendIds[1], stack.backendIds[0]];
      expect(records.map((r) => [r.kind, r.backendId])).toEqual([
        ['generation', failingId],
        ['generation', failingId],
        ['generation', otherId],
        ['review', otherId],
      ]);
      // Every request the backends saw for it is on a record, no more.
      expect(asked(failing) + asked(1 - failing)).toBe(records.length);
      // The cut attempts streamed 20 tokens each; their prompts (never reported) are estimated.
      for (const cut of records.slice(0, 2)) expect(cut).toMatchObject({ completionTokens: 20, estimated: true, promptTokens: expect.any(Number) });
      expect(records[0]!.promptTokens).toBeGreaterThan(0);
      for (const answered of records.slice(2)) expect(answered).toMatchObject({ estimated: false });
      expect(records[3]!.completionTokens).toBeGreaterThan(0);
      // The answer's tokens are the generation attempts' completions together.
      const generated = records.filter((r) => r.kind === 'generation');
      expect(generated.reduce((t, r) => t + r.completionTokens, 0)).toBe(done.completionTokens);
      for (const r of records) {
        expect(r).toMatchObject({ model: MODEL, teamId: team.id, userId: done.userId, apiKeyId: null, inputPricePer1k: catalogued.inputPricePer1k, outputPricePer1k: catalogued.outputPricePer1k });
        expect(r.costUsd).toBeCloseTo((r.promptTokens * catalogued.inputPricePer1k + r.completionTokens * catalogued.outputPricePer1k) / 1_000, 12);
      }

      // The day's rows hold the same sums; the job is counted once.
      const days = await stack.prisma.usageDay.findMany({ where: { teamId: team.id } });
      expect(days.map((d) => [utcDay(d.day), d.kind, d.apiKeyId])).toEqual(
        expect.arrayContaining([
          [utcDay(records[0]!.createdAt), 'generation', ''],
          [utcDay(records[3]!.createdAt), 'review', ''],
        ]),
      );
      expect(days.reduce((t, d) => t + Number(d.promptTokens) + Number(d.completionTokens), 0)).toBe(total(records));
      expect(days.reduce((t, d) => t + d.costUsd, 0)).toBeCloseTo(records.reduce((t, r) => t + r.costUsd, 0), 12);
      expect(days.reduce((t, d) => t + d.requests, 0)).toBe(4);
      expect(days.reduce((t, d) => t + d.jobs, 0)).toBe(1);
      // And the budget is charged all of it.
      expect(await tokensUsedSince(stack.prisma, team.id, new Date(0))).toBe(total(records));

      // The job page (jobs.get) shows the sum of its records beside the answer's own tokens.
      const shown = await stack.caller(user).jobs.get({ jobId: job.id });
      const sum = (rows: typeof records) => ({ requests: rows.length, tokens: total(rows), costUsd: expect.closeTo(rows.reduce((t, r) => t + r.costUsd, 0), 12) });
      expect(shown.completionTokens).toBe(done.completionTokens);
      expect(shown.charged).toEqual({
        ...sum(records),
        byKind: { generation: sum(generated), review: sum(records.filter((r) => r.kind === 'review')) },
      });
      expect(shown.charged.tokens).toBeGreaterThan(shown.completionTokens);
    } finally {
      for (const sim of sims) sim.setFaults(noFaults);
    }
  }, 120_000);

  it('refuses the next submit at admission when the review’s tokens spent the budget', async () => {
    const { tier, team, submit } = await teamOn({ budgetPeriodSeconds: 86_400 });
    const job = await submit();
    expect((await finished(job.id)).status).toBe('completed');
    const records = await recordsOf(job.id);
    const generation = total(records.filter((r) => r.kind === 'generation'));
    const review = total(records.filter((r) => r.kind === 'review'));
    expect(review).toBeGreaterThan(0);

    // A budget the generation alone stays under: only the review's tokens reach it.
    await stack.prisma.tier.update({ where: { id: tier.id }, data: { tokenBudget: generation + 1 } });
    const rowsBefore = await stack.prisma.job.count({ where: { teamId: team.id } });
    const window = budgetWindow(86_400, Date.now());
    const error = await expectTrpcError(submit('one more'), 'TOO_MANY_REQUESTS');
    expect(error.message).toBe(
      `${team.name} has used ${(generation + review).toLocaleString('en-US')} of the ${(generation + 1).toLocaleString('en-US')} tokens the ${tier.name} tier allows per day; ` +
        `the budget resets at ${window.end.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    );
    expect(await stack.prisma.job.count({ where: { teamId: team.id } })).toBe(rowsBefore);
  }, 120_000);

  it('prices each record as the catalogue did when its request ended: an audited price edit leaves older records as they were', async () => {
    const { team, submit } = await teamOn();
    const first = await submit('A function that adds two numbers');
    expect((await finished(first.id)).status).toBe('completed');
    const old = await recordsOf(first.id);

    const entry = await stack.prisma.catalogModel.findUniqueOrThrow({ where: { name: MODEL } });
    const { id: _id, name: _name, createdAt: _c, updatedAt: _u, ...settings } = entry;
    try {
      await admin.caller.admin.updateModel({ ...settings, modelId: entry.id, inputPricePer1k: 0.5, outputPricePer1k: 2 });
      const audit = await stack.prisma.auditLog.findFirstOrThrow({ where: { action: 'catalog.update', targetId: entry.id }, orderBy: { id: 'desc' } });
      expect(audit.data).toEqual({
        name: MODEL,
        before: { inputPricePer1k: entry.inputPricePer1k, outputPricePer1k: entry.outputPricePer1k },
        after: { inputPricePer1k: 0.5, outputPricePer1k: 2 },
      });

      const second = await submit('A function that subtracts two numbers');
      expect((await finished(second.id)).status).toBe('completed');
      expect(await recordsOf(first.id)).toEqual(old);
      const [now] = await recordsOf(second.id);
      expect(now).toMatchObject({ inputPricePer1k: 0.5, outputPricePer1k: 2 });
      expect(now!.costUsd).toBeCloseTo((now!.promptTokens * 0.5 + now!.completionTokens * 2) / 1_000, 12);
      const day = await stack.prisma.usageDay.findFirstOrThrow({ where: { teamId: team.id } });
      expect(day.costUsd).toBeCloseTo(old[0]!.costUsd + now!.costUsd, 12);
    } finally {
      await stack.prisma.catalogModel.update({ where: { id: entry.id }, data: { inputPricePer1k: entry.inputPricePer1k, outputPricePer1k: entry.outputPricePer1k } });
    }
  }, 120_000);
});
