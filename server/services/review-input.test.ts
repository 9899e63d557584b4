import { describe, expect, it } from 'vitest';
import { diffLines, parseUnifiedDiff, REVIEW_LIMITS, ReviewInputError, reviewItems, reviewSource } from './review-input';

const DIFF = [
  'diff --git a/src/a.ts b/src/a.ts',
  'index 1..2 100644',
  '--- a/src/a.ts',
  '+++ b/src/a.ts',
  '@@ -10,3 +10,4 @@ export function a() {',
  ' const x = 1;',
  '-const y = 2;',
  '+const y = 3;',
  '+const z = 4;',
  ' return x;',
  '--- a/gone.ts',
  '+++ /dev/null',
  '@@ -1 +0,0 @@',
  '-bye',
].join('\n');

describe('reviewItems', () => {
  it('splits a long file into chunks numbered from their first line', () => {
    const code = Array.from({ length: REVIEW_LIMITS.chunkLines * 2 + 5 }, (_, i) => `line ${i + 1}`).join('\n');
    const items = reviewItems(reviewSource.parse({ kind: 'code', code }));
    expect(items.map(({ path, chunk, startLine }) => [path, chunk, startLine])).toEqual([
      ['snippet', 0, 1],
      ['snippet', 1, REVIEW_LIMITS.chunkLines + 1],
      ['snippet', 2, REVIEW_LIMITS.chunkLines * 2 + 1],
    ]);
    expect(items[1]!.content.split('\n')[0]).toBe(`line ${REVIEW_LIMITS.chunkLines + 1}`);
  });

  it('reviews each changed file of a diff, leaving deleted files out', () => {
    const items = reviewItems(reviewSource.parse({ kind: 'diff', diff: DIFF }));
    expect(items.map((item) => item.path)).toEqual(['src/a.ts']);
    expect(diffLines(items[0]!.content)).toEqual([
      { kind: '@', newLine: null, text: '@@ -10,3 +10,4 @@ export function a() {' },
      { kind: ' ', newLine: 10, text: 'const x = 1;' },
      { kind: '-', newLine: null, text: 'const y = 2;' },
      { kind: '+', newLine: 11, text: 'const y = 3;' },
      { kind: '+', newLine: 12, text: 'const z = 4;' },
      { kind: ' ', newLine: 13, text: 'return x;' },
    ]);
    expect(() => reviewItems(reviewSource.parse({ kind: 'diff', diff: 'just prose' }))).toThrow(ReviewInputError);
    expect(parseUnifiedDiff('--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b')).toEqual([]);
  });

  it('skips empty files and refuses duplicates and totals past the limit', () => {
    expect(reviewItems(reviewSource.parse({ kind: 'files', files: [{ path: 'a.ts', content: 'x' }, { path: 'b.ts', content: '  \n' }] })).map((i) => i.path)).toEqual(['a.ts']);
    expect(() => reviewItems(reviewSource.parse({ kind: 'files', files: [{ path: 'a.ts', content: 'x' }, { path: 'a.ts', content: 'y' }] }))).toThrow('twice');
    const big = 'x'.repeat(REVIEW_LIMITS.maxFileChars);
    const files = Array.from({ length: REVIEW_LIMITS.maxTotalChars / REVIEW_LIMITS.maxFileChars + 1 }, (_, i) => ({ path: `f${i}.ts`, content: big }));
    expect(() => reviewItems(reviewSource.parse({ kind: 'files', files }))).toThrow('at most 1,000,000');
  });
});

describe('reviewSource', () => {
  it('refuses paths that leave the tree, NUL bytes and lone surrogates', () => {
    for (const path of ['/etc/passwd', '../x', 'a/../../x', 'a//b', 'a\\b', './a']) {
      expect(reviewSource.safeParse({ kind: 'files', files: [{ path, content: 'x' }] }).success, path).toBe(false);
    }
    expect(reviewSource.safeParse({ kind: 'code', code: 'a\u0000b' }).success).toBe(false);
    expect(reviewSource.safeParse({ kind: 'code', code: 'a\ud800b' }).success).toBe(false);
    expect(reviewSource.safeParse({ kind: 'files', files: [{ path: 'src/ok.ts', content: 'x' }] }).success).toBe(true);
  });
});
