import { z } from 'zod';
import { wellFormed } from './text-input';

/**
 * What a code review is asked to read: pasted code, a pasted unified diff, or files (a folder or
 * a repository's zip, unpacked). Split into review items — one per file, or per chunk of a long
 * file — each reviewed on its own (workflows/code-review.ts). No server-only imports: the form
 * shows these limits too.
 */

export const REVIEW_LIMITS = {
  /** Files in one review. */
  maxFiles: 200,
  /** Characters of one file. */
  maxFileChars: 200_000,
  /** Characters of the whole review (all files, or the diff). */
  maxTotalChars: 1_000_000,
  /** A file longer than this many lines is reviewed in chunks of it. */
  chunkLines: 200,
  maxPathChars: 300,
} as const;

export const REVIEW_DEPTHS = ['quick', 'standard', 'thorough'] as const;
export type ReviewDepth = (typeof REVIEW_DEPTHS)[number];

const chars = (n: number) => n.toLocaleString('en-US');

/** A relative path inside the reviewed tree: no root, no `..`, no empty segment, forward slashes. */
export const reviewPath = wellFormed(
  z
    .string()
    .trim()
    .min(1, 'A file path is empty.')
    .max(REVIEW_LIMITS.maxPathChars, `File paths must be at most ${REVIEW_LIMITS.maxPathChars} characters.`),
  'A file path',
).refine((path) => !path.startsWith('/') && !path.includes('\\') && path.split('/').every((part) => part !== '' && part !== '.' && part !== '..'), {
  message: 'File paths must be relative, with / between folders, and no . or .. parts.',
});

const fileContent = wellFormed(z.string().max(REVIEW_LIMITS.maxFileChars, `A file may have at most ${chars(REVIEW_LIMITS.maxFileChars)} characters.`), 'A file');

export const reviewSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('code'), path: reviewPath.default('snippet'), code: fileContent.refine((code) => code.trim() !== '', 'Paste some code to review.') }),
  z.object({
    kind: z.literal('diff'),
    diff: wellFormed(z.string().max(REVIEW_LIMITS.maxTotalChars, `A diff may have at most ${chars(REVIEW_LIMITS.maxTotalChars)} characters.`), 'The diff'),
  }),
  z.object({
    kind: z.literal('files'),
    files: z
      .array(z.object({ path: reviewPath, content: fileContent }))
      .min(1, 'Choose at least one file.')
      .max(REVIEW_LIMITS.maxFiles, `A review may have at most ${REVIEW_LIMITS.maxFiles} files.`),
  }),
]);
export type ReviewSource = z.infer<typeof reviewSource>;

/** One item to review: `content` as it is shown and anchored (file lines from `startLine`, or a file's diff). */
export interface ReviewItemDraft {
  path: string;
  chunk: number;
  startLine: number;
  content: string;
}

/** What the job row keeps of its request (Job.review). */
export interface ReviewRequest {
  source: ReviewSource['kind'];
  depth: ReviewDepth;
}

export class ReviewInputError extends Error {}

/** The items of a review, or why there are none: limits past the schema's, an empty diff, duplicate paths. */
export function reviewItems(source: ReviewSource): ReviewItemDraft[] {
  switch (source.kind) {
    case 'code':
      return chunkFile(source.path, source.code);
    case 'diff': {
      const files = parseUnifiedDiff(source.diff);
      if (files.length === 0) throw new ReviewInputError('The diff has no file changes: paste the output of git diff or diff -u.');
      if (files.length > REVIEW_LIMITS.maxFiles) throw new ReviewInputError(`A diff may change at most ${REVIEW_LIMITS.maxFiles} files.`);
      return files.map((file) => ({ path: file.path, chunk: 0, startLine: 1, content: file.text }));
    }
    case 'files': {
      const total = source.files.reduce((sum, file) => sum + file.content.length, 0);
      if (total > REVIEW_LIMITS.maxTotalChars) {
        throw new ReviewInputError(`The files hold ${chars(total)} characters; a review may have at most ${chars(REVIEW_LIMITS.maxTotalChars)}.`);
      }
      const seen = new Set<string>();
      for (const { path } of source.files) {
        if (seen.has(path)) throw new ReviewInputError(`The file ${path} is there twice.`);
        seen.add(path);
      }
      return source.files.filter((file) => file.content.trim() !== '').flatMap((file) => chunkFile(file.path, file.content));
    }
  }
}

/** The job's title: what a list of jobs shows for it. */
export function reviewTitle(source: ReviewSource, items: ReviewItemDraft[]): string {
  const files = new Set(items.map((item) => item.path)).size;
  if (source.kind === 'code') return `Review of ${source.path}`;
  const what = `${files} file${files === 1 ? '' : 's'}`;
  return source.kind === 'diff' ? `Review of a diff (${what})` : `Review of ${what}`;
}

function chunkFile(path: string, text: string): ReviewItemDraft[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const items: ReviewItemDraft[] = [];
  for (let start = 0; start < lines.length; start += REVIEW_LIMITS.chunkLines) {
    items.push({ path, chunk: items.length, startLine: start + 1, content: lines.slice(start, start + REVIEW_LIMITS.chunkLines).join('\n') });
  }
  return items;
}

export interface DiffLine {
  /** `@`: a hunk's header. */
  kind: '+' | '-' | ' ' | '@';
  /** Line in the new file (added and context lines); findings anchor here. */
  newLine: number | null;
  text: string;
}

export interface DiffFile {
  path: string;
  /** The file's hunks, header lines included, as the diff had them. */
  text: string;
}

/** The files a unified diff changes (deleted files have nothing left to review and are left out). */
export function parseUnifiedDiff(diff: string): DiffFile[] {
  const files: DiffFile[] = [];
  let current: { path: string; lines: string[] } | null = null;
  const lines = diff.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      if (current) files.push({ path: current.path, text: current.lines.join('\n') });
      const target = lines[i + 1]!.slice(4).split('\t')[0]!.trim();
      current = target === '/dev/null' ? null : { path: target.replace(/^b\//, ''), lines: [] };
      i++;
      continue;
    }
    if (current && /^(@@ |[+\- ]|\\ No newline)/.test(line)) current.lines.push(line);
  }
  if (current) files.push({ path: current.path, text: current.lines.join('\n') });
  return files.filter((file) => reviewPath.safeParse(file.path).success && /^@@ /m.test(file.text));
}

/** A file's diff, line by line, numbered as the new file: what the review prompt and the page show. */
export function diffLines(text: string): DiffLine[] {
  const out: DiffLine[] = [];
  let next = 0;
  for (const line of text.split('\n')) {
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      next = Number(hunk[1]);
      out.push({ kind: '@', newLine: null, text: line });
    } else if (line.startsWith('+')) out.push({ kind: '+', newLine: next++, text: line.slice(1) });
    else if (line.startsWith('-')) out.push({ kind: '-', newLine: null, text: line.slice(1) });
    else if (line.startsWith(' ')) out.push({ kind: ' ', newLine: next++, text: line.slice(1) });
  }
  return out;
}
