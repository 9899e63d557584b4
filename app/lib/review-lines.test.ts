import { describe, expect, it } from 'vitest';
import type { Finding } from '../../server/services/review-findings';
import { languageOfPath, shownLines } from './review-lines';

const finding = (line: number, endLine = line): Finding => ({ line, endLine, severity: 'minor', message: `at ${line}`, suggestion: null });

describe('shownLines', () => {
  it('numbers a chunk from its first line and puts each finding under the line it ends on', () => {
    const lines = shownLines([{ startLine: 201, content: 'a\nb\nc', findings: [finding(201, 202), finding(203)] }], false);
    expect(lines.map((l) => [l.number, l.text, l.findings.map((f) => f.message)])).toEqual([
      [201, 'a', []],
      [202, 'b', ['at 201']],
      [203, 'c', ['at 203']],
    ]);
  });

  it('anchors a diff finding on the new file line, or the nearest shown line before it', () => {
    const diff = '@@ -1,2 +1,2 @@\n keep\n-old\n+new';
    const lines = shownLines([{ startLine: 1, content: diff, findings: [finding(2), finding(9)] }], true);
    expect(lines.map((l) => [l.kind, l.number, l.findings.length])).toEqual([
      ['@', null, 0],
      [' ', 1, 0],
      ['-', null, 0],
      ['+', 2, 2],
    ]);
  });
});

describe('languageOfPath', () => {
  it('knows common extensions and leaves others plain', () => {
    expect(languageOfPath('src/a.tsx')).toBe('typescript');
    expect(languageOfPath('tool.PY')).toBe('python');
    expect(languageOfPath('Makefile')).toBe('');
  });
});
