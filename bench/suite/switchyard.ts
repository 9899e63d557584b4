import { randomUUID } from 'node:crypto';
import { BenchClient, type BenchWorkspaceTeam } from '../lib/clients';
import type { JobStatusName, JobUpdateEvent } from '../../server/realtime/events';
import type { Arrivals } from './arrivals';
import { BENCH_MODEL, BENCH_REQUIREMENTS } from './baseline';
import { sleepUntil, type Cap } from './cap';
import type { Outcome } from './outcomes';
import { mapLimit } from './map-limit';
import { CallError, type TrpcHttp } from './trpc-http';

/**
 * The same users through Switchyard: each submits one job with `jobs.submit` (tRPC over HTTP,
 * its own session) and learns of its end from `job:update` on Socket.IO. One connection per team
 * watches the team's project and team rooms — the events every member's browser would receive —
 * instead of one per user: 5,000 sockets would make the benchmark's own process the bottleneck.
 */

const TERMINAL: readonly JobStatusName[] = ['completed', 'failed', 'cancelled', 'dead_letter'];
/** With no job event at all for this long, pending jobs are looked up (their event may be lost). */
const QUIET_MS = 15_000;
const CONTROL_CONCURRENCY = 16;

/** `queue:team` as announced for the team room: `at` is the scheduler's time of the state. */
interface QueueTeamEvent {
  teamId: string;
  version: number;
  at: number | string;
}

export interface SwitchyardRun {
  outcomes: Outcome[];
  /** Jobs submitted (or being submitted) that no event has shown running yet. */
  waitingInFront(): number;
  done: Promise<SwitchyardExtras>;
}

export interface SwitchyardExtras {
  /** Receive time − `at` of every `queue:team` event, in ms. */
  positionLatencies: number[];
  /** Jobs whose end was found by polling `jobs.get` because no event came. */
  missedEvents: number;
  /** Observer sockets that reconnected during the scenario. */
  reconnects: number;
  /** Submit response times (the user's wait for "queued"). */
  submitMs: number[];
}

/** One observer per team: its first member, in the team's project and team rooms. */
export async function connectObservers(webUrl: string, teams: readonly BenchWorkspaceTeam[]): Promise<BenchClient[]> {
  const observers: BenchClient[] = [];
  try {
    await mapLimit(teams, CONTROL_CONCURRENCY, async (team) => {
      const client = await BenchClient.connect(webUrl, team.users[0]!.cookie);
      observers.push(client);
      await client.join('project', team.projectIds[0]!);
      await client.join('team', team.id);
    });
    return observers;
  } catch (error) {
    for (const client of observers) client.close();
    throw error;
  }
}

export function runSwitchyard(
  api: TrpcHttp,
  observers: readonly BenchClient[],
  teams: readonly BenchWorkspaceTeam[],
  arrivals: Arrivals,
  started: number,
  limit: Cap,
): SwitchyardRun {
  const { signal: cap, remainingMs } = limit;
  const users = teams.flatMap((team) => team.users.map((user) => ({ cookie: user.cookie, projectId: team.projectIds[0]! })));
  const outcomes: Outcome[] = arrivals.map((at) => ({ arrivedAt: at }));
  const pending = new Map<string, { outcome: Outcome; cookie: string }>();
  const endedEarly = new Map<string, { at: number; status: JobStatusName }>();
  const extras: SwitchyardExtras = { positionLatencies: [], missedEvents: 0, reconnects: 0, submitMs: [] };
  let outstanding = 0;
  /** Jobs whose latest event says running (a retried job goes back to queued). */
  const running = new Set<string>();
  let lastEventAt = performance.now();
  let lookupNeeded = false;

  const finish = (outcome: Outcome, status: JobStatusName, at: number) => {
    outcome.finishedAt = at - started;
    if (status !== 'completed') outcome.error = `job ${status}`;
    outstanding--;
  };

  const onJobUpdate = (event: JobUpdateEvent) => {
    lastEventAt = performance.now();
    if (event.status === 'running') running.add(event.jobId);
    else running.delete(event.jobId);
    if (!TERMINAL.includes(event.status)) return;
    const entry = pending.get(event.jobId);
    if (!entry) return void endedEarly.set(event.jobId, { at: lastEventAt, status: event.status });
    pending.delete(event.jobId);
    finish(entry.outcome, event.status, lastEventAt);
  };
  const onQueueTeam = (event: QueueTeamEvent) => {
    const at = typeof event.at === 'number' ? event.at : Date.parse(event.at);
    if (Number.isFinite(at)) extras.positionLatencies.push(Date.now() - at);
  };
  const onReconnect = () => {
    extras.reconnects++;
    lookupNeeded = true;
  };
  for (const observer of observers) {
    observer.onJobUpdate(onJobUpdate);
    // The team room's position updates; each `at` is the scheduler's time of the state.
    (observer.socket as unknown as { on(event: string, listener: (e: QueueTeamEvent) => void): void }).on('queue:team', onQueueTeam);
    observer.socket.io.on('reconnect', onReconnect);
  }

  const submitOne = async (outcome: Outcome, cookie: string, projectId: string) => {
    await sleepUntil(started + outcome.arrivedAt, cap);
    if (cap.aborted) return void (outcome.error = limit.cutOffLabel);
    outstanding++;
    const sent = performance.now();
    try {
      const job = await api.mutate<{ id: string }>(
        cookie,
        'jobs.submit',
        { projectId, requirements: BENCH_REQUIREMENTS, model: BENCH_MODEL, clientKey: randomUUID() },
        remainingMs(),
        cap,
      );
      extras.submitMs.push(performance.now() - sent);
      const early = endedEarly.get(job.id);
      if (early) {
        endedEarly.delete(job.id);
        finish(outcome, early.status, early.at);
      } else pending.set(job.id, { outcome, cookie });
    } catch (error) {
      outcome.finishedAt = performance.now() - started;
      outcome.error = cap.aborted ? limit.cutOffLabel : `submit: ${error instanceof CallError ? error.kind : String(error)}`;
      outstanding--;
    }
  };

  /** Asks for the jobs whose end no event told (after a reconnect, or when events stopped). */
  const lookUpPending = async () => {
    await mapLimit([...pending], CONTROL_CONCURRENCY, async ([jobId, { outcome, cookie }]) => {
      const job = await api.query<{ status: JobStatusName }>(cookie, 'jobs.get', { jobId }, 30_000).catch(() => null);
      if (!job || !TERMINAL.includes(job.status) || !pending.has(jobId)) return;
      pending.delete(jobId);
      extras.missedEvents++;
      finish(outcome, job.status, performance.now());
    });
  };

  const done = (async () => {
    let submitting = true;
    const submits = Promise.all(outcomes.map((outcome, i) => submitOne(outcome, users[i]!.cookie, users[i]!.projectId))).then(() => {
      submitting = false;
    });
    while (!cap.aborted && (submitting || pending.size > 0)) {
      await sleepUntil(performance.now() + 1_000, cap);
      const quiet = performance.now() - lastEventAt > QUIET_MS;
      if (!cap.aborted && pending.size > 0 && (lookupNeeded || (quiet && !submitting))) {
        lookupNeeded = false;
        await lookUpPending();
        lastEventAt = performance.now();
      }
    }
    await submits;
    // Past the cap: what is still pending is cut off; cancel it so it does not run into the next scenario.
    const left = [...pending];
    pending.clear();
    outstanding -= left.length;
    for (const [, { outcome }] of left) {
      outcome.error = limit.cutOffLabel;
      outcome.finishedAt = performance.now() - started;
    }
    // Stopped early, the stack is going down: nobody is left to cancel them, nor a next scenario to protect.
    if (limit.stopReason === undefined) {
      await mapLimit(left, CONTROL_CONCURRENCY, ([jobId, { cookie }]) =>
        api.mutate(cookie, 'jobs.cancel', { jobId }, 30_000).catch(() => undefined),
      );
    }
    return extras;
  })();

  return { outcomes, waitingInFront: () => Math.max(0, outstanding - running.size), done };
}
