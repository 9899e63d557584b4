import { round } from '../lib/stats';
import type { SimulatorStats } from '../../simulator';

/**
 * Slot utilisation of the simulated backends, from their own books (`slotBusyMs` in /_sim/stats:
 * slot-milliseconds held by requests, on their own clock), sampled every `intervalMs`. Work
 * "waits" when requests queue at the backends or jobs queue in front of them (Switchyard's
 * scheduler): only then must a work-conserving design keep every slot busy, so the headline
 * figure is taken over those intervals.
 */

export interface UtilizationSample {
  /** Seconds since the scenario started. */
  t: number;
  /** Share of all slots busy during the interval ending at t. */
  busy: number;
  queuedAtBackends: number;
  /** Jobs waiting for a slot in front of the backends. */
  waitingInFront: number;
}

export interface UtilizationReport {
  /** Busy share over the intervals in which work waited; null if work never waited. */
  whileWaiting: number | null;
  overall: number;
  samples: UtilizationSample[];
}

type Stats = Pick<SimulatorStats, 'slotBusyMs' | 'clockMs' | 'slots' | 'queued' | 'active'>;

async function readStats(urls: readonly string[]): Promise<Stats[]> {
  return Promise.all(urls.map(async (url) => (await (await fetch(`${url}/_sim/stats`)).json()) as Stats));
}

export async function startBackendMonitor(urls: readonly string[], waitingInFront: () => number, intervalMs = 500) {
  const started = performance.now();
  const samples: UtilizationSample[] = [];
  const intervals: { busyMs: number; capacityMs: number; waiting: boolean }[] = [];
  const waitingAt = (stats: Stats[]) => waitingInFront() + stats.reduce((sum, s) => sum + s.queued, 0);
  const first = await readStats(urls);
  let previous = { stats: first, waiting: waitingAt(first) };
  let reading: Promise<void> = Promise.resolve();

  const sample = async () => {
    const at = performance.now();
    const stats = await readStats(urls);
    const busyMs = stats.reduce((sum, s, i) => sum + s.slotBusyMs - previous.stats[i]!.slotBusyMs, 0);
    // Intervals on the backends' own clocks: a reply delayed on a busy machine would skew ours.
    const capacityMs = stats.reduce((sum, s, i) => sum + s.slots * (s.clockMs - previous.stats[i]!.clockMs), 0);
    const waiting = waitingAt(stats);
    // Work waited through the interval only if it did at both ends (not while a burst was arriving or draining).
    intervals.push({ busyMs, capacityMs, waiting: waiting > 0 && previous.waiting > 0 });
    const queuedAtBackends = stats.reduce((sum, s) => sum + s.queued, 0);
    samples.push({
      t: round((at - started) / 1000, 2),
      busy: capacityMs > 0 ? round(busyMs / capacityMs, 3) : 0,
      queuedAtBackends,
      waitingInFront: waiting - queuedAtBackends,
    });
    previous = { stats, waiting };
  };
  const timer = setInterval(() => {
    // A sample that is still being read (a busy machine) is not overtaken by the next one.
    reading = reading.then(sample).catch(() => {});
  }, intervalMs);

  const ratio = (list: typeof intervals) => {
    const capacity = list.reduce((sum, i) => sum + i.capacityMs, 0);
    return capacity > 0 ? round(list.reduce((sum, i) => sum + i.busyMs, 0) / capacity, 3) : null;
  };
  let stopped: Promise<UtilizationReport> | undefined;
  return {
    /** The figures up to now; later calls return the same ones. */
    stop(): Promise<UtilizationReport> {
      clearInterval(timer);
      stopped ??= (async () => {
        await reading;
        await sample().catch(() => {});
        return { whileWaiting: ratio(intervals.filter((i) => i.waiting)), overall: ratio(intervals) ?? 0, samples };
      })();
      return stopped;
    },
  };
}

/** Resolves once no backend has a request running or queued (the previous scenario's tail). */
export async function waitForIdleBackends(urls: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const stats = await readStats(urls);
    if (stats.every((s) => s.active === 0 && s.queued === 0)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
