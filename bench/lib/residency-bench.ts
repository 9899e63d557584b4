import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { applyResidency, createSchedulerState, type Grant, type SchedulerState } from '../../workflows/scheduler/core';
import { ollama, prng, Simulation, tier, type Arrival } from '../../workflows/scheduler/core/simulation';
import { repoRoot } from '../../scripts/lib/paths';
import { percentile, round } from './stats';

/**
 * `npm run bench:scheduler -- --residency`: the scheduler's pure core on a simulated clock, twice
 * on the same mixed-model workload — once guessing residency as it did before (every Ollama holds
 * 3 models, loaded = what it granted last), once reading it from the backends every tick as the
 * resource loop does (core/residency.ts). The backends are three Ollama servers whose memory holds
 * 1, 2 and 4 of the (equally sized) models; they load and evict by Ollama's own rule, which the
 * scheduler does not see: the idle model with the shortest keep_alive, ties by file path (here:
 * name). Prints model loads, utilisation and waits, and writes bench/results/residency.json.
 *
 * Each offered load (share of the slots' capacity the arrivals ask for) is run in both modes.
 *
 *   npm run bench:scheduler -- --residency [--jobs 3000] [--slots 4] [--loads 0.3,0.5,0.7,0.85] [--tick-ms 5000] [--load-ms 8000] [--seed 42]
 */

const MODELS = ['qwen2.5-coder:7b', 'llama3.1:8b', 'mistral:7b', 'gemma2:9b', 'deepseek-coder:6.7b', 'phi3:3.8b'];
/** Share of the jobs per model: a popular coder model, a long tail. */
const POPULARITY = [0.35, 0.22, 0.15, 0.12, 0.1, 0.06];
const MODEL_MB = 6_000;
/** The servers: OLLAMA_MAX_LOADED_MODELS 4 everywhere; memory decides how many fit. */
const SERVERS = [
  { id: 'ollama-8g', memoryMb: 8_000 },
  { id: 'ollama-16g', memoryMb: 16_000 },
  { id: 'ollama-32g', memoryMb: 32_000 },
];
const SERVER_MAX_LOADED = 4;
const T0 = 1_700_000_000_000;

interface Options {
  jobs: number;
  slots: number;
  load: number;
  tickMs: number;
  loadMs: number;
  serviceMs: number;
  seed: number;
}

/** What one Ollama server really holds: loaded models and when each was last used. */
class Server {
  readonly loaded = new Map<string, number>();
  loads = 0;
  constructor(readonly memoryMb: number) {}

  /** A request of `model` starts; `busy` are the models its other running requests use. Returns whether it loaded. */
  start(model: string, busy: ReadonlySet<string>, at: number): boolean {
    if (this.loaded.has(model)) {
      this.loaded.set(model, at);
      return false;
    }
    const fits = () => this.loaded.size < SERVER_MAX_LOADED && (this.loaded.size + 1) * MODEL_MB <= this.memoryMb;
    // Ollama's findRunnerToUnload: one keep_alive for all, so by file path; busy runners stay.
    const idle = [...this.loaded.keys()].filter((name) => !busy.has(name)).sort();
    while (!fits() && idle.length > 0) this.loaded.delete(idle.shift()!);
    // With every runner busy Ollama would wait for one; here the load overcommits instead.
    this.loaded.set(model, at);
    this.loads++;
    return true;
  }

  /** /api/ps: latest use (expiry) first. */
  ps(): string[] {
    return [...this.loaded.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  }
}

export interface ModeResult {
  mode: 'guessed' | 'read';
  load: number;
  modelLoads: number;
  loadsPerServer: Record<string, number>;
  /** Slot time spent generating ÷ (slots × makespan). */
  utilisation: number;
  /** Slot time spent loading models ÷ all slot time held. */
  loadingShare: number;
  makespanS: number;
  waitP50S: number;
  waitP95S: number;
  workConservationViolations: number;
}

function workload(o: Options): { arrivals: Arrival[]; generationMs: Map<string, number> } {
  const random = prng(o.seed);
  const capacityPerMs = (SERVERS.length * o.slots) / o.serviceMs;
  const arrivals: Arrival[] = [];
  const generationMs = new Map<string, number>();
  let at = T0;
  for (let i = 0; i < o.jobs; i++) {
    at += -Math.log(1 - random()) / (o.load * capacityPerMs);
    let pick = random();
    let model = MODELS.length - 1;
    for (let m = 0; m < MODELS.length; m++) {
      if (pick < POPULARITY[m]!) {
        model = m;
        break;
      }
      pick -= POPULARITY[m]!;
    }
    const jobId = `job-${i}`;
    const team = `team-${i % 12}`;
    arrivals.push({ at: Math.round(at), request: { jobId, teamId: team, userId: `${team}-user-${i % 5}`, tier: 'std', model: MODELS[model]! } });
    generationMs.set(jobId, Math.round(o.serviceMs * (0.5 + random())));
  }
  return { arrivals, generationMs };
}

function runMode(mode: 'guessed' | 'read', o: Options): ModeResult {
  const { arrivals, generationMs } = workload(o);
  const state: SchedulerState = createSchedulerState({
    tiers: [tier('std')],
    // Guessed: today's rule, 3 models each. Read: the operator stored OLLAMA_MAX_LOADED_MODELS (4);
    // the memory budget is left unset, so the scheduler learns it from what it reads.
    backends: SERVERS.map((s) => ollama(s.id, o.slots, MODELS, { maxLoadedModels: mode === 'guessed' ? 3 : SERVER_MAX_LOADED })),
    now: T0,
  });
  const servers = new Map(SERVERS.map((s) => [s.id, new Server(s.memoryMb)]));
  let generatingMs = 0;
  let loadingMs = 0;
  const serviceMs = (grant: Grant) => {
    const server = servers.get(grant.backendId)!;
    const busy = new Set(
      Object.values(state.leases)
        .filter((lease) => lease.backendId === grant.backendId && lease.leaseId !== grant.leaseId && lease.startedAt !== null)
        .map((lease) => lease.model),
    );
    const loaded = server.start(grant.model, busy, sim.now);
    const generation = generationMs.get(grant.jobId)!;
    generatingMs += generation;
    if (loaded) loadingMs += o.loadMs;
    return generation + (loaded ? o.loadMs : 0);
  };
  const sim = new Simulation(state, serviceMs);
  sim.arrive(arrivals);
  const read = () => {
    for (const [backendId, server] of servers) {
      const sizesMb = Object.fromEntries(MODELS.map((model) => [model, MODEL_MB]));
      applyResidency(state, { backendId, models: MODELS, loaded: server.ps(), sizesMb });
    }
  };
  for (let tick = T0; sim.started.length < o.jobs || Object.keys(state.leases).length > 0; tick += o.tickMs) {
    sim.run(tick);
    sim.now = Math.max(sim.now, tick);
    if (mode === 'read') read();
    sim.step();
  }
  const arrivedAt = new Map(arrivals.map((a) => [a.request.jobId, a.at]));
  const waits = sim.started.map((s) => (s.at - arrivedAt.get(s.jobId)!) / 1000);
  const end = Math.max(...sim.started.map((s) => s.at + s.serviceMs));
  const makespanMs = end - arrivals[0]!.at;
  return {
    mode,
    load: o.load,
    modelLoads: [...servers.values()].reduce((sum, s) => sum + s.loads, 0),
    loadsPerServer: Object.fromEntries([...servers].map(([id, s]) => [id, s.loads])),
    utilisation: round(generatingMs / (SERVERS.length * o.slots * makespanMs), 3),
    loadingShare: round(loadingMs / (generatingMs + loadingMs), 3),
    makespanS: round(makespanMs / 1000, 1),
    waitP50S: round(percentile(waits, 50), 1),
    waitP95S: round(percentile(waits, 95), 1),
    workConservationViolations: sim.violations.length,
  };
}

export function runResidencyBench(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      residency: { type: 'boolean' },
      jobs: { type: 'string', default: '3000' },
      slots: { type: 'string', default: '4' },
      loads: { type: 'string', default: '0.3,0.5,0.7,0.85' },
      'tick-ms': { type: 'string', default: '5000' },
      'load-ms': { type: 'string', default: '8000' },
      'service-ms': { type: 'string', default: '20000' },
      seed: { type: 'string', default: '42' },
    },
  });
  const loads = values.loads.split(',').map(Number);
  if (loads.some((load) => !(load > 0 && load < 1))) throw new Error('--loads must be shares between 0 and 1, e.g. 0.3,0.85');
  const o: Omit<Options, 'load'> = {
    jobs: Number(values.jobs),
    slots: Number(values.slots),
    tickMs: Number(values['tick-ms']),
    loadMs: Number(values['load-ms']),
    serviceMs: Number(values['service-ms']),
    seed: Number(values.seed),
  };
  for (const [flag, value] of Object.entries(o)) if (!(value > 0)) throw new Error(`--${flag} must be a positive number`);
  const results = loads.flatMap((load) => [runMode('guessed', { ...o, load }), runMode('read', { ...o, load })]);
  console.log(`residency: ${o.jobs} jobs of ${MODELS.length} models on 3 Ollama servers × ${o.slots} slots holding 1, 2, 4 models; model load ${o.loadMs / 1000} s, generation ${o.serviceMs / 2000}–${(o.serviceMs * 1.5) / 1000} s, read every ${o.tickMs / 1000} s`);
  console.table(
    results.map((r) => ({
      'offered load': r.load,
      residency: r.mode,
      'model loads': r.modelLoads,
      'loads 8g/16g/32g': Object.values(r.loadsPerServer).join(' / '),
      utilisation: r.utilisation,
      'slot time loading': r.loadingShare,
      'makespan s': r.makespanS,
      'wait p50 s': r.waitP50S,
      'wait p95 s': r.waitP95S,
    })),
  );
  const file = path.join(repoRoot, 'bench/results/residency.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ command: `npm run bench:scheduler -- ${args.join(' ')}`, options: { ...o, loads }, models: MODELS, popularity: POPULARITY, servers: SERVERS, results }, null, 2)}\n`);
  console.log(`wrote ${path.relative(repoRoot, file)}`);
}
