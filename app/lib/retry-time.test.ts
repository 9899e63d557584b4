import { describe, expect, it } from 'vitest';
import { describeRetry, describeSubmitError } from './retry-time';

const at = (iso: string) => new Date(iso);
const utc = { locale: 'en-GB', timeZone: 'UTC' };

describe('describeRetry', () => {
  it('gives the time of day and how long until then, later today', () => {
    expect(describeRetry(at('2026-11-26T15:32:00Z'), at('2026-11-26T15:28:10Z'), utc)).toBe('You can try again at 15:32 (in about 4 minutes).');
    expect(describeRetry(at('2026-11-26T15:28:30Z'), at('2026-11-26T15:28:10Z'), utc)).toBe('You can try again at 15:28 (in less than a minute).');
  });

  it('names the day when it is not today, in the reader’s time zone', () => {
    expect(describeRetry(at('2026-11-27T00:00:00Z'), at('2026-11-26T16:00:00Z'), utc)).toBe('You can try again at Fri 27 Nov 00:00 (in about 8 hours).');
    // Still the 26th in New York.
    expect(describeRetry(at('2026-11-27T00:00:00Z'), at('2026-11-26T16:00:00Z'), { locale: 'en-GB', timeZone: 'America/New_York' })).toBe(
      'You can try again at 19:00 (in about 8 hours).',
    );
    expect(describeRetry(at('2026-12-01T00:00:00Z'), at('2026-11-26T00:00:00Z'), utc)).toBe('You can try again at Tue 1 Dec 00:00 (in about 5 days).');
  });
});

describe('describeSubmitError', () => {
  it('is nothing without an error', () => {
    expect(describeSubmitError(null)).toEqual({ fieldErrors: {}, formError: null });
  });

  it('puts field errors beside their fields and leaves the form line empty', () => {
    const error = { message: 'Invalid input', data: { fieldErrors: { task: 'Describe the task.' } } };
    expect(describeSubmitError(error)).toEqual({ fieldErrors: { task: 'Describe the task.' }, formError: null });
  });

  it('says a refusal by limit in one sentence with when it frees', () => {
    const retryAt = new Date(Date.now() + 10 * 60_000).toISOString();
    const { fieldErrors, formError } = describeSubmitError({ message: 'The team’s queue is full.', data: { fieldErrors: null, retryAt } });
    expect(fieldErrors).toEqual({});
    expect(formError).toMatch(/^The team’s queue is full\. You can try again at .+ \(in about 10 minutes\)\.$/);
  });
});
