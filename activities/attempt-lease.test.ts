import { ActivityCompletionError, ActivityNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { holdLease, type LeaseClient } from './attempt-lease';

interface Frontend {
  sent: unknown[];
  answer: 'ack' | 'gone' | 'unreachable' | 'stalled';
  client: LeaseClient;
}

/** A Temporal frontend as the lease sees it: each heartbeat is answered as `answer` says when it is sent. */
function frontend(): Frontend {
  const sent: unknown[] = [];
  const server: Frontend = {
    sent,
    answer: 'ack',
    client: {
      heartbeat: async (_token: Uint8Array, details: unknown) => {
        sent.push(details);
        switch (server.answer) {
          case 'ack':
            return;
          case 'gone':
            throw new ActivityNotFoundError('Not found');
          case 'unreachable':
            throw new ActivityCompletionError('unavailable');
          case 'stalled':
            return new Promise<void>(() => undefined);
        }
      },
    },
  };
  return server;
}

const TIMEOUT_MS = 5_000;
let keys = 0;
const lease = (server: Frontend, key = `job-${++keys}/1`) =>
  holdLease({ client: server.client, taskToken: new Uint8Array(), timeoutMs: TIMEOUT_MS, key, details: () => ({ tokens: server.sent.length }) });

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] }));
afterEach(() => vi.useRealTimers());

describe('an attempt lease', () => {
  it('is ready once Temporal acknowledges a heartbeat, and holds while acknowledgements come', async () => {
    const server = frontend();
    const held = await lease(server);
    await expect(held.ready()).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(held.signal.aborted).toBe(false);
    // A heartbeat every quarter of the timeout.
    expect(server.sent.length).toBeGreaterThanOrEqual(48);
    held.end();
  });

  it('is lost before the heartbeat timeout when no heartbeat gets through, whether refused or unanswered', async () => {
    for (const answer of ['unreachable', 'stalled'] as const) {
      const server = frontend();
      const held = await lease(server);
      await held.ready();
      server.answer = answer;
      const acknowledgedAt = performance.now();
      for (let waited = 0; !held.signal.aborted && waited < 2 * TIMEOUT_MS; waited += 10) await vi.advanceTimersByTimeAsync(10);
      const lostAfter = performance.now() - acknowledgedAt;
      // The last acknowledged heartbeat was sent at acknowledgedAt: Temporal's timer runs from no earlier.
      expect(lostAfter, answer).toBeLessThan(TIMEOUT_MS);
      expect(lostAfter, answer).toBeGreaterThan(TIMEOUT_MS / 2);
      expect(held.signal.reason, answer).toBeInstanceOf(ApplicationFailure);
      expect((held.signal.reason as ApplicationFailure).type).toBe('AttemptLost');
      held.end();
    }
  });

  it('is lost at once when Temporal no longer knows the attempt', async () => {
    const server = frontend();
    const held = await lease(server);
    await held.ready();
    server.answer = 'gone';
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS / 4);
    expect(held.signal.aborted).toBe(true);
    held.end();
  });

  it('is never ready, and sends nothing further, when the first heartbeat does not get through', async () => {
    const server = frontend();
    server.answer = 'unreachable';
    const held = await lease(server);
    const ready = held.ready();
    const settled = expect(ready).rejects.toMatchObject({ type: 'AttemptLost' });
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    await settled;
    const sent = server.sent.length;
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(server.sent.length).toBe(sent);
    held.end();
  });

  it('in one process, takes the grant from the previous attempt of the same activity only once that attempt has ended', async () => {
    const server = frontend();
    const first = await lease(server, 'job/1');
    await first.ready();
    let secondHeld = false;
    const second = lease(server, 'job/1').then((held) => {
      secondHeld = true;
      return held;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(first.signal.aborted).toBe(true);
    // The first attempt is still stopping its stream: the second neither holds nor heartbeats.
    const sent = server.sent.length;
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(secondHeld).toBe(false);
    expect(server.sent.length).toBe(sent);
    first.end();
    const held = await second;
    await held.ready();
    expect(held.signal.aborted).toBe(false);
    held.end();
    // Another activity (key) is not held up by either.
    const other = await lease(server, 'job/2');
    await other.ready();
    other.end();
  });
});
