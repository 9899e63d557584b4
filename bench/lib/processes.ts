import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** What a process of the stack is, from its command line. */
export type Role = 'web' | 'worker' | 'temporal' | 'postgres' | 'simulator';

const ROLES: [Role, RegExp][] = [
  ['temporal', /\btemporal\b.*\bserver start-dev\b/],
  ['postgres', /\bpostgres\b/],
  ['worker', /server\/worker\.(ts|js|mjs)\b/],
  ['web', /server\/main\.(ts|js|mjs)\b/],
  ['simulator', /simulator\/main\.(ts|js|mjs)\b/],
];
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const pageBytes = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** Process group. */
  pgrp: number;
  /** User + system CPU of all its threads so far. */
  cpuSeconds: number;
  /** User + system CPU of its children that have exited and been waited for. */
  reapedChildrenCpuSeconds: number;
  rssMb: number;
}

/** One process's line of /proc/<pid>/stat; null once it has exited. Linux only. */
export function readProcStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      ppid: Number(fields[1]),
      pgrp: Number(fields[2]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond,
      reapedChildrenCpuSeconds: (Number(fields[13]) + Number(fields[14])) / ticksPerSecond,
      rssMb: (Number(fields[21]) * pageBytes) / 2 ** 20,
    };
  } catch {
    return null; // exited between listing and reading
  }
}

/** Every live process on the machine. */
export function readAllProcStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== null);
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

export type Usage = Record<Role, { cpuSeconds: number; rssMb: number; processes: number }>;

/**
 * CPU seconds (user + system, all threads) and resident memory of this program's descendant
 * processes (or of the given processes and their descendants), summed by role. Linux only (/proc).
 */
export function stackUsage(from: number | { processes: number[] } = process.pid): Usage {
  const stats = readAllProcStats();
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);

  const usage = Object.fromEntries(ROLES.map(([role]) => [role, { cpuSeconds: 0, rssMb: 0, processes: 0 }])) as Usage;
  const pending = typeof from === 'number' ? [...(children.get(from) ?? [])] : stats.filter((stat) => from.processes.includes(stat.pid));
  for (let stat = pending.pop(); stat; stat = pending.pop()) {
    pending.push(...(children.get(stat.pid) ?? []));
    const cmd = commandLine(stat.pid);
    const role = ROLES.find(([, pattern]) => pattern.test(cmd))?.[0];
    if (!role) continue;
    // PostgreSQL's backends come and go; the postmaster's reaped-children time keeps what the
    // exited ones spent in the sum (without it a role's CPU between two samples can be negative).
    usage[role].cpuSeconds += stat.cpuSeconds + stat.reapedChildrenCpuSeconds;
    usage[role].rssMb += stat.rssMb;
    usage[role].processes++;
  }
  return usage;
}

/** CPU seconds each role spent between two samples. */
export function cpuBetween(before: Usage, after: Usage): Record<Role, number> {
  return Object.fromEntries(
    (Object.keys(after) as Role[]).map((role) => [role, after[role].cpuSeconds - before[role].cpuSeconds]),
  ) as Record<Role, number>;
}
