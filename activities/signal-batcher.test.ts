import { describe, expect, it } from 'vitest';
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
});
