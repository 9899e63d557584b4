import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { jobWorkflowId } from '../definitions';
import { applyPressure, poolLoad } from '../resources';
import {
  busySlots,
  createSchedulerState,
  dispatch,
  enqueue,
  forecast,
  isBackendUp,
  markBackendHealth,
  nextWakeAt,
  packState,
  pipelinedCount,
  queueSnapshot,
  release,
  removeBackend,
  removeWaiting,
  requireTeamIds,
  setBoost,
  setTiers,
  snapshotForTeams,
  unpackState,
  upgradeState,
  upsertBackend,
  type CarriedState,
  type Grant,
  type JobPosition,
  type QueueSnapshot,
  type SchedulerState,
} from './core';
import { WakeTimer } from './wake-timer';
import {
  backendHealthSignal,
  boostSignal,
  configureSignal,
  doneSignal,
  enqueueSignal,
  grantSignal,
  messagesSignal,
  positionQuery,
  refusedSignal,
  snapshotQuery,
  routingSignal,
  statusQuery,
  type CapacityRequest,
  type JobDone,
  type JobMessage,
  type SchedulerInput,
  type SchedulerSetup,
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

/** How often leases are checked against their job workflows (terminated jobs never say done). */
const DEFAULT_LEASE_CHECK_MS = 30_000;
/**
 * Runs recorded before it waited on one long-lived timer started and cancelled a timer on every
 * wake-up (two extra history events per event handled); they replay the old way.
 */
const ONE_WAKE_TIMER = 'one-wake-timer';
/**
 * Runs recorded before grants and refusals went out through a local activity signalled each job
 * from workflow code: two events per message and a workflow task to record their delivery.
 */
const MESSAGES_BY_ACTIVITY = 'messages-by-activity';
/**
 * Runs recorded before continue-as-new handed undelivered messages to the next run waited for
 * them instead: under load that wait (signals to jobs retried against a busy server) held the
 * scheduler's last workflow task open for up to half a minute without a grant, and the signals
 * arriving meanwhile made the server refuse the continue-as-new and the worker replay the run.
 */
const HAND_OVER_MESSAGES = 'hand-over-messages';
/**
 * Runs recorded before the hand-over held the jobs' messages let them stream on: a signal arriving
 * during the continue-as-new's workflow task made the server refuse it, and each retry replayed
 * the whole run (at 5,000 waiting jobs, minutes without a grant).
 */
const HOLD_MESSAGES = 'hold-messages-for-hand-over';
/** Longest a worker holds the jobs' messages: the next run lets them go, this covers its starting elsewhere. */
const HAND_OVER_HOLD_MS = 5_000;
/** Continue-as-new well before Temporal's history limits. */
const MAX_HISTORY_EVENTS = 8_000;

/**
 * The queue of one task queue's pools: holds the waiting jobs and the leases, grants capacity as
 * soon as it frees (every event dispatches; no polling), and answers position queries from the
 * same plan it dispatches by. Its state survives worker and server restarts in its history.
 */
export async function schedulerWorkflow(input: SchedulerInput): Promise<void> {
  const carried = input.state as SchedulerState | CarriedState | undefined;
  const state: SchedulerState =
    (carried && upgradeState(unpackState(carried))) ??
    createSchedulerState({ tiers: input.setup.tiers, backends: input.setup.backends, config: input.config, now: Date.now() });
  let dirty = true;
  let checkingLeases = false;
  // The plan behind positions is computed when somebody asks, once per change of state: with
  // thousands waiting it costs milliseconds, and arrivals come in bursts between two questions.
  // The version is carried across continue-as-new: web processes skip snapshots by it.
  let version = input.snapshotVersion ?? 0;
  let plan: { version: number; positions: Record<string, JobPosition>; snapshot: QueueSnapshot } | null = null;
  const currentPlan = () => {
    if (plan?.version !== version) {
      const planned = forecast(state, Date.now());
      plan = {
        version,
        positions: Object.fromEntries(planned.order.map((entry) => [entry.jobId, entry])),
        snapshot: queueSnapshot(state, planned, version),
      };
    }
    return plan;
  };
  const wakeTimer = new WakeTimer();
  const leaseCheckMs = input.leaseCheckMs ?? DEFAULT_LEASE_CHECK_MS;
  let nextLeaseCheck = Date.now() + leaseCheckMs;
  let pressuredPools = input.pressuredPools ?? [];

  // Messages to jobs still on their way: continue-as-new hands them to the next run, which sends
  // them again (runs recorded before that waited for them).
  const inFlight = new Set<JobMessage[]>();
  /** The job's workflow is gone: whatever it held goes back. */
  const forget = (jobId: string) => {
    release(state, jobId, Date.now(), { recordService: false });
    removeWaiting(state, jobId);
    dirty = true;
  };
  const deliver = (messages: JobMessage[]) => {
    if (messages.length === 0) return;
    inFlight.add(messages);
    const sent = patched(MESSAGES_BY_ACTIVITY)
      ? messageJobs(messages).then(
          ({ gone }) => gone.forEach(forget),
          // Never delivered, however often tried: like a job that is gone; a live one asks again.
          () => messages.forEach(({ jobId }) => forget(jobId)),
        )
      : Promise.all(
          messages.map((message) => {
            const job = getExternalWorkflowHandle(jobWorkflowId(message.jobId));
            const signal =
              'grant' in message ? job.signal(grantSignal, message.grant) : job.signal(refusedSignal, { reason: message.refusal });
            return signal.catch(() => forget(message.jobId));
          }),
        );
    void sent.finally(() => inFlight.delete(messages));
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
    const result = enqueue(state, request, Date.now());
    if (result.ok && !result.duplicate) applyPressure(state, pressuredPools, Date.now(), [result.job]);
    if (!result.ok) deliver([{ jobId: request.jobId, refusal: result.reason }]);
    dirty = true;
  };
  const onDone = ({ jobId, ok, serviceMs }: JobDone) => {
    if (!removeWaiting(state, jobId)) {
      release(state, jobId, Date.now(), { ok, ...(serviceMs === undefined ? { recordService: false } : { serviceMs }) });
    }
    dirty = true;
  };
  setHandler(enqueueSignal, onEnqueue);
  setHandler(doneSignal, onDone);
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
  setHandler(positionQuery, (jobId) => currentPlan().positions[jobId] ?? null);
  setHandler(snapshotQuery, (known, teamIds) => {
    const teams = requireTeamIds(teamIds);
    return known === version ? null : snapshotForTeams(currentPlan().snapshot, teams);
  });
  setHandler(backendHealthSignal, ({ backendId, healthy }) => {
    markBackendHealth(state, backendId, healthy);
    dirty = true;
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
    })),
    pools: poolLoad(state, currentPlan().positions, Date.now()),
    pressuredPools,
  }));

  if (input.undelivered) deliver(input.undelivered);
  // Failure is harmless: the hold runs out by itself.
  if (input.messagesHeld) resumeMessages(workflowInfo().workflowId).catch(() => undefined);

  const historyLimit = input.historyLimit ?? MAX_HISTORY_EVENTS;
  while (!workflowInfo().continueAsNewSuggested && workflowInfo().historyLength < historyLimit) {
    const waitFrom = Date.now();
    const wake = Math.min(nextWakeAt(state, waitFrom) ?? Number.POSITIVE_INFINITY, nextLeaseCheck);
    if (patched(ONE_WAKE_TIMER)) {
      wakeTimer.wakeBy(wake);
      await condition(() => dirty || wakeTimer.rang);
      wakeTimer.acknowledge();
    } else {
      await condition(() => dirty, Math.max(1, wake - waitFrom));
    }
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

    deliver(dispatch(state, now).grants.map((grant) => ({ jobId: grant.jobId, grant })));
  }

  // The next run goes to the scheduler's own task queue (`schedulerTaskQueue`: named like its
  // workflow), also from a run that started on its jobs' queue before there was one.
  const continueAsNew = makeContinueAsNewFunc<typeof schedulerWorkflow>({ taskQueue: workflowInfo().workflowId });
  if (patched(HAND_OVER_MESSAGES)) {
    const messagesHeld = patched(HOLD_MESSAGES);
    if (messagesHeld) {
      await holdMessages({ schedulerWorkflowId: workflowInfo().workflowId, forMs: HAND_OVER_HOLD_MS }).catch(() => undefined);
      // Ends this workflow task: the signals that came before the hold arrive in the next one,
      // and the continue-as-new goes out in a task that nothing held interrupts.
      await sleep(1);
    }
    await condition(allHandlersFinished);
    const undelivered = [...inFlight].flat();
    await continueAsNew({
      ...input,
      state: packState(state),
      snapshotVersion: version,
      pressuredPools,
      undelivered,
      ...(messagesHeld && { messagesHeld }),
    });
  } else {
    await condition(() => inFlight.size === 0 && allHandlersFinished());
    await continueAsNew({ ...input, state: packState(state), snapshotVersion: version, pressuredPools });
  }
}

/** New tiers and backends; running leases and waiting jobs are kept. */
function applySetup(state: SchedulerState, setup: SchedulerSetup): void {
  setTiers(state, setup.tiers);
  const ids = new Set(setup.backends.map((backend) => backend.id));
  for (const id of Object.keys(state.backends)) if (!ids.has(id)) removeBackend(state, id);
  for (const backend of setup.backends) upsertBackend(state, backend);
}
