import { round } from '../lib/stats';
import type { Arrivals } from './arrivals';
import { runBaseline } from './baseline';
import { startBackendMonitor, type UtilizationSample } from './backend-monitor';
import { startCap } from './cap';
import { latencyStats, summarizeOutcomes, type Outcome, type OutcomeSummary } from './outcomes';
import { startProcessMonitor, type ProcessFigures } from './process-monitor';
import { connectObservers, runSwitchyard } from './switchyard';
import type { BenchWorkspaceTeam } from '../lib/clients';
import type { TrpcHttp } from './trpc-http';

/** One design under one arrival pattern, with the backends' and the processes' figures around it. */

export type Design = 'baseline' | 'switchyard';

export interface ScenarioResult extends OutcomeSummary {
  /** Why the scenario was stopped before its end (a process of the stack died); its work was cut off then. */
  failed?: string;
  /** Busy share of all backend slots while work waited for one (at the backends or in front of them). */
  utilization: number | null;
  utilizationOverall: number;
  utilizationSamples: UtilizationSample[];
  processes: Record<string, ProcessFigures>;
  /** CPU seconds of the benchmark's own process (the simulated users). */
  clientCpuSeconds: number;
  capSeconds: number;
  /** What set the cap: the scenario's own size, or what was left of the run's time budget. */
  capCause: 'scenario cap' | 'run time budget';
  /** Switchyard only. */
  positionUpdates?: ReturnType<typeof latencyStats>;
  positionUpdateP95Ms?: number | null;
  submit?: ReturnType<typeof latencyStats>;
  missedEvents?: number;
  observerReconnects?: number;
}

export interface ScenarioContext {
  ollamaUrls: string[];
  webUrl: string;
  api: TrpcHttp;
  processes: { name: string; pid: number | undefined }[];
  /** Resolves with the reason once a process of the stack has died: the scenario stops at once. */
  stackCrashed: Promise<string>;
}

export async function runScenario(
  context: ScenarioContext,
  design: Design,
  arrivals: Arrivals,
  limit: { capMs: number; cause: 'scenario cap' | 'run time budget' },
  teams: readonly BenchWorkspaceTeam[] | undefined,
): Promise<ScenarioResult> {
  const observers = design === 'switchyard' ? await connectObservers(context.webUrl, teams!) : [];
  const cap = startCap(limit.capMs, limit.cause);
  void context.stackCrashed.then((reason) => cap.stop(`stack process died: ${reason}`));
  // The direct design has no queue of its own: its waiting work is what queues at the backends.
  let waitingInFront = () => 0;
  const backends = await startBackendMonitor(context.ollamaUrls, () => waitingInFront());
  const processes = startProcessMonitor(context.processes);
  const cpuBefore = process.cpuUsage();
  try {
    const started = performance.now();
    let outcomes: Outcome[];
    let extras: Partial<ScenarioResult> = {};
    if (design === 'baseline') {
      const run = runBaseline(context.ollamaUrls, arrivals, started, cap);
      await run.done;
      outcomes = run.outcomes;
    } else {
      const run = runSwitchyard(context.api, observers, teams!, arrivals, started, cap);
      waitingInFront = run.waitingInFront;
      const found = await run.done;
      outcomes = run.outcomes;
      const positions = latencyStats(found.positionLatencies);
      extras = {
        positionUpdates: positions,
        positionUpdateP95Ms: positions.p95Ms,
        submit: latencyStats(found.submitMs),
        missedEvents: found.missedEvents,
        observerReconnects: found.reconnects,
      };
    }
    const utilization = await backends.stop();
    const cpu = process.cpuUsage(cpuBefore);
    return {
      ...(cap.stopReason === undefined ? {} : { failed: cap.stopReason }),
      ...summarizeOutcomes(outcomes),
      utilization: utilization.whileWaiting,
      utilizationOverall: utilization.overall,
      utilizationSamples: utilization.samples,
      processes: processes.stop(),
      clientCpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
      capSeconds: round(limit.capMs / 1000),
      capCause: limit.cause,
      ...extras,
    };
  } finally {
    // Already stopped on success; on failure their timers must not keep the process alive.
    cap.dispose();
    await backends.stop();
    processes.stop();
    for (const observer of observers) observer.close();
  }
}
