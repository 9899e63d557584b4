import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BackendInit, CarriedState, EnqueueRequest, Grant, JobPosition, QueueSnapshot, ResidencyReport, SchedulerConfig, TierPolicy } from './core';
import type { PoolLoad } from '../resources/types';

/** A job asking for capacity brings its tier as read from the database with it. */
export type CapacityRequest = EnqueueRequest & { tierPolicy: TierPolicy };

/**
 * How job workflows, workers and the web talk to the scheduler workflow. Kept apart from the
 * scheduler's code so the web process imports definitions only.
 */

/** One scheduler per task queue: the workers of a queue share its pools. */
export const schedulerWorkflowId = (taskQueue: string) => `scheduler-${taskQueue}`;

/**
 * The scheduler's own task queue, apart from its jobs': a burst of submissions fills the jobs'
 * queue with thousands of first workflow tasks, and the first task of each new scheduler run
 * (after continue-as-new) would wait behind all of them, every slot idle meanwhile.
 */
export const schedulerTaskQueue = (taskQueue: string) => schedulerWorkflowId(taskQueue);

export interface SchedulerSetup {
  tiers: TierPolicy[];
  backends: BackendInit[];
}

/** The failure type a scheduler run sees when its predecessor's waiting list is not stored. */
export const WAITING_LIST_MISSING = 'WaitingListMissing';

/** A scheduler run's waiting list as stored for the next run: `parts` parts under the writing run's id. */
export interface WaitingRef {
  runId: string;
  parts: number;
  jobs: number;
}

export interface SchedulerInput {
  setup: SchedulerSetup;
  /** How often leases are checked against their jobs' workflows; default 30 s. */
  leaseCheckMs?: number;
  /** Continue-as-new past this many history events; default 8,000 (tests lower it). */
  historyLimit?: number;
  /** Overrides of the scheduling constants (aging, breaker, …) for a fresh start; tests shorten them. */
  config?: Partial<SchedulerConfig>;
  /** Carried across continue-as-new: the state but its waiting list (core/carried.ts). */
  state?: CarriedState;
  /** Where the previous run left its waiting list (activities/carried-waiting.ts). */
  waiting?: WaitingRef;
  /** Carried across continue-as-new, so a web process never mistakes a new run's snapshot for one it has. */
  snapshotVersion?: number;
  /** Pools the resource manager reported under pressure; carried across continue-as-new. */
  pressuredPools?: string[];
  /** Grants and refusals the previous run had not seen delivered: sent again (jobs take a copy once). */
  undelivered?: JobMessage[];
  /** The previous run held the jobs' messages for its hand-over: this one lets them go. */
  messagesHeld?: boolean;
}

/** Whether the running scheduler took a change; it reads the database whenever it (re)starts anyway. */
export type SchedulerNotice = 'updated' | 'not-running' | 'unreachable';

export interface SchedulerStatus {
  waiting: number;
  /** Job ids holding a slot. */
  leases: string[];
  /** `running`: slots busy; `queued`: pipelined leases waiting in the backend's own queue, at most `prefetch`. */
  backends: { id: string; pool: string; slots: number; prefetch: number; running: number; queued: number; up: boolean; healthy: boolean; loadedModels: string[] }[];
  pools: PoolLoad[];
  pressuredPools: string[];
}

export interface JobDone {
  jobId: string;
  /** false: the backend failed the job; feeds the backend's circuit breaker. */
  ok: boolean;
  serviceMs?: number;
}

/**
 * What jobs ask of the scheduler, batched by a worker (activities/scheduler.ts), handled in order:
 * `enqueue` asks for capacity, answered by `grantSignal` or `refusedSignal` to the job's workflow;
 * `done` gives a lease back, or leaves the queue (cancelled while waiting).
 */
export type SchedulerMessage = { enqueue: CapacityRequest } | { done: JobDone };
export const messagesSignal = defineSignal<[SchedulerMessage[]]>('messages');
export const boostSignal = defineSignal<[{ jobId: string; boost: number }]>('boost');
/** Tiers or backends changed (an admin edit, a worker starting with new configuration). */
export const configureSignal = defineSignal<[SchedulerSetup]>('configure');

/** The resource manager's verdict from health probes; dispatch skips a backend while it is down. */
export const backendHealthSignal = defineSignal<[{ backendId: string; healthy: boolean }]>('backendHealth');
/**
 * Pools whose expected wait is past the resource manager's threshold: jobs of tiers that allow
 * cloud fallback and prefer only those pools are opened to cloud at once (workflows/resources/routing.ts).
 */
export const routingSignal = defineSignal<[{ pressuredPools: string[] }]>('routing');
/** The resource loop's read of each Ollama backend's /api/tags and /api/ps (core/residency.ts). */
export const residencySignal = defineSignal<[ResidencyReport[]]>('residency');

/** What the scheduler tells a job: its grant, or why it will never get one. */
export type JobMessage = { jobId: string; grant: Grant } | { jobId: string; refusal: string };

export const grantSignal = defineSignal<[Grant]>('grant');
export const refusedSignal = defineSignal<[{ reason: string }]>('refused');

/** A waiting job's place: position, ETA, backend it is expected on; null when not waiting. */
export const positionQuery = defineQuery<JobPosition | null, [string]>('position');
export const statusQuery = defineQuery<SchedulerStatus>('status');
/**
 * The queue in one compact value (see core/snapshot.ts): every pool, and the jobs of
 * the teams named (those the caller may show; other teams' jobs are never sent). Given the version
 * the caller already has, answers null while nothing changed, so polling an idle queue is cheap.
 */
export const snapshotQuery = defineQuery<QueueSnapshot | null, [known: number | null, teamIds: string[]]>('snapshot');
