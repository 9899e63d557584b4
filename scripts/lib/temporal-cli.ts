import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { loadStackEnv } from '../../server/env';
import { findGo, goInstall, isExecutable, which } from './go-install';
import { repoRoot } from './paths';
import { freePort, waitForPort } from './ports';
import { sleep, Supervisor, type ChildSpec } from './supervisor';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

const toolsBin = path.join(repoRoot, '.tools', 'bin');

export class TemporalCliMissingError extends Error {
  override name = 'TemporalCliMissingError';
}

/**
 * The Temporal CLI to run: TEMPORAL_CLI, else `temporal` on PATH, else the project-local build in
 * .tools/bin, else builds that with `go install` (the pinned version has no `replace` directive, so
 * `go install` works; later ones may not).
 */
export async function findTemporalCli(): Promise<string> {
  const configured = loadStackEnv().TEMPORAL_CLI;
  if (configured) {
    if (!isExecutable(configured)) throw new TemporalCliMissingError(`TEMPORAL_CLI=${configured} is not an executable file.`);
    return configured;
  }
  const onPath = which('temporal');
  if (onPath) return onPath;
  const local = path.join(toolsBin, 'temporal');
  if (isExecutable(local)) return local;
  const go = findGo();
  if (!go) {
    throw new TemporalCliMissingError(
      'The Temporal CLI was not found and Go is not installed to build it. Install one of: the Temporal CLI ' +
        `(https://docs.temporal.io/cli#install, then put \`temporal\` on PATH or set TEMPORAL_CLI=/path/to/temporal), ` +
        `or Go >= 1.23 (https://go.dev/dl/) so that \`go install ${TEMPORAL_CLI_MODULE}\` can build it into .tools/bin.`,
    );
  }
  await buildWithGo(go, local);
  return local;
}

async function buildWithGo(go: string, target: string): Promise<void> {
  console.log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (a few minutes the first time)…`);
  const started = Date.now();
  // CGO off: the CLI's SQLite is pure Go, and a fresh machine may have no C compiler.
  const code = await goInstall(go, [TEMPORAL_CLI_MODULE], toolsBin, { CGO_ENABLED: '0' });
  if (code !== 0 || !isExecutable(target)) {
    throw new TemporalCliMissingError(
      `go install ${TEMPORAL_CLI_MODULE} failed (exit code ${code}); see the [go] lines above. ` +
        'Alternatively install the Temporal CLI yourself and set TEMPORAL_CLI=/path/to/temporal.',
    );
  }
  console.log(`built ${path.relative(repoRoot, target)} in ${Math.round((Date.now() - started) / 1000)}s`);
}

export interface TemporalDevServerOptions {
  /** Runs the server process; a private, quiet one when omitted. */
  supervisor?: Supervisor;
  /** gRPC frontend port (the address clients use); a free port when omitted. */
  port?: number;
  /** Web UI port; ignored when headless. Defaults to port + 1000 like the CLI. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file for persistence across restarts; in memory when omitted. */
  dbFile?: string;
  /** Extra namespace to create at launch (`default` always exists). */
  namespace?: string;
  cli?: string;
  /** Label in the logs. */
  name?: string;
  /** Start the server again when it dies (the supervisor's restart policy): only sensible with `dbFile`. */
  restart?: ChildSpec['restart'];
}

export interface TemporalDevServer {
  address: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` under the supervisor and resolves once the frontend answers RPCs. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const cli = options.cli ?? (await findTemporalCli());
  const port = options.port ?? (await freePort());
  const uiPort = options.headless ? undefined : (options.uiPort ?? port + 1000);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  // Eager activity execution (off by default in the server): the worker gets a job's model call
  // in the reply to the workflow task that schedules it, skipping a trip through matching. The
  // TS worker asks for it by default (maxEagerActivityReservationsPerWorkflowTask).
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  // The dev server otherwise picks random ports for these; pinning them keeps them off our other ports' toes.
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));

  const supervisor = options.supervisor ?? new Supervisor({ echo: false });
  const child = supervisor.spawn({
    name: options.name ?? 'temporal',
    command: cli,
    args,
    stopPhase: 1,
    stopTimeoutMs: 5_000,
    quietWhileStopping: true,
    restart: options.restart,
  });
  const address = `127.0.0.1:${port}`;
  const exited = child.exited.then((info) => {
    throw new Error(`the Temporal dev server exited (code ${info.code}, signal ${info.signal}) before it was ready:\n${child.recentOutput()}`);
  });
  exited.catch(() => {});
  const stop = async () => {
    await child.stop();
    if (!options.supervisor) await supervisor.stop();
  };
  try {
    await Promise.race([waitUntilServing(address, options.namespace ?? 'default'), exited]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, uiUrl: uiPort === undefined ? undefined : `http://localhost:${uiPort}`, stop };
}

/** Waits for the frontend port, then for an RPC on the namespace to succeed (the port opens before the namespace is registered). */
export async function waitUntilServing(address: string, namespace: string, timeoutMs = 60_000): Promise<void> {
  const [host, portText] = splitAddress(address);
  const deadline = Date.now() + timeoutMs;
  await waitForPort(Number(portText), host, timeoutMs);
  let lastError: unknown;
  while (Date.now() < deadline) {
    const connection = await Connection.connect({ address, connectTimeout: 2_000 }).catch((error: unknown) => {
      lastError = error;
      return undefined;
    });
    if (connection) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } catch (error) {
        lastError = error;
      } finally {
        await connection.close();
      }
    }
    await sleep(100);
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs / 1000}s: ${String(lastError)}`);
}

function splitAddress(address: string): [string, string] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index), address.slice(index + 1)];
}

// `tsx scripts/lib/temporal-cli.ts --ensure` (used by .ci/run): find or build the CLI, print its path.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--ensure')) {
    findTemporalCli().then(
      (cli) => console.log(`Temporal CLI: ${cli}`),
      (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
      },
    );
  } else {
    console.error('usage: tsx scripts/lib/temporal-cli.ts --ensure');
    process.exit(2);
  }
}
