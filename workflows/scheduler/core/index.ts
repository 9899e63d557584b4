/**
 * The scheduler's decision core: pure and deterministic (no I/O, no clock, no randomness), for the
 * per-pool scheduler workflow to call on every event. Mutating functions change the state in place;
 * see state.ts for the convention and forecast.ts for what a position means.
 */
export * from './types';
export {
  DEFAULT_CONFIG,
  busySlots,
  pipelinedCount,
  createSchedulerState,
  usageDecayPerGrant,
  effectivePriority,
  enqueue,
  expectedServiceMs,
  indexWaiting,
  isBackendUp,
  markBackendHealth,
  recordBackendFailure,
  recordBackendSuccess,
  recordServiceTime,
  release,
  removeBackend,
  removeWaiting,
  setBoost,
  setTiers,
  upsertBackend,
  type BackendInit,
  type ReleaseOutcome,
  type WaitingIndex,
} from './state';
export { dispatch, nextWakeAt, type DispatchResult } from './dispatch';
export { applyResidency, fitsBeside, loadModel, memoryBudgetMb, residencyOf, switchCost, type Residency, type ResidencyReport } from './residency';
export { estimateWait, forecast, orderWaiting, positions, snapshots, type Forecast, type PoolSnapshot } from './forecast';
export {
  SNAPSHOT_FORMAT,
  decodeTeamQueue,
  queueSnapshot,
  requireTeamIds,
  snapshotForTeams,
  teamJobIds,
  type PoolQueueView,
  type QueueBackendView,
  type QueueSnapshot,
  type RunningJobView,
  type TeamQueueColumns,
  type TeamQueueView,
  type WaitingColumns,
  type WaitingJobView,
} from './snapshot';
export { packWaiting, unpackWaiting, type CarriedState, type PackedWaiting } from './carried';
