import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CURRENT_VERSION, HISTORIES_ROOT, HISTORY_SCENARIOS } from '../tests/support/histories';
import { repoRoot } from './lib/paths';

/**
 * `npm run histories:record`: runs the tests that produce the workflow histories listed in
 * tests/support/histories.ts with recording on, puts them in place of this version's folder
 * (workflows/histories/<version>/) once every scenario is there, then replays them. Only for a
 * version not yet released: a released version's histories stand for its runs (workflows/README.md).
 */

const target = path.join(HISTORIES_ROOT, CURRENT_VERSION);
const shown = path.relative(repoRoot, target);
const scenarios = Object.keys(HISTORY_SCENARIOS);
const testFiles = [...new Set(Object.values(HISTORY_SCENARIOS))];
const recorded = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-histories-'));

try {
  console.log(`recording ${scenarios.length} histories for ${CURRENT_VERSION} from ${testFiles.join(', ')}`);
  if ((await vitest(testFiles, { RECORD_HISTORIES: recorded })) !== 0) throw new Error(`the recording tests failed; ${shown} is unchanged`);
  const missing = scenarios.filter((scenario) => !fs.existsSync(path.join(recorded, `${scenario}.json`)));
  if (missing.length > 0) throw new Error(`nothing recorded for ${missing.join(', ')}; ${shown} is unchanged`);

  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  for (const scenario of scenarios) {
    const file = path.join(target, `${scenario}.json`);
    fs.copyFileSync(path.join(recorded, `${scenario}.json`), file);
    console.log(`  ${path.relative(repoRoot, file)}  ${(fs.statSync(file).size / 1024).toFixed(1)} KB`);
  }
  if ((await vitest(['tests/workflows/replay.test.ts'])) !== 0) throw new Error(`the histories now in ${shown} do not replay`);
} catch (error) {
  console.error(`histories:record: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(recorded, { recursive: true, force: true });
}

function vitest(files: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(path.join(repoRoot, 'node_modules', '.bin', 'vitest'), ['run', ...files], {
      cwd: repoRoot,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}
