import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, type SessionUser } from '../../server/auth/session';
import { recordUsage, utcDay, type UsageEvent } from '../../server/services/usage-ledger';
import { createCaller } from '../../server/trpc/root';
import { startAppStack, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { expectTrpcError, fieldsOf } from '../support/trpc';

/**
 * usage.get over ledger records written as the worker writes them (recordUsage), on real
 * PostgreSQL: sums per day and group, who may read what, and refusals of bad ranges.
 */
const db = useTestDatabase({ seed: true });
let stack: AppStack;

const DAY_MS = 86_400_000;
const today = new Date();
const daysAgo = (n: number) => new Date(today.getTime() - n * DAY_MS);
const QWEN = { name: 'qwen2.5-coder:7b', inputPricePer1k: 0.001, outputPricePer1k: 0.002 };
const LLAMA = { name: 'llama3.1:8b', inputPricePer1k: 0, outputPricePer1k: 0 };

let owner: SessionUser;
let member: SessionUser;
let outsider: SessionUser;
let teamId: string;
let otherTeamId: string;
let keyId: string;

let seq = 0;
/** Each user's session token, for requests as a browser sends them. */
const tokens = new Map<string, string>();
async function newUser(name: string): Promise<SessionUser> {
  const email = `${name.toLowerCase()}-${++seq}@example.com`;
  const { token } = await stack.services.auth.signUp({ name, email, password: 'long-enough-password' }, { ip: `10.3.0.${seq}` });
  const user = (await stack.services.sessions.getUser(token))!;
  tokens.set(user.id, token);
  return user;
}
const caller = (user: SessionUser) => createCaller({ services: stack.services, user });

/** A finished job of `user` in `team` (through `apiKeyId` if given), to hang records on. */
async function job(user: SessionUser, team: string, apiKeyId: string | null = null, kind: 'code_generation' | 'chat' = 'code_generation') {
  const project = await stack.prisma.project.findFirstOrThrow({ where: { teamId: team } });
  const id = randomUUID();
  await stack.prisma.job.create({
    data: { id, kind, teamId: team, projectId: project.id, userId: user.id, apiKeyId, clientKey: id, requirements: 'r', model: QWEN.name, workflowId: `usage-${id}`, status: 'completed' },
  });
  return id;
}

const record = (jobId: string, event: Partial<UsageEvent> & Pick<UsageEvent, 'promptTokens' | 'completionTokens'>, at: Date) =>
  recordUsage(stack.prisma, { key: randomUUID(), jobId, kind: 'generation', entry: QWEN, backendId: 'local #1', servedModel: 'm', ...event }, at);

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
  [owner, member, outsider] = [await newUser('Owner'), await newUser('Member'), await newUser('Outsider')];
  teamId = (await caller(owner).teams.create({ name: 'Usage team' })).id;
  otherTeamId = (await caller(outsider).teams.create({ name: 'Other team' })).id;
  await stack.prisma.membership.create({ data: { userId: member.id, teamId, role: 'member' } });
  for (const team of [teamId, otherTeamId]) await stack.prisma.project.create({ data: { teamId: team, name: 'Work' } });
  keyId = (await stack.services.apiKeys.create(member, { teamId, name: 'editor' })).id;

  // Two days ago: the owner's web job, generated twice (a failed attempt, then the answer) and reviewed.
  const web = await job(owner, teamId);
  await record(web, { promptTokens: 10, completionTokens: 5, estimated: true }, daysAgo(2));
  await record(web, { promptTokens: 100, completionTokens: 200 }, daysAgo(2));
  await record(web, { kind: 'review', promptTokens: 300, completionTokens: 40 }, daysAgo(2));
  // Today: the member's API chat through the key on llama, and the member's web job on qwen.
  const chat = await job(member, teamId, keyId, 'chat');
  await record(chat, { entry: LLAMA, promptTokens: 20, completionTokens: 30 }, today);
  const memberWeb = await job(member, teamId);
  await record(memberWeb, { promptTokens: 50, completionTokens: 50 }, today);
  // Another team's usage, which nobody above may see.
  await record(await job(outsider, otherTeamId), { promptTokens: 999, completionTokens: 999 }, today);
});

afterAll(async () => {
  await stack?.stop();
});

const cost = (prompt: number, completion: number, price = QWEN) => (prompt * price.inputPricePer1k + completion * price.outputPricePer1k) / 1000;

describe('usage.get', () => {
  it('sums a team’s days by model for its owner: tokens, cost, requests and jobs', async () => {
    const usage = await caller(owner).usage.get({ teamId, days: 7 });
    expect(usage.days).toHaveLength(7);
    expect(usage.to).toBe(utcDay(today));
    expect(usage.rows).toEqual([
      { day: utcDay(daysAgo(2)), key: QWEN.name, promptTokens: 410, completionTokens: 245, tokens: 655, costUsd: expect.closeTo(cost(410, 245), 12), requests: 3, jobs: 1 },
      { day: utcDay(today), key: LLAMA.name, promptTokens: 20, completionTokens: 30, tokens: 50, costUsd: 0, requests: 1, jobs: 1 },
      { day: utcDay(today), key: QWEN.name, promptTokens: 50, completionTokens: 50, tokens: 100, costUsd: expect.closeTo(cost(50, 50), 12), requests: 1, jobs: 1 },
    ]);
    expect(usage.groups.map((g) => [g.label, g.tokens, g.jobs])).toEqual([
      [QWEN.name, 755, 2],
      [LLAMA.name, 50, 1],
    ]);
    expect(usage.totals).toEqual({ promptTokens: 480, completionTokens: 325, tokens: 805, costUsd: expect.closeTo(cost(460, 295), 12), requests: 5, jobs: 3 });
  });

  it('groups by API key (the web apart), by kind and by person', async () => {
    const byKey = await caller(owner).usage.get({ teamId, days: 7, groupBy: 'apiKey' });
    expect(byKey.groups.map((g) => [g.key, g.label, g.tokens])).toEqual([
      ['', 'Web', 755],
      [keyId, 'editor', 50],
    ]);
    const byKind = await caller(owner).usage.get({ teamId, days: 7, groupBy: 'kind' });
    expect(byKind.groups.map((g) => [g.label, g.tokens, g.requests])).toEqual([
      ['Generation', 415, 3],
      ['Review', 340, 1],
      ['API chat', 50, 1],
    ]);
    const byUser = await caller(owner).usage.get({ teamId, days: 7, groupBy: 'user' });
    expect(byUser.groups.map((g) => [g.label, g.tokens])).toEqual([
      ['Owner', 655],
      ['Member', 150],
    ]);
  });

  it('gives each person their own usage without a team, and a range leaves out days outside it', async () => {
    const mine = await caller(member).usage.get({ days: 7 });
    expect(mine.totals.tokens).toBe(150);
    expect(mine.teamId).toBeNull();
    const earlier = await caller(owner).usage.get({ from: utcDay(daysAgo(10)), to: utcDay(daysAgo(3)) });
    expect(earlier.rows).toEqual([]);
    expect(earlier.days).toHaveLength(8);
    const day = await caller(owner).usage.get({ from: utcDay(daysAgo(2)), to: utcDay(daysAgo(2)), groupBy: 'kind' });
    expect(day.totals.tokens).toBe(655);
  });

  it('refuses another team’s usage to an outsider (not found) and a team’s to a plain member (forbidden)', async () => {
    await expectTrpcError(caller(outsider).usage.get({ teamId, days: 7 }), 'NOT_FOUND');
    await expectTrpcError(caller(member).usage.get({ teamId, days: 7 }), 'FORBIDDEN', /Only a team owner can see the team’s usage/);
    // Nor does the outsider's own usage show anything of the team, or the team's anything of theirs.
    expect((await caller(outsider).usage.get({ days: 7 })).totals.tokens).toBe(1998);
    expect((await caller(owner).usage.get({ days: 7 })).totals.tokens).toBe(655);
    await expectTrpcError(caller(owner).usage.get({ teamId: otherTeamId, days: 7 }), 'NOT_FOUND');
  });

  it.each([
    ['a range that ends before it starts', { from: '2026-12-05', to: '2026-12-01' }, 'from', /ends before it starts/],
    ['a day that does not exist', { from: '2026-02-30', to: '2026-03-02' }, 'from', /does not exist/],
    ['a malformed day', { from: '5 Dec', to: '2026-12-01' }, 'from', /YYYY-MM-DD/],
    ['a NUL byte', { from: '2026-12-01\u0000' }, 'from', /YYYY-MM-DD/],
    ['no days', { days: 0 }, 'days', /at least one day/],
    ['too long a range', { from: '2024-01-01', to: '2026-01-01' }, 'from', /at most 366 days/],
    ['days and a range at once', { days: 7, from: '2026-12-01' }, 'days', /either days or from\/to/],
    ['an unknown grouping', { groupBy: 'tier' }, 'groupBy', /Group by model, apiKey, kind, user/],
  ])('refuses %s with 400 naming the field', async (_case, input, field, message) => {
    const error = await expectTrpcError(caller(owner).usage.get(input as never), 'BAD_REQUEST');
    expect(fieldsOf(error)[field]).toMatch(message);
  });
});

describe('usage.budget', () => {
  it('tells a member what is left of the team’s budget this period, and nothing of a team they are not in', async () => {
    const tier = await stack.prisma.tier.create({ data: { name: `b-${randomUUID().slice(0, 8)}`, allowedModels: [], poolPreference: ['local'], tokenBudget: 1_000, budgetPeriodSeconds: 86_400 } });
    await stack.prisma.team.update({ where: { id: teamId }, data: { tierId: tier.id } });
    const budget = await caller(member).usage.budget({ teamId });
    expect(budget).toMatchObject({ tier: tier.name, limit: 1_000, used: 150, left: 850, period: 'day' });
    expect(budget!.resetsAt.getTime()).toBe(Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS);
    await expectTrpcError(caller(outsider).usage.budget({ teamId }), 'NOT_FOUND');
    await stack.prisma.tier.update({ where: { id: tier.id }, data: { tokenBudget: 0 } });
    expect(await caller(member).usage.budget({ teamId })).toBeNull();
  });
});

describe('GET /usage.csv', () => {
  const exportAs = (user: SessionUser | null, query: string) =>
    fetch(`${stack.url}/usage.csv?${query}`, { headers: user ? { cookie: `${SESSION_COOKIE}=${tokens.get(user.id)}` } : {} });

  it('gives a team’s owner its days as CSV, one line per day and group, key names guarded against formulas', async () => {
    await stack.prisma.apiKey.update({ where: { id: keyId }, data: { name: '=HYPERLINK("x")' } });
    try {
      const response = await exportAs(owner, `teamId=${teamId}&days=7&groupBy=apiKey`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="usage-team-${teamId.slice(0, 8)}-${utcDay(daysAgo(6))}-${utcDay(today)}.csv"`);
      expect((await response.text()).split('\r\n')).toEqual([
        'day,api_key,prompt_tokens,completion_tokens,tokens,cost_usd,requests,jobs',
        `${utcDay(daysAgo(2))},Web,410,245,655,${Number(cost(410, 245).toFixed(6))},3,1`,
        `${utcDay(today)},Web,50,50,100,${Number(cost(50, 50).toFixed(6))},1,1`,
        `${utcDay(today)},"'=HYPERLINK(""x"")",20,30,50,0,1,1`,
        '',
      ]);
    } finally {
      await stack.prisma.apiKey.update({ where: { id: keyId }, data: { name: 'editor' } });
    }
  });

  it('exports one’s own usage without a team', async () => {
    const response = await exportAs(member, 'days=7&groupBy=kind');
    expect(response.status).toBe(200);
    expect((await response.text()).trim().split('\r\n')).toEqual([
      'day,kind,prompt_tokens,completion_tokens,tokens,cost_usd,requests,jobs',
      `${utcDay(today)},API chat,20,30,50,0,1,1`,
      `${utcDay(today)},Generation,50,50,100,${Number(cost(50, 50).toFixed(6))},1,1`,
    ]);
  });

  it('refuses anonymous (401), a team to an outsider (404) and to a plain member (403), and bad input (400), with a sentence', async () => {
    const cases: [SessionUser | null, string, number, RegExp][] = [
      [null, `teamId=${teamId}`, 401, /Sign in/],
      [outsider, `teamId=${teamId}`, 404, /not found|no such|does not exist/i],
      [member, `teamId=${teamId}`, 403, /Only a team owner/],
      [owner, 'days=0', 400, /at least one day/],
      [owner, 'from=2026-12-05&to=2026-12-01', 400, /ends before it starts/],
      [owner, 'teamId=not-a-uuid', 400, /teamId/],
      [owner, 'from=2026-12-01%00', 400, /YYYY-MM-DD/],
    ];
    for (const [user, query, status, message] of cases) {
      const response = await exportAs(user, query);
      expect(response.status, query).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text(), query).toMatch(message);
    }
  });
});

describe('recordUsage', () => {
  it('counts a job once in its day however many of its requests are recorded at the same time (a review’s parallel items)', async () => {
    const reviewer = await newUser('Reviewer');
    const team = (await caller(reviewer).teams.create({ name: 'Parallel team' })).id;
    await stack.prisma.project.create({ data: { teamId: team, name: 'Work' } });
    const jobs = await Promise.all(Array.from({ length: 4 }, () => job(reviewer, team)));
    await Promise.all(jobs.flatMap((id) => Array.from({ length: 8 }, () => record(id, { kind: 'review', promptTokens: 10, completionTokens: 5 }, today))));

    const day = await stack.prisma.usageDay.findFirstOrThrow({ where: { teamId: team, kind: 'review' } });
    expect({ requests: day.requests, jobs: day.jobs, promptTokens: Number(day.promptTokens) }).toEqual({ requests: 32, jobs: 4, promptTokens: 320 });
  });
});
