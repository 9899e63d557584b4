import { describe, expect, it } from 'vitest';
import type { PrismaClient } from '../server/generated/prisma/client';
import { createLengthBook, createSpeedBook, estimateGeneration, streamSpeed } from './progress';

describe('a generation’s estimate', () => {
  it('counts down from the model’s typical length at the measured speed', () => {
    expect(estimateGeneration({ tokens: 60, typicalTokens: 120, outputCap: 4096, tokensPerSecond: 20 })).toEqual({ percent: 42, expectedTokens: 120, etaMs: 3_000 });
  });

  it('expects the cap when the model has no history, and never more than it', () => {
    expect(estimateGeneration({ tokens: 0, typicalTokens: null, outputCap: 256, tokensPerSecond: 64 })).toEqual({ percent: 10, expectedTokens: 256, etaMs: 4_000 });
    expect(estimateGeneration({ tokens: 10, typicalTokens: 900, outputCap: 100, tokensPerSecond: 10 }).expectedTokens).toBe(100);
  });

  it('expects an answer past its typical length to run a quarter longer, up to the cap', () => {
    expect(estimateGeneration({ tokens: 200, typicalTokens: 120, outputCap: 4096, tokensPerSecond: 50 })).toEqual({ percent: 62, expectedTokens: 250, etaMs: 1_000 });
    expect(estimateGeneration({ tokens: 240, typicalTokens: 120, outputCap: 256, tokensPerSecond: 50 }).expectedTokens).toBe(256);
    expect(estimateGeneration({ tokens: 256, typicalTokens: 120, outputCap: 256, tokensPerSecond: 50 })).toEqual({ percent: 75, expectedTokens: 256, etaMs: 0 });
  });

  it('has no ETA while the speed is unknown', () => {
    expect(estimateGeneration({ tokens: 3, typicalTokens: 120, outputCap: 4096, tokensPerSecond: null }).etaMs).toBeNull();
  });
});

describe('speeds', () => {
  it('trusts a stream’s own speed only once enough of it was seen', () => {
    expect(streamSpeed(3, 1_000)).toBeNull();
    expect(streamSpeed(40, 100)).toBeNull();
    expect(streamSpeed(40, 2_000)).toBe(20);
  });

  it('remembers each backend’s speed, leaning towards the newest stream', () => {
    const book = createSpeedBook();
    expect(book.get('a')).toBeNull();
    book.record('a', 20);
    book.record('a', 30);
    expect(book.get('a')).toBeCloseTo(23);
    expect(book.get('b')).toBeNull();
  });
});

describe('the length book', () => {
  /** A database whose model has `answers` completed answers (their lengths), counting the reads. */
  function database(answers: number[]) {
    const reads = { count: 0 };
    const prisma = { job: { findMany: async () => (reads.count++, answers.map((completionTokens) => ({ completionTokens }))) } } as unknown as PrismaClient;
    return { prisma, reads };
  }

  it('reads a model’s typical length once per model and kind within its time to live', async () => {
    const { prisma, reads } = database([30, 10, 20]);
    const book = createLengthBook(prisma, 60_000);
    expect(await book.typical('m', 'code_generation')).toBe(20);
    expect(await book.typical('m', 'code_generation')).toBe(20);
    expect(reads.count).toBe(1);
    await book.typical('m', 'code_review');
    expect(reads.count).toBe(2);
  });

  it('does not remember that a model has no answers yet, nor a length past its time to live', async () => {
    const none = database([]);
    const book = createLengthBook(none.prisma, 60_000);
    expect(await book.typical('m', 'code_generation')).toBeNull();
    expect(await book.typical('m', 'code_generation')).toBeNull();
    expect(none.reads.count).toBe(2);
    const some = database([5]);
    const expired = createLengthBook(some.prisma, 0);
    await expired.typical('m', 'code_generation');
    await expired.typical('m', 'code_generation');
    expect(some.reads.count).toBe(2);
  });
});
