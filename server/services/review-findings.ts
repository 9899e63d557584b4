import { z } from 'zod';

/**
 * Findings of a review, as the reviewer is asked to write them (a fenced JSON block, see
 * REVIEW_FORMAT) and as they are read back whatever the model actually wrote: the first JSON
 * array (fenced or bare, or an object holding `findings`), else one JSON object per line. Items
 * that are not findings are dropped, not fatal; line numbers outside the reviewed lines are
 * pulled to the nearest reviewed line. No server-only imports: the page reads the same type.
 */

export const SEVERITIES = ['critical', 'major', 'minor', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  line: number;
  endLine: number;
  severity: Severity;
  message: string;
  /** Replacement code for the lines, when the reviewer proposed one. */
  suggestion: string | null;
}

/** One item's findings; `parsed` false when the answer had no readable findings (shown raw instead). */
export interface FindingSet {
  findings: Finding[];
  parsed: boolean;
}

export const REVIEW_FORMAT =
  'Answer with one fenced ```json block holding an array of findings, each ' +
  '{"line": <line number as shown>, "endLine": <last line>, "severity": "critical" | "major" | "minor" | "info", ' +
  '"message": "<what is wrong and why>", "suggestion": "<replacement code for those lines, or null>"}. ' +
  'Answer [] when there is nothing to report. Write nothing after the block.';

const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'critical',
  blocker: 'critical',
  high: 'major',
  major: 'major',
  error: 'major',
  medium: 'minor',
  minor: 'minor',
  warning: 'minor',
  low: 'info',
  info: 'info',
  note: 'info',
  suggestion: 'info',
  style: 'info',
};

// Models name the same field several ways; text is bounded so one answer cannot bloat the row.
const lineNumber = z.union([z.number(), z.string().regex(/^\s*\d+/).transform((s) => parseInt(s, 10))]).pipe(z.number().int().min(0));
const text = (max: number) => z.string().transform((s) => clean(s).slice(0, max));
const rawFinding = z.object({
  line: lineNumber.optional(),
  start_line: lineNumber.optional(),
  startLine: lineNumber.optional(),
  endLine: lineNumber.nullish(),
  end_line: lineNumber.nullish(),
  severity: z.string().optional(),
  message: text(4000).optional(),
  description: text(4000).optional(),
  issue: text(4000).optional(),
  suggestion: text(8000).nullish(),
  fix: text(8000).nullish(),
});

/** NUL and lone surrogates cannot be stored (PostgreSQL text and jsonb refuse them). */
export function clean(s: string): string {
  // eslint-disable-next-line no-control-regex -- dropping what the database refuses is the point
  return s.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** The findings in `answer`, anchored within lines `first`..`last` of the file. */
export function parseFindings(answer: string, first: number, last: number): FindingSet {
  const candidates = jsonCandidates(answer);
  if (candidates === null) return { findings: [], parsed: false };
  const clamp = (n: number) => Math.min(last, Math.max(first, n));
  const findings: Finding[] = [];
  for (const candidate of candidates) {
    const raw = rawFinding.safeParse(candidate);
    if (!raw.success) continue;
    const f = raw.data;
    const message = (f.message ?? f.description ?? f.issue ?? '').trim();
    if (!message) continue;
    const line = clamp(f.line ?? f.startLine ?? f.start_line ?? first);
    const suggestion = (f.suggestion ?? f.fix ?? '').replace(/^\n+|\s+$/g, '');
    findings.push({
      line,
      endLine: Math.max(line, clamp(f.endLine ?? f.end_line ?? line)),
      severity: SEVERITY_WORDS[(f.severity ?? '').trim().toLowerCase()] ?? 'minor',
      message,
      suggestion: suggestion || null,
    });
  }
  return { findings: findings.sort((a, b) => a.line - b.line || SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity)), parsed: true };
}

/** The answer's finding-like values, or null when it holds no JSON findings at all. */
function jsonCandidates(answer: string): unknown[] | null {
  const fenced = [...answer.matchAll(/```[ \t]*(?:json[c5]?|javascript|js)?[ \t]*\n([\s\S]*?)```/gi)].map((m) => m[1]!);
  for (const body of [...fenced, answer]) {
    const value = firstJson(body);
    if (Array.isArray(value)) return value;
    if (value && typeof value === 'object' && Array.isArray((value as { findings?: unknown }).findings)) return (value as { findings: unknown[] }).findings;
  }
  const lines = answer
    .split('\n')
    .map((line) => tryJson(line.trim().replace(/,$/, '')))
    .filter((value) => value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value));
  return lines.length > 0 ? lines : null;
}

/** The first parsable JSON array or object in `text`, from its first bracket to the latest closing one that parses. */
function firstJson(text: string): unknown {
  const start = text.search(/[[{]/);
  if (start < 0) return undefined;
  const close = text[start] === '[' ? ']' : '}';
  for (let end = text.lastIndexOf(close); end > start; end = text.lastIndexOf(close, end - 1)) {
    const value = tryJson(text.slice(start, end + 1));
    if (value !== undefined) return value;
  }
  return undefined;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
