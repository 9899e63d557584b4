import { Gauge, type Registry } from 'prom-client';
import type { ResourceStatus } from '../../workflows/resources';
import type { SchedulerStatus } from '../../workflows/scheduler/api';

type PoolRow = ResourceStatus['pools'][number];

/**
 * The web's gauges: the resource manager's latest sample per pool and backend, and the
 * scheduler's slots per backend and models loaded, as they are when Prometheus scrapes. Each
 * scrape replaces them all, so a backend removed since is not reported as it was.
 */
export function createResourceGauges(registry: Registry, { maxWaitingJobs }: { maxWaitingJobs: number }) {
  // Configuration, not a sample: the alert on a filling queue compares the depth with it.
  new Gauge({
    name: 'switchyard_admission_waiting_limit',
    help: 'Jobs that may wait at once before admission refuses every submit (MAX_WAITING_JOBS); 0: no bound.',
    registers: [registry],
  }).set(maxWaitingJobs);
  const gauges: Array<Gauge<string>> = [];
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => {
    const made = new Gauge<L>({ name, help, labelNames, registers: [registry] });
    gauges.push(made as Gauge<string>);
    return made;
  };
  const poolGauges: Array<[Gauge<'pool'>, (p: PoolRow) => number]> = [
    [gauge('switchyard_pool_instances', 'Ollama instances in the pool.', ['pool']), (p) => p.instances],
    [gauge('switchyard_pool_slots', 'Slots of the pool’s backends.', ['pool']), (p) => p.slots],
    [gauge('switchyard_pool_up_slots', 'Slots of healthy backends not cooling down.', ['pool']), (p) => p.upSlots],
    [gauge('switchyard_pool_busy_slots', 'Slots held by running jobs.', ['pool']), (p) => p.busy],
    [gauge('switchyard_pool_queue_depth', 'Jobs waiting for the pool.', ['pool']), (p) => p.queueDepth],
    [gauge('switchyard_pool_oldest_wait_seconds', 'How long the longest-waiting job has waited.', ['pool']), (p) => p.oldestWaitMs / 1000],
    [gauge('switchyard_pool_expected_wait_seconds', 'Forecast wait of the last queued job.', ['pool']), (p) => p.expectedWaitMs / 1000],
    [gauge('switchyard_pool_pressured', '1 while tiers allowing fallback are routed to cloud at once.', ['pool']), (p) => (p.pressured ? 1 : 0)],
    [
      gauge('switchyard_pool_recommended_instances', 'Target of the latest scale recommendation (the current count when none was made).', ['pool']),
      (p) => p.recommendation?.targetInstances ?? p.instances,
    ],
  ];
  const backendUp = gauge('switchyard_backend_up', '1 when the backend’s health probes pass.', ['backend', 'pool']);
  const probeLatency = gauge('switchyard_backend_probe_latency_seconds', 'Duration of the latest health probe.', ['backend', 'pool']);
  const sampledAt = gauge('switchyard_resources_sampled_timestamp_seconds', 'When the resource manager last sampled.', []);
  const backendSlots = gauge('switchyard_backend_slots', 'Slots of the backend (requests it serves at once).', ['backend', 'pool']);
  const backendBusy = gauge('switchyard_backend_busy_slots', 'Slots of the backend held by running jobs.', ['backend', 'pool']);
  const backendQueued = gauge('switchyard_backend_queued_requests', 'Requests granted beyond the slots, waiting in the backend’s own queue.', ['backend', 'pool']);
  const backendLoaded = gauge('switchyard_backend_loaded_models', 'Models loaded in the backend’s memory.', ['backend', 'pool']);
  const modelLoaded = gauge('switchyard_model_loaded_backends', 'Backends with the model loaded in memory (by the name the backend serves it as).', ['model']);
  const statusUp = gauge('switchyard_status_up', '1 when the scheduler and resource manager answered this scrape.', []);

  return {
    /** Sets every gauge from the latest status; null (unreachable) leaves only statusUp = 0. */
    update(status: { resources: ResourceStatus; scheduler: SchedulerStatus } | null) {
      for (const g of gauges) g.reset();
      statusUp.set(status ? 1 : 0);
      if (!status) return;
      const { resources, scheduler } = status;
      for (const p of resources.pools) for (const [g, value] of poolGauges) g.set({ pool: p.pool }, value(p));
      for (const b of resources.backends) {
        backendUp.set({ backend: b.id, pool: b.pool }, b.healthy ? 1 : 0);
        probeLatency.set({ backend: b.id, pool: b.pool }, b.latencyMs / 1000);
      }
      sampledAt.set(resources.sampledAt / 1000);
      const loaded = new Map<string, number>();
      for (const b of scheduler.backends) {
        const labels = { backend: b.id, pool: b.pool };
        backendSlots.set(labels, b.slots);
        backendBusy.set(labels, b.running);
        backendQueued.set(labels, b.queued);
        backendLoaded.set(labels, b.loadedModels.length);
        for (const model of b.loadedModels) loaded.set(model, (loaded.get(model) ?? 0) + 1);
      }
      for (const [model, count] of loaded) modelLoaded.set({ model }, count);
    },
  };
}
