import { describe, expect, it } from 'vitest';
import { mergeStreamed } from './stream-text';

describe('mergeStreamed', () => {
  it('appends a piece that starts where the text ends', () => {
    expect(mergeStreamed('abc', 3, 'def')).toBe('abcdef');
  });

  it('ignores a piece the page already has', () => {
    expect(mergeStreamed('abcdef', 2, 'cd')).toBe('abcdef');
  });

  it('keeps only the new tail of an overlapping piece', () => {
    expect(mergeStreamed('abcd', 2, 'cdef')).toBe('abcdef');
  });

  it('reports a gap', () => {
    expect(mergeStreamed('abc', 5, 'xyz')).toBeNull();
  });
});
