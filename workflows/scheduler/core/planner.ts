import { agedPriority, expectedServiceMs, isBackendUp, nativePriority, usageDecayPerGrant } from './state';
import { loadModel, residencyOf, switchCost as residencySwitchCost, type Residency } from './residency';
import type { BackendKind, BlockedReason, BackendState, Lease, SchedulerState, TierPolicy, WaitingJob } from './types';

/**
 * The one selection function. `dispatch` runs it against the live capacity; `forecast` runs it
 * against a simulated future (leases ending at their expected time, nothing arriving). Both build a
 * Planner and call `next`/`grant` the same way, so the order users are shown and the order jobs
 * start cannot drift apart.
 *
 * Order of selection (first difference wins):
 *   1. minimum share: a team below its guaranteed share of local slots, for a local slot;
 *   2. effective priority, highest first: native (tier base + job priority + boost) + aging,
 *      aging capped at the highest native priority still waiting (see `effectivePriority`);
 *   3. fair share: lowest decayed usage ÷ tier weight among teams with an eligible job;
 *   4. FIFO (`seq`).
 * A job is eligible when its user is below the tier's max running and some backend of its class
 * (tier pools serving the model, plus cloud fallback when open for it) is up with a free slot and
 * rate budget. Priorities are frozen at `now` for the whole plan: aging is a step function of
 * time, so a forecast is exact only until the next aging step changes the order — the workflow
 * republishes positions on every event anyway.
 *
 * Pipelining (prefetch): once no job can take a free slot, ollama backends with room in their
 * `prefetch` take leases beyond their slots, whose requests wait in the backend's own queue. The
 * same selection runs with that room as the capacity, so pipelined grants keep the order above;
 * a job is pipelined only onto a backend that has its model loaded or room to load it beside the
 * others (never evicting a model another request may be using), and a job that cannot be keeps
 * every backend it could use from pipelining anyone behind it: nobody overtakes it there. A pipelined lease counts
 * toward its user's max running like any lease.
 *
 * Batching (tiers with `batchEnabled`, jobs marked `batchable`): the seed's "group similar short
 * requests". A model load on an Ollama backend takes seconds; jobs of one model granted apart
 * are spread by placement over whatever slots free next and pay a load on each backend, while
 * granted together they share one load and run side by side in its slots.
 *   - Grouping: when the job picked must load its model on the backend it is placed on, the
 *     oldest other batchable jobs of that model that may use the backend follow it at once, up
 *     to the tier's `maxBatchSize` together, ahead of everyone else: on free slots first, the
 *     rest into the backend's own queue (OLLAMA_MAX_QUEUE), as pipelined leases that start as its
 *     slots free, with the model already loaded. A batch never goes where no load is paid: a job
 *     whose model is loaded on its backend is granted alone, as always.
 *   - Holding: such a job waits instead (its class is skipped; others may take the slot) while
 *     all of these hold: no free slot it may use has its model loaded; fewer than `maxBatchSize`
 *     batchable jobs of the model wait (the batch is partial); the backend has no more free slots
 *     than those jobs would take (with room to spare, a job of the model arriving later finds the
 *     model loaded and a free slot anyway, so waiting would save no load); and the oldest of them
 *     has waited less than `batchTimeoutSec`. At that moment it is granted, batch or not, and
 *     `nextCapacityChange` / `nextWakeAt` (dispatch.ts) wake the scheduler for it.
 * Followers overtake priority, fair share and FIFO for the length of one batch: the forecast runs
 * this same planner, so the positions shown include it.
 */

interface PlanBackend {
  source: BackendState | null;
  id: string;
  kind: BackendKind;
  pool: string;
  slots: number;
  prefetch: number;
  running: number;
  /** A copy: the plan loads models as it grants. */
  residency: Residency;
  healthy: boolean;
  cooldownUntil: number;
  rpmLimit: number;
  grants: number[];
  grantsStart: number;
}

interface PlanClass {
  tier: TierPolicy;
  model: string;
  /** Candidate backends in the tier's pools, by pool preference rank. */
  preferred: number[];
  rank: number[];
  /** Cloud backends reachable by fallback (only when fallback is open for the class). */
  fallback: number[];
  feasible: boolean;
  localFeasible: boolean;
  /** Expected service time per backend index, filled on first use. */
  service: number[];
  /** Batchable jobs of a batching tier: grouped and held by the rules above. */
  batch: boolean;
  /** Held for a partial batch during the current `next` call. */
  held: boolean;
  /** The model's cost charged to a team's usage per grant. */
  cost: number;
}

/** The classes of one (tier, model), by fallback open × 2 + batch, and whether the tier's pools serve it. */
interface ClassSlots {
  preferredUp: boolean;
  variants: Array<PlanClass | undefined>;
}

/** A model's batchable jobs in seq order; `head` skips granted ones. */
interface BatchGroup {
  jobs: PlanJob[];
  head: number;
}

export interface PlanJob {
  job: WaitingJob;
  /** `job.seq` and whether `job.avoid` is non-empty, here to spare `select` a read of the job per job it looks at. */
  seq: number;
  avoids: boolean;
  native: number;
  level: number;
  user: number;
  team: PlanTeam;
  cls: PlanClass;
  maxRunning: number;
  done: boolean;
}

interface PlanQueue {
  cls: PlanClass;
  jobs: PlanJob[];
  head: number;
}

interface PlanLevel {
  value: number;
  count: number;
  /** Queues per class, indexed by team index. */
  byTeam: Array<PlanQueue[] | undefined>;
  /** Jobs not granted yet per team index: `select` skips teams with none here without looking at their queues. */
  teamCount: Int32Array;
}

export interface PlanTeam {
  index: number;
  id: string;
  weight: number;
  /** Decayed usage divided by the planner's `usageScale` (see `grant`). */
  usage: number;
  /** usage ÷ weight: the fair-share order. */
  key: number;
  minSlots: number;
  localRunning: number;
  /** Jobs of the team not granted yet. */
  waiting: number;
}

export interface Pick {
  pj: PlanJob;
  backend: number;
  /** Granted beyond the backend's slots: its request waits in the backend's queue. */
  pipelined: boolean;
}

/** A lease in a plan; user and team by the planner's own index and record, not looked up by id again. */
export interface PlanLease {
  backend: number;
  user: number;
  team: PlanTeam | undefined;
  local: boolean;
}

export class Planner {
  readonly backends: PlanBackend[] = [];
  readonly jobs: PlanJob[] = [];
  private readonly classes: PlanClass[] = [];
  private readonly byLevel = new Map<number, PlanLevel>();
  /** Levels with jobs, highest first. */
  private levels: PlanLevel[] = [];
  /** Waiting jobs per native priority, for the aging ceiling. */
  private readonly nativeCount = new Map<number, number>();
  private ceiling = Number.NEGATIVE_INFINITY;
  private readonly teams = new Map<string, PlanTeam>();
  private teamOrder: PlanTeam[] = [];
  /** Teams with a guaranteed minimum share and jobs not granted yet: none, and `select` skips step 1. */
  private minShareWaiting = 0;
  private readonly userIndex = new Map<string, number>();
  private userRunning: number[] = [];
  private avail: boolean[] = [];
  /** Whether the last `select` picked by guaranteed minimum share (local slots only). */
  private boosted = false;
  private readonly decay: number;
  /**
   * Every grant decays every team's usage by the same factor, which leaves their order unchanged:
   * teams keep usage ÷ this scale, and a grant multiplies the scale instead of touching each team.
   */
  private usageScale = 1;
  private readonly batchGroups = new Map<string, BatchGroup>();
  /** The rest of the batch being granted: its backend and its followers, in grant order. */
  private batch: { backend: number; jobs: PlanJob[] } | null = null;
  /** When the earliest batch held by the last `next` stops waiting. */
  private holdEnds = Number.POSITIVE_INFINITY;
  remaining = 0;
  /** Grants made by this planner (for decaying usage of teams it does not track). */
  grants = 0;

  constructor(
    private readonly state: SchedulerState,
    readonly now: number,
    jobs: readonly WaitingJob[],
  ) {
    this.decay = usageDecayPerGrant(state);
    for (const backend of Object.values(state.backends)) {
      let grantsStart = 0;
      while (grantsStart < backend.recentGrants.length && backend.recentGrants[grantsStart]! <= now - state.config.rateWindowMs) grantsStart++;
      this.backends.push({
        source: backend,
        id: backend.id,
        kind: backend.kind,
        pool: backend.pool,
        slots: backend.slots,
        prefetch: backend.kind === 'ollama' ? backend.prefetch : 0,
        running: backend.running,
        residency: { ...residencyOf(backend), loaded: [...backend.loadedModels] },
        healthy: backend.healthy,
        cooldownUntil: backend.cooldownUntil,
        rpmLimit: backend.rpmLimit,
        grants: backend.recentGrants.slice(grantsStart),
        grantsStart: 0,
      });
    }

    const teamTier = new Map<string, string>();
    for (const lease of Object.values(state.leases)) teamTier.set(lease.teamId, lease.tier);
    // One pass over the jobs for their teams, tiers and native priorities (the aging ceiling).
    const tiers: Array<TierPolicy | undefined> = new Array(jobs.length);
    const natives = new Float64Array(jobs.length);
    for (let j = 0; j < jobs.length; j++) {
      const job = jobs[j]!;
      teamTier.set(job.teamId, job.tier);
      const tier = (tiers[j] = state.tiers[job.tier]);
      if (!tier) continue;
      const native = nativePriority(job, tier);
      natives[j] = native;
      this.nativeCount.set(native, (this.nativeCount.get(native) ?? 0) + 1);
      if (native > this.ceiling) this.ceiling = native;
    }
    const localSlots = new Map<string, number>();
    for (const [teamId, tierName] of teamTier) {
      const tier = state.tiers[tierName];
      let minSlots = 0;
      if (tier && tier.minShare > 0) {
        let slots = localSlots.get(tier.name);
        if (slots === undefined) {
          slots = 0;
          for (const backend of Object.values(state.backends)) {
            if (backend.kind === 'ollama' && tier.poolPreference.includes(backend.pool) && isBackendUp(backend, now)) slots += backend.slots;
          }
          localSlots.set(tier.name, slots);
        }
        minSlots = tier.minShare * slots;
      }
      const usage = state.teamUsage[teamId] ?? 0;
      const weight = tier && tier.weight > 0 ? tier.weight : 1;
      this.teams.set(teamId, { index: this.teams.size, id: teamId, weight, usage, key: usage / weight, minSlots, localRunning: 0, waiting: 0 });
    }
    for (const lease of Object.values(state.leases)) {
      this.userRunning[this.user(lease.userId)]! += 1;
      if (lease.kind === 'ollama') this.teams.get(lease.teamId)!.localRunning++;
    }
    this.teamOrder = [...this.teams.values()].sort(compareTeams);

    const aging = state.config.aging;
    const slotsByTier = new Map<TierPolicy, Map<string, ClassSlots>>();
    for (let j = 0; j < jobs.length; j++) {
      const job = jobs[j]!;
      const tier = tiers[j];
      if (!tier) continue;
      let byModel = slotsByTier.get(tier);
      if (!byModel) slotsByTier.set(tier, (byModel = new Map()));
      let slots = byModel.get(job.model);
      if (!slots) byModel.set(job.model, (slots = { preferredUp: this.preferredUp(tier, job.model), variants: [] }));
      const fallbackOpen = tier.cloudFallback && (job.fallbackSince !== null || !slots.preferredUp);
      const batch = tier.batchEnabled && job.batchable;
      const variant = (fallbackOpen ? 2 : 0) + (batch ? 1 : 0);
      let cls = slots.variants[variant];
      if (!cls) {
        cls = slots.variants[variant] = this.makeClass(tier, job.model, fallbackOpen, batch);
        this.classes.push(cls);
      }
      const native = natives[j]!;
      const level = agedPriority(native, job.enqueuedAt, now, aging, this.ceiling);
      const team = this.teams.get(job.teamId)!;
      const pj: PlanJob = { job, seq: job.seq, avoids: job.avoid.length > 0, native, level, user: this.user(job.userId), team, cls, maxRunning: tier.maxRunningPerUser, done: false };
      this.jobs.push(pj);
      // `jobs` arrive in seq order (state.waiting is kept that way), so queues are FIFO already.
      const planLevel = this.levelAt(level);
      this.queueAt(planLevel, team.index, cls).jobs.push(pj);
      if (batch) {
        let group = this.batchGroups.get(job.model);
        if (!group) this.batchGroups.set(job.model, (group = { jobs: [], head: 0 }));
        group.jobs.push(pj);
      }
      planLevel.count++;
      planLevel.teamCount[team.index]!++;
      if (team.waiting++ === 0 && team.minSlots > 0) this.minShareWaiting++;
      this.remaining++;
    }
    this.sortLevels();
  }

  private user(userId: string): number {
    let index = this.userIndex.get(userId);
    if (index === undefined) {
      index = this.userRunning.length;
      this.userIndex.set(userId, index);
      this.userRunning.push(0);
    }
    return index;
  }

  private sortLevels(): void {
    this.levels = [...this.byLevel.values()].filter((level) => level.count > 0).sort((a, b) => b.value - a.value);
  }

  private levelAt(value: number): PlanLevel {
    let level = this.byLevel.get(value);
    if (!level) {
      level = { value, count: 0, byTeam: [], teamCount: new Int32Array(this.teams.size) };
      this.byLevel.set(value, level);
    }
    return level;
  }

  private queueAt(level: PlanLevel, team: number, cls: PlanClass): PlanQueue {
    const queues = (level.byTeam[team] ??= []);
    for (let q = 0; q < queues.length; q++) if (queues[q]!.cls === cls) return queues[q]!;
    const queue: PlanQueue = { cls, jobs: [], head: 0 };
    queues.push(queue);
    return queue;
  }

  /**
   * The last job of the top native priority has been granted: the ceiling falls to the next native
   * level, and aged jobs above it come down to it — exactly what a later `dispatch` would compute
   * from the remaining jobs.
   */
  private lowerCeiling(): void {
    let ceiling = Number.NEGATIVE_INFINITY;
    for (const [native, count] of this.nativeCount) if (count > 0 && native > ceiling) ceiling = native;
    this.ceiling = ceiling;
    if (ceiling === Number.NEGATIVE_INFINITY) return;
    let moved = false;
    for (const level of this.levels) {
      if (level.value <= ceiling) break;
      if (level.count === 0) continue;
      moved = true;
      const into = this.levelAt(ceiling);
      level.byTeam.forEach((queues, team) => {
        for (const queue of queues ?? []) {
          const jobs = queue.jobs;
          let first = queue.head;
          while (first < jobs.length && jobs[first]!.done) first++;
          if (first === jobs.length) continue;
          let last = jobs.length - 1;
          while (jobs[last]!.done) last--;
          for (let k = first; k <= last; k++) if (!jobs[k]!.done) jobs[k]!.level = ceiling;
          const target = this.queueAt(into, team, queue.cls);
          let kept = target.head;
          while (kept < target.jobs.length && target.jobs[kept]!.done) kept++;
          if (kept === target.jobs.length || target.jobs[kept]!.seq > jobs[last]!.seq) {
            // Everything the target holds came after the jobs moving down (the usual case: only young
            // jobs have not aged up to the ceiling): they go in front, with no merge. Granted jobs
            // left in the array are skipped as in any queue.
            for (let k = kept; k < target.jobs.length; k++) if (!target.jobs[k]!.done) jobs.push(target.jobs[k]!);
            target.jobs = jobs;
            target.head = first;
          } else {
            const rest = jobs.slice(first).filter((pj) => !pj.done);
            target.jobs = mergeBySeq(target.jobs.slice(target.head).filter((pj) => !pj.done), rest);
            target.head = 0;
          }
        }
        into.teamCount[team]! += level.teamCount[team]!;
      });
      into.count += level.count;
      this.byLevel.delete(level.value);
    }
    if (moved) this.sortLevels();
  }

  /** Leases held now, as the simulation must end them. */
  currentLeases(): Array<{ lease: Lease; plan: PlanLease }> {
    const index = new Map(this.backends.map((backend, i) => [backend.id, i]));
    return Object.values(this.state.leases).map((lease) => ({
      lease,
      plan: { backend: index.get(lease.backendId) ?? -1, user: this.user(lease.userId), team: this.teams.get(lease.teamId), local: lease.kind === 'ollama' },
    }));
  }

  private preferredUp(tier: TierPolicy, model: string): boolean {
    for (const backend of this.backends) {
      if (tier.poolPreference.includes(backend.pool) && backend.healthy && this.now >= backend.cooldownUntil && backend.source?.models.includes(model)) {
        return true;
      }
    }
    return false;
  }

  private makeClass(tier: TierPolicy, model: string, fallbackOpen: boolean, batch: boolean): PlanClass {
    const preferred: Array<{ index: number; rank: number }> = [];
    const fallback: number[] = [];
    this.backends.forEach((backend, index) => {
      if (!backend.source?.models.includes(model)) return;
      const rank = tier.poolPreference.indexOf(backend.pool);
      if (rank >= 0) preferred.push({ index, rank });
      else if (fallbackOpen && backend.kind === 'openai') fallback.push(index);
    });
    preferred.sort((a, b) => a.rank - b.rank || a.index - b.index);
    return {
      tier,
      model,
      preferred: preferred.map((p) => p.index),
      rank: preferred.map((p) => p.rank),
      fallback,
      feasible: false,
      localFeasible: false,
      service: [],
      batch,
      held: false,
      cost: this.state.config.modelCost[model] ?? 1,
    };
  }

  hasCapacity(backend: PlanBackend, at: number): boolean {
    if (!backend.healthy || at < backend.cooldownUntil || backend.running >= backend.slots) return false;
    if (backend.rpmLimit > 0) {
      const windowStart = at - this.state.config.rateWindowMs;
      while (backend.grantsStart < backend.grants.length && backend.grants[backend.grantsStart]! <= windowStart) backend.grantsStart++;
      if (backend.grants.length - backend.grantsStart >= backend.rpmLimit) return false;
    }
    return true;
  }

  /** Room for a pipelined lease: every slot held, the queue allowance not used up. */
  private hasPipelineRoom(backend: PlanBackend, at: number): boolean {
    return (
      backend.prefetch > 0 &&
      backend.healthy &&
      at >= backend.cooldownUntil &&
      backend.running >= backend.slots &&
      backend.running < backend.slots + backend.prefetch
    );
  }

  /**
   * Earliest time after `at` when a backend regains capacity for a reason other than a lease
   * ending, or a batch held by the last `next` stops waiting.
   */
  nextCapacityChange(at: number): number {
    let next = this.holdEnds > at ? this.holdEnds : Number.POSITIVE_INFINITY;
    for (const backend of this.backends) {
      if (!backend.healthy) continue;
      if (backend.cooldownUntil > at) next = Math.min(next, backend.cooldownUntil);
      if (backend.rpmLimit > 0 && backend.running < backend.slots) {
        const inWindow = backend.grants.length - backend.grantsStart;
        if (inWindow >= backend.rpmLimit) {
          next = Math.min(next, backend.grants[backend.grants.length - backend.rpmLimit]! + this.state.config.rateWindowMs);
        }
      }
    }
    return next;
  }

  /** The next (job, backend) pair to grant at time `at`, or null when no eligible pair exists. */
  next(at: number): Pick | null {
    if (this.remaining === 0) return null;
    const follower = this.nextFollower(at);
    if (follower) return follower;
    const avail = this.avail;
    let free = false;
    let room = false;
    for (const cls of this.classes) cls.held = false;
    this.holdEnds = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.backends.length; i++) {
      avail[i] = this.hasCapacity(this.backends[i]!, at);
      free ||= avail[i]!;
    }
    if (free) {
      for (let pj = this.select(at); pj; pj = this.select(at)) {
        const backend = this.place(pj, this.boosted, false, at);
        if (!pj.cls.batch || this.backends[backend]!.kind !== 'ollama' || switchCost(this.backends[backend]!, pj.cls.model) === 0) {
          return { pj, backend, pipelined: false };
        }
        const holdUntil = this.holdUntil(pj, backend, at);
        if (holdUntil === null) {
          this.startBatch(pj, backend);
          return { pj, backend, pipelined: false };
        }
        pj.cls.held = true;
        this.holdEnds = Math.min(this.holdEnds, holdUntil);
      }
    }
    for (let i = 0; i < this.backends.length; i++) {
      avail[i] = this.hasPipelineRoom(this.backends[i]!, at);
      room ||= avail[i]!;
    }
    while (room) {
      const pj = this.select(at);
      if (!pj) return null;
      const backend = this.place(pj, this.boosted, true, at);
      if (backend >= 0) return { pj, backend, pipelined: true };
      // Its model is loaded nowhere with room: it keeps its backends for itself.
      room = false;
      for (const i of pj.cls.preferred) avail[i] = false;
      for (let i = 0; i < this.backends.length; i++) room ||= avail[i]!;
    }
    return null;
  }

  /** The model's batchable jobs not granted yet, oldest first. */
  private waitingBatch(model: string): PlanJob[] {
    const group = this.batchGroups.get(model)!;
    while (group.head < group.jobs.length && group.jobs[group.head]!.done) group.head++;
    return group.jobs.slice(group.head).filter((pj) => !pj.done);
  }

  /**
   * When a batchable job that must load its model on `backend` stops waiting for its batch to
   * fill (see the header), or null when it should be granted now.
   */
  private holdUntil(pj: PlanJob, backend: number, at: number): number | null {
    const { tier, model } = pj.cls;
    for (const i of [...pj.cls.preferred, ...pj.cls.fallback]) {
      if (this.avail[i] && switchCost(this.backends[i]!, model) === 0 && !pj.job.avoid.includes(this.backends[i]!.id)) return null;
    }
    const waiting = this.waitingBatch(model);
    if (waiting.length >= tier.maxBatchSize) return null;
    const target = this.backends[backend]!;
    if (target.slots - target.running > waiting.length) return null;
    const until = waiting[0]!.job.enqueuedAt + tier.batchTimeoutSec * 1000;
    return at < until ? until : null;
  }

  /** `leader` pays a model load on `backend`: the oldest batchable jobs of its model follow it there. */
  private startBatch(leader: PlanJob, backend: number): void {
    const id = this.backends[backend]!.id;
    const followers = this.waitingBatch(leader.cls.model)
      .filter((pj) => pj !== leader && (pj.cls.preferred.includes(backend) || pj.cls.fallback.includes(backend)) && !pj.job.avoid.includes(id))
      .slice(0, leader.cls.tier.maxBatchSize - 1);
    this.batch = followers.length > 0 ? { backend, jobs: followers } : null;
  }

  /**
   * The next follower of the batch being granted, on a free slot or else in the backend's queue;
   * followers whose user reached its limit meanwhile, or whose backend went down, are left waiting.
   */
  private nextFollower(at: number): Pick | null {
    const batch = this.batch;
    if (!batch) return null;
    const backend = this.backends[batch.backend]!;
    for (let pj = batch.jobs.shift(); pj; pj = batch.jobs.shift()) {
      if (pj.done || !backend.healthy || at < backend.cooldownUntil) continue;
      if (pj.maxRunning > 0 && this.userRunning[pj.user]! >= pj.maxRunning) continue;
      return { pj, backend: batch.backend, pipelined: backend.running >= backend.slots };
    }
    this.batch = null;
    return null;
  }

  /** The first job in dispatch order that can use a backend marked in `avail`. */
  private select(at: number): PlanJob | null {
    const avail = this.avail;
    let anyClass = false;
    for (const cls of this.classes) {
      cls.feasible = false;
      cls.localFeasible = false;
      if (cls.held) continue;
      for (const i of cls.preferred) {
        if (!avail[i]) continue;
        cls.feasible = true;
        if (this.backends[i]!.kind === 'ollama') {
          cls.localFeasible = true;
          break;
        }
      }
      if (!cls.feasible) for (const i of cls.fallback) if (avail[i]) cls.feasible = true;
      anyClass ||= cls.feasible;
    }
    if (!anyClass) return null;

    // 1. Guaranteed minimum share of local slots.
    let boosted: PlanJob | null = null;
    if (this.minShareWaiting > 0) {
      for (const team of this.teamOrder) {
        if (team.minSlots <= 0 || team.localRunning >= team.minSlots || team.waiting === 0) continue;
        for (const level of this.levels) {
          if (boosted && level.value <= boosted.level) break;
          if (level.teamCount[team.index] === 0) continue;
          const candidate = this.firstEligible(level.byTeam[team.index]!, true, at);
          if (candidate) {
            boosted = candidate;
            break;
          }
        }
      }
    }
    this.boosted = boosted !== null;
    if (boosted) return boosted;

    // 2–4. Priority level, then the team furthest below its weighted share, then FIFO.
    const order = this.teamOrder;
    for (const level of this.levels) {
      if (level.count === 0) continue;
      const byTeam = level.byTeam;
      const teamCount = level.teamCount;
      for (let t = 0; t < order.length; t++) {
        const index = order[t]!.index;
        if (teamCount[index] === 0) continue;
        let best = this.firstEligible(byTeam[index]!, false, at);
        if (!best) continue;
        const key = order[t]!.key;
        for (let u = t + 1; u < order.length && order[u]!.key === key; u++) {
          const other = order[u]!.index;
          const candidate = teamCount[other] === 0 ? null : this.firstEligible(byTeam[other]!, false, at);
          if (candidate && candidate.seq < best.seq) best = candidate;
        }
        return best;
      }
    }
    return null;
  }

  private firstEligible(queues: PlanQueue[], localOnly: boolean, at: number): PlanJob | null {
    let best: PlanJob | null = null;
    const running = this.userRunning;
    for (let q = 0; q < queues.length; q++) {
      const queue = queues[q]!;
      if (!(localOnly ? queue.cls.localFeasible : queue.cls.feasible)) continue;
      const jobs = queue.jobs;
      while (queue.head < jobs.length && jobs[queue.head]!.done) queue.head++;
      for (let i = queue.head; i < jobs.length; i++) {
        const pj = jobs[i]!;
        if (pj.done) continue;
        if (best && pj.seq > best.seq) break;
        if (pj.maxRunning > 0 && running[pj.user]! >= pj.maxRunning) continue;
        // A failed-over job whose free backends are all ones it failed on waits for another.
        if (pj.avoids && this.place(pj, localOnly, false, at) < 0) continue;
        best = pj;
        break;
      }
    }
    return best;
  }

  /**
   * Pool preference, then model affinity (loaded < room to load < must evict another model), then
   * the least loaded. Affinity never reorders jobs, only chooses among free slots. Backends the job
   * failed on are taken only when no other backend that could serve it is up, busy or not: sent
   * straight back to a backend that just failed it (a dead one, before the health check notices),
   * a job would spend its grants there and be dead-lettered. `noEviction` (pipelining): only
   * backends that have the model loaded or room to load it; -1 when there is none.
   */
  private place(pj: PlanJob, localOnly: boolean, noEviction: boolean, at: number): number {
    if (!pj.avoids) return this.placeAmong(pj, localOnly, noEviction, null);
    const avoid = pj.job.avoid;
    const elsewhere = this.placeAmong(pj, localOnly, noEviction, avoid);
    if (elsewhere >= 0 || this.otherBackendUp(pj, avoid, at)) return elsewhere;
    return this.placeAmong(pj, localOnly, noEviction, null);
  }

  /** Whether a backend the job has not failed on could serve it, now or once a slot frees. */
  private otherBackendUp(pj: PlanJob, avoid: readonly string[], at: number): boolean {
    const up = (i: number) => {
      const backend = this.backends[i]!;
      return backend.healthy && backend.cooldownUntil <= at && !avoid.includes(backend.id);
    };
    return pj.cls.preferred.some(up) || pj.cls.fallback.some(up);
  }

  private placeAmong(pj: PlanJob, localOnly: boolean, noEviction: boolean, avoid: readonly string[] | null): number {
    const cls = pj.cls;
    let best = -1;
    let bestRank = 0;
    for (let k = 0; k < cls.preferred.length; k++) {
      const i = cls.preferred[k]!;
      if (this.unusable(i, cls.model, noEviction, avoid) || (localOnly && this.backends[i]!.kind !== 'ollama')) continue;
      const rank = cls.rank[k]!;
      if (best < 0 || rank < bestRank || (rank === bestRank && this.better(i, best, cls.model))) {
        best = i;
        bestRank = rank;
      }
    }
    if (best >= 0 || localOnly) return best;
    for (const i of cls.fallback) {
      if (!this.unusable(i, cls.model, noEviction, avoid) && (best < 0 || this.better(i, best, cls.model))) best = i;
    }
    return best;
  }

  // A method rather than a closure in placeAmong: that runs once per grant of a forecast, thousands of times.
  private unusable(i: number, model: string, noEviction: boolean, avoid: readonly string[] | null): boolean {
    return !this.avail[i] || (avoid !== null && avoid.includes(this.backends[i]!.id)) || (noEviction && switchCost(this.backends[i]!, model) > 1);
  }

  private better(a: number, b: number, model: string): boolean {
    const x = this.backends[a]!;
    const y = this.backends[b]!;
    const xCost = switchCost(x, model);
    const yCost = switchCost(y, model);
    if (xCost !== yCost) return xCost < yCost;
    const xLoad = x.running / x.slots;
    const yLoad = y.running / y.slots;
    if (xLoad !== yLoad) return xLoad < yLoad;
    if (x.running !== y.running) return x.running < y.running;
    return x.id < y.id;
  }

  grant(pick: Pick, at: number): void {
    const { pj } = pick;
    const backend = this.backends[pick.backend]!;
    pj.done = true;
    this.remaining--;
    const level = this.byLevel.get(pj.level)!;
    level.count--;
    level.teamCount[pj.team.index]!--;
    if (--pj.team.waiting === 0 && pj.team.minSlots > 0) this.minShareWaiting--;
    const sameNative = this.nativeCount.get(pj.native)! - 1;
    this.nativeCount.set(pj.native, sameNative);
    if (sameNative === 0 && pj.native === this.ceiling) this.lowerCeiling();
    backend.running++;
    if (backend.kind === 'ollama') loadModel(backend.residency, pj.cls.model);
    if (backend.rpmLimit > 0) backend.grants.push(at);
    this.userRunning[pj.user]! += 1;
    this.usageScale *= this.decay;
    // Far below any usage a team keeps (it halves every 200 grants): fold the scale back in before
    // the scaled values overflow.
    if (this.usageScale < 1e-150) {
      for (const team of this.teamOrder) {
        team.usage *= this.usageScale;
        team.key = team.usage / team.weight;
      }
      this.usageScale = 1;
    }
    const team = pj.team;
    team.usage += pj.cls.cost / this.usageScale;
    team.key = team.usage / team.weight;
    this.grants++;
    if (backend.kind === 'ollama') team.localRunning++;
    this.moveUp(team);
  }

  release(lease: PlanLease): void {
    const backend = this.backends[lease.backend];
    if (backend) backend.running = Math.max(0, backend.running - 1);
    this.userRunning[lease.user]! -= 1;
    if (lease.team && lease.local) lease.team.localRunning--;
  }

  expectedServiceMs(pick: Pick): number {
    const cached = pick.pj.cls.service[pick.backend];
    if (cached !== undefined) return cached;
    return (pick.pj.cls.service[pick.backend] = expectedServiceMs(this.state, pick.pj.cls.model, this.backends[pick.backend]!.id));
  }

  /** Whether some backend could ever serve the job (for reporting why it is blocked). */
  blockedReason(pj: PlanJob): BlockedReason {
    return pj.cls.preferred.length + pj.cls.fallback.length === 0 ? 'no-backend-for-model' : 'backends-down';
  }

  /** Usage after the plan, for the teams the planner tracked. */
  teamUsage(): Array<[string, number]> {
    return this.teamOrder.map((team) => [team.id, team.usage * this.usageScale]);
  }

  /**
   * `team`'s key grew: it moves towards the end of the order, past the teams now below it. A walk,
   * not a bisection: the shift past them costs as much, and a walk needs no order it can trust (a
   * key may be NaN, or fall with a model cost below zero).
   */
  private moveUp(team: PlanTeam): void {
    const order = this.teamOrder;
    let i = order.indexOf(team);
    while (i + 1 < order.length && compareTeams(order[i + 1]!, team) < 0) {
      order[i] = order[i + 1]!;
      i++;
    }
    order[i] = team;
  }
}

function mergeBySeq(a: PlanJob[], b: PlanJob[]): PlanJob[] {
  const merged: PlanJob[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) merged.push(a[i]!.seq <= b[j]!.seq ? a[i++]! : b[j++]!);
  while (i < a.length) merged.push(a[i++]!);
  while (j < b.length) merged.push(b[j++]!);
  return merged;
}

function switchCost(backend: PlanBackend, model: string): number {
  return backend.kind === 'ollama' ? residencySwitchCost(backend.residency, model) : 0;
}

function compareTeams(a: PlanTeam, b: PlanTeam): number {
  return a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
