import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { createResourceState, decide, resourceStatus, type ResourceState } from '.';
import { configureResourcesSignal, resourceStatusQuery, type ResourceManagerInput } from './api';
import { backendHealthSignal, residencySignal, routingSignal, schedulerWorkflowId } from '../scheduler/api';

// A sample is a status query and a few health probes (each bounded by its adapter's probe timeout);
// a stuck one is abandoned for the next tick rather than retried.
const { sampleResources, readResidency, recordResourceStatus } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});
// The hook enforces its own timeout (SCALE_HOOK_TIMEOUT_MS, at most 5 minutes) and reports a
// failure instead of throwing: a scale-out must not run twice because a retry thought it failed.
const { runScaleHook } = proxyActivities<Activities>({
  startToCloseTimeout: '6 minutes',
  retry: { maximumAttempts: 1 },
});

/** A tick is about ten events; continue-as-new well before Temporal's limits. */
const DEFAULT_MAX_HISTORY_EVENTS = 2_000;

/**
 * The seed's resourceManagementWorkflow, one per task queue: every sample interval it probes the
 * backends and reads the scheduler's load, then (decide.ts) tells the scheduler which backends are
 * down and which pools are under pressure, and emits scale recommendations to the scale hook. It
 * also reads what each Ollama backend has on disk and in memory and hands that to the scheduler.
 * It compares with what the scheduler reports rather than with its own last word, so a signal
 * lost to a restart is repeated on the next tick.
 */
export async function resourceManagerWorkflow(input: ResourceManagerInput): Promise<void> {
  let config = input.config;
  const state: ResourceState = input.state ?? createResourceState();
  const schedulerId = schedulerWorkflowId(workflowInfo().taskQueue);
  const scheduler = getExternalWorkflowHandle(schedulerId);
  setHandler(configureResourcesSignal, (next) => {
    config = next;
  });
  setHandler(resourceStatusQuery, () => resourceStatus(state, config));

  const maxHistoryEvents = input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  while (!workflowInfo().continueAsNewSuggested && workflowInfo().historyLength < maxHistoryEvents) {
    try {
      const sample = await sampleResources(schedulerId);
      const decision = decide(state, sample, config, Date.now());
      for (const change of decision.health) await scheduler.signal(backendHealthSignal, change);
      if (decision.routing) await scheduler.signal(routingSignal, { pressuredPools: decision.routing });
      // Every tick: the scheduler ignores a read that changes nothing, and a lost one is repeated.
      const residency = await readResidency();
      if (residency.length > 0) await scheduler.signal(residencySignal, residency);
      for (const recommendation of decision.recommendations) {
        log.info('scale recommendation', { ...recommendation });
        const outcome = await runScaleHook(recommendation);
        if (outcome) state.lastHook = { at: Date.now(), pool: recommendation.pool, ...outcome };
      }
      // For the admin page, which reads it from the database instead of querying this workflow.
      await recordResourceStatus(resourceStatus(state, config));
    } catch (error) {
      if (isCancellation(error)) throw error;
      // The scheduler not running yet, a worker lost mid-sample: the next tick samples afresh.
      log.warn('resource sample failed', { error: error instanceof Error ? error.message : String(error) });
    }
    await sleep(config.sampleIntervalMs);
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof resourceManagerWorkflow>({ ...input, config, state });
}
