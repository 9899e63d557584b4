import { dispatch, nextWakeAt, oldestBatchable } from './dispatch';
import { applyResidency } from './residency';
import { isBackendUp, release } from './state';
import type { BackendState, EnqueueRequest, Grant, SchedulerState, TierPolicy, WaitingJob } from './types';
import { enqueue } from './state';
import type { BackendInit } from './state';

/** Fixtures and a discrete-event driver for the scheduler's unit tests and the benchmark. */

export function tier(name: string, overrides: Partial<TierPolicy> = {}): TierPolicy {
  return {
    name,
    weight: 1,
    basePriority: 0,
    maxRunningPerUser: 0,
    maxQueuedPerUser: 0,
    allowedModels: [],
    poolPreference: ['local'],
    cloudFallback: false,
    cloudFallbackAfterSec: 60,
    minShare: 0,
    batchEnabled: false,
    maxBatchSize: 5,
    batchTimeoutSec: 30,
    ...overrides,
  };
}

export function ollama(id: string, slots: number, models: string[], overrides: Partial<BackendInit> = {}): BackendInit {
  return { id, kind: 'ollama', pool: 'local', slots, models, ...overrides };
}

export function cloud(id: string, slots: number, models: string[], overrides: Partial<BackendInit> = {}): BackendInit {
  return { id, kind: 'openai', pool: 'cloud', slots, models, ...overrides };
}

/** Deterministic PRNG (mulberry32) so simulated runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` jobs from four teams (t0 on tier `gold`, the rest `std`), a few users each, random
 * priorities 0–2 and models, arriving 1 ms apart from `start`; reproducible by `seed`.
 */
export function fill(state: SchedulerState, count: number, seed: number, start: number, models = ['m1']): void {
  const random = prng(seed);
  for (let i = 0; i < count; i++) {
    const team = `t${Math.floor(random() * 4)}`;
    const result = enqueue(
      state,
      {
        jobId: `j${i}`,
        teamId: team,
        userId: `${team}-u${Math.floor(random() * 3)}`,
        tier: team === 't0' ? 'gold' : 'std',
        model: models[Math.floor(random() * models.length)]!,
        priority: Math.floor(random() * 3),
      },
      start + i,
    );
    if (!result.ok) throw new Error(result.reason);
  }
}

/**
 * An independent statement of work conservation: for every backend with a free slot, no waiting
 * job could run there (tier pool or open fallback, model served, user below its limit). Returns the
 * offending pairs.
 *
 * One exception, batching's bounded wait (planner.ts): a slot may idle while a batchable job of a
 * batching tier waits for its batch to fill, if the job's model is not loaded on that backend (it
 * would pay a model load there), no free slot it may use has its model loaded, fewer than the
 * tier's `maxBatchSize` batchable jobs of the model wait, and the oldest of them arrived less than
 * `batchTimeoutSec` ago. The cost is bounded (one timeout) and bought only where a load is at
 * stake; past the timeout, or with a loaded slot free, the idle slot is a violation again.
 */
export function idleViolations(state: SchedulerState, now: number): string[] {
  const running = new Map<string, number>();
  for (const lease of Object.values(state.leases)) running.set(lease.userId, (running.get(lease.userId) ?? 0) + 1);
  const windowStart = now - state.config.rateWindowMs;
  const violations: string[] = [];
  for (const backend of Object.values(state.backends)) {
    if (!isBackendUp(backend, now) || backend.running >= backend.slots) continue;
    if (backend.rpmLimit > 0 && backend.recentGrants.filter((at) => at > windowStart).length >= backend.rpmLimit) continue;
    for (const job of state.waiting) {
      const policy = state.tiers[job.tier];
      if (!policy || !backend.models.includes(job.model)) continue;
      const inPool = policy.poolPreference.includes(backend.pool);
      const viaFallback = backend.kind === 'openai' && policy.cloudFallback && job.fallbackSince !== null;
      if (!inPool && !viaFallback) continue;
      if (policy.maxRunningPerUser > 0 && (running.get(job.userId) ?? 0) >= policy.maxRunningPerUser) continue;
      // A backend the job failed on is kept from it while another one that could serve it is up.
      if (job.avoid.includes(backend.id) && servesElsewhere(state, job, now)) continue;
      if (heldForBatch(state, job, backend, now)) continue;
      violations.push(`${backend.id} idle while ${job.jobId} waits`);
    }
  }
  return violations;
}

function heldForBatch(state: SchedulerState, job: WaitingJob, backend: BackendState, now: number): boolean {
  const policy = state.tiers[job.tier]!;
  if (!policy.batchEnabled || !job.batchable || backend.kind !== 'ollama' || backend.loadedModels.includes(job.model)) return false;
  const loadedFree = Object.values(state.backends).some(
    (other) =>
      other.running < other.slots &&
      isBackendUp(other, now) &&
      other.models.includes(job.model) &&
      (other.kind === 'openai' || other.loadedModels.includes(job.model)) &&
      (policy.poolPreference.includes(other.pool) || (other.kind === 'openai' && policy.cloudFallback && job.fallbackSince !== null)),
  );
  if (loadedFree) return false;
  const waiting = state.waiting.filter((other) => other.batchable && other.model === job.model && state.tiers[other.tier]?.batchEnabled).length;
  return waiting < policy.maxBatchSize && now < oldestBatchable(state).get(job.model)! + policy.batchTimeoutSec * 1000;
}

function servesElsewhere(state: SchedulerState, job: SchedulerState['waiting'][number], now: number): boolean {
  const policy = state.tiers[job.tier]!;
  return Object.values(state.backends).some(
    (other) =>
      !job.avoid.includes(other.id) &&
      isBackendUp(other, now) &&
      other.models.includes(job.model) &&
      (policy.poolPreference.includes(other.pool) || (other.kind === 'openai' && policy.cloudFallback && job.fallbackSince !== null)),
  );
}

export interface Arrival {
  at: number;
  request: EnqueueRequest;
}

export interface Started {
  jobId: string;
  teamId: string;
  /** When its request got a slot. */
  at: number;
  /** When it started generating: `at`, or later when its model had to be loaded first. */
  generatingAt: number;
  grant: Grant;
  /** Slot time held: loading (if any) and generating. */
  serviceMs: number;
}

/**
 * Model loads as Ollama does them, for `Simulation` (option `loads`). Each backend keeps at most
 * its `maxLoadedModels` models (OLLAMA_MAX_LOADED_MODELS); a request for a model not loaded
 * loads it, taking `loadMs`, and requests for a model already loading wait for that one load.
 * Past the limit Ollama unloads an idle model (no request running on it): the one with the
 * shortest keep_alive, ties by model file path (sched.go `findRunnerToUnload`) — one keep_alive
 * for all here, so by name. With every loaded model busy it does not over-commit: the load waits
 * until the model whose requests end first is idle, then replaces it. An idle model unloads
 * itself after `keepAliveMs` (OLLAMA_KEEP_ALIVE, default 5 minutes).
 */
export interface ModelLoads {
  loadMs: number;
  keepAliveMs?: number;
  /**
   * How often the scheduler reads what each backend really holds (the resource loop's /api/ps);
   * in between it predicts from its grants (residency.ts), as in production. Default 5 s.
   */
  readEveryMs?: number;
}

interface Runner {
  model: string;
  /** When the model is in memory and can generate. */
  readyAt: number;
  /** Ends of the requests it runs or ran, generation included. */
  busyUntil: number;
  lastUsed: number;
}

/** What one simulated Ollama server holds in memory (see `ModelLoads`). */
class ModelMemory {
  private readonly runners = new Map<string, Runner>();
  loads = 0;
  loadingMs = 0;

  constructor(
    private readonly maxLoaded: number,
    private readonly options: Required<Omit<ModelLoads, 'readEveryMs'>>,
  ) {}

  /** A request of `model` reaches a slot at `at`; returns when it starts generating. */
  start(model: string, at: number, generationMs: number): number {
    for (const runner of this.runners.values()) {
      if (runner.busyUntil <= at && runner.busyUntil + this.options.keepAliveMs <= at) this.runners.delete(runner.model);
    }
    let runner = this.runners.get(model);
    if (!runner) {
      let loadAt = at;
      if (this.runners.size >= Math.max(1, this.maxLoaded)) {
        const idle = [...this.runners.values()].filter((r) => r.busyUntil <= at).sort((a, b) => (a.model < b.model ? -1 : 1));
        const victim = idle[0] ?? [...this.runners.values()].sort((a, b) => a.busyUntil - b.busyUntil)[0]!;
        loadAt = Math.max(at, victim.busyUntil);
        this.runners.delete(victim.model);
      }
      runner = { model, readyAt: loadAt + this.options.loadMs, busyUntil: 0, lastUsed: at };
      this.runners.set(model, runner);
      this.loads++;
      this.loadingMs += runner.readyAt - at;
    }
    const generatingAt = Math.max(at, runner.readyAt);
    runner.busyUntil = Math.max(runner.busyUntil, generatingAt + generationMs);
    runner.lastUsed = at;
    return generatingAt;
  }

  /** /api/ps at `at`: loaded models, most recently used first. */
  ps(at: number): string[] {
    return [...this.runners.values()]
      .filter((r) => r.readyAt <= at && (r.busyUntil > at || r.busyUntil + this.options.keepAliveMs > at))
      .sort((a, b) => b.lastUsed - a.lastUsed)
      .map((r) => r.model);
  }
}

/**
 * Drives dispatch/release the way the scheduler workflow will: every event (arrival, lease end,
 * timer from nextWakeAt) is followed by one dispatch. Checks work conservation after each.
 * Backends serve pipelined leases as Ollama's queue does: in arrival (grant) order, each the
 * moment a slot frees, so `started.at` is when a job's request got its slot. With `loads`, Ollama
 * backends also load models (see `ModelLoads`): `serviceMs` then gives the generation alone, and
 * a request holds its slot for its model's load too.
 */
export class Simulation {
  now: number;
  readonly started: Started[] = [];
  readonly violations: string[] = [];
  private ends: Array<{ at: number; leaseId: string; serviceMs: number; backendId: string }> = [];
  private arrivals: Arrival[] = [];
  /** Pipelined grants per backend, waiting for a slot, in grant order. */
  private readonly queued = new Map<string, Grant[]>();
  private readonly memory = new Map<string, ModelMemory>();
  private readonly readEveryMs: number;
  private nextRead: number;

  constructor(
    readonly state: SchedulerState,
    private readonly serviceMs: (grant: Grant) => number,
    loads?: ModelLoads,
  ) {
    this.now = state.createdAt;
    this.readEveryMs = loads?.readEveryMs ?? 5_000;
    this.nextRead = loads ? this.now + this.readEveryMs : Number.POSITIVE_INFINITY;
    if (loads) {
      for (const backend of Object.values(state.backends)) {
        if (backend.kind === 'ollama') {
          this.memory.set(backend.id, new ModelMemory(backend.maxLoadedModels, { loadMs: loads.loadMs, keepAliveMs: loads.keepAliveMs ?? 5 * 60_000 }));
        }
      }
    }
  }

  /** Models loaded so far, per Ollama backend (with `loads`). */
  modelLoads(): Record<string, number> {
    return Object.fromEntries([...this.memory].map(([id, memory]) => [id, memory.loads]));
  }

  /** Slot time spent waiting for models to load, all backends (with `loads`). */
  loadingMs(): number {
    return [...this.memory.values()].reduce((sum, memory) => sum + memory.loadingMs, 0);
  }

  arrive(arrivals: Arrival[]): void {
    this.arrivals.push(...arrivals);
    this.arrivals.sort((a, b) => a.at - b.at);
  }

  /** One dispatch at the current time (after an externally applied change). */
  step(): Grant[] {
    const { grants } = dispatch(this.state, this.now);
    this.track(grants);
    for (const violation of idleViolations(this.state, this.now)) this.violations.push(`t=${this.now}: ${violation}`);
    return grants;
  }

  /** Records grants (made here or by a direct `dispatch`) and schedules their end. */
  track(grants: Grant[]): void {
    for (const grant of grants) {
      const lease = this.state.leases[grant.leaseId]!;
      if (lease.startedAt === null) {
        const queue = this.queued.get(grant.backendId) ?? [];
        queue.push(grant);
        this.queued.set(grant.backendId, queue);
      } else {
        this.start(grant, lease.grantedAt);
      }
    }
    this.ends.sort((a, b) => a.at - b.at);
  }

  private start(grant: Grant, at: number): void {
    const generationMs = this.serviceMs(grant);
    const generatingAt = this.memory.get(grant.backendId)?.start(grant.model, at, generationMs) ?? at;
    const serviceMs = generatingAt + generationMs - at;
    this.started.push({ jobId: grant.jobId, teamId: this.state.leases[grant.leaseId]!.teamId, at, generatingAt, grant, serviceMs });
    this.ends.push({ at: at + serviceMs, leaseId: grant.leaseId, serviceMs, backendId: grant.backendId });
  }

  /** The resource loop's read of every backend's /api/ps. */
  private read(): void {
    for (const [backendId, memory] of this.memory) {
      const backend = this.state.backends[backendId]!;
      applyResidency(this.state, { backendId, models: backend.models, loaded: memory.ps(this.now), sizesMb: backend.modelSizesMb });
    }
  }

  /** Runs until `until` or until nothing is left to happen. */
  run(until = Number.POSITIVE_INFINITY): void {
    this.step();
    for (;;) {
      const wake = nextWakeAt(this.state, this.now);
      const busy = this.ends.length > 0 || this.arrivals.length > 0 || this.state.waiting.length > 0;
      const next = Math.min(
        this.ends[0]?.at ?? Number.POSITIVE_INFINITY,
        this.arrivals[0]?.at ?? Number.POSITIVE_INFINITY,
        wake !== null && wake > this.now && this.state.waiting.length > 0 ? wake : Number.POSITIVE_INFINITY,
        busy ? Math.max(this.nextRead, this.now) : Number.POSITIVE_INFINITY,
      );
      if (next === Number.POSITIVE_INFINITY || next > until) break;
      this.now = next;
      if (this.now >= this.nextRead) {
        this.read();
        this.nextRead = this.now + this.readEveryMs;
      }
      while (this.ends[0] && this.ends[0].at <= this.now) {
        const end = this.ends.shift()!;
        release(this.state, end.leaseId, this.now, { serviceMs: end.serviceMs });
        const next = this.queued.get(end.backendId)?.shift();
        if (next) this.start(next, this.now);
      }
      this.ends.sort((a, b) => a.at - b.at);
      while (this.arrivals[0] && this.arrivals[0].at <= this.now) {
        const arrival = this.arrivals.shift()!;
        const result = enqueue(this.state, arrival.request, this.now);
        if (!result.ok) throw new Error(`enqueue ${arrival.request.jobId} refused: ${result.reason}`);
      }
      this.step();
    }
  }

  /** Slot-time per team among leases started in [from, to). */
  slotTime(from: number, to: number): Record<string, number> {
    const byTeam: Record<string, number> = {};
    for (const start of this.started) {
      const begin = Math.max(from, start.at);
      const end = Math.min(to, start.at + start.serviceMs);
      if (end > begin) byTeam[start.teamId] = (byTeam[start.teamId] ?? 0) + (end - begin);
    }
    return byTeam;
  }
}
