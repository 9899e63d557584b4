import fs from 'node:fs';
import os from 'node:os';
import { round } from '../lib/stats';

/** What the figures were measured on. */
export function describeMachine() {
  const release = (() => {
    try {
      return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
    } catch {
      return undefined;
    }
  })();
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${release ?? os.type()} (kernel ${os.release()})`,
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
  };
}

export type Machine = ReturnType<typeof describeMachine>;
