import { describe, expect, it } from 'vitest';
import { parseReview } from './review';

describe('parseReview', () => {
  it('passes an answer that reports no issues', () => {
    expect(parseReview('No issues found.')).toEqual({ status: 'passed', notes: [] });
  });

  it('collects bullet lines as notes', () => {
    expect(parseReview('Some thoughts:\n- off by one in the loop\n* no input check\nThanks')).toEqual({
      status: 'issues',
      notes: ['off by one in the loop', 'no input check'],
    });
  });

  it('keeps an answer without bullets as one note', () => {
    expect(parseReview('  The function never returns.  ')).toEqual({ status: 'issues', notes: ['The function never returns.'] });
  });

  it('keeps the lines under an item, a fenced fix among them, with the item', () => {
    const answer = 'Problems:\n- Empty input crashes:\n  ```ts\n  if (!xs.length) return [];\n  ```\n- Rename `f`\n\nThat is all.';
    expect(parseReview(answer)).toEqual({
      status: 'issues',
      notes: ['Empty input crashes:\n```ts\nif (!xs.length) return [];\n```', 'Rename `f`'],
    });
  });
});
