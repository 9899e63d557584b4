import { describe, expect, it, vi } from 'vitest';
import { createSignalBatcher } from './signal-batcher';

/** A `send` that holds each call until released, recording what it carried. */
function heldSend() {
  const calls: number[][] = [];
  const releases: ((error?: Error) => void)[] = [];
  const send = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push(items);
      releases.push((error) => (error ? reject(error) : resolve()));
    });
  return { calls, releases, send };
}

describe('the signal batcher', () => {
  it('sends the first item at once and what arrives meanwhile in one call after it, in order', async () => {
    const { calls, releases, send } = heldSend();
    const { add } = createSignalBatcher(send, 100);
    const settled = [1, 2, 3, 4].map((n) => add(n));
    expect(calls).toEqual([[1]]);
    releases[0]!();
    await settled[0];
    expect(calls).toEqual([[1], [2, 3, 4]]);
    releases[1]!();
    await Promise.all(settled);
  });

  it('never carries more than maxBatch items in one call', async () => {
    const { calls, releases, send } = heldSend();
    const { add } = createSignalBatcher(send, 2);
    const settled = [1, 2, 3, 4, 5].map((n) => add(n));
    for (let i = 0; i < 3; i++) {
      releases[i]!();
      await settled[[0, 2, 4][i]!];
    }
    expect(calls).toEqual([[1], [2, 3], [4, 5]]);
    await Promise.all(settled);
  });

  it('fails only the items of a failed call, and goes on with the next', async () => {
    const { calls, releases, send } = heldSend();
    const { add } = createSignalBatcher(send, 100);
    const first = add(1);
    const [second, third] = [add(2), add(3)];
    releases[0]!(new Error('Temporal unreachable'));
    await expect(first).rejects.toThrow('Temporal unreachable');
    expect(calls).toEqual([[1], [2, 3]]);
    releases[1]!();
    await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
  });

  it('holds everything while a hold lasts, settling the hold once nothing is on its way', async () => {
    const { calls, releases, send } = heldSend();
    const batcher = createSignalBatcher(send, 100);
    const first = batcher.add(1);
    let holdSettled = false;
    const hold = batcher.hold(60_000).then(() => (holdSettled = true));
    const [second, third] = [batcher.add(2), batcher.add(3)];
    await Promise.resolve();
    expect(holdSettled).toBe(false);
    releases[0]!();
    await Promise.all([first, hold]);
    // The call in flight finished; nothing new went out.
    expect(calls).toEqual([[1]]);
    batcher.resume();
    expect(calls).toEqual([[1], [2, 3]]);
    releases[1]!();
    await Promise.all([second, third]);
  });

  it('lets held items go by itself when the hold runs out', async () => {
    vi.useFakeTimers();
    try {
      const { calls, releases, send } = heldSend();
      const batcher = createSignalBatcher(send, 100);
      await batcher.hold(5_000);
      const item = batcher.add(1);
      await vi.advanceTimersByTimeAsync(4_999);
      expect(calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toEqual([[1]]);
      releases[0]!();
      await item;
    } finally {
      vi.useRealTimers();
    }
  });
});
