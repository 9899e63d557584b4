import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ollama } from 'ollama';
import { createBareActivities } from './activities';
import { bareWorkflow } from './workflow';
import type { BareRequest, BareResult } from './run';

/**
 * The bare workflow's own process, forked by ./run.ts: a worker with the SDK's defaults and the
 * client that starts the workflows and waits for their results, so that its CPU is everything the
 * bare side spends outside the Temporal server. Settings come in argv as JSON; rounds come over IPC.
 */

const settings = JSON.parse(process.argv[2]!) as { address: string; namespace: string; taskQueue: string; ollamaUrls: string[]; model: string };
Runtime.install({ logger: new DefaultLogger('WARN') });
const here = path.dirname(fileURLToPath(import.meta.url));
const backends = settings.ollamaUrls.map((host) => createBareActivities(new Ollama({ host }), settings.model));
let turn = 0;
const worker = await Worker.create({
  connection: await NativeConnection.connect({ address: settings.address }),
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(here, 'workflow.ts'), logger: new DefaultLogger('WARN') }),
  // Calls alternate between the simulators, as Switchyard's placement spreads them.
  activities: { chat: (prompt: string) => backends[turn++ % backends.length]!.chat(prompt) },
});
const client = new Client({ connection: await Connection.connect({ address: settings.address }), namespace: settings.namespace });
const running = worker.run();

async function closedLoop({ concurrency, jobs, seconds, prompt }: BareRequest): Promise<BareResult> {
  const durations: number[] = [];
  let issued = 0;
  const deadline = seconds === undefined ? Infinity : performance.now() + seconds * 1000;
  const more = () => (jobs === undefined || issued < jobs) && performance.now() < deadline;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (more()) {
        issued++;
        const started = performance.now();
        await client.workflow.execute(bareWorkflow, { taskQueue: settings.taskQueue, workflowId: `bare-${crypto.randomUUID()}`, args: [`${prompt} ${issued}`] });
        durations.push(performance.now() - started);
      }
    }),
  );
  return { durations };
}

process.on('message', (request: BareRequest | 'stop') => {
  if (request === 'stop') {
    worker.shutdown();
    return;
  }
  closedLoop(request).then(
    (result) => process.send!(result),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});
process.send!('ready');
await running;
await client.connection.close();
process.disconnect();
