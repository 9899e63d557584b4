import type { Finding } from '../../server/services/review-findings';
import { diffLines } from '../../server/services/review-input';

/** What the review page draws for one file: its lines (numbered as the file, or as a diff) with the findings on each. */
export interface ShownLine {
  kind: '+' | '-' | ' ' | '@';
  /** The file line it is (new file's, for a diff); null for removed lines and hunk headers. */
  number: number | null;
  text: string;
  findings: Finding[];
}

/** Lines of a file's reviewed chunks, each finding placed under the line it ends on. */
export function shownLines(chunks: { startLine: number; content: string; findings: Finding[] }[], isDiff: boolean): ShownLine[] {
  const lines: ShownLine[] = [];
  for (const chunk of chunks) {
    const own: ShownLine[] = isDiff
      ? diffLines(chunk.content).map((line) => ({ kind: line.kind, number: line.newLine, text: line.text, findings: [] }))
      : chunk.content.split('\n').map((text, i) => ({ kind: ' ' as const, number: chunk.startLine + i, text, findings: [] }));
    const byNumber = new Map(own.filter((line) => line.number !== null).map((line) => [line.number!, line]));
    for (const finding of chunk.findings) {
      // A finding on a line the diff does not show goes under the nearest shown line before it.
      const anchor = byNumber.get(finding.endLine) ?? [...byNumber.values()].filter((line) => line.number! <= finding.endLine).at(-1) ?? own[0];
      anchor?.findings.push(finding);
    }
    lines.push(...own);
  }
  return lines;
}

const LANGUAGE_OF_EXTENSION: Record<string, string> = {
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  py: 'python',
  go: 'go',
  rs: 'rust',
  java: 'java',
  sql: 'sql',
  sh: 'bash',
  css: 'css',
  json: 'json',
  html: 'xml',
  xml: 'xml',
  c: 'cpp',
  h: 'cpp',
  cc: 'cpp',
  cpp: 'cpp',
  hpp: 'cpp',
};

/** The highlighter's language for a path, or '' (shown as plain text) when it has none for it. */
export function languageOfPath(path: string): string {
  const extension = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  return LANGUAGE_OF_EXTENSION[extension] ?? '';
}
