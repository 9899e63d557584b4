import { describe, expect, it } from 'vitest';
import { receivePiece, receiveStored, streamOf } from '../../app/lib/stream-text';
import type { JobTokensEvent, PresenceEvent, QueueTeamEvent } from '../../server/realtime/events';
import type { AppSocket } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { perFile } from '../support/per-file';
import { startProcessStack, type ProcessStack, type WebEntry } from '../support/process-stack';
import { until } from '../support/until';

/**
 * Two web and two worker processes, as a deployment runs them, on one PostgreSQL and one Temporal
 * server: with the Redis adapter and again with the PostgreSQL one. A job submitted on one web
 * process streams to a watcher on the other; presence and the live queue are the same everywhere;
 * a web process killed drops only its own sockets, which resume on the other; a worker killed
 * mid-stream leaves every job finishing on the other with its text whole.
 */

// About four seconds per answer: long enough to strike mid-stream on a busy machine.
const simulator = { slots: 2, tokensPerSecond: 20, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 80 };

interface Job {
  id: string;
  output: string;
  status: string;
}

/**
 * A job's text as a browser page assembles it (app/components/JobView.tsx): the stored output is
 * the truth, streamed batches extend it (held past a gap), and a gap or a change of state loads it again.
 */
function follow(socket: AppSocket, jobId: string, load: () => Promise<string>) {
  let state = streamOf('');
  const refetch = async () => {
    // A process going away mid-request: the next batch or change of state asks again.
    const stored = await load().catch(() => null);
    if (stored !== null) state = receiveStored(state, stored);
  };
  socket.on('job:tokens', (event: JobTokensEvent) => {
    if (event.jobId !== jobId) return;
    const received = receivePiece(state, event);
    state = received.state;
    if (received.gap) void refetch();
  });
  socket.on('job:update', (event) => event.jobId === jobId && void refetch());
  void refetch();
  return { text: () => state.text };
}

function useProcesses(redisUrl: string | undefined) {
  const db = useTestDatabase({ seed: true });
  return perFile(
    'useProcesses()',
    async () => {
      const stack = await startProcessStack({ databaseUrl: db.url, webs: 2, workers: 2, simulators: [simulator, simulator], slots: 2, redisUrl });
      // One user submits every job here: lift the tier's queue cap (10) above them.
      await stack.prisma.tier.update({ where: { name: 'premium' }, data: { maxQueuedPerUser: 100 } });
      const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
      return { stack, projectId: project.id, teamId: project.teamId };
    },
    ({ stack }) => stack.stop(),
    // Four processes each build and connect on a busy machine.
    600_000,
  );
}

async function submit(stack: ProcessStack, web: WebEntry, cookie: string, projectId: string, requirements: string): Promise<string> {
  const { status, body } = await stack.trpc(web, cookie, 'jobs.submit', { projectId, requirements, clientKey: crypto.randomUUID(), priority: 'normal' });
  expect(status, JSON.stringify(body)).toBe(200);
  return (body.result!.data.json as { id: string }).id;
}

async function getJob(stack: ProcessStack, web: WebEntry, cookie: string, jobId: string): Promise<Job> {
  const { status, body } = await stack.trpc(web, cookie, 'jobs.get', { jobId }, 'GET');
  expect(status).toBe(200);
  return body.result!.data.json as Job;
}

const untilCompleted = (stack: ProcessStack, ids: string[]) =>
  until(async () => (await stack.prisma.job.count({ where: { id: { in: ids }, status: 'completed' } })) === ids.length, `${ids.length} jobs to complete`, 180_000);

describe.each([
  ['Redis', 'redis://127.0.0.1:6379'],
  ['PostgreSQL', undefined],
])('two web and two worker processes (%s adapter)', (adapter, redisUrl) => {
  const processes = useProcesses(redisUrl);

  it('streams a job submitted on one web process to its watcher on the other', async () => {
    const { stack, projectId } = processes;
    const [web1, web2] = stack.webs as [WebEntry, WebEntry];
    const cookie = await stack.signIn(web2, 'demo@switchyard.dev', 'demo-password');
    const watcher = await stack.connect(web1, cookie);
    const jobId = await submit(stack, web2, cookie, projectId, `streamed across processes (${adapter})`);
    expect(await watcher.emitWithAck('join', { kind: 'job', id: jobId })).toEqual({ ok: true });
    const seen = follow(watcher, jobId, async () => (await getJob(stack, web1, cookie, jobId)).output);
    await untilCompleted(stack, [jobId]);
    const saved = await getJob(stack, web1, cookie, jobId);
    await until(() => seen.text() === saved.output, 'the watcher to have the whole text');
    expect(stack.isWholeAnswer(saved.output)).toBe(true);
  }, 240_000);

  it('shows the same presence and the same live queue on both web processes', async () => {
    const { stack, projectId, teamId } = processes;
    const [web1, web2] = stack.webs as [WebEntry, WebEntry];
    const demoCookie = await stack.signIn(web1, 'demo@switchyard.dev', 'demo-password');
    const adminCookie = await stack.signIn(web2, 'admin@switchyard.dev', 'admin-password');
    const [demo, admin] = await Promise.all([stack.connect(web1, demoCookie), stack.connect(web2, adminCookie)]);
    const presence = new Map<AppSocket, PresenceEvent>();
    const queues = new Map<AppSocket, Map<number, QueueTeamEvent>>();
    for (const socket of [demo, admin]) {
      socket.on('presence', (event) => event.projectId === projectId && presence.set(socket, event));
      queues.set(socket, new Map());
      socket.on('queue:team', (event) => event.teamId === teamId && queues.get(socket)!.set(event.version, event));
    }
    for (const socket of [demo, admin]) {
      expect(await socket.emitWithAck('join', { kind: 'project', id: projectId })).toEqual({ ok: true });
      expect(await socket.emitWithAck('join', { kind: 'team', id: teamId })).toEqual({ ok: true });
    }
    const names = (socket: AppSocket) => presence.get(socket)?.users.map((user) => user.name).sort().join(', ');
    await until(() => names(demo) === 'Admin, Demo User' && names(admin) === 'Admin, Demo User', 'both users present on both processes').catch(
      (error: Error) => {
        throw new Error(`${error.message}: web-1 shows "${names(demo)}", web-2 "${names(admin)}"`);
      },
    );

    // More jobs than slots, from web-2: some run, some wait, on both processes' screens alike.
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => submit(stack, web2, adminCookie, projectId, `queued across processes ${i} (${adapter})`)));
    const shared = await until(() => {
      const [mine, theirs] = [queues.get(demo)!, queues.get(admin)!];
      const both = [...mine.keys()].filter((version) => theirs.has(version) && mine.get(version)!.waiting.length > 0);
      return both.length > 0 && both;
    }, 'a queue snapshot with waiting jobs seen on both processes');
    for (const version of shared) expect(queues.get(demo)!.get(version)).toEqual(queues.get(admin)!.get(version));
    const waiting = queues.get(demo)!.get(shared[0]!)!.waiting.map((job) => job.jobId);
    expect(waiting.every((id) => ids.includes(id))).toBe(true);
    // Seen: the rest of the backlog need not take four seconds an answer.
    for (const sim of stack.sims) sim.configure({ tokensPerSecond: 400 });
    try {
      await untilCompleted(stack, ids);
      await stack.untilSlotsFree();
    } finally {
      for (const sim of stack.sims) sim.configure(simulator);
    }
  }, 240_000);

  it('drops only a killed web process’s sockets, which resume on the other', async () => {
    const { stack, projectId } = processes;
    const [web1, web2] = stack.webs as [WebEntry, WebEntry];
    const cookie = await stack.signIn(web2, 'demo@switchyard.dev', 'demo-password');
    const [onWeb1, onWeb2] = await Promise.all([stack.connect(web1, cookie), stack.connect(web2, cookie)]);
    let web2Dropped = false;
    onWeb2.on('disconnect', () => (web2Dropped = true));
    const jobId = await submit(stack, web2, cookie, projectId, `watched through a crash (${adapter})`);
    for (const socket of [onWeb1, onWeb2]) expect(await socket.emitWithAck('join', { kind: 'job', id: jobId })).toEqual({ ok: true });
    const first = follow(onWeb1, jobId, async () => (await getJob(stack, web1, cookie, jobId)).output);
    const steady = follow(onWeb2, jobId, async () => (await getJob(stack, web2, cookie, jobId)).output);
    await until(() => first.text().length > 0, 'the first tokens on web-1');

    const dropped = new Promise((resolve) => onWeb1.once('disconnect', resolve));
    await web1.process.stop();
    await dropped;
    // A browser reconnects (behind the proxy, to the process still up), joins again and loads what it missed.
    const resumed = await stack.connect(web2, cookie);
    expect(await resumed.emitWithAck('join', { kind: 'job', id: jobId })).toEqual({ ok: true });
    const afterReconnect = follow(resumed, jobId, async () => (await getJob(stack, web2, cookie, jobId)).output);

    await untilCompleted(stack, [jobId]);
    const saved = await getJob(stack, web2, cookie, jobId);
    await until(() => afterReconnect.text() === saved.output && steady.text() === saved.output, 'both sockets to have the whole text');
    expect(web2Dropped).toBe(false);
    expect(onWeb2.connected).toBe(true);
    expect(stack.isWholeAnswer(saved.output)).toBe(true);
    // Back to two web processes for what follows.
    stack.webs.splice(stack.webs.indexOf(web1), 1);
    await stack.startWeb();
  }, 300_000);

  it.runIf(adapter === 'Redis')('finishes every job on the other worker, text whole, when one is killed mid-stream', async () => {
    const { stack, projectId } = processes;
    const [web] = stack.webs as [WebEntry];
    const cookie = await stack.signIn(web, 'demo@switchyard.dev', 'demo-password');
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => submit(stack, web, cookie, projectId, `survives a worker crash ${i}`)));
    await until(
      async () => (await stack.prisma.job.count({ where: { id: { in: ids }, status: 'running', output: { not: '' } } })) >= 2,
      'jobs streaming',
      120_000,
    );
    await stack.workers[0]!.stop();
    // Struck mid-stream: what runs after the crash need not be slow.
    for (const sim of stack.sims) sim.configure({ tokensPerSecond: 400 });
    try {
      await untilCompleted(stack, ids);
      const jobs = await stack.prisma.job.findMany({ where: { id: { in: ids } }, select: { id: true, output: true } });
      for (const job of jobs) expect(stack.isWholeAnswer(job.output), `the text of ${job.id}`).toBe(true);
      expect(await stack.prisma.result.count({ where: { jobId: { in: ids } } })).toBe(ids.length);
      await stack.untilSlotsFree();
    } finally {
      for (const sim of stack.sims) sim.configure(simulator);
    }
  }, 300_000);
});
