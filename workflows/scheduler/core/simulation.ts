import { dispatch, nextWakeAt } from './dispatch';
import { isBackendUp, release } from './state';
import type { EnqueueRequest, Grant, SchedulerState, TierPolicy } from './types';
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
      violations.push(`${backend.id} idle while ${job.jobId} waits`);
    }
  }
  return violations;
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
  at: number;
  grant: Grant;
  serviceMs: number;
}

/**
 * Drives dispatch/release the way the scheduler workflow will: every event (arrival, lease end,
 * timer from nextWakeAt) is followed by one dispatch. Checks work conservation after each.
 * Backends serve pipelined leases as Ollama's queue does: in arrival (grant) order, each the
 * moment a slot frees, so `started.at` is when a job's request got its slot.
 */
export class Simulation {
  now: number;
  readonly started: Started[] = [];
  readonly violations: string[] = [];
  private ends: Array<{ at: number; leaseId: string; serviceMs: number; backendId: string }> = [];
  private arrivals: Arrival[] = [];
  /** Pipelined grants per backend, waiting for a slot, in grant order. */
  private readonly queued = new Map<string, Grant[]>();

  constructor(
    readonly state: SchedulerState,
    private readonly serviceMs: (grant: Grant) => number,
  ) {
    this.now = state.createdAt;
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
    const serviceMs = this.serviceMs(grant);
    this.started.push({ jobId: grant.jobId, teamId: this.state.leases[grant.leaseId]!.teamId, at, grant, serviceMs });
    this.ends.push({ at: at + serviceMs, leaseId: grant.leaseId, serviceMs, backendId: grant.backendId });
  }

  /** Runs until `until` or until nothing is left to happen. */
  run(until = Number.POSITIVE_INFINITY): void {
    this.step();
    for (;;) {
      const wake = nextWakeAt(this.state, this.now);
      const next = Math.min(
        this.ends[0]?.at ?? Number.POSITIVE_INFINITY,
        this.arrivals[0]?.at ?? Number.POSITIVE_INFINITY,
        wake !== null && wake > this.now && this.state.waiting.length > 0 ? wake : Number.POSITIVE_INFINITY,
      );
      if (next === Number.POSITIVE_INFINITY || next > until) break;
      this.now = next;
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
