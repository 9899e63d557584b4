import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/paths';
import { relativeImports } from '../support/import-graph';

const sources = execFileSync('git', ['ls-files', '*.ts', '*.tsx'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file && !file.endsWith('.d.ts'));

/** Every strongly connected set of more than one file (Tarjan), each as a list of files. */
function importCircles(files: string[]): string[][] {
  const edges = new Map(files.map((file) => [file, relativeImports(file).map((imported) => imported.file)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (!edges.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (stack.includes(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) === index.get(file)) {
      const members = stack.splice(stack.indexOf(file));
      if (members.length > 1) circles.push(members);
    }
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return circles;
}

// A circle (type imports included) means two modules cannot be understood, or tested, apart:
// activities take what they need from the server through createActivities(deps), and shared
// types live in modules of their own.
describe('the import graph', () => {
  it('has no circles', () => {
    expect(importCircles(sources)).toEqual([]);
  });
});
