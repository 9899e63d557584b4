import { describe, expect, it } from 'vitest';
import { parseFindings } from './review-findings';

describe('parseFindings', () => {
  it('reads a fenced JSON block, normalising severities and anchoring lines', () => {
    const answer =
      'Here is my review.\n```json\n[{"line": 12, "severity": "high", "message": "Off by one", "suggestion": "for (let i = 0; i < n; i++)"},' +
      ' {"line": "3", "endLine": 4, "severity": "warning", "message": "Unused import", "suggestion": null}]\n```\nDone.';
    expect(parseFindings(answer, 1, 20)).toEqual({
      parsed: true,
      findings: [
        { line: 3, endLine: 4, severity: 'minor', message: 'Unused import', suggestion: null },
        { line: 12, endLine: 12, severity: 'major', message: 'Off by one', suggestion: 'for (let i = 0; i < n; i++)' },
      ],
    });
  });

  it('reads a bare array, an object with findings, and JSON lines; other field names too', () => {
    expect(parseFindings('[{"start_line": 5, "description": "x"}]', 1, 9).findings).toMatchObject([{ line: 5, message: 'x', severity: 'minor' }]);
    expect(parseFindings('{"findings": [{"line": 2, "issue": "y", "fix": "z"}]}', 1, 9).findings).toMatchObject([{ line: 2, message: 'y', suggestion: 'z' }]);
    expect(parseFindings('{"line": 1, "message": "a"}\n{"line": 2, "message": "b", "severity": "critical"},', 1, 9).findings.map((f) => f.severity)).toEqual([
      'minor',
      'critical',
    ]);
  });

  it('pulls lines outside the reviewed chunk to its edges and drops items that are not findings', () => {
    const { findings } = parseFindings('```json\n[{"line": 900, "message": "late"}, {"line": 1, "message": "early"}, {"message": ""}, 7, "text"]\n```', 201, 400);
    expect(findings.map((f) => [f.line, f.message])).toEqual([
      [201, 'early'],
      [400, 'late'],
    ]);
  });

  it('an empty array is a clean bill; prose or a cut block is unparsed', () => {
    expect(parseFindings('```json\n[]\n```', 1, 5)).toEqual({ findings: [], parsed: true });
    expect(parseFindings('Looks fine to me.', 1, 5)).toEqual({ findings: [], parsed: false });
    expect(parseFindings('```json\n[{"line": 1, "message": "cut sh', 1, 5)).toEqual({ findings: [], parsed: false });
  });

  it('drops characters the database cannot store', () => {
    const { findings } = parseFindings('[{"line": 1, "message": "a\\u0000b\\ud800c"}]', 1, 5);
    expect(findings[0]!.message).toBe('ab\uFFFDc');
  });
});
