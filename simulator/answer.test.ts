import { describe, expect, it } from 'vitest';
import { parseFindings, REVIEW_FORMAT } from '../server/services/review-findings';
import { answerTokens } from './answer';
import { parseKeepAlive } from './keep-alive';
import { tokenize } from './tokens';

describe('simulated answers', () => {
  it('tokenize loses nothing', () => {
    for (const text of ['', '  a', 'fn(x) => {\n  return x;\n}\n\n', 'verylongidentifier_with_numbers123 ', 'é ü\t😀 …']) {
      expect(tokenize(text).join('')).toBe(text);
    }
  });

  it('have exactly the asked number of tokens, deterministically per seed and conversation', () => {
    const ask = (seed: number, n: number) => answerTokens(seed, 'user: implement an LRU cache', 'implement an LRU cache', n);
    for (const n of [1, 7, 40, 120, 999]) expect(ask(1, n)).toHaveLength(n);
    expect(ask(1, 120).join('')).toBe(ask(1, 120).join(''));
    expect(ask(2, 120).join('')).not.toBe(ask(1, 120).join(''));
    expect(ask(1, 120).join('')).toContain('export function lruCache(');
    expect(ask(1, 120).join('')).toMatch(/\n```\n/);
  });
});

describe('simulated reviews', () => {
  it('answer a request for findings with a JSON block on the numbered lines, as a model told the format does', () => {
    const request = 'File: src/a.ts (lines 41–43)\n\n   41| const a = 1;\n   42| const b = a;\n   43| return b;';
    const answer = answerTokens(1, `system: Review. ${REVIEW_FORMAT}\nuser: ${request}`, request, 120).join('');
    const { parsed, findings } = parseFindings(answer, 41, 43);
    expect(parsed).toBe(true);
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) expect([41, 42, 43]).toContain(finding.line);
  });
});

describe('parseKeepAlive', () => {
  it('reads seconds, Go durations, forever and the default', () => {
    expect(parseKeepAlive(30)).toBe(30_000);
    expect(parseKeepAlive('0')).toBe(0);
    expect(parseKeepAlive('1h30m')).toBe(5_400_000);
    expect(parseKeepAlive('250ms')).toBe(250);
    expect(parseKeepAlive(-1)).toBe(-1);
    expect(parseKeepAlive('-5m')).toBe(-1);
    expect(parseKeepAlive(undefined)).toBe(300_000);
    expect(parseKeepAlive('soon')).toBe(300_000);
  });
});
