import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { repoRoot } from '../scripts/lib/paths';
import { freePort } from '../scripts/lib/ports';
import type { Child } from '../scripts/lib/supervisor';
import { WORKER_NODE_FLAGS } from '../server/temporal/worker-options';
import { parseBenchMode } from './lib/args';
import { startBenchStack } from './lib/stack';
import { round } from './lib/stats';
import { describeMachine } from './suite/machine';

/**
 * The idle worker's resident memory, for source trees side by side: one stack (PostgreSQL,
 * Temporal, the simulator; no web, no worker of its own), then per round one worker process from
 * each `--tree` (a name and a checkout with its node_modules, e.g. a worktree of the commit before a
 * change), started one after another as the stack starts its worker (its Node flags; tsx in test
 * mode, dist/ in prod mode, which needs `npm run build` in every tree) and each on a task queue of
 * its own, so each runs its own scheduler and resource manager. After `--settle-seconds` with every
 * worker ready, each is sampled once a second for `--samples` seconds: its RSS and anonymous pages
 * (/proc), and its main thread's V8 heap in use (the process metrics it serves), where the modules
 * it loaded live; prints each worker's medians and each tree's means. Rounds interleave the trees,
 * so both meet the same machine. Writes bench/results/idle-worker.json.
 *
 *   node --import tsx bench/idle-worker.ts [--tree name:dir]… [--rounds 2] [--settle-seconds 30] [--samples 20] [--mode test|prod]
 */

const { values } = parseArgs({
  options: {
    tree: { type: 'string', multiple: true, default: [`this:${repoRoot}`] },
    rounds: { type: 'string', default: '2' },
    'settle-seconds': { type: 'string', default: '30' },
    samples: { type: 'string', default: '20' },
    mode: { type: 'string', default: 'test' },
  },
});
const whole = (flag: string, text: string | undefined) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive whole number, got ${text}`);
  return value;
};
const trees = (values.tree ?? []).map((spec) => {
  const colon = spec.indexOf(':');
  if (colon < 1) throw new Error(`--tree must be name:dir, got ${spec}`);
  return { name: spec.slice(0, colon), dir: path.resolve(spec.slice(colon + 1)) };
});
const rounds = whole('rounds', values.rounds);
const settleSeconds = whole('settle-seconds', values['settle-seconds']);
const samples = whole('samples', values.samples);
const mode = parseBenchMode(values.mode);

const stack = await startBenchStack(mode, { workers: 0, web: false, echo: false });
const workers: { tree: string; round: number; child: Child; metrics: string }[] = [];
const metricsToken = randomBytes(16).toString('hex');
try {
  for (let round = 1; round <= rounds; round++) {
    for (const tree of trees) {
      const metricsPort = await freePort();
      const child = stack.supervisor.spawn({
        name: `${tree.name}-${round}`,
        command: process.execPath,
        args: mode === 'prod' ? ['dist/server/worker.js'] : ['--import', 'tsx', 'server/worker.ts'],
        cwd: tree.dir,
        env: {
          NODE_OPTIONS: WORKER_NODE_FLAGS.join(' '),
          NODE_ENV: mode === 'prod' ? 'production' : 'test',
          HOST: '127.0.0.1',
          DATABASE_URL: stack.databaseUrl,
          TEMPORAL_ADDRESS: stack.temporalAddress,
          TEMPORAL_NAMESPACE: stack.temporalNamespace,
          TEMPORAL_TASK_QUEUE: `idle-${tree.name}-${round}-${randomBytes(3).toString('hex')}`,
          OLLAMA_URL: stack.ollamaUrls.join(','),
          SESSION_SECRET: randomBytes(32).toString('hex'),
          ENCRYPTION_KEYS: stack.encryptionKeys,
          WORKER_METRICS_PORT: String(metricsPort),
          METRICS_TOKEN: metricsToken,
        },
        stopPhase: 2,
        stopTimeoutMs: 15_000,
      });
      await child.waitForLine(/worker ready/, { timeoutMs: 180_000 });
      workers.push({ tree: tree.name, round, child, metrics: `http://127.0.0.1:${metricsPort}/metrics` });
    }
  }
  await sleep(settleSeconds * 1000);
  const sampled = new Map(workers.map((worker) => [worker, { rss: [] as number[], anon: [] as number[], heap: [] as number[] }]));
  for (let i = 0; i < samples; i++) {
    for (const worker of workers) {
      const pages = residentMb(worker.child.pid!);
      const of = sampled.get(worker)!;
      of.rss.push(pages.rss);
      of.anon.push(pages.anon);
      of.heap.push(await heapUsedMb(worker.metrics));
    }
    await sleep(1000);
  }
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  const mean = (list: number[]) => list.reduce((sum, value) => sum + value, 0) / list.length;
  const results = trees.map((tree) => {
    const of = workers.filter((worker) => worker.tree === tree.name).map((worker) => sampled.get(worker)!);
    const figures = (key: 'rss' | 'anon' | 'heap') => {
      const medians = of.map((each) => round(median(each[key]), 1));
      return { perWorker: medians, mean: round(mean(medians), 1) };
    };
    return { ...tree, rssMb: figures('rss'), anonymousMb: figures('anon'), mainHeapUsedMb: figures('heap') };
  });
  for (const { name, dir, rssMb, anonymousMb, mainHeapUsedMb } of results) {
    const line = (figures: { perWorker: number[]; mean: number }) => `${figures.perWorker.join(', ')} (mean ${figures.mean})`;
    console.log(`${name} (${dir}), medians of ${samples} samples per worker, MB: RSS ${line(rssMb)}; anonymous ${line(anonymousMb)}; main heap used ${line(mainHeapUsedMb)}`);
  }
  const report = {
    benchmark: 'idle-worker',
    date: new Date().toISOString(),
    machine: describeMachine(),
    settings: { mode, rounds, settleSeconds, samples },
    definitions: {
      rssMb: "each worker's median VmRSS over the samples, taken after every worker was ready and the settle time passed",
      anonymousMb: 'the same for its anonymous resident pages (RssAnon): heaps and malloc, not mapped files',
      mainHeapUsedMb: "the same for its main thread's V8 heap in use (nodejs_heap_size_used_bytes from its /metrics)",
    },
    trees: results,
  };
  mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'bench/results/idle-worker.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log('wrote bench/results/idle-worker.json');
} finally {
  await stack.stop();
}

/** Resident pages of a process in MiB: all of them, and the anonymous ones (heaps, malloc), from /proc. */
function residentMb(pid: number): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
  return { rss: mb('VmRSS'), anon: mb('RssAnon') };
}

/** The main thread's V8 heap in use, from the process metrics the worker serves. */
async function heapUsedMb(url: string): Promise<number> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${metricsToken}` } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const used = /^nodejs_heap_size_used_bytes (\S+)/m.exec(await response.text());
  if (!used) throw new Error(`${url} has no nodejs_heap_size_used_bytes`);
  return Number(used[1]) / 2 ** 20;
}
