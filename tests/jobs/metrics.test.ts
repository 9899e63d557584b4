import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password';
import { serveMetrics } from '../../server/metrics/serve';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';

// Two pools: the enterprise team prefers "dedicated", the demo team (premium) runs on "local".
const { stack } = useJobStack({
  simulators: [
    { tokensPerSecond: 200, timeToFirstTokenMs: 20, modelLoadMs: 0, outputTokens: 60 },
    { tokensPerSecond: 200, timeToFirstTokenMs: 20, modelLoadMs: 0, outputTokens: 60 },
  ],
  ollamaPools: ['local', 'dedicated'],
});

const TOKEN = 'a-metrics-token-of-some-length';
let server: Awaited<ReturnType<typeof serveMetrics>>;

beforeAll(async () => {
  server = await serveMetrics(stack.metrics.registry, { host: '127.0.0.1', port: 0, token: TOKEN, production: true });
  const tier = await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'enterprise' } });
  await stack.prisma.team.create({
    data: {
      name: 'Acme',
      slug: 'acme',
      tierId: tier.id,
      projects: { create: { name: 'Acme Project' } },
      memberships: {
        create: { role: 'owner', user: { create: { email: 'acme@example.com', name: 'Acme', passwordHash: await hashPassword('acme-password') } } },
      },
    },
  });
});

afterAll(async () => {
  await server?.close();
});

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of a Prometheus text exposition (no escaped quotes in these labels). */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** Sum of the samples named `name` whose labels include `where`. */
function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([key, value]) => s.labels[key] === value))
    .reduce((total, s) => total + s.value, 0);
}

const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;

describe("a worker's /metrics", () => {
  it('refuses a scrape without the token', async () => {
    expect((await fetch(server.url)).status).toBe(401);
  });

  it('counts jobs, durations, waits, tokens and latencies as the jobs’ rows record them', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const acme = await stack.signIn('acme@example.com', 'acme-password');
    const demoProject = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    const acmeProject = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Acme Project' } });
    const submitted = await Promise.all([
      demo.caller.jobs.submit({ projectId: demoProject.id, requirements: 'A function that sums an array', clientKey: 'metrics-demo-1', model: 'qwen2.5-coder:7b' }),
      demo.caller.jobs.submit({ projectId: demoProject.id, requirements: 'A function that reverses a string', clientKey: 'metrics-demo-2', model: 'llama3.1:8b' }),
      acme.caller.jobs.submit({ projectId: acmeProject.id, requirements: 'A function that parses a date', clientKey: 'metrics-acme-1', model: 'qwen2.5-coder:7b' }),
      acme.caller.jobs.submit({ projectId: acmeProject.id, requirements: 'A function that merges two maps into a cache', clientKey: 'metrics-acme-2', model: 'llama3.1:8b' }),
    ]);
    // One more, cancelled before it can end on its own: another outcome to count.
    const cancelled = await acme.caller.jobs.submit({
      projectId: acmeProject.id,
      requirements: 'A function that never gets written',
      clientKey: 'metrics-acme-3',
      model: 'qwen2.5-coder:7b',
    });
    await acme.caller.jobs.cancel({ jobId: cancelled.id });
    const ids = [...submitted, cancelled].map((job) => job.id);
    await until(async () => {
      const open = await stack.prisma.job.count({ where: { id: { in: ids }, finishedAt: null } });
      return open === 0;
    }, 'every job to end', 60_000);

    const jobs = await stack.prisma.job.findMany({
      where: { id: { in: ids } },
      select: {
        status: true,
        model: true,
        backendId: true,
        promptTokens: true,
        completionTokens: true,
        createdAt: true,
        startedAt: true,
        finishedAt: true,
        team: { select: { slug: true, tier: { select: { name: true } } } },
      },
    });
    expect(new Set(jobs.map((job) => job.status))).toEqual(new Set(['completed', 'cancelled']));
    const backendPools = new Map(
      (await stack.prisma.backend.findMany({ select: { id: true, pool: true } })).map((backend) => [backend.id, backend.pool]),
    );

    const response = await fetch(server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    const samples = parse(await response.text());
    // The process metrics come with the job metrics.
    expect(sum(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const group = <K extends string>(key: (job: (typeof jobs)[number]) => K | null) => {
      const groups = new Map<K, typeof jobs>();
      for (const job of jobs) {
        const k = key(job);
        if (k !== null) groups.set(k, [...(groups.get(k) ?? []), job]);
      }
      return groups;
    };
    const close = (actual: number, expected: number) => expect(actual).toBeCloseTo(expected, 6);

    // Jobs by outcome, tier and model; durations by outcome.
    for (const [key, rows] of group((job) => `${job.status}|${job.team.tier.name}|${job.model}`)) {
      const [outcome, tier, model] = key.split('|') as [string, string, string];
      expect(sum(samples, 'switchyard_jobs_total', { outcome, tier, model }), key).toBe(rows.length);
    }
    expect(sum(samples, 'switchyard_jobs_total')).toBe(jobs.length);
    for (const [outcome, rows] of group((job) => job.status)) {
      expect(sum(samples, 'switchyard_job_duration_seconds_count', { outcome })).toBe(rows.length);
      close(sum(samples, 'switchyard_job_duration_seconds_sum', { outcome }), rows.reduce((t, job) => t + seconds(job.createdAt, job.finishedAt!), 0));
    }

    // Queue waits of the jobs that reached a backend, by its pool and the team's tier.
    const started = group((job) => (job.startedAt ? `${backendPools.get(job.backendId!)}|${job.team.tier.name}` : null));
    expect([...started.keys()].some((key) => key.startsWith('dedicated|'))).toBe(true);
    for (const [key, rows] of started) {
      const [pool, tier] = key.split('|') as [string, string];
      expect(sum(samples, 'switchyard_queue_wait_seconds_count', { pool, tier }), key).toBe(rows.length);
      close(sum(samples, 'switchyard_queue_wait_seconds_sum', { pool, tier }), rows.reduce((t, job) => t + seconds(job.createdAt, job.startedAt!), 0));
    }
    const startedCount = jobs.filter((job) => job.startedAt).length;
    expect(sum(samples, 'switchyard_queue_wait_seconds_count')).toBe(startedCount);
    expect(sum(samples, 'switchyard_dispatch_gap_seconds_count')).toBe(startedCount);

    // Tokens by direction, kind, model and backend, and by team: what the usage records hold (reviews included).
    const records = await stack.prisma.usageRecord.findMany({ where: { jobId: { in: ids } }, select: { kind: true, model: true, backendId: true, promptTokens: true, completionTokens: true, team: { select: { slug: true } } } });
    expect(records.some((r) => r.kind === 'review')).toBe(true);
    const byKey = new Map<string, typeof records>();
    for (const r of records) byKey.set(`${r.kind}|${r.model}|${r.backendId}`, [...(byKey.get(`${r.kind}|${r.model}|${r.backendId}`) ?? []), r]);
    for (const [key, rows] of byKey) {
      const [kind, model, backend] = key.split('|') as [string, string, string];
      expect(sum(samples, 'switchyard_tokens_total', { direction: 'prompt', kind, model, backend }), key).toBe(rows.reduce((t, r) => t + r.promptTokens, 0));
      expect(sum(samples, 'switchyard_tokens_total', { direction: 'completion', kind, model, backend }), key).toBe(rows.reduce((t, r) => t + r.completionTokens, 0));
    }
    for (const [key, rows] of group((job) => (job.backendId ? `${job.model}|${job.backendId}` : null))) {
      const [model, backend] = key.split('|') as [string, string];
      expect(sum(samples, 'switchyard_time_to_first_token_seconds_count', { model, backend }), key).toBe(rows.filter((job) => job.completionTokens > 0).length);
    }
    for (const team of new Set(records.map((r) => r.team.slug))) {
      const rows = records.filter((r) => r.team.slug === team);
      expect(sum(samples, 'switchyard_team_tokens_total', { team })).toBe(rows.reduce((t, r) => t + r.promptTokens + r.completionTokens, 0));
    }
  }, 120_000);
});
