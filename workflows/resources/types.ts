/**
 * Data of the resource manager: what it samples, what it decides and what it keeps between
 * samples. Plain JSON (it lives in workflow history and crosses queries), times in epoch ms passed
 * in by the caller.
 */

/** The seed's `autoScaling` block, per pool of local (Ollama) instances. */
export interface AutoScalingConfig {
  minInstances: number;
  maxInstances: number;
  /** Scale out while the queue is at least this deep (median over the window). */
  scaleUpQueueDepth: number;
  /** Scale in only while the queue never exceeded this (over the whole window). */
  scaleDownQueueDepth: number;
  /** Since the last scale-out. */
  scaleUpCooldownMs: number;
  /** Since the last recommendation of either kind (or since the pool was first seen). */
  scaleDownCooldownMs: number;
}

export interface ResourceConfig {
  /** Backends are probed and the scheduler sampled this often. */
  sampleIntervalMs: number;
  /** Samples kept per pool; decisions read medians over them, so one spike decides nothing. */
  windowSize: number;
  /** Consecutive failed probes before a backend is marked down (one success brings it back). */
  probeFailuresToDown: number;
  /** Tiers that allow cloud fallback go to cloud at once while a pool's wait (see decide.ts) exceeds this. */
  preferCloudAfterWaitMs: number;
  autoScaling: AutoScalingConfig;
}

/** One pool as the scheduler sees it at one moment (from its status query). */
export interface PoolLoad {
  pool: string;
  /** Ollama instances in the pool (cloud endpoints are not scaled). */
  instances: number;
  slots: number;
  /** Slots of backends that are healthy and not cooling down. */
  upSlots: number;
  busy: number;
  /** Waiting jobs whose planned (or preferred) pool this is. */
  queueDepth: number;
  /** How long the longest-waiting of them has waited. */
  oldestWaitMs: number;
  /** Forecast wait of the last of them to start: what a job arriving now should expect at least. */
  expectedWaitMs: number;
}

export interface PoolSample extends PoolLoad {
  at: number;
}

export interface ProbeResult {
  backendId: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** What one tick of the loop sees: the scheduler's view and the probes made just now. */
export interface ResourceSample {
  pools: PoolLoad[];
  /** The scheduler's health flag per backend. */
  backends: { id: string; pool: string; healthy: boolean }[];
  /** Pools the scheduler currently routes around (see routing.ts). */
  pressuredPools: string[];
  /** Only backends this worker can reach; the others keep their flag. */
  probes: ProbeResult[];
}

export type ScaleAction = 'scale_out' | 'scale_in';

export interface ScaleRecommendation {
  pool: string;
  action: ScaleAction;
  currentInstances: number;
  targetInstances: number;
  reason: string;
  at: number;
  queueDepth: number;
  busy: number;
  slots: number;
}

export interface BackendHealth {
  pool: string;
  healthy: boolean;
  /** Consecutive failed probes. */
  failures: number;
  latencyMs: number;
  error: string | null;
  checkedAt: number;
}

export interface HookOutcome {
  at: number;
  pool: string;
  ok: boolean;
  error: string | null;
}

export interface ResourceState {
  /** Most recent samples per pool, oldest first, at most `windowSize`. */
  window: Record<string, PoolSample[]>;
  health: Record<string, BackendHealth>;
  /** Pools whose wait is past the threshold (what the scheduler should route around). */
  pressuredPools: string[];
  /** Per pool: last scale-out recommendation, and last recommendation of either kind (or first sight). */
  lastScale: Record<string, { out: number; any: number }>;
  /** Latest recommendation per pool. */
  recommendations: Record<string, ScaleRecommendation>;
  lastHook: HookOutcome | null;
  sampledAt: number;
}

export interface Decision {
  /** Health flags the scheduler must change. */
  health: { backendId: string; healthy: boolean }[];
  /** New pressured pools for the scheduler; null when it already has them. */
  routing: string[] | null;
  /** Recommendations made on this tick (for the scale hook). */
  recommendations: ScaleRecommendation[];
}

/** What admins and /metrics see. */
export interface ResourceStatus {
  sampledAt: number;
  config: ResourceConfig;
  pools: Array<
    PoolSample & {
      pressured: boolean;
      /** Median over the window of max(oldest wait, forecast wait): what routing compares with its threshold. */
      medianWaitMs: number;
      recommendation: ScaleRecommendation | null;
    }
  >;
  backends: Array<{ id: string } & BackendHealth>;
  lastHook: HookOutcome | null;
}
