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

interface GroupReading {
  cpuTicks: number;
  rssKb: number;
}

/** CPU ticks and resident memory of every live process, summed per process group. */
function readGroups(groups: ReadonlySet<number>): Map<number, GroupReading> {
  const readings = new Map<number, GroupReading>();
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
    const reading = readings.get(group) ?? { cpuTicks: 0, rssKb: 0 };
    reading.cpuTicks += Number(fields[11]) + Number(fields[12]);
    reading.rssKb += Number(fields[21]) * pageKb;
    readings.set(group, reading);
  }
  return readings;
}

export function startProcessMonitor(processes: readonly { name: string; pid: number | undefined }[], intervalMs = 1_000) {
  const watched = processes.filter((p): p is { name: string; pid: number } => p.pid !== undefined);
  const groups = new Set(watched.map((p) => p.pid));
  const first = readGroups(groups);
  const peakKb = new Map<number, number>();
  const sample = () => {
    const readings = readGroups(groups);
    for (const [group, reading] of readings) peakKb.set(group, Math.max(peakKb.get(group) ?? 0, reading.rssKb));
    return readings;
  };
  sample();
  const timer = setInterval(sample, intervalMs);

  let figures: Record<string, ProcessFigures> | undefined;
  return {
    /** The figures up to now; later calls return the same ones. */
    stop(): Record<string, ProcessFigures> {
      clearInterval(timer);
      if (figures) return figures;
      const last = sample();
      return (figures = Object.fromEntries(
        watched.map(({ name, pid }) => [
          name,
          {
            cpuSeconds: round(((last.get(pid)?.cpuTicks ?? 0) - (first.get(pid)?.cpuTicks ?? 0)) / ticksPerSecond, 2),
            peakRssMb: round((peakKb.get(pid) ?? 0) / 1024),
          },
        ]),
      ));
    },
  };
}
