import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
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

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const pageKb = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) / 1024 || 4;

interface ProcessReading {
  group: number;
  cpuTicks: number;
  rssKb: number;
}

/** CPU ticks and resident memory of every live process in one of `groups`, by pid. */
function readProcesses(groups: ReadonlySet<number>): Map<number, ProcessReading> {
  const readings = new Map<number, ProcessReading>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp … utime(14) stime(15) … rss(24); comm may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const group = Number(fields[2]);
    if (!groups.has(group)) continue;
    readings.set(Number(entry), { group, cpuTicks: Number(fields[11]) + Number(fields[12]), rssKb: Number(fields[21]) * pageKb });
  }
  return readings;
}

export function startProcessMonitor(processes: readonly { name: string; pid: number | undefined }[], intervalMs = 1_000) {
  const watched = processes.filter((p): p is { name: string; pid: number } => p.pid !== undefined);
  const groups = new Set(watched.map((p) => p.pid));
  // CPU is counted per process and kept after it exits: summing only the live ones would make a
  // group's figure drop whenever one of its processes ends.
  const startTicks = new Map([...readProcesses(groups)].map(([pid, reading]) => [pid, reading.cpuTicks]));
  const lastSeen = new Map<number, ProcessReading>();
  const peakKb = new Map<number, number>();
  const sample = () => {
    const rssKb = new Map<number, number>();
    for (const [pid, reading] of readProcesses(groups)) {
      lastSeen.set(pid, reading);
      rssKb.set(reading.group, (rssKb.get(reading.group) ?? 0) + reading.rssKb);
    }
    for (const [group, kb] of rssKb) peakKb.set(group, Math.max(peakKb.get(group) ?? 0, kb));
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  const cpuTicks = (group: number) =>
    [...lastSeen].reduce((sum, [pid, reading]) => (reading.group === group ? sum + reading.cpuTicks - (startTicks.get(pid) ?? 0) : sum), 0);

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
          { cpuSeconds: round(cpuTicks(pid) / ticksPerSecond, 2), peakRssMb: round((peakKb.get(pid) ?? 0) / 1024) },
        ]),
      ));
    },
  };
}
