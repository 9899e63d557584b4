import os from 'node:os';
import path from 'node:path';
import type { Stack } from '../../scripts/lib/stack';
import { BenchClient, createBenchTeam } from './clients';
import { JobCompletions } from './completions';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver';
import { cpuBetween, stackUsage, type Usage } from './processes';
import { startBenchStack, type BenchMode } from './stack';
import { median, percentile, round } from './stats';

/**
 * What observability costs per job: the same closed loop of jobs on an instant backend, on a stack
 * with tracing off and on one with it on (OTEL_EXPORTER_OTLP_ENDPOINT pointing at an in-process
 * receiver, every trace kept), the CPU of each stack's processes counted per completed job. Logs
 * are at the production level (info) in both: their cost is in both figures, tracing's is the
 * difference.
 *
 * Both stacks run side by side and take turns in short rounds (off, on, then on, off, …), so a
 * change in the machine's load during the run falls on both alike; only the stack whose turn it is
 * gets jobs, and each stack's CPU is read from its own processes. Each round pairs the two turns:
 * the cost reported is the median of the rounds' paired differences, with their spread, since one
 * round on a machine shared with other work can be far off.
 */

export interface ObservabilityRun {
  tracing: boolean;
  jobs: number;
  cpuMsPerJob: Record<string, number>;
  totalCpuMsPerJob: number;
  spansPerJob?: number;
  /** The span names most sent per job (Prisma's operations by model and method), with their counts per job (tracing on only). */
  topSpansPerJob?: Record<string, number>;
}

interface Side {
  tracing: boolean;
  stack: Stack;
  receiver: OtlpReceiver | undefined;
  clients: BenchClient[];
  projectId: string;
  completions: JobCompletions;
  jobs: number;
  cpuSeconds: Record<string, number>;
  spans: number;
  spanNames: Map<string, number>;
  /** CPU ms per job of each of its rounds, all its processes. */
  perRound: number[];
}

export async function measureObservabilityCost(mode: BenchMode, options: { seconds: number; rounds: number; concurrency: number; requirements: string; model: string; simArgs: string[]; profileEnv: (tracing: boolean) => Record<string, string> }) {
  const ROUNDS = options.rounds;
  const sides: Side[] = [];
  try {
    for (const tracing of [false, true]) sides.push(await startSide(mode, tracing, options));

    const loop = async (side: Side, seconds: number) => {
      let completed = 0;
      const deadline = performance.now() + seconds * 1000;
      await Promise.all(
        side.clients.map(async (client) => {
          while (performance.now() < deadline) {
            const job = await client.mutate<{ id: string }>('jobs.submit', { projectId: side.projectId, requirements: options.requirements, model: options.model, clientKey: crypto.randomUUID() });
            await side.completions.ended(client, job.id);
            completed++;
          }
        }),
      );
      return completed;
    };
    for (const side of sides) await loop(side, Math.min(10, options.seconds)); // warm-up: JIT, pools, the workflow cache

    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const spansBefore = side.receiver?.spans.length ?? 0;
        const before = usageOf(side.stack);
        const jobs = await loop(side, options.seconds / ROUNDS);
        side.jobs += jobs;
        let spent = 0;
        for (const [role, seconds] of Object.entries(cpuBetween(before, usageOf(side.stack)))) {
          side.cpuSeconds[role] = (side.cpuSeconds[role] ?? 0) + seconds;
          if (role !== 'simulator') spent += seconds;
        }
        side.perRound.push((spent * 1000) / jobs);
        for (const span of side.receiver?.spans.slice(spansBefore) ?? []) {
          // A Prisma operation by its model and method: which queries a job's spans are.
          const name = span.name === 'prisma:client:operation' ? `${span.name} ${String(span.attributes.model ?? '')}.${String(span.attributes.method)}` : span.name;
          side.spanNames.set(name, (side.spanNames.get(name) ?? 0) + 1);
        }
        side.spans += (side.receiver?.spans.length ?? spansBefore) - spansBefore;
      }
    }
  } finally {
    for (const side of sides) {
      for (const client of side.clients) client.close();
      await side.stack.stop();
      await side.receiver?.close();
    }
  }

  const [off, on] = sides.map((side): ObservabilityRun => {
    // The simulator stands in for the model backends: not part of what a job costs the stack.
    const total = Object.entries(side.cpuSeconds).reduce((sum, [role, seconds]) => (role === 'simulator' ? sum : sum + seconds), 0);
    return {
      tracing: side.tracing,
      jobs: side.jobs,
      cpuMsPerJob: Object.fromEntries(Object.entries(side.cpuSeconds).map(([role, seconds]) => [role, round((seconds * 1000) / side.jobs, 1)])),
      totalCpuMsPerJob: round((total * 1000) / side.jobs, 1),
      ...(side.receiver
        ? {
            spansPerJob: round(side.spans / side.jobs, 1),
            topSpansPerJob: Object.fromEntries([...side.spanNames].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([name, n]) => [name, round(n / side.jobs, 2)])),
          }
        : {}),
    };
  }) as [ObservabilityRun, ObservabilityRun];
  const [offSide, onSide] = sides as [Side, Side];
  const paired = offSide.perRound.map((offMs, i) => round((onSide.perRound[i]! / offMs - 1) * 100, 1));
  return {
    seconds: options.seconds,
    concurrency: options.concurrency,
    rounds: ROUNDS,
    off,
    on,
    /** Per round: tracing's cost in % of the CPU per job with it off, the two turns of the round paired. */
    pairedCostPercent: paired,
    /** The median of the paired costs: the figure to quote. */
    tracingCostPercent: median(paired),
    /** Half the distance between the rounds' quartiles: how far one round can be from the median. */
    tracingCostSpread: round((percentile(paired, 75) - percentile(paired, 25)) / 2, 1),
    /** From the sums of all rounds, for comparison with the median. */
    pooledCostPercent: round((on.totalCpuMsPerJob / off.totalCpuMsPerJob - 1) * 100, 1),
  };
}

async function startSide(mode: BenchMode, tracing: boolean, options: { concurrency: number; simArgs: string[]; profileEnv: (tracing: boolean) => Record<string, string> }): Promise<Side> {
  const receiver = tracing ? await startOtlpReceiver() : undefined;
  const stack = await startBenchStack(mode, {
    echo: false,
    logFile: path.join(os.tmpdir(), `switchyard-bench-observability-${tracing ? 'on' : 'off'}-${process.pid}.log`),
    simInstances: 2,
    simArgs: options.simArgs,
    env: { OLLAMA_SLOTS: '50', ...options.profileEnv(tracing), ...(receiver ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } : {}) },
  }).catch(async (error: unknown) => {
    await receiver?.close();
    throw error;
  });
  const clients: BenchClient[] = [];
  try {
    const team = await createBenchTeam(stack.databaseUrl, options.concurrency);
    for (const user of team.users) clients.push(await BenchClient.signIn(stack.webUrl!, user.email, user.password));
    await clients[0]!.join('project', team.projectId);
    for (const url of stack.ollamaUrls) await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ slowdownFactor: 0.01 }) });
    return { tracing, stack, receiver, clients, projectId: team.projectId, completions: new JobCompletions(clients[0]!), jobs: 0, cpuSeconds: {}, spans: 0, spanNames: new Map(), perRound: [] };
  } catch (error) {
    for (const client of clients) client.close();
    await stack.stop();
    await receiver?.close();
    throw error;
  }
}

/** CPU and memory of one stack's own processes (and their children), by role. */
function usageOf(stack: Stack): Usage {
  return stackUsage({ processes: stack.supervisor.processes().flatMap((child) => (child.pid === undefined ? [] : [child.pid])) });
}
