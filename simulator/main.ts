import { parseArgs } from 'node:util';
import { createSimulator, defaultOptions, type Simulator, type SimModel } from '.';

/**
 * `npm run sim -- --port 11434 --instances 3 --slots 2 --tps 50`: N simulated Ollama servers on
 * consecutive ports, one line per instance, clean stop on SIGINT/SIGTERM. Faults can be changed at
 * run time with `curl -XPOST <url>/_sim/faults -d '{"errorRate":0.2}'`.
 */

const usage = `usage: npm run sim -- [--host 127.0.0.1] [--port 11434] [--instances 1] [--slots 4] [--queue 512]
  [--tps 50] [--ttft 150] [--load-ms 1500] [--max-loaded 3] [--tokens 120] [--seed 42]
  [--models name=contextWindow,...]`;

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: defaultOptions.host },
    port: { type: 'string', default: '11434' },
    instances: { type: 'string', default: '1' },
    slots: { type: 'string', default: String(defaultOptions.slots) },
    queue: { type: 'string', default: String(defaultOptions.maxQueue) },
    tps: { type: 'string', default: String(defaultOptions.tokensPerSecond) },
    ttft: { type: 'string', default: String(defaultOptions.timeToFirstTokenMs) },
    'load-ms': { type: 'string', default: String(defaultOptions.modelLoadMs) },
    'max-loaded': { type: 'string', default: String(defaultOptions.maxLoadedModels) },
    tokens: { type: 'string', default: String(defaultOptions.outputTokens) },
    seed: { type: 'string', default: String(defaultOptions.seed) },
    models: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(usage);
  process.exit(0);
}

function number(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n)) fail(`--${flag} must be a number, got "${text}"`);
  return n;
}

function fail(message: string): never {
  console.error(`sim: ${message}\n${usage}`);
  process.exit(2);
}

function parseModels(text: string): SimModel[] {
  return text.split(',').map((item) => {
    const [name = '', window] = item.trim().split('=');
    if (!name) fail(`--models has an empty name in "${text}"`);
    return { name, contextWindow: window ? number('models', window) : 8192 };
  });
}

const basePort = number('port', values.port);
const count = number('instances', values.instances);
const started: Simulator[] = [];

async function stop(signal: string): Promise<void> {
  await Promise.all(started.map((s) => s.close()));
  console.log(`sim: stopped (${signal})`);
  process.exit(0);
}
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

try {
  for (let i = 0; i < count; i++) {
    const sim = await createSimulator({
      host: values.host,
      port: basePort === 0 ? 0 : basePort + i,
      slots: number('slots', values.slots),
      maxQueue: number('queue', values.queue),
      tokensPerSecond: number('tps', values.tps),
      timeToFirstTokenMs: number('ttft', values.ttft),
      modelLoadMs: number('load-ms', values['load-ms']),
      maxLoadedModels: number('max-loaded', values['max-loaded']),
      outputTokens: number('tokens', values.tokens),
      seed: number('seed', values.seed),
      instance: i,
      ...(values.models ? { models: parseModels(values.models) } : {}),
    });
    started.push(sim);
    console.log(`sim: instance ${i + 1}/${count} listening on ${sim.url}`);
  }
} catch (err) {
  await Promise.all(started.map((s) => s.close()));
  fail(err instanceof Error ? err.message : String(err));
}
