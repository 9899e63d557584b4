import type { BenchClient } from './clients';

/**
 * When each job ends, learned the way the web page learns it: from the project room's
 * `job:update` events on one listening client. An event can arrive before the submit's response,
 * so early ones are kept; a missed one (a dropped socket) is caught by polling the job every 30 s,
 * so no run waits forever. Polling is the fallback only: a client polling every 100 ms would add
 * its own requests to every figure measured, and so did one every 5 s once a loaded machine made
 * jobs at 50 concurrent take longer than that (a third of bench:overhead's requests were polls).
 */
const POLL_MS = 30_000;
export class JobCompletions {
  private readonly finishedAt = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  failures = 0;
  missedEvents = 0;

  constructor(listener: BenchClient) {
    listener.onJobUpdate((event) => {
      if (event.status === 'running' || event.status === 'queued') return;
      if (event.status !== 'completed') this.failures++;
      const waiter = this.waiters.get(event.jobId);
      if (waiter) waiter(performance.now());
      else this.finishedAt.set(event.jobId, performance.now());
    });
  }

  /** The moment `jobId` ended (performance.now()); `client` is the one polled if its event is missed. */
  async ended(client: BenchClient, jobId: string): Promise<number> {
    const at =
      this.finishedAt.get(jobId) ??
      (await new Promise<number>((resolve) => {
        this.waiters.set(jobId, resolve);
        const poll = setInterval(async () => {
          if (!this.waiters.has(jobId)) return clearInterval(poll);
          const { status } = await client.query<{ status: string }>('jobs.get', { jobId }).catch(() => ({ status: '' }));
          if (status && status !== 'queued' && status !== 'running') {
            this.missedEvents++;
            if (status !== 'completed') this.failures++;
            clearInterval(poll);
            resolve(performance.now());
          }
        }, POLL_MS);
      }));
    this.finishedAt.delete(jobId);
    this.waiters.delete(jobId);
    return at;
  }
}
