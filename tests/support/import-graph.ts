import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../../scripts/lib/paths';

export interface RelativeImport {
  /** The imported file, relative to the repository root, as tsx resolves it. */
  file: string;
  /** `import type` / `export type`: erased when the importer runs. */
  typeOnly: boolean;
}

/** The relative imports and re-exports of one source file (relative to the repository root). */
export function relativeImports(file: string): RelativeImport[] {
  const source = readFileSync(join(repoRoot, file), 'utf8');
  const imports: RelativeImport[] = [];
  for (const [, typeOnly, spec] of source.matchAll(/^(?:import|export)\b(\s+type\b)?[^;]*?from '(\.{1,2}(?:\/[^']*)?)'/gm)) {
    const target = relative(repoRoot, resolve(repoRoot, dirname(file), spec!));
    // As tsx resolves it: the file itself, with .ts/.tsx, or a directory's index.ts.
    const candidates = /\.tsx?$/.test(target) ? [target] : [`${target}.ts`, `${target}.tsx`, `${target}/index.ts`];
    imports.push({ file: candidates.find((candidate) => existsSync(join(repoRoot, candidate))) ?? candidates[0]!, typeOnly: !!typeOnly });
  }
  return imports;
}
