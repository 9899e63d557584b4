import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSchedulerState } from '../workflows/scheduler/core';
import { ollama, prng, Simulation, tier, type Arrival } from '../workflows/scheduler/core/simulation';
import { repoRoot } from '../scripts/lib/paths';
import { percentile, round } from './lib/stats';

/**
 * `npm run bench:batching`: the scheduler's pure core on a simulated clock (core/simulation.ts,
 * with Ollama's model loads), batching off and on in one run, on the same workload: short review
 * items of 3 models on 4 Ollama backends that hold 2 models each (OLLAMA_MAX_LOADED_MODELS=2), a
 * model load taking 3 s. "Off" is the scheduler as it was: placement prefers a backend with the
 * model loaded (affinity), order is priority, fair share, FIFO. Two arrival patterns: a steady
 * stream (Poisson at --load of the slots' capacity) and a burst (every item at once, as a large
 * repository review submits them). The scheduler reads what each backend holds every 5 s, as the
 * resource loop does, and predicts from its grants in between.
 *
 *   npm run bench:batching [-- --items 300 --slots 4 --load-ms 3000 --load 0.7 --max-batch 5 --timeout-s 30 --seed 42]
 */

const MODELS = ['qwen2.5-coder:7b', 'llama3.1:8b', 'mistral:7b'];
const BACKENDS = ['ollama-1', 'ollama-2', 'ollama-3', 'ollama-4'];
const MAX_LOADED = 2;
/** Short review items: 2–6 s of generation each. */
const GENERATION_MS = [2_000, 6_000] as const;
const T0 = 1_700_000_000_000;

interface Options {
  items: number;
  slots: number;
  loadMs: number;
  load: number;
  maxBatch: number;
  timeoutS: number;
  seed: number;
}

type Pattern = 'steady' | 'burst';

function workload(o: Options, pattern: Pattern): { arrivals: Arrival[]; generationMs: Map<string, number> } {
  const random = prng(o.seed);
  const meanMs = (GENERATION_MS[0] + GENERATION_MS[1]) / 2;
  const perMs = (o.load * BACKENDS.length * o.slots) / meanMs;
  const arrivals: Arrival[] = [];
  const generationMs = new Map<string, number>();
  let at = T0;
  for (let i = 0; i < o.items; i++) {
    if (pattern === 'steady') at += -Math.log(1 - random()) / perMs;
    const jobId = `item-${i}`;
    const team = `team-${i % 6}`;
    const model = MODELS[Math.floor(random() * MODELS.length)]!;
    arrivals.push({ at: Math.round(at), request: { jobId, teamId: team, userId: `${team}-user-${i % 4}`, tier: 'std', model, batchable: true } });
    generationMs.set(jobId, Math.round(GENERATION_MS[0] + random() * (GENERATION_MS[1] - GENERATION_MS[0])));
  }
  return { arrivals, generationMs };
}

export interface ModeResult {
  pattern: Pattern;
  batching: 'off (affinity only)' | 'on';
  modelLoads: number;
  totalTimeS: number;
  /** Slot time spent generating ÷ (all slots × total time). */
  slotUtilisation: number;
  /** Slot time spent waiting for a model to load ÷ slot time held. */
  loadingShare: number;
  /** Arrival → generating (queue, the backend's own queue, and any model load). */
  waitP50S: number;
  waitP95S: number;
  workConservationViolations: number;
}

function run(o: Options, pattern: Pattern, batchEnabled: boolean): ModeResult {
  const { arrivals, generationMs } = workload(o, pattern);
  const state = createSchedulerState({
    tiers: [tier('std', { batchEnabled, maxBatchSize: o.maxBatch, batchTimeoutSec: o.timeoutS })],
    backends: BACKENDS.map((id) => ollama(id, o.slots, MODELS, { maxLoadedModels: MAX_LOADED })),
    now: T0,
  });
  const sim = new Simulation(state, (grant) => generationMs.get(grant.jobId)!, { loadMs: o.loadMs });
  sim.arrive(arrivals);
  sim.run();
  if (sim.started.length !== o.items) throw new Error(`${sim.started.length} of ${o.items} items ran`);
  const arrivedAt = new Map(arrivals.map((a) => [a.request.jobId, a.at]));
  const waits = sim.started.map((s) => (s.generatingAt - arrivedAt.get(s.jobId)!) / 1000);
  const totalMs = Math.max(...sim.started.map((s) => s.at + s.serviceMs)) - T0;
  const generating = sim.started.reduce((sum, s) => sum + generationMs.get(s.jobId)!, 0);
  const held = sim.started.reduce((sum, s) => sum + s.serviceMs, 0);
  return {
    pattern,
    batching: batchEnabled ? 'on' : 'off (affinity only)',
    modelLoads: Object.values(sim.modelLoads()).reduce((a, b) => a + b, 0),
    totalTimeS: round(totalMs / 1000, 1),
    slotUtilisation: round(generating / (BACKENDS.length * o.slots * totalMs), 3),
    loadingShare: round(sim.loadingMs() / held, 3),
    waitP50S: round(percentile(waits, 50), 1),
    waitP95S: round(percentile(waits, 95), 1),
    workConservationViolations: sim.violations.length,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      items: { type: 'string', default: '300' },
      slots: { type: 'string', default: '4' },
      'load-ms': { type: 'string', default: '3000' },
      load: { type: 'string', default: '0.7' },
      'max-batch': { type: 'string', default: '5' },
      'timeout-s': { type: 'string', default: '30' },
      seed: { type: 'string', default: '42' },
    },
  });
  const o: Options = {
    items: Number(values.items),
    slots: Number(values.slots),
    loadMs: Number(values['load-ms']),
    load: Number(values.load),
    maxBatch: Number(values['max-batch']),
    timeoutS: Number(values['timeout-s']),
    seed: Number(values.seed),
  };
  for (const [flag, value] of Object.entries(o)) if (!(value >= 0) || (flag !== 'timeoutS' && value === 0)) throw new Error(`--${flag} must be a positive number`);
  const results = (['steady', 'burst'] as const).flatMap((pattern) => [run(o, pattern, false), run(o, pattern, true)]);
  console.log(
    `batching: ${o.items} review items of ${MODELS.length} models on ${BACKENDS.length} Ollama backends × ${o.slots} slots holding ${MAX_LOADED} models each; model load ${o.loadMs / 1000} s, generation ${GENERATION_MS[0] / 1000}–${GENERATION_MS[1] / 1000} s; steady = Poisson at ${o.load} of capacity, burst = all at once; maxBatchSize ${o.maxBatch}, batchTimeout ${o.timeoutS} s`,
  );
  console.table(
    results.map((r) => ({
      arrivals: r.pattern,
      batching: r.batching,
      'model loads': r.modelLoads,
      'total s': r.totalTimeS,
      'slot utilisation': r.slotUtilisation,
      'slot time loading': r.loadingShare,
      'wait p50 s': r.waitP50S,
      'wait p95 s': r.waitP95S,
      violations: r.workConservationViolations,
    })),
  );
  const file = path.join(repoRoot, 'bench/results/batching.json');
  mkdirSync(path.dirname(file), { recursive: true });
  const args = process.argv.slice(2).join(' ');
  writeFileSync(
    file,
    `${JSON.stringify({ command: `npm run bench:batching${args ? ` -- ${args}` : ''}`, options: o, models: MODELS, backends: BACKENDS, maxLoadedModels: MAX_LOADED, generationMs: GENERATION_MS, results }, null, 2)}\n`,
  );
  console.log(`wrote ${path.relative(repoRoot, file)}`);
}

main();
