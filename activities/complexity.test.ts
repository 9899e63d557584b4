import { describe, expect, it } from 'vitest';
import { assessRequirements } from './complexity';

describe('assessRequirements', () => {
  it('rates a one-liner as simple and skips its review', () => {
    expect(assessRequirements('reverse a string')).toMatchObject({ complexity: 1, reviewLevel: 'none' });
  });

  it('rates a request with several hard parts as complex with a thorough review', () => {
    const text = `Build a distributed job scheduler:
      - a parser for the job files
      - transactional database writes
      - authentication for the API
      - concurrency limits per user`;
    const result = assessRequirements(text);
    expect(result.complexity).toBeGreaterThanOrEqual(4);
    expect(result.reviewLevel).toBe('thorough');
  });

  it('grows with the size of the request and stays within 1..5', () => {
    const small = assessRequirements('a function that adds two numbers and returns the sum');
    const large = assessRequirements('word '.repeat(2000));
    expect(large.complexity).toBeGreaterThan(small.complexity);
    expect(large.complexity).toBeLessThanOrEqual(5);
    expect(large.expectedTokens).toBeGreaterThan(small.expectedTokens);
  });
});
