import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { build } from 'esbuild';
import { repoRoot } from './lib/paths';
import { prebuiltWorkflowBundle } from '../server/temporal/bundles';
import { TRACED_WORKFLOW_MODULES } from '../server/tracing/sdk';

/**
 * `npm run build`: the Remix client/server build (build/), the web and worker entries bundled for
 * Node (dist/server/), and the Temporal workflow bundles (server/temporal/bundles.ts) that the worker
 * loads in production instead of bundling workflows with webpack at every start.
 */

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string, meta?: unknown) => console.warn(`workflow bundle: ${message}`, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(`workflow bundle: ${message}`, meta ?? ''),
};

const started = Date.now();
const step = async (name: string, run: () => Promise<void>) => {
  const t = Date.now();
  console.log(`build: ${name}…`);
  await run();
  console.log(`build: ${name} done in ${((Date.now() - t) / 1000).toFixed(1)}s`);
};

try {
  fs.rmSync(path.join(repoRoot, 'dist'), { recursive: true, force: true });

  await step('remix vite:build', () => run(path.join(repoRoot, 'node_modules/.bin/remix'), ['vite:build']));

  await step('server entries (esbuild)', async () => {
    await build({
      absWorkingDir: repoRoot,
      // The first admin's bootstrap too: the production image has no tsx sources to run it from.
      entryPoints: { main: 'server/main.ts', worker: 'server/worker.ts', 'bootstrap-admin': 'scripts/bootstrap-admin.ts' },
      outdir: 'dist/server',
      bundle: true,
      platform: 'node',
      format: 'esm',
      // Dynamic imports stay chunks of their own, loaded when reached: inlined, their packages'
      // imports would be hoisted into the entry and loaded at start (OpenTelemetry's SDK, for one).
      splitting: true,
      target: 'node20',
      // Dependencies stay in node_modules: native addons (Temporal core, argon2) cannot be bundled.
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
    });
  });

  await step('workflow bundles', async () => {
    for (const traced of [false, true]) {
      const { code } = await bundleWorkflowCode({
        workflowsPath: path.join(repoRoot, 'workflows/index.ts'),
        workflowInterceptorModules: traced ? TRACED_WORKFLOW_MODULES : [],
        logger: quietLogger,
      });
      fs.writeFileSync(path.join(repoRoot, prebuiltWorkflowBundle(traced)), code);
    }
  });

  console.log(`build: finished in ${((Date.now() - started) / 1000).toFixed(1)}s`);
} catch (error) {
  console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(command)} ${args.join(' ')} failed (${signal ?? `code ${code}`})`)),
    );
  });
}

