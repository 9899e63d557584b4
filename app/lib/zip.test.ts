import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readZip, ZipError } from './zip';

const LIMITS = { maxFileBytes: 1000, maxTotalBytes: 3000, maxEntries: 50 };

/** A zip archive as `zip` writes one: local headers and data, then the central directory. */
function zip(files: { name: string; data: Buffer | string; store?: boolean; flags?: number }[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const raw = Buffer.from(file.data);
    const body = file.store ? raw : deflateRawSync(raw);
    const name = Buffer.from(file.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(file.flags ?? 0, 6);
    local.writeUInt16LE(file.store ? 0 : 8, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(file.flags ?? 0, 8);
    central.writeUInt16LE(file.store ? 0 : 8, 10);
    central.writeUInt32LE(body.length, 20);
    // Archives lie about sizes; the reader goes by what inflating produces.
    central.writeUInt32LE(Math.min(raw.length, 10), 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('readZip', () => {
  it('reads stored and deflated files, skipping folders and what the caller skips', async () => {
    const archive = zip([
      { name: 'repo/', data: '' },
      { name: 'repo/src/a.ts', data: 'export const a = 1;\n' },
      { name: 'repo/README.md', data: '# hi', store: true },
      { name: 'repo/node_modules/x.js', data: 'x' },
    ]);
    const { entries, skipped } = await readZip(archive, LIMITS, (path) => path.includes('node_modules'));
    expect(entries.map((e) => [e.path, text(e.bytes)])).toEqual([
      ['repo/src/a.ts', 'export const a = 1;\n'],
      ['repo/README.md', '# hi'],
    ]);
    expect(skipped).toEqual([]);
  });

  it('reads an archive made by Info-ZIP zip', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-test-'));
    try {
      fs.mkdirSync(path.join(dir, 'repo/src'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'repo/src/main.py'), 'print("hello")\n'.repeat(50));
      fs.writeFileSync(path.join(dir, 'repo/tiny.txt'), 'x');
      execFileSync('zip', ['-qr', 'repo.zip', 'repo'], { cwd: dir });
      const { entries } = await readZip(new Uint8Array(fs.readFileSync(path.join(dir, 'repo.zip'))), LIMITS);
      expect(Object.fromEntries(entries.map((e) => [e.path, text(e.bytes)]))).toEqual({ 'repo/src/main.py': 'print("hello")\n'.repeat(50), 'repo/tiny.txt': 'x' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips names that leave the tree', async () => {
    const archive = zip([
      { name: '../evil.sh', data: 'x' },
      { name: '/etc/passwd', data: 'x' },
      { name: 'a/../../b', data: 'x' },
      { name: 'C:/win.ini', data: 'x' },
      { name: './ok/./b.ts', data: 'ok' },
    ]);
    const { entries, skipped } = await readZip(archive, LIMITS);
    expect(entries.map((e) => e.path)).toEqual(['ok/b.ts']);
    expect(skipped).toHaveLength(4);
  });

  it('stops inflating a bomb at the limit, whatever the archive claims', async () => {
    const bomb = Buffer.alloc(50_000_000, 'a');
    const archive = zip([{ name: 'bomb.txt', data: bomb }, { name: 'small.ts', data: 'ok' }]);
    expect(archive.byteLength).toBeLessThan(100_000);
    const { entries, skipped } = await readZip(archive, LIMITS);
    expect(entries.map((e) => e.path)).toEqual(['small.ts']);
    expect(skipped).toEqual(['bomb.txt (too large)']);
    // Past the total, the archive is refused as a whole.
    const many = zip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.ts`, data: 'b'.repeat(900) })));
    await expect(readZip(many, LIMITS)).rejects.toThrow('more than a review can take');
  });

  it('refuses what is not a zip, damaged, encrypted or too many entries', async () => {
    await expect(readZip(new Uint8Array(100), LIMITS)).rejects.toThrow(ZipError);
    const good = zip([{ name: 'a.ts', data: 'a' }]);
    await expect(readZip(good.subarray(10), LIMITS)).rejects.toThrow(/damaged|not a zip/);
    await expect(readZip(zip([{ name: 'a.ts', data: 'a', flags: 1 }]), LIMITS)).rejects.toThrow('Encrypted');
    await expect(readZip(zip(Array.from({ length: 51 }, (_, i) => ({ name: `${i}`, data: '' }))), LIMITS)).rejects.toThrow('at most 50');
  });
});
