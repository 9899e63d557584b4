import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BenchClient } from './clients';

/**
 * One client process of `bench:fanout`: holds a share of the Socket.IO clients, each in its own
 * project room and the job room it watches, and measures token delay against each batch's
 * `sentAt`. It runs apart from the coordinator so that receiving thousands of messages a second
 * does not queue behind the coordinator's work, and it reports its own event-loop delay and CPU
 * so a reader can tell whether the client side distorted the figures.
 */

export type FanoutCommand =
  | { type: 'connect'; baseUrl: string; clients: { cookie: string; projectId: string }[] }
  /** The job each client watches, by index in the `connect` list. */
  | { type: 'watch'; jobIds: string[] }
  /** Record batches published at or after `since` (epoch ms). */
  | { type: 'measure'; since: number }
  | { type: 'stop' };

export type FanoutReport =
  | { type: 'connected'; clients: number }
  | { type: 'watching' }
  | { type: 'error'; message: string }
  | {
      type: 'result';
      delaysMs: number[];
      batchesWithoutSentAt: number;
      reconnects: number;
      cpuSeconds: number;
      loopDelayP99Ms: number;
      loopDelayMaxMs: number;
    };

const CONNECT_CONCURRENCY = 25;

const clients: BenchClient[] = [];
const delays: number[] = [];
let since = Number.POSITIVE_INFINITY;
let withoutSentAt = 0;
let reconnects = 0;
const loop = monitorEventLoopDelay({ resolution: 10 });

let cpuAtStart = process.cpuUsage();

const send = (report: FanoutReport, then?: () => void): void => {
  process.send!(report, undefined, undefined, then);
};

async function inPool<T>(items: T[], concurrency: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await run(items[index]!, index);
      }
    }),
  );
}

async function handle(command: FanoutCommand): Promise<void> {
  switch (command.type) {
    case 'connect': {
      const joined: BenchClient[] = new Array(command.clients.length);
      await inPool(command.clients, CONNECT_CONCURRENCY, async ({ cookie, projectId }, i) => {
        const client = await BenchClient.connect(command.baseUrl, cookie);
        await client.join('project', projectId);
        client.socket.io.on('reconnect', () => reconnects++);
        client.socket.on('job:tokens', ({ sentAt }) => {
          if (sentAt === undefined) withoutSentAt++;
          else if (sentAt >= since) delays.push(Date.now() - sentAt);
        });
        joined[i] = client;
      });
      clients.push(...joined);
      return send({ type: 'connected', clients: clients.length });
    }
    case 'watch':
      await inPool(clients, CONNECT_CONCURRENCY, (client, i) => client.join('job', command.jobIds[i]!));
      return send({ type: 'watching' });
    case 'measure':
      since = command.since;
      cpuAtStart = process.cpuUsage();
      loop.reset();
      loop.enable();
      return;
    case 'stop': {
      loop.disable();
      const cpu = process.cpuUsage(cpuAtStart);
      for (const client of clients) client.close();
      send({
        type: 'result',
        delaysMs: delays,
        batchesWithoutSentAt: withoutSentAt,
        reconnects,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        loopDelayP99Ms: loop.percentile(99) / 1e6,
        loopDelayMaxMs: loop.max / 1e6,
      }, () => process.disconnect());
      return;
    }
  }
}

process.on('message', (command: FanoutCommand) => {
  handle(command).catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
});
// The coordinator gone (crashed or killed) means this process has nothing left to do.
process.on('disconnect', () => {
  for (const client of clients) client.close();
  process.exit(0);
});
