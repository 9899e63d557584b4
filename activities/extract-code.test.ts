import { describe, expect, it } from 'vitest';
import { extractCode } from './extract-code';

describe('extractCode', () => {
  it('takes the first fenced block and its language', () => {
    const text = 'Here:\n```ts\nexport const a = 1;\n```\nand\n```py\nb = 2\n```';
    expect(extractCode(text)).toEqual({ code: 'export const a = 1;', language: 'ts' });
  });

  it('falls back to the whole answer without a fence', () => {
    expect(extractCode('  just text \n')).toEqual({ code: 'just text', language: '' });
  });

  it('keeps an unterminated fence as plain text', () => {
    expect(extractCode('```ts\nconst a')).toEqual({ code: '```ts\nconst a', language: '' });
  });
});
