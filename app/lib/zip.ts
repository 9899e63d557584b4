/**
 * Reads a zip archive's text files in the browser, for a review: entries stored or deflated (what
 * `git archive` and GitHub's "Download ZIP" write), inflated through the platform's
 * DecompressionStream. Guarded against hostile archives: sizes are what inflating produced, not
 * what the archive claims, and inflating stops at the per-file and total limits (a zip bomb costs
 * no more than the limits); names that leave the tree are skipped; encrypted and ZIP64 archives
 * are refused. The server checks every limit again.
 */

export interface ZipLimits {
  /** Bytes one file may inflate to. */
  maxFileBytes: number;
  /** Bytes all kept files may inflate to together. */
  maxTotalBytes: number;
  /** Central directory entries read at most. */
  maxEntries: number;
}

export interface ZipEntry {
  path: string;
  bytes: Uint8Array;
}

export class ZipError extends Error {}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Entries of `data` that are files, with `skip(path)` deciding before inflating; `skipped` gets the rest with why. */
export async function readZip(data: Uint8Array, limits: ZipLimits, skip: (path: string) => boolean = () => false): Promise<{ entries: ZipEntry[]; skipped: string[] }> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = findEndOfDirectory(view);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new ZipError('ZIP64 archives are not supported.');
  if (count > limits.maxEntries) throw new ZipError(`The archive has ${count} entries; at most ${limits.maxEntries} are read.`);
  const entries: ZipEntry[] = [];
  const skipped: string[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > view.byteLength || view.getUint32(at, true) !== CENTRAL) throw new ZipError('The archive is damaged (its directory is cut).');
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const next = at + 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const rawName = new TextDecoder().decode(data.subarray(at + 46, at + 46 + nameLength));
    at = next;
    if (rawName.endsWith('/')) continue;
    const path = safePath(rawName);
    if (!path) {
      skipped.push(`${rawName} (outside the folder)`);
      continue;
    }
    if (skip(path)) continue;
    if (flags & 1) throw new ZipError('Encrypted archives are not supported.');
    if (method !== 0 && method !== 8) {
      skipped.push(`${path} (compressed in a way not supported)`);
      continue;
    }
    if (local + 30 > view.byteLength || view.getUint32(local, true) !== LOCAL) throw new ZipError('The archive is damaged (a file header is missing).');
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compressed > view.byteLength) throw new ZipError('The archive is damaged (a file is cut).');
    const body = data.subarray(start, start + compressed);
    const cap = Math.min(limits.maxFileBytes, limits.maxTotalBytes - total);
    const bytes = method === 0 ? (body.byteLength <= cap ? body : null) : await inflateAtMost(body, cap);
    if (!bytes) {
      skipped.push(`${path} (too large)`);
      if (cap < limits.maxFileBytes) throw new ZipError('The archive holds more than a review can take.');
      continue;
    }
    total += bytes.byteLength;
    entries.push({ path, bytes });
  }
  return { entries, skipped };
}

function findEndOfDirectory(view: DataView): number {
  // The record is 22 bytes, after which a comment of at most 65,535 bytes may follow.
  for (let at = view.byteLength - 22; at >= Math.max(0, view.byteLength - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === EOCD) return at;
  }
  throw new ZipError('This is not a zip archive.');
}

/** A name inside the archive's tree, with / separators, or null when it would leave it. */
function safePath(name: string): string | null {
  const parts = name.replace(/\\/g, '/').split('/').filter((part) => part !== '' && part !== '.');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || parts.length === 0 || parts.includes('..')) return null;
  return parts.join('/');
}

/** The inflated bytes, or null as soon as they pass `cap` (the rest is never inflated). */
async function inflateAtMost(body: Uint8Array, cap: number): Promise<Uint8Array | null> {
  const reader = new Blob([body as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > cap) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
    }
  } catch {
    throw new ZipError('The archive is damaged (a file does not inflate).');
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
