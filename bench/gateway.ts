import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { repoRoot } from '../scripts/lib/paths';
import { parseBenchMode } from './lib/args';
import { BenchClient, createBenchTeam } from './lib/clients';
import { cpuBetween, stackUsage } from './lib/processes';
import { startBenchStack } from './lib/stack';
import { percentile, round } from './lib/stats';

/**
 * What the OpenAI-compatible gateway adds to a request: the same streamed chat completions sent
 * by `concurrency` clients (the official `openai` client) through Switchyard (`/v1`, API key,
 * admission, scheduler, chat workflow, token relay) and directly to the simulator's own `/v1`, in
 * one run. Reports time to first token and to the end (p50/p95/p99) for both and their
 * difference, tokens/s, and the stack's CPU per request through Switchyard.
 *
 *   npm run bench:gateway -- [--mode prod|test] [--levels 1,50] [--requests 100]
 *
 * The scheduler has more slots than the highest concurrency, so no request waits for capacity:
 * what is measured is orchestration. Writes bench/results/gateway.json.
 */

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'prod' },
    levels: { type: 'string', default: '1,50' },
    requests: { type: 'string', default: '100' },
  },
});
const mode = parseBenchMode(values.mode);
const levels = values.levels.split(',').map(Number);
const requestsPerLevel = Number(values.requests);
const MODEL = 'qwen2.5-coder:7b';
const TOKENS = 40;

const stack = await startBenchStack(mode, {
  echo: false,
  logFile: path.join(os.tmpdir(), `switchyard-bench-gateway-${process.pid}.log`),
  simInstances: 1,
  simArgs: ['--tps', '100', '--tokens', String(TOKENS), '--ttft', '100', '--slots', '100', '--queue', '1000', '--load-ms', '0'],
  env: { OLLAMA_SLOTS: '100' },
});

interface Sample {
  firstTokenMs: number;
  endMs: number;
  tokens: number;
}

/** One streamed chat, timed from the call to its first text and to its end. */
async function timedChat(client: OpenAI, i: number): Promise<Sample> {
  const started = performance.now();
  let firstTokenMs = 0;
  let tokens = 0;
  const stream = await client.chat.completions.create({ model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `reverse a string ${i}` }] });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content && !firstTokenMs) firstTokenMs = performance.now() - started;
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  return { firstTokenMs, endMs: performance.now() - started, tokens };
}

/** `concurrency` clients back to back until `total` requests are done. */
async function closedLoop(client: OpenAI, concurrency: number, total: number) {
  const samples: Sample[] = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total) samples.push(await timedChat(client, issued++));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { samples, seconds };
}

const summary = (values: number[]) => ({ p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), p99: round(percentile(values, 99)) });
const minus = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, round(v - b[k]!)]));

let user: BenchClient | undefined;
try {
  const team = await createBenchTeam(stack.databaseUrl, 1, 'gateway');
  user = await BenchClient.signIn(stack.webUrl!, team.users[0]!.email, team.users[0]!.password);
  const { key } = await user.mutate<{ key: string }>('apiKeys.create', { teamId: team.teamId, name: 'bench' });
  const through = new OpenAI({ baseURL: `${stack.webUrl}/v1`, apiKey: key, maxRetries: 0 });
  const direct = new OpenAI({ baseURL: `${stack.ollamaUrls[0]}/v1`, apiKey: 'none', maxRetries: 0 });

  await closedLoop(through, 5, 20); // warm-up: JIT, connection pools, workflow cache
  await closedLoop(direct, 5, 20);
  const runs = [];
  for (const concurrency of levels) {
    const total = Math.max(requestsPerLevel, concurrency * 2);
    const viaDirect = await closedLoop(direct, concurrency, total);
    const before = stackUsage();
    const viaSwitchyard = await closedLoop(through, concurrency, total);
    const cpuMsPerRequest = Object.fromEntries(Object.entries(cpuBetween(before, stackUsage())).map(([role, seconds]) => [role, round((seconds * 1000) / total, 1)]));
    const measure = ({ samples, seconds }: { samples: Sample[]; seconds: number }) => ({
      firstTokenMs: summary(samples.map((s) => s.firstTokenMs)),
      endMs: summary(samples.map((s) => s.endMs)),
      tokensPerSecond: round(samples.reduce((n, s) => n + s.tokens, 0) / seconds),
    });
    const [s, d] = [measure(viaSwitchyard), measure(viaDirect)];
    const run = {
      concurrency,
      requests: total,
      switchyard: s,
      direct: d,
      addedFirstTokenMs: minus(s.firstTokenMs, d.firstTokenMs),
      addedEndMs: minus(s.endMs, d.endMs),
      cpuMsPerRequest,
    };
    console.log(
      `concurrency ${concurrency}: added to first token p50 ${run.addedFirstTokenMs.p50} ms, p95 ${run.addedFirstTokenMs.p95} ms, p99 ${run.addedFirstTokenMs.p99} ms; ` +
        `to the end p50 ${run.addedEndMs.p50} ms, p95 ${run.addedEndMs.p95} ms; tokens/s ${s.tokensPerSecond} vs ${d.tokensPerSecond} direct; ` +
        `CPU ms/request ${Object.entries(cpuMsPerRequest).map(([role, ms]) => `${role} ${ms}`).join(', ')}`,
    );
    runs.push(run);
  }
  const out = path.join(repoRoot, 'bench/results/gateway.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ mode, model: MODEL, tokensPerAnswer: TOKENS, simulator: { ttftMs: 100, tokensPerSecond: 100 }, cpus: os.cpus().length, runs }, null, 2)}\n`);
  console.log(`written ${path.relative(repoRoot, out)}`);
} finally {
  user?.close();
  await stack.stop();
}
