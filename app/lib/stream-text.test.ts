import { describe, expect, it } from 'vitest';
import { mergeStreamed, receivePiece, receiveStored, streamOf } from './stream-text';

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

describe('a stream with pieces missed before the page joined', () => {
  it('holds the pieces beyond a gap and applies them once the stored output closes it', () => {
    // The page joined after "Hello, " was streamed; the stored copy lags the stream by a second.
    let { state, gap } = receivePiece(streamOf(''), { offset: 7, text: 'wor' });
    expect(gap).toBe(true);
    ({ state, gap } = receivePiece(state, { offset: 10, text: 'ld' }));
    expect(gap).toBe(true);
    expect(state.text).toBe('');

    state = receiveStored(state, 'Hello, w');
    expect(state).toEqual({ text: 'Hello, world', held: [] });
    ({ state, gap } = receivePiece(state, { offset: 12, text: '!' }));
    expect(gap).toBe(false);
    expect(state.text).toBe('Hello, world!');
  });

  it('keeps holding what the stored output does not reach yet', () => {
    const held = receivePiece(receivePiece(streamOf(''), { offset: 10, text: 'ld' }).state, { offset: 20, text: 'zz' }).state;
    const state = receiveStored(held, 'Hello, wor');
    expect(state).toEqual({ text: 'Hello, world', held: [{ offset: 20, text: 'zz' }] });
  });

  it('takes a stored output that disagrees with what it shows: a new attempt started over', () => {
    expect(receiveStored(streamOf('first try'), 'sec').text).toBe('sec');
    expect(receiveStored(streamOf('first try'), 'first').text).toBe('first try');
  });
});
