import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TextBatcher } from './batcher';

describe('TextBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_030);
  });
  afterEach(() => vi.useRealTimers());

  it('sends what was pushed as one batch with its offset, at the next tick of the shared clock', () => {
    const sent: [number, string][] = [];
    const batcher = new TextBatcher(5, 100, (offset, text) => sent.push([offset, text]));
    batcher.push('ab');
    batcher.push('c');
    vi.advanceTimersByTime(69);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1); // 1_000_100: the next multiple of 100 ms
    expect(sent).toEqual([[5, 'abc']]);
    batcher.push('de');
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([[5, 'abc'], [8, 'de']]);
  });

  it('lines up batchers that started at different times, so their batches leave together', () => {
    const times: [string, number][] = [];
    const first = new TextBatcher(0, 100, (_, text) => times.push([text, Date.now()]));
    const second = new TextBatcher(0, 100, (_, text) => times.push([text, Date.now()]));
    first.push('x');
    vi.advanceTimersByTime(45);
    second.push('y');
    vi.advanceTimersByTime(100);
    expect(times).toEqual([['x', 1_000_100], ['y', 1_000_100]]);
  });

  it('flushes at once when asked, and sends nothing when nothing is pending', () => {
    const sent: [number, string][] = [];
    const batcher = new TextBatcher(0, 100, (offset, text) => sent.push([offset, text]));
    batcher.flush();
    batcher.push('hello');
    batcher.flush();
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([[0, 'hello']]);
  });
});
