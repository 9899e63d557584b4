import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Throughput of one simulator instance: many concurrent streaming clients against /api/chat,
 * more clients than slots so the queue is used, never more than slots + queue so nothing is
 * refused. The simulator runs as a child process so that the clients' parsing does not share its
 * event loop. Prints the figures and writes bench/results/simulator.json.
 *
 *   npm run bench:sim -- [--slots 100] [--queue 100] [--clients 150] [--tps 100] [--tokens 200] [--seconds 5] [--runs 3]
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    slots: { type: 'string', default: '100' },
    queue: { type: 'string', default: '100' },
    clients: { type: 'string', default: '150' },
    tps: { type: 'string', default: '100' },
    tokens: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
  },
});
const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)])) as Record<keyof typeof values, number>;
for (const [flag, value] of Object.entries(config)) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} must be a positive number`);
}
if (config.clients > config.slots + config.queue) throw new Error('--clients must not exceed --slots + --queue (the extra ones would be refused)');

const model = 'qwen2.5-coder:7b';

interface RunResult {
  tokensPerSecond: number;
  streams: number;
  rejected: number;
  perStreamRates: number[];
}

async function startSimulator(): Promise<{ child: ChildProcess; url: string }> {
  const args = ['--import', 'tsx', join(root, 'simulator/main.ts'), '--port', '0', '--slots', String(config.slots), '--queue', String(config.queue)];
  args.push('--tps', String(config.tps), '--tokens', String(config.tokens), '--ttft', '0', '--load-ms', '0');
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const url = /listening on (\S+)/.exec(line)?.[1];
    if (url) return { child, url };
  }
  throw new Error('the simulator exited before listening');
}

/** One streaming request; returns its tokens and its own rate (tokens over first-to-last token time). */
async function stream(url: string, prompt: string, signal: AbortSignal, count: (tokens: number) => void) {
  const res = await fetch(`${url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }] }),
    signal,
  });
  if (res.status === 503) return { rejected: true as const };
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  let lines = 0;
  let first = 0;
  let last = 0;
  const reader = res.body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    const chunk = read.value;
    let n = 0;
    for (const byte of chunk) if (byte === 10) n++;
    last = performance.now();
    if (!first) first = last;
    lines += n;
    count(n);
  }
  // The last line is the final summary object, not a token.
  count(-1);
  const tokens = lines - 1;
  return { rejected: false as const, tokens, rate: last > first ? (tokens - 1) / ((last - first) / 1000) : 0 };
}

async function run(url: string, index: number): Promise<RunResult> {
  const window = new AbortController();
  const end = performance.now() + config.seconds * 1000;
  let tokens = 0;
  let streams = 0;
  let rejected = 0;
  const rates: number[] = [];
  const count = (n: number) => {
    if (performance.now() <= end) tokens += n;
  };
  const started = performance.now();
  const client = async (id: number) => {
    for (let i = 0; performance.now() < end; i++) {
      const result = await stream(url, `Write a TypeScript function number ${id}-${i} for run ${index}`, window.signal, count).catch((err: unknown) => {
        if (window.signal.aborted) return undefined;
        throw err;
      });
      if (!result) return;
      if (result.rejected) rejected++;
      else if (performance.now() <= end) {
        streams++;
        rates.push(result.rate);
      }
    }
  };
  const clients = Array.from({ length: config.clients }, (_, id) => client(id));
  setTimeout(() => window.abort(), end - started).unref();
  await Promise.all(clients);
  return { tokensPerSecond: tokens / ((end - started) / 1000), streams, rejected, perStreamRates: rates };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const { child, url } = await startSimulator();
try {
  const results: RunResult[] = [];
  for (let i = 0; i < config.runs; i++) {
    const result = await run(url, i);
    results.push(result);
    console.log(`run ${i + 1}/${config.runs}: ${Math.round(result.tokensPerSecond)} tokens/s, ${result.streams} streams completed, ${result.rejected} refused`);
  }
  const aggregate = results.map((r) => r.tokensPerSecond).sort((a, b) => a - b);
  const rates = results.flatMap((r) => r.perStreamRates).sort((a, b) => a - b);
  const report = {
    tokensPerSecond: Math.round(percentile(aggregate, 50)),
    slots: config.slots,
    clients: config.clients,
    queue: config.queue,
    perStreamTarget: config.tps,
    perStreamP50: Math.round(percentile(rates, 50) * 10) / 10,
    perStreamP95: Math.round(percentile(rates, 95) * 10) / 10,
    perStreamP5: Math.round(percentile(rates, 5) * 10) / 10,
    ceiling: config.slots * config.tps,
    tokensPerAnswer: config.tokens,
    secondsPerRun: config.seconds,
    runs: results.map((r) => Math.round(r.tokensPerSecond)),
    streams: results.reduce((sum, r) => sum + r.streams, 0),
    rejected: results.reduce((sum, r) => sum + r.rejected, 0),
    machine: { cpus: os.cpus().length, node: process.version },
    date: new Date().toISOString(),
  };
  console.log(
    `simulator: ${report.tokensPerSecond} tokens/s aggregate (median of ${config.runs}; ceiling ${report.ceiling} = ${config.slots} slots x ${config.tps} tokens/s), ` +
      `per stream p50 ${report.perStreamP50} p95 ${report.perStreamP95} p5 ${report.perStreamP5} tokens/s, ${config.clients} clients`,
  );
  await writeFile(join(root, 'bench/results/simulator.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log('wrote bench/results/simulator.json');
} finally {
  child.kill('SIGTERM');
  await once(child, 'exit');
}
