import { readAllProcStats } from '../lib/processes';
import { round } from '../lib/stats';

/**
 * CPU seconds and peak resident memory of the stack's processes over one scenario, read from
 * /proc. Each supervised child leads its own process group, so a process's figures include any
 * helpers it spawned.
 */

export interface ProcessFigures {
  cpuSeconds: number;
  peakRssMb: number;
}

interface ProcessReading {
  group: number;
  cpuSeconds: number;
  rssMb: number;
}

/** CPU and resident memory of every live process in one of `groups`, by pid. */
function readProcesses(groups: ReadonlySet<number>): Map<number, ProcessReading> {
  return new Map(
    readAllProcStats()
      .filter((stat) => groups.has(stat.pgrp))
      .map((stat) => [stat.pid, { group: stat.pgrp, cpuSeconds: stat.cpuSeconds, rssMb: stat.rssMb }]),
  );
}

export function startProcessMonitor(processes: readonly { name: string; pid: number | undefined }[], intervalMs = 1_000) {
  const watched = processes.filter((p): p is { name: string; pid: number } => p.pid !== undefined);
  const groups = new Set(watched.map((p) => p.pid));
  // CPU is counted per process and kept after it exits: summing only the live ones would make a
  // group's figure drop whenever one of its processes ends.
  const startCpu = new Map([...readProcesses(groups)].map(([pid, reading]) => [pid, reading.cpuSeconds]));
  const lastSeen = new Map<number, ProcessReading>();
  const peakMb = new Map<number, number>();
  const sample = () => {
    const rssMb = new Map<number, number>();
    for (const [pid, reading] of readProcesses(groups)) {
      lastSeen.set(pid, reading);
      rssMb.set(reading.group, (rssMb.get(reading.group) ?? 0) + reading.rssMb);
    }
    for (const [group, mb] of rssMb) peakMb.set(group, Math.max(peakMb.get(group) ?? 0, mb));
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  const cpuSeconds = (group: number) =>
    [...lastSeen].reduce((sum, [pid, reading]) => (reading.group === group ? sum + reading.cpuSeconds - (startCpu.get(pid) ?? 0) : sum), 0);

  let figures: Record<string, ProcessFigures> | undefined;
  return {
    /** The figures up to now; later calls return the same ones. */
    stop(): Record<string, ProcessFigures> {
      clearInterval(timer);
      if (figures) return figures;
      sample();
      return (figures = Object.fromEntries(
        watched.map(({ name, pid }) => [
          name,
          { cpuSeconds: round(cpuSeconds(pid), 2), peakRssMb: round(peakMb.get(pid) ?? 0) },
        ]),
      ));
    },
  };
}
