import { describe, expect, it } from 'vitest';
import { extractCode, MAX_SCANNED_CHARS } from './extract-code';

/** The fastest of a few timed runs (the minimum is what a busy machine disturbs least). */
function fastest(run: () => void): number {
  let best = Infinity;
  const started = performance.now();
  for (let i = 0; i < 5 && (i === 0 || performance.now() - started < 2_000); i += 1) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** A plain linear pass over the text, the yardstick the scan is measured against in the same run. */
function countBackticks(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) === 96) n += 1;
  return n;
}

describe('extractCode', () => {
  it('takes the first fenced block and its language', () => {
    const text = 'Here:\n```ts\nexport const a = 1;\n```\nand\n```py\nb = 2\n```';
    expect(extractCode(text)).toEqual({ code: 'export const a = 1;', language: 'ts' });
  });

  it('reads the language as the leading word of the info string and keeps an empty block', () => {
    expect(extractCode('```c++ title="x"\nint a;\n```')).toEqual({ code: 'int a;', language: 'c++' });
    expect(extractCode('```\n```')).toEqual({ code: '', language: '' });
    expect(extractCode('````\nx\n```')).toEqual({ code: 'x', language: '' });
  });

  it('falls back to the whole answer without a fence', () => {
    expect(extractCode('  just text \n')).toEqual({ code: 'just text', language: '' });
  });

  it('keeps an unterminated fence as plain text', () => {
    expect(extractCode('```ts\nconst a')).toEqual({ code: '```ts\nconst a', language: '' });
    expect(extractCode('```ts')).toEqual({ code: '```ts', language: '' });
  });

  it('scans an unterminated fence in time linear in its length', () => {
    // A quadratic scan of 16,000 letters costs thousands of these linear passes; a linear one, a few.
    for (const letters of [16_000, 1_000_000]) {
      const text = '```' + 'a'.repeat(letters);
      const linear = fastest(() => { for (let i = 0; i < 20; i += 1) countBackticks(text); });
      const scan = fastest(() => { for (let i = 0; i < 20; i += 1) extractCode(text); });
      expect(scan, `${letters} letters`).toBeLessThan(linear * 10);
    }
  });

  it('looks for a fence only in the first MAX_SCANNED_CHARS characters', () => {
    const late = 'x'.repeat(MAX_SCANNED_CHARS) + '\n```ts\nconst a = 1;\n```';
    expect(extractCode(late)).toEqual({ code: late.trim(), language: '' });
    const early = '```ts\nconst a = 1;\n```' + 'x'.repeat(MAX_SCANNED_CHARS);
    expect(extractCode(early)).toEqual({ code: 'const a = 1;', language: 'ts' });
  });
});
