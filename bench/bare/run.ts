import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readProcStat } from '../lib/processes';

/**
 * A bare workflow beside a Switchyard stack, on the same Temporal server: its worker and client in
 * one child process (./process.ts), driven round by round from the benchmark.
 */

export interface BareRequest {
  concurrency: number;
  /** Stop after this many jobs, or after `seconds`, whichever comes first. */
  jobs?: number;
  seconds?: number;
  prompt: string;
}
export interface BareResult {
  durations: number[];
}

export interface BareSide {
  /** Closed loop: `concurrency` clients each start a workflow and wait for its result, back to back. */
  run(request: BareRequest): Promise<BareResult>;
  /** CPU seconds (user + system, all threads) its process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startBare(settings: { address: string; namespace: string; ollamaUrls: string[]; model: string }): Promise<BareSide> {
  const child: ChildProcess = fork(path.join(here, 'process.ts'), [JSON.stringify({ ...settings, taskQueue: `bare-${process.pid}` })], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the bare workflow's process exited (code ${code})`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  await next();
  return {
    async run(request) {
      const reply = next();
      child.send(request);
      const result = (await reply) as BareResult | { error: string };
      if ('error' in result) throw new Error(`bare workflow: ${result.error}`);
      return result;
    },
    cpuSeconds: () => readProcStat(child.pid!)?.cpuSeconds ?? 0,
    async stop() {
      if (child.exitCode === null) child.send('stop');
      await exited;
    },
  };
}
