import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../scripts/lib/paths';
import { createPrisma } from '../server/db/client';
import type { RequestRecord } from '../simulator';
import { parseBenchArgs } from './lib/args';
import { BenchClient, createBenchTeam } from './lib/clients';
import { JobCompletions } from './lib/completions';
import { cpuBetween, stackUsage, type Usage } from './lib/processes';
import { startBenchStack } from './lib/stack';
import { median, round } from './lib/stats';

/**
 * Collaborations on a fixed simulated pool (docs/collaboration.md): `--runs` collaborations of
 * `--agents` agents each (then an integration and a review: agents + 2 model calls a run),
 * submitted at once by as many users, on `--backends` simulated Ollama instances of `--slots` slots.
 *
 *   npm run bench:agents -- [--mode prod|test] [--runs 6] [--agents 4] [--backends 2] [--slots 4] [--tokens 40] [--tps 20] [--rounds 2]
 *
 * Per round it measures, from the backends' own request records and the step rows:
 * - makespan: first submit to the last collaboration's end event;
 * - one after another: the sum of every step's time on a backend slot, i.e. the makespan of the
 *   same model calls run one at a time with no gap between them;
 * - the pool's bound: the larger of all that work spread over every slot and the longest
 *   collaboration's own chain (its slowest agent, then its integration, then its review);
 * - slot utilisation while work waits: busy slots over all slots, at the instants when some step
 *   is ready (its collaboration submitted; for the integration, every agent ended; for the
 *   review, the integration ended) and has not started generating;
 * - CPU of every stack process per model call, against a plain job's in a phase of as many plain
 *   jobs submitted at once (same model, same answer length), both net of the stack's idle CPU:
 *   the difference is what orchestrating a call as a collaboration's step costs.
 * Rounds alternate the two phases so that load from other work falls on both.
 */

const { mode, config } = parseBenchArgs({ runs: 6, agents: 4, backends: 2, slots: 4, tokens: 40, tps: 20, rounds: 2 });
if (config.agents > 8) throw new Error('--agents must be at most 8 (a template’s limit)');
const MODEL = 'qwen2.5-coder:7b';
const command = `npm run bench:agents -- ${process.argv.slice(2).join(' ')}`.trim();
const out = path.join(repoRoot, 'bench/results/agents.json');
const totalSlots = config.backends * config.slots;
const callsPerRun = config.agents + 2;

const stack = await startBenchStack(mode, {
  echo: false,
  logFile: path.join(os.tmpdir(), `switchyard-bench-agents-${process.pid}.log`),
  simInstances: config.backends,
  simArgs: ['--slots', String(config.slots), '--tps', String(config.tps), '--tokens', String(config.tokens), '--ttft', '50', '--load-ms', '0', '--queue', '1000'],
  // The scheduler leases each backend's slots and no more: the pool's capacity is the slots.
  env: { OLLAMA_SLOTS: String(config.slots), OLLAMA_PREFETCH: '0' },
});
const prisma = createPrisma(stack.databaseUrl);
const clients: BenchClient[] = [];

async function simulatorRequests(since: number): Promise<RequestRecord[]> {
  const answers = await Promise.all(stack.ollamaUrls.map(async (url) => ((await (await fetch(`${url}/_sim/requests`)).json()) as { requests: RequestRecord[] }).requests));
  return answers.flat().filter((r) => r.arrivedAt >= since);
}

/** CPU milliseconds of every stack process between two samples, net of what the idle stack spends in that time. */
function netCpuMs(before: Usage, after: Usage, seconds: number, idleMsPerSecond: number): number {
  const spent = Object.values(cpuBetween(before, after)).reduce((sum, s) => sum + s, 0) * 1000;
  return spent - idleMsPerSecond * seconds;
}

try {
  const team = await createBenchTeam(stack.databaseUrl, config.runs, 'agents');
  // The first user owns the team: templates are owners' to save.
  await prisma.membership.updateMany({ where: { teamId: team.teamId, user: { email: team.users[0]!.email } }, data: { role: 'owner' } });
  for (const user of team.users) clients.push(await BenchClient.signIn(stack.webUrl!, user.email, user.password));
  await clients[0]!.join('project', team.projectId);
  const completions = new JobCompletions(clients[0]!);

  const step = (role: string) => ({ role, systemPrompt: `You are the ${role}. Answer briefly.`, model: MODEL, priority: 'normal' });
  const template = await clients[0]!.mutate<{ id: string }>('collaborations.saveTemplate', {
    teamId: team.teamId,
    template: {
      name: `${config.agents} agents`,
      agents: Array.from({ length: config.agents }, (_, i) => step(`agent ${i}`)),
      integrator: step('integrator'),
      reviewer: step('reviewer'),
      failurePolicy: 'proceed',
      approval: false,
    },
  });

  const collaboration = async (client: BenchClient, task: string) => {
    const job = await client.mutate<{ id: string }>('jobs.submitCollaboration', { projectId: team.projectId, task, templateId: template.id, clientKey: crypto.randomUUID() });
    await completions.ended(client, job.id);
    return job.id;
  };
  const plainJob = async (client: BenchClient, requirements: string) => {
    // A one-line request: no review, one model call, as each step is.
    const job = await client.mutate<{ id: string }>('jobs.submit', { projectId: team.projectId, requirements, model: MODEL, clientKey: crypto.randomUUID() });
    await completions.ended(client, job.id);
    return job.id;
  };

  // Warm-up: JIT, connection pools, the workflow cache, the model loaded on every backend.
  await Promise.all(clients.slice(0, 2).map((client, i) => collaboration(client, `warm-up collaboration ${i}`)));
  await Promise.all(clients.map((client, i) => plainJob(client, `warm-up: reverse a string ${i}`)));

  // What the stack spends doing nothing (resource manager, lease checks, pollers).
  const idleSeconds = 10;
  const idleBefore = stackUsage();
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const idleMsPerSecond = (Object.values(cpuBetween(idleBefore, stackUsage())).reduce((sum, s) => sum + s, 0) * 1000) / idleSeconds;
  console.log(`idle stack: ${round(idleMsPerSecond)} ms CPU per second`);

  async function collaborationPhase(round_: number) {
    const usageBefore = stackUsage();
    const started = Date.now();
    const t0 = performance.now();
    const ids = await Promise.all(clients.map((client, i) => collaboration(client, `round ${round_}: collaboration ${i}, a URL shortener`)));
    const seconds = (performance.now() - t0) / 1000;
    const usageAfter = stackUsage();
    const requests = (await simulatorRequests(started)).filter((r) => r.outcome === 'completed' && r.slotAt !== null);

    const parents = await prisma.job.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, createdAt: true } });
    const steps = await prisma.job.findMany({ where: { parentId: { in: ids } }, select: { parentId: true, part: true, status: true, startedAt: true, finishedAt: true } });
    const failed = parents.filter((p) => p.status !== 'completed').length + steps.filter((s) => s.status !== 'completed').length;

    // Each step's readiness: when it could have started had a slot been free.
    const waits: [number, number][] = [];
    const chains: number[] = [];
    for (const parent of parents) {
      const mine = steps.filter((s) => s.parentId === parent.id);
      const agents = mine.filter((s) => s.part!.startsWith('agent-'));
      const integration = mine.find((s) => s.part === 'integration')!;
      const review = mine.find((s) => s.part === 'review')!;
      const ms = (d: Date | null) => d?.getTime() ?? Number.NaN;
      for (const agent of agents) waits.push([ms(parent.createdAt), ms(agent.startedAt)]);
      const agentsEnded = Math.max(...agents.map((a) => ms(a.finishedAt)));
      waits.push([agentsEnded, ms(integration.startedAt)], [ms(integration.finishedAt), ms(review.startedAt)]);
      const served = (s: { startedAt: Date | null; finishedAt: Date | null }) => ms(s.finishedAt) - ms(s.startedAt);
      chains.push(Math.max(...agents.map(served)) + served(integration) + served(review));
    }
    const slotMs = requests.map((r) => r.endedAt - r.slotAt!);
    const workMs = slotMs.reduce((sum, ms) => sum + ms, 0);
    const boundMs = Math.max(workMs / totalSlots, Math.max(...chains));

    // Sampled every 10 ms: at each instant some step waits, how many slots are busy.
    let waitingSamples = 0;
    let busyWhileWaiting = 0;
    for (let t = started; t <= started + seconds * 1000; t += 10) {
      if (!waits.some(([ready, start]) => ready <= t && t < start)) continue;
      waitingSamples++;
      busyWhileWaiting += Math.min(totalSlots, requests.filter((r) => r.slotAt! <= t && t < r.endedAt).length);
    }
    const calls = ids.length * callsPerRun;
    return {
      collaborations: ids.length,
      modelCalls: calls,
      requestsAnswered: requests.length,
      failed,
      makespanSeconds: round(seconds, 2),
      oneAfterAnotherSeconds: round(workMs / 1000, 2),
      poolBoundSeconds: round(boundMs / 1000, 2),
      makespanOverBound: round((seconds * 1000) / boundMs, 2),
      speedupOverOneAfterAnother: round(workMs / (seconds * 1000), 2),
      medianCallOnSlotMs: round(median(slotMs)),
      utilisationWhileWaiting: waitingSamples === 0 ? null : round(busyWhileWaiting / (waitingSamples * totalSlots), 3),
      secondsWithWorkWaiting: round(waitingSamples / 100, 2),
      cpuMsPerModelCall: round(netCpuMs(usageBefore, usageAfter, seconds, idleMsPerSecond) / calls),
      cpuMsByRole: Object.fromEntries(Object.entries(cpuBetween(usageBefore, usageAfter)).map(([role, s]) => [role, round(s * 1000)])),
    };
  }

  async function plainPhase(round_: number) {
    const calls = config.runs * callsPerRun;
    const usageBefore = stackUsage();
    const t0 = performance.now();
    const ids = await Promise.all(Array.from({ length: calls }, (_, i) => plainJob(clients[i % clients.length]!, `round ${round_}: reverse a string ${i}`)));
    const seconds = (performance.now() - t0) / 1000;
    const usageAfter = stackUsage();
    const failed = await prisma.job.count({ where: { id: { in: ids }, status: { not: 'completed' } } });
    return {
      jobs: ids.length,
      failed,
      makespanSeconds: round(seconds, 2),
      cpuMsPerJob: round(netCpuMs(usageBefore, usageAfter, seconds, idleMsPerSecond) / ids.length),
      cpuMsByRole: Object.fromEntries(Object.entries(cpuBetween(usageBefore, usageAfter)).map(([role, s]) => [role, round(s * 1000)])),
    };
  }

  const rounds: { collaborations: Awaited<ReturnType<typeof collaborationPhase>>; plain: Awaited<ReturnType<typeof plainPhase>>; extraCpuMsPerModelCall: number }[] = [];
  for (let r = 1; r <= config.rounds; r++) {
    const collaborations = await collaborationPhase(r);
    console.log(`round ${r} collaborations: ${JSON.stringify(collaborations)}`);
    const plain = await plainPhase(r);
    console.log(`round ${r} plain jobs: ${JSON.stringify(plain)}`);
    rounds.push({ collaborations, plain, extraCpuMsPerModelCall: round(collaborations.cpuMsPerModelCall - plain.cpuMsPerJob) });
  }

  const med = (pick: (r: (typeof rounds)[number]) => number | null) => round(median(rounds.map(pick).filter((v): v is number => v !== null)), 3);
  const summary = {
    makespanSeconds: med((r) => r.collaborations.makespanSeconds),
    oneAfterAnotherSeconds: med((r) => r.collaborations.oneAfterAnotherSeconds),
    poolBoundSeconds: med((r) => r.collaborations.poolBoundSeconds),
    makespanOverBound: med((r) => r.collaborations.makespanOverBound),
    speedupOverOneAfterAnother: med((r) => r.collaborations.speedupOverOneAfterAnother),
    utilisationWhileWaiting: med((r) => r.collaborations.utilisationWhileWaiting),
    cpuMsPerCollaborationStep: med((r) => r.collaborations.cpuMsPerModelCall),
    cpuMsPerPlainJob: med((r) => r.plain.cpuMsPerJob),
    extraCpuMsPerModelCall: med((r) => r.extraCpuMsPerModelCall),
    failed: rounds.reduce((sum, r) => sum + r.collaborations.failed + r.plain.failed, 0),
  };
  console.log(`summary (medians of ${rounds.length} rounds): ${JSON.stringify(summary)}`);
  const report = {
    benchmark: 'agents',
    command,
    date: new Date().toISOString(),
    mode,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30), node: process.version },
    loadAverageAtEnd: os.loadavg().map((load) => round(load, 1)),
    settings: { ...config, model: MODEL, totalSlots, modelCallsPerCollaboration: callsPerRun },
    idleStackCpuMsPerSecond: round(idleMsPerSecond),
    summary,
    rounds,
    completionEventsMissed: completions.missedEvents,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(repoRoot, out)}`);
} finally {
  for (const client of clients) client.close();
  await prisma.$disconnect();
  await stack.stop();
}
