import { REVIEW_LIMITS } from '../../server/services/review-input';
import { readZip, ZipError } from './zip';

/** Files a browser read for a review, and what it left out (with why). */
export interface ReadFiles {
  files: { path: string; content: string }[];
  skipped: string[];
}

/** The largest .zip the form reads (what it holds is limited again as it is unpacked). */
export const MAX_ZIP_BYTES = 20 * 1024 * 1024;

/** Folders that hold what a project depends on or builds, not what it wrote. */
const SKIPPED_FOLDERS = new Set(['node_modules', '.git', 'dist', 'build', '.next', 'vendor', 'target', '__pycache__', '.venv']);

/**
 * Reads chosen files as text for a review — a .zip among them is unpacked (app/lib/zip.ts) —
 * leaving out binary files (a NUL byte, as git decides), files past the per-file limit and
 * dependency folders. The server checks every limit again.
 */
export async function readReviewFiles(chosen: File[]): Promise<ReadFiles> {
  const files: ReadFiles['files'] = [];
  const skipped: string[] = [];
  const skipFolder = (path: string) => path.split('/').some((part) => SKIPPED_FOLDERS.has(part));
  const keep = (path: string, content: string) => {
    if (content.slice(0, 8000).includes('\u0000')) skipped.push(`${path} (binary)`);
    else if (content.length > REVIEW_LIMITS.maxFileChars) skipped.push(`${path} (too large)`);
    else if (content.trim()) files.push({ path, content });
  };
  for (const file of chosen) {
    const path = (file.webkitRelativePath || file.name).replace(/^\/+/, '');
    if (skipFolder(path)) continue;
    if (/\.zip$/i.test(path)) {
      if (file.size > MAX_ZIP_BYTES) throw new ZipError(`${path} is larger than ${MAX_ZIP_BYTES / 1024 / 1024} MB.`);
      const limits = { maxFileBytes: REVIEW_LIMITS.maxFileChars * 4, maxTotalBytes: REVIEW_LIMITS.maxTotalChars * 4, maxEntries: 20_000 };
      const archive = await readZip(new Uint8Array(await file.arrayBuffer()), limits, skipFolder);
      skipped.push(...archive.skipped);
      for (const entry of archive.entries) keep(entry.path, new TextDecoder().decode(entry.bytes));
      continue;
    }
    if (file.size > REVIEW_LIMITS.maxFileChars * 4) {
      skipped.push(`${path} (too large)`);
      continue;
    }
    keep(path, await file.text());
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { files, skipped };
}
