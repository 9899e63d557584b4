import { describe, expect, it } from 'vitest';
import { packRelay, type RelayedEmit } from './relay';

const tokens = (jobId: string, offset: number, text: string): RelayedEmit => ({
  rooms: `job:${jobId}`,
  event: 'job:tokens',
  payload: { jobId, offset, text, sentAt: 1 },
});

describe('packRelay', () => {
  it('keeps every emit, in order, in chunks whose JSON fits the limit', () => {
    const emits = Array.from({ length: 300 }, (_, i) => tokens(`job-${i % 7}`, i, 'é'.repeat(i % 40)));
    const chunks = packRelay(emits, 2000);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(emits);
    for (const chunk of chunks) expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(2000);
  });

  it('sends an emit larger than the limit on its own', () => {
    const big = tokens('big', 0, 'x'.repeat(3000));
    const chunks = packRelay([tokens('a', 0, 'a'), big, tokens('b', 0, 'b')], 1000);
    expect(chunks).toEqual([[tokens('a', 0, 'a')], [big], [tokens('b', 0, 'b')]]);
  });

  it('makes no chunk of nothing', () => {
    expect(packRelay([])).toEqual([]);
  });
});
