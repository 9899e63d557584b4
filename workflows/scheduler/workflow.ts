import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { applyPressure, poolLoad } from '../resources';
import {
  applyResidency,
  busySlots,
  createSchedulerState,
  dispatch,
  enqueue,
  forecast,
  indexWaiting,
  isBackendUp,
  markBackendHealth,
  nextWakeAt,
  packWaiting,
  pipelinedCount,
  queueSnapshot,
  release,
  removeBackend,
  removeWaiting,
  requireTeamIds,
  setBoost,
  setTiers,
  snapshotForTeams,
  unpackWaiting,
  upsertBackend,
  type Forecast,
  type Grant,
  type JobPosition,
  type QueueSnapshot,
  type SchedulerState,
  type WaitingJob,
} from './core';
import { WakeTimer } from './wake-timer';
import {
  backendHealthSignal,
  boostSignal,
  configureSignal,
  messagesSignal,
  positionQuery,
  residencySignal,
  snapshotQuery,
  routingSignal,
  statusQuery,
  type CapacityRequest,
  type JobDone,
  type JobMessage,
  type SchedulerInput,
  type SchedulerSetup,
  type WaitingRef,
  WAITING_LIST_MISSING,
} from './api';

const { findFinishedJobs } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

// Patient: a grant that never arrives leaves its slot idle until the job asks again.
const { messageJobs } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 20 },
});

// A hold that fails or comes late costs at worst a refused continue-as-new: never wait long for it.
const { holdMessages, resumeMessages } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { maximumAttempts: 2 },
});

// A hand-over that cannot store the waiting list gives up soon and serves on: it is tried again later.
const { storeWaiting } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '2 seconds', maximumAttempts: 5 },
});

// A new run cannot serve without its waiting list: it waits for PostgreSQL as long as it takes.
const { loadWaitingPart } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', nonRetryableErrorTypes: [WAITING_LIST_MISSING] },
});

/** How often leases are checked against their job workflows (terminated jobs never say done). */
const DEFAULT_LEASE_CHECK_MS = 30_000;
/** Longest a worker holds the jobs' messages: the next run lets them go, this covers its starting elsewhere. */
const HAND_OVER_HOLD_MS = 5_000;
/** Continue-as-new well before Temporal's history limits. */
const MAX_HISTORY_EVENTS = 8_000;
/**
 * A worker that takes the scheduler over replays its run, every workflow task of it, each of
 * which may have planned over the whole waiting list (about 1 ms of CPU per 1,000 waiting jobs),
 * within the 10 s a workflow task has. Past this many waiting jobs, the run continues as new after
 * proportionally fewer events, so that a replay costs about what a whole run costs at this
 * backlog: a few seconds.
 */
const FULL_RUN_WAITING = 2_000;
/** Runs shorter than this spend too much of their time handing over (about 0.6 s at 100,000 waiting). */
const MIN_HISTORY_EVENTS = 200;
/**
 * After a hand-over that could not store the waiting list, the next is tried this many events
 * later (or a run's length, if shorter): well inside Temporal's 51,200 events, past which it ends
 * the run.
 */
const HAND_OVER_RETRY_EVENTS = 200;

/**
 * The queue of one task queue's pools: holds the waiting jobs and the leases, grants capacity as
 * soon as it frees (every event dispatches; no polling), and answers position queries from the
 * same plan it dispatches by. Its state survives worker and server restarts in its history.
 */
export async function schedulerWorkflow(input: SchedulerInput): Promise<void> {
  const state: SchedulerState = input.state
    ? { ...input.state, waiting: await readWaiting(input.waiting) }
    : createSchedulerState({ tiers: input.setup.tiers, backends: input.setup.backends, config: input.config, now: Date.now() });
  let dirty = true;
  let checkingLeases = false;
  // The plan behind positions is computed when somebody asks, once per change of state: with
  // thousands waiting it costs milliseconds, and arrivals come in bursts between two questions.
  // The snapshot built from it costs more than the plan (half a second at 50,000 waiting) and only
  // the web's queue views ask for it: built on their first question of a version, not for every
  // position or status. The version is carried across continue-as-new: web processes skip
  // snapshots by it.
  let version = input.snapshotVersion ?? 0;
  // Kept in step with the list from here on: a check per request, not a scan per signal.
  const index = indexWaiting(state);
  let plan: { version: number; planned: Forecast; positions: Map<string, JobPosition>; snapshot: QueueSnapshot | null } | null = null;
  const currentPlan = () => {
    if (plan?.version !== version) {
      const planned = forecast(state, Date.now());
      plan = { version, planned, positions: new Map(planned.order.map((entry) => [entry.jobId, entry])), snapshot: null };
    }
    return plan;
  };
  const currentSnapshot = () => {
    const current = currentPlan();
    return (current.snapshot ??= queueSnapshot(state, current.planned, version));
  };
  const wakeTimer = new WakeTimer();
  const leaseCheckMs = input.leaseCheckMs ?? DEFAULT_LEASE_CHECK_MS;
  let nextLeaseCheck = Date.now() + leaseCheckMs;
  let pressuredPools = input.pressuredPools ?? [];

  // Messages to jobs still on their way: continue-as-new hands them to the next run, which sends
  // them again. Waiting for them instead would hold the run's last workflow task open while the
  // signals to jobs are retried against a busy server: up to half a minute without a grant.
  const inFlight = new Set<JobMessage[]>();
  /** The job's workflow is gone: whatever it held goes back. */
  const forget = (jobId: string) => {
    release(state, jobId, Date.now(), { recordService: false });
    removeWaiting(state, jobId, index);
    dirty = true;
  };
  const deliver = (messages: JobMessage[]) => {
    if (messages.length === 0) return;
    inFlight.add(messages);
    void messageJobs(messages)
      .then(
        ({ gone }) => gone.forEach(forget),
        // Never delivered, however often tried: like a job that is gone; a live one asks again.
        () => messages.forEach(({ jobId }) => forget(jobId)),
      )
      .finally(() => inFlight.delete(messages));
  };

  const onEnqueue = ({ tierPolicy, ...request }: CapacityRequest) => {
    // The job read its tier just now: newer than the scheduler's copy, and known even when the
    // tier was created after the scheduler started.
    state.tiers[tierPolicy.name] = tierPolicy;
    // A job that asks again while holding a lease never got its grant: send it again.
    const lease = state.leases[request.jobId];
    if (lease) {
      const grant: Grant = {
        jobId: lease.jobId,
        leaseId: lease.leaseId,
        backendId: lease.backendId,
        pool: lease.pool,
        kind: lease.kind,
        model: lease.model,
        route: lease.route,
        waitedMs: lease.grantedAt - lease.enqueuedAt,
        grantedAt: lease.grantedAt,
      };
      deliver([{ jobId: request.jobId, grant }]);
      return;
    }
    const result = enqueue(state, request, Date.now(), index);
    if (result.ok && !result.duplicate) applyPressure(state, pressuredPools, Date.now(), [result.job]);
    if (!result.ok) deliver([{ jobId: request.jobId, refusal: result.reason }]);
    dirty = true;
  };
  const onDone = ({ jobId, ok, serviceMs }: JobDone) => {
    if (!removeWaiting(state, jobId, index)) {
      release(state, jobId, Date.now(), { ok, ...(serviceMs === undefined ? { recordService: false } : { serviceMs }) });
    }
    dirty = true;
  };
  setHandler(messagesSignal, (messages) => {
    for (const message of messages) {
      if ('enqueue' in message) onEnqueue(message.enqueue);
      else onDone(message.done);
    }
  });
  setHandler(boostSignal, ({ jobId, boost }) => {
    dirty = setBoost(state, jobId, boost) || dirty;
  });
  setHandler(configureSignal, (setup) => {
    applySetup(state, setup);
    dirty = true;
  });
  setHandler(positionQuery, (jobId) => currentPlan().positions.get(jobId) ?? null);
  setHandler(snapshotQuery, (known, teamIds) => {
    const teams = requireTeamIds(teamIds);
    return known === version ? null : snapshotForTeams(currentSnapshot(), teams);
  });
  setHandler(backendHealthSignal, ({ backendId, healthy }) => {
    markBackendHealth(state, backendId, healthy);
    dirty = true;
  });
  setHandler(residencySignal, (reports) => {
    for (const report of reports) dirty = applyResidency(state, report) || dirty;
  });
  setHandler(routingSignal, (routing) => {
    pressuredPools = routing.pressuredPools;
    applyPressure(state, pressuredPools, Date.now());
    dirty = true;
  });
  setHandler(statusQuery, () => ({
    waiting: state.waiting.length,
    leases: Object.keys(state.leases),
    backends: Object.values(state.backends).map((b) => ({
      id: b.id,
      pool: b.pool,
      slots: b.slots,
      prefetch: b.prefetch,
      running: busySlots(b),
      queued: pipelinedCount(b),
      up: isBackendUp(b, Date.now()),
      healthy: b.healthy,
      loadedModels: [...b.loadedModels],
    })),
    pools: poolLoad(state, currentPlan().positions, Date.now()),
    pressuredPools,
  }));

  if (input.undelivered) deliver(input.undelivered);
  // Failure is harmless: the hold runs out by itself.
  if (input.messagesHeld) resumeMessages(workflowInfo().workflowId).catch(() => undefined);

  const historyLimit = input.historyLimit ?? MAX_HISTORY_EVENTS;
  const runLength = () => Math.min(historyLimit, Math.max(MIN_HISTORY_EVENTS, Math.floor((historyLimit * FULL_RUN_WAITING) / Math.max(1, state.waiting.length))));
  let handOverAfter = 0;
  const handOverDue = () => {
    const { historyLength, continueAsNewSuggested } = workflowInfo();
    return historyLength >= handOverAfter && (continueAsNewSuggested || historyLength >= runLength());
  };
  /** The waiting list stored for the next run; again while anything changes it meanwhile. */
  const storeWaitingList = async (): Promise<WaitingRef> => {
    const { workflowId, runId } = workflowInfo();
    let waiting: WaitingRef;
    do {
      // A late message or a job found gone goes into the next copy; the rest of the state goes
      // with the continue-as-new itself.
      dirty = false;
      waiting = await storeWaiting({ workflowId, runId, waiting: packWaiting(state.waiting) });
    } while (dirty);
    return waiting;
  };

  for (;;) {
    while (!handOverDue()) {
      wakeTimer.wakeBy(Math.min(nextWakeAt(state, Date.now()) ?? Number.POSITIVE_INFINITY, nextLeaseCheck));
      await condition(() => dirty || wakeTimer.rang);
      wakeTimer.acknowledge();
      const now = Date.now();
      dirty = false;
      version++;

      if (now >= nextLeaseCheck && !checkingLeases) {
        nextLeaseCheck = now + leaseCheckMs;
        const held = Object.keys(state.leases);
        if (held.length > 0) {
          checkingLeases = true;
          void findFinishedJobs(held)
            .then((finished) => {
              for (const jobId of finished) release(state, jobId, Date.now(), { recordService: false });
              dirty ||= finished.length > 0;
            })
            .finally(() => (checkingLeases = false));
        }
      }

      deliver(dispatch(state, now, index).grants.map((grant) => ({ jobId: grant.jobId, grant })));
    }

    // Temporal refuses a continue-as-new when a signal arrives during the workflow task that asks
    // for it, and the worker then replays the whole run before trying again (at 5,000 waiting
    // jobs, minutes without a grant): the workers hold the jobs' messages until the next run lets
    // them go.
    await holdMessages({ schedulerWorkflowId: workflowInfo().workflowId, forMs: HAND_OVER_HOLD_MS }).catch(() => undefined);
    // Ends this workflow task: the signals that came before the hold arrive in the next one, and
    // the continue-as-new goes out in a task that nothing held interrupts.
    await sleep(1);
    await condition(allHandlersFinished);
    const waiting = await storeWaitingList().catch((error: unknown) => {
      log.warn('could not store the waiting list for the next run: serving on, handing over later', { error: String(error) });
      return null;
    });
    if (waiting) {
      await continueAsNew<typeof schedulerWorkflow>({
        ...input,
        state: withoutWaiting(state),
        waiting,
        snapshotVersion: version,
        pressuredPools,
        undelivered: [...inFlight].flat(),
        messagesHeld: true,
      });
    }
    resumeMessages(workflowInfo().workflowId).catch(() => undefined);
    handOverAfter = workflowInfo().historyLength + Math.min(HAND_OVER_RETRY_EVENTS, runLength());
    dirty = true;
  }
}

/**
 * The waiting list the previous run stored. If it is not there (rows removed by hand, a reset to
 * before a run read them), the run starts with none: each of those jobs asks again within about
 * ten minutes (job-capacity.ts) and queues from then on, behind the jobs that came meanwhile.
 */
async function readWaiting(ref: WaitingRef | undefined): Promise<WaitingJob[]> {
  if (!ref) return [];
  const { workflowId } = workflowInfo();
  let text = '';
  try {
    for (let part = 0; part < ref.parts; part++) text += await loadWaitingPart({ workflowId, runId: ref.runId, part });
  } catch (error) {
    if (!isWaitingListMissing(error)) throw error;
    log.error('the previous run stored no waiting list: its jobs wait in this run once they ask again', { from: ref.runId, jobs: ref.jobs });
    return [];
  }
  return unpackWaiting(JSON.parse(text));
}

/** A local activity's failure may reach the workflow as it was thrown or wrapped as an activity's. */
function isWaitingListMissing(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure && cause.type === WAITING_LIST_MISSING) return true;
  }
  return false;
}

function withoutWaiting({ waiting: _waiting, ...rest }: SchedulerState): Omit<SchedulerState, 'waiting'> {
  return rest;
}

/** New tiers and backends; running leases and waiting jobs are kept. */
function applySetup(state: SchedulerState, setup: SchedulerSetup): void {
  setTiers(state, setup.tiers);
  const ids = new Set(setup.backends.map((backend) => backend.id));
  for (const id of Object.keys(state.backends)) if (!ids.has(id)) removeBackend(state, id);
  for (const backend of setup.backends) upsertBackend(state, backend);
}
