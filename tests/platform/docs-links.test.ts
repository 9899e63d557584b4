import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/paths';

/**
 * Every relative link in the README and the docs points at a file or folder that exists, and every
 * `#anchor` into a Markdown file at a heading it has (GitHub's slugs). External links are not
 * fetched.
 */

function markdownFiles(): string[] {
  const files = ['README.md', 'bench/README.md', 'workflows/README.md'];
  const docs = path.join(repoRoot, 'docs');
  if (existsSync(docs)) files.push(...readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`));
  return files.filter((file) => existsSync(path.join(repoRoot, file)));
}

/** The text without fenced code blocks and inline code, where brackets are not links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

function links(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const references = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)].map((m) => m[1]!);
  return [...inline, ...references];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

function broken(file: string): string[] {
  const source = readFileSync(path.join(repoRoot, file), 'utf8');
  const problems: string[] = [];
  for (const link of links(source)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto:
    const [rawTarget = '', anchor] = link.split('#');
    const target = decodeURIComponent(rawTarget.split('?')[0]!);
    const resolved = target ? path.normalize(path.join(path.dirname(file), target)) : file;
    if (resolved.startsWith('..')) {
      problems.push(`${file}: ${link} leaves the repository`);
      continue;
    }
    const absolute = path.join(repoRoot, resolved);
    if (!existsSync(absolute)) {
      problems.push(`${file}: ${link} → ${resolved} does not exist`);
      continue;
    }
    if (anchor && statSync(absolute).isFile() && resolved.endsWith('.md') && !anchors(readFileSync(absolute, 'utf8')).has(anchor)) {
      problems.push(`${file}: ${link} → no heading #${anchor} in ${resolved}`);
    }
  }
  return problems;
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('finds the README and the docs', () => {
    expect(files).toContain('README.md');
    expect(files.some((file) => file.startsWith('docs/'))).toBe(true);
  });

  it.each(files)('%s links only to files and headings that exist', (file) => {
    expect(broken(file)).toEqual([]);
  });

  it('reports a link to a missing file or heading', () => {
    expect(links('[a](docs/x.md) ![b](img.png "t") `[c](no.md)`\n```\n[d](no.md)\n```\n[e]: ref.md')).toEqual(['docs/x.md', 'img.png', 'ref.md']);
    expect([...anchors('# Pipelining (prefetch)\n## Socket.IO fan-out\n## A\n## A')]).toEqual([
      'pipelining-prefetch',
      'socketio-fan-out',
      'a',
      'a-1',
    ]);
  });
});
