import { setTimeout as sleep } from 'node:timers/promises';
import type { Stack } from '../../scripts/lib/stack';
import { BenchClient, createBenchWorkspace } from './clients';
import { JobCompletions } from './completions';
import { stackUsage } from './processes';
import { round } from './stats';

/**
 * A steady load for a while: `users` signed-in users, each with its socket in the project room,
 * each submitting a job as soon as its last one ended. Resident memory of every process of the
 * stack (a process with children, PostgreSQL, counts them all) is sampled throughout; growth is
 * from the end of the first tenth (warm-up: caches, JIT, pools filling) to the end.
 */

export interface SoakReport {
  minutes: number;
  users: number;
  jobsCompleted: number;
  jobsFailed: number;
  /** Per process: resident MiB after warm-up, at the end, the growth between, and the peak sampled. */
  rss: Record<string, { afterWarmUpMb: number; endMb: number; growthMb: number; growthPercent: number; peakMb: number }>;
}

const SAMPLE_MS = 10_000;

export async function soak(stack: Stack, options: { minutes: number; users: number; sessionSecret: string }): Promise<SoakReport> {
  const [team] = await createBenchWorkspace(stack.databaseUrl, {
    slug: 'soak',
    tiers: [{ name: 'soak' }],
    teams: [{ tier: 'soak', projects: 1, users: options.users }],
    sessionSecret: options.sessionSecret,
  });
  const projectId = team!.projectIds[0]!;
  const clients = await Promise.all(team!.users.map((user) => BenchClient.connect(stack.webUrl!, user.cookie)));
  await Promise.all(clients.map((client) => client.join('project', projectId)));
  const completions = new JobCompletions(clients[0]!);

  const names = [...new Set(stack.supervisor.processes().map((p) => p.name))];
  const sample = () =>
    Object.fromEntries(
      names.map((name) => {
        const pid = stack.supervisor.child(name)?.pid;
        const usage = pid === undefined ? undefined : stackUsage({ processes: [pid] });
        return [name, usage ? Object.values(usage).reduce((sum, role) => sum + role.rssMb, 0) : Number.NaN];
      }),
    );
  const samples: Record<string, number>[] = [];
  const endAt = Date.now() + options.minutes * 60_000;
  const warmUpEnd = Date.now() + (options.minutes * 60_000) / 10;
  let afterWarmUp: Record<string, number> | undefined;
  const sampler = (async () => {
    while (Date.now() < endAt) {
      samples.push(sample());
      if (!afterWarmUp && Date.now() >= warmUpEnd) afterWarmUp = samples.at(-1);
      await sleep(Math.min(SAMPLE_MS, Math.max(0, endAt - Date.now())));
    }
    samples.push(sample());
  })();

  let jobsCompleted = 0;
  let n = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < endAt) {
        const { id } = await client.mutate<{ id: string }>('jobs.submit', {
          projectId,
          requirements: `soak ${n++}: a function that reverses a string`,
          clientKey: crypto.randomUUID(),
          priority: 'normal',
        });
        await completions.ended(client, id);
        jobsCompleted++;
      }
    }),
  );
  await sampler;
  for (const client of clients) client.close();

  const first = afterWarmUp ?? samples[0]!;
  const last = samples.at(-1)!;
  const rss = Object.fromEntries(
    names.map((name) => {
      const growth = last[name]! - first[name]!;
      return [
        name,
        {
          afterWarmUpMb: round(first[name]!, 0),
          endMb: round(last[name]!, 0),
          growthMb: round(growth, 0),
          growthPercent: round((100 * growth) / first[name]!, 1),
          peakMb: round(Math.max(...samples.map((s) => s[name]!)), 0),
        },
      ];
    }),
  );
  return { minutes: options.minutes, users: options.users, jobsCompleted: jobsCompleted - completions.failures, jobsFailed: completions.failures, rss };
}
