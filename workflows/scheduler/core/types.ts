/**
 * Plain, JSON-serialisable data of the scheduler. It lives in the state of a long-lived Temporal
 * workflow (and is carried across continue-as-new) and crosses into query results, so: records and
 * arrays only — no Map, Set, class instances, `undefined`-as-meaning or Infinity (JSON turns
 * Infinity into null). Times are epoch milliseconds passed in by the caller; nothing here reads a
 * clock.
 */

/** Admin-editable tier, mirrors prisma `Tier` minus budget/prompt fields (admission, not scheduling). */
export interface TierPolicy {
  name: string;
  /** Relative share of capacity between teams under contention; > 0. */
  weight: number;
  basePriority: number;
  /** 0 means no limit (as `tokenBudget` 0 means unlimited in the schema). */
  maxRunningPerUser: number;
  /** Enforced by `enqueue`; 0 means no limit. */
  maxQueuedPerUser: number;
  /** Empty = every model. */
  allowedModels: string[];
  /** Pools whose backends may serve this tier, most preferred first. */
  poolPreference: string[];
  /** May jobs go to a cloud backend outside `poolPreference` (see `dispatch`)? */
  cloudFallback: boolean;
  /** Fallback once waited + expected remaining wait exceeds this. */
  cloudFallbackAfterSec: number;
  /**
   * Fraction of the local (ollama) slots in this tier's pools that each team of the tier gets ahead
   * of everyone else while it has eligible work; above it the team competes normally (burst).
   */
  minShare: number;
  /**
   * Batching (see planner.ts): batchable jobs of one model that must load it are granted together
   * to one backend, up to `maxBatchSize`, and a partial batch may wait up to `batchTimeoutSec` for
   * more when that saves a model load.
   */
  batchEnabled: boolean;
  /** Jobs granted together at most, the first included; ≥ 1. */
  maxBatchSize: number;
  /** Longest a partial batch waits, counted from its oldest job's arrival; 0 = never waits. */
  batchTimeoutSec: number;
}

export type BackendKind = 'ollama' | 'openai';

export interface BackendState {
  id: string;
  kind: BackendKind;
  pool: string;
  /** Ollama: its parallel setting. Cloud: maximum concurrent requests we allow ourselves. */
  slots: number;
  /**
   * Leases granted beyond `slots` (ollama): their requests wait in the backend's own queue
   * (OLLAMA_MAX_QUEUE) and start the moment a slot frees, with no scheduler round trip in between.
   * Only jobs of a model already loaded there are pipelined (see planner.ts). 0 = none; cloud: 0.
   */
  prefetch: number;
  models: string[];
  /**
   * Models resident in memory, most recently used first (ollama): read from the backend's /api/ps
   * by the resource loop, and in between predicted from grants (core/residency.ts).
   */
  loadedModels: string[];
  /** How many models the backend keeps resident (OLLAMA_MAX_LOADED_MODELS). */
  maxLoadedModels: number;
  /** Memory its loaded models may take together, set by an admin; 0 = unset (see `peakLoadedMb`). */
  memoryBudgetMb: number;
  /** The largest total the backend was read holding at once: its budget while none is set. */
  peakLoadedMb: number;
  /** Memory each model takes loaded, by catalogue name, as last read. */
  modelSizesMb: Record<string, number>;
  /** Set by health checks (`markBackendHealth`); an admin disabling a backend also sets false. */
  healthy: boolean;
  /** No grants before this time (circuit breaker). 0 = not cooling down. */
  cooldownUntil: number;
  /** Consecutive cooldowns without a success in between; doubles the next cooldown. */
  cooldownLevel: number;
  /** Failure times inside the breaker window. */
  recentFailures: number[];
  /**
   * Leases currently held on this backend (kept equal to the count in `SchedulerState.leases`),
   * pipelined ones included: min(running, slots) slots are busy, the rest wait in its queue.
   */
  running: number;
  /** Cloud: requests per minute we may start; 0 = no limit. */
  rpmLimit: number;
  /** Cloud: grant times inside the last rate window, ascending. */
  recentGrants: number[];
}

export interface WaitingJob {
  jobId: string;
  teamId: string;
  userId: string;
  tier: string;
  model: string;
  priority: number;
  /** Admin boost, added to the effective priority. */
  boost: number;
  enqueuedAt: number;
  /** Arrival order; the FIFO tie-break. */
  seq: number;
  /**
   * Set once `dispatch` judged the expected wait past the tier's cloud threshold; sticky so the
   * decision does not flap as estimates move.
   */
  fallbackSince: number | null;
  /**
   * Backends this job already failed on (a retry after a backend error): placement prefers any
   * other free backend and takes one of these only when nothing else is free.
   */
  avoid: string[];
  /**
   * Short work that may be granted together with other jobs of its model (review items, generation
   * marked simple); batched only while its tier has `batchEnabled`.
   */
  batchable: boolean;
}

export type Route = 'preferred' | 'fallback';

export interface Lease {
  /** = jobId: a job holds at most one lease, and a retried grant/release is idempotent. */
  leaseId: string;
  jobId: string;
  backendId: string;
  pool: string;
  kind: BackendKind;
  model: string;
  teamId: string;
  userId: string;
  tier: string;
  route: Route;
  enqueuedAt: number;
  grantedAt: number;
  /**
   * When its request got a slot: `grantedAt` for a grant on a free slot; for a pipelined grant,
   * null while it waits in the backend's queue, then the release that freed a slot for it
   * (leases of a backend reach its slots in grant order, as its FIFO queue serves them).
   */
  startedAt: number | null;
}

export interface ServiceSample {
  /** Exponentially weighted mean service time. */
  meanMs: number;
  samples: number;
}

/** Keys: `model` and `backendId + '\u0000' + model`; bounded by backends × models. */
export type ServiceStats = Record<string, ServiceSample>;

export interface AgingConfig {
  /** +1 effective priority per this much waiting. */
  stepMs: number;
  /** Aging never adds more than this. */
  max: number;
}

export interface BreakerConfig {
  /** This many failures inside `windowMs` … */
  failureThreshold: number;
  windowMs: number;
  /** … cool the backend down for this long, doubling per consecutive cooldown up to `maxCooldownMs`. */
  cooldownMs: number;
  maxCooldownMs: number;
}

export interface SchedulerConfig {
  aging: AgingConfig;
  /**
   * Half-life of the per-team usage behind fair share, counted in grants (of this scheduler), not
   * in time: every grant multiplies all teams' usage by 2^(−1/half-life) before charging the
   * granted team. Decay per grant depends only on the sequence of grants, which the forecast
   * replays exactly; decay per unit of time would make a forecast made now disagree with grants
   * made later (a charge added after more decay weighs more), breaking "position = start order".
   */
  usageHalfLifeGrants: number;
  /** Usage charged per grant, by model (e.g. relative GPU cost); default 1. */
  modelCost: Record<string, number>;
  /** Service time assumed for a model nothing has been measured for. */
  defaultServiceMs: number;
  /** Weight of a new sample in the service-time mean. */
  serviceAlpha: number;
  breaker: BreakerConfig;
  /** Cloud rate-limit window (rpm → 60 000). */
  rateWindowMs: number;
}

export interface SchedulerState {
  config: SchedulerConfig;
  tiers: Record<string, TierPolicy>;
  backends: Record<string, BackendState>;
  /** Waiting jobs in arrival (seq) order. */
  waiting: WaitingJob[];
  leases: Record<string, Lease>;
  /** Decayed usage per team (see `usageHalfLifeGrants`). */
  teamUsage: Record<string, number>;
  /** The caller's clock at creation; informational. */
  createdAt: number;
  serviceStats: ServiceStats;
  nextSeq: number;
}

export interface Grant {
  jobId: string;
  leaseId: string;
  backendId: string;
  pool: string;
  kind: BackendKind;
  model: string;
  route: Route;
  waitedMs: number;
  /**
   * When the scheduler made this grant (its clock): tells a copy of an old grant from a new one,
   * since grants are sent at least once.
   */
  grantedAt: number;
}

export type BlockedReason =
  /** No backend in the tier's pools (or cloud, when allowed) serves the model at all. */
  | 'no-backend-for-model'
  /** Backends serve it but all of them are unhealthy or cooling down with no end in sight. */
  | 'backends-down'
  /** The job's tier was deleted after it was queued. */
  | 'unknown-tier';

export interface JobPosition {
  jobId: string;
  teamId: string;
  userId: string;
  tier: string;
  model: string;
  /** Jobs that would start before this one if nothing new arrived (0 = next). */
  position: number;
  /** Expected time until start, from now; null when blocked. */
  etaMs: number | null;
  /** Where the simulation placed it. */
  backendId: string | null;
  pool: string | null;
  effectivePriority: number;
  blocked: BlockedReason | null;
}

export type EnqueueRequest = Pick<WaitingJob, 'jobId' | 'teamId' | 'userId' | 'tier' | 'model'> &
  Partial<Pick<WaitingJob, 'priority' | 'boost' | 'avoid' | 'batchable'>>;

export type EnqueueResult =
  | { ok: true; job: WaitingJob; duplicate: boolean }
  | { ok: false; reason: 'unknown-tier' | 'model-not-allowed' | 'user-queue-full' | 'already-running' };
