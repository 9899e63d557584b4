import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStackEnv } from '../../server/env';
import { findGo, goInstall, isExecutable, which } from './go-install';
import { repoRoot } from './paths';
import { freePort, waitForPort } from './ports';
import { sleep, Supervisor, type Child } from './supervisor';

export const OLLAMA_VERSION = 'v0.17.4';
const OLLAMA_MODULE = `github.com/ollama/ollama@${OLLAMA_VERSION}`;

const toolsBin = path.join(repoRoot, '.tools', 'bin');
const localBinary = path.join(toolsBin, 'ollama');
/** Written next to the binary after a build: which version it is, without running it. */
const versionStamp = path.join(toolsBin, 'ollama.version');
/** Holds miniaudio/miniaudio.h, our stand-in for a header the module zip leaves out. */
const stubIncludeDir = path.join(repoRoot, 'scripts', 'lib', 'ollama-build');

/** Headers llama.cpp includes from its vendor/ directory, which Go module zips drop; Debian packages them. */
const vendoredHeaders = [
  { header: 'nlohmann/json.hpp', debianPackage: 'nlohmann-json3-dev' },
  { header: 'stb/stb_image.h', debianPackage: 'libstb-dev' },
];
const debianPackages = ['g++', ...vendoredHeaders.map((h) => h.debianPackage)];

export class OllamaMissingError extends Error {
  override name = 'OllamaMissingError';
}

/**
 * The Ollama server to run: OLLAMA_BIN, else the project-local build of the pinned version in
 * .tools/bin, else builds that with `go install` (CPU only; a few minutes of two cores). An
 * `ollama` on PATH is not used: it is often another version (the tests record the wire of this
 * one), and often a system service's; set OLLAMA_BIN to use it anyway.
 */
export async function findOllama(): Promise<string> {
  const configured = loadStackEnv().OLLAMA_BIN;
  if (configured) {
    if (!isExecutable(configured)) throw new OllamaMissingError(`OLLAMA_BIN=${configured} is not an executable file.`);
    return configured;
  }
  if (isExecutable(localBinary) && readStamp() === OLLAMA_VERSION) return localBinary;
  const go = findGo();
  if (!go) {
    throw new OllamaMissingError(
      `Ollama ${OLLAMA_VERSION} was not found and Go is not installed to build it. Install Go >= 1.24 (https://go.dev/dl/) ` +
        `so that \`go install ${OLLAMA_MODULE}\` can build it into .tools/bin, or set OLLAMA_BIN=/path/to/ollama.`,
    );
  }
  await checkBuildPrerequisites();
  await buildWithGo(go);
  return localBinary;
}

function readStamp(): string | undefined {
  try {
    return fs.readFileSync(versionStamp, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Fails fast, naming the packages to install, instead of minutes into the build. */
async function checkBuildPrerequisites(): Promise<void> {
  const compiler = which('c++') ?? which('g++');
  const install = `apt-get install ${debianPackages.join(' ')}`;
  if (!compiler) {
    throw new OllamaMissingError(`Building Ollama needs a C++ compiler (cgo), and none is on PATH. On Debian/Ubuntu: ${install}`);
  }
  const missing: string[] = [];
  for (const { header, debianPackage } of vendoredHeaders) {
    const found = await run(compiler, ['-x', 'c++', '-std=c++17', '-E', '-o', '/dev/null', '-'], `#include <${header}>\n`);
    if (!found) missing.push(`${header} (Debian package ${debianPackage})`);
  }
  if (missing.length > 0) {
    throw new OllamaMissingError(
      `Building Ollama needs headers that its Go module leaves out of llama.cpp's vendor/ directory; missing: ${missing.join(', ')}. ` +
        `On Debian/Ubuntu: ${install}`,
    );
  }
}

function run(command: string, args: string[], input: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
    child.stdin.end(input);
  });
}

async function buildWithGo(go: string): Promise<void> {
  console.log(`building Ollama ${OLLAMA_VERSION} (CPU) with go install (several minutes the first time)…`);
  const started = Date.now();
  fs.rmSync(versionStamp, { force: true });
  const args = [`-ldflags=-X github.com/ollama/ollama/version.Version=${OLLAMA_VERSION.slice(1)}`, OLLAMA_MODULE];
  // cgo for llama.cpp and ggml; the include dir supplies miniaudio.h.
  const code = await goInstall(go, args, toolsBin, { CGO_ENABLED: '1', CGO_CPPFLAGS: `-I${stubIncludeDir}` });
  if (code !== 0 || !isExecutable(localBinary)) {
    throw new OllamaMissingError(
      `go install ${OLLAMA_MODULE} failed (exit code ${code}); see the [go] lines above. It needs a C++ compiler and, on ` +
        `Debian/Ubuntu, apt-get install ${debianPackages.join(' ')}. Alternatively set OLLAMA_BIN=/path/to/ollama.`,
    );
  }
  fs.writeFileSync(versionStamp, `${OLLAMA_VERSION}\n`);
  const megabytes = fs.statSync(localBinary).size / 1e6;
  console.log(`built ${path.relative(repoRoot, localBinary)} (${megabytes.toFixed(0)} MB) in ${Math.round((Date.now() - started) / 1000)}s`);
}

/**
 * Every variable Ollama 0.17 reads (envconfig), so that a developer's own settings (OLLAMA_HOST,
 * OLLAMA_MODELS, OLLAMA_KEEP_ALIVE…) do not leak into a server started here: each is either set
 * below or removed.
 */
const OLLAMA_VARIABLES = [
  'OLLAMA_AUTH', 'OLLAMA_CONTEXT_LENGTH', 'OLLAMA_DEBUG', 'OLLAMA_EDITOR', 'OLLAMA_FLASH_ATTENTION', 'OLLAMA_GPU_OVERHEAD',
  'OLLAMA_HOST', 'OLLAMA_KEEP_ALIVE', 'OLLAMA_KV_CACHE_TYPE', 'OLLAMA_LLM_LIBRARY', 'OLLAMA_LOAD_TIMEOUT',
  'OLLAMA_MAX_LOADED_MODELS', 'OLLAMA_MAX_QUEUE', 'OLLAMA_MODELS', 'OLLAMA_MULTIUSER_CACHE', 'OLLAMA_NEW_ENGINE',
  'OLLAMA_NO_CLOUD', 'OLLAMA_NOHISTORY', 'OLLAMA_NOPRUNE', 'OLLAMA_NUM_PARALLEL', 'OLLAMA_ORIGINS', 'OLLAMA_REMOTES',
  'OLLAMA_SCHED_SPREAD', 'OLLAMA_VULKAN',
];

export interface OllamaServerOptions {
  /** Its home: Ollama writes ~/.ollama/id_ed25519 (and history) there. */
  home: string;
  /** OLLAMA_MODELS: where pulled and created models live. */
  modelsDir: string;
  /** A free port when omitted. */
  port?: number;
  /** OLLAMA_NUM_PARALLEL: requests a loaded model serves at once. */
  numParallel?: number;
  /** OLLAMA_MAX_QUEUE: requests waiting for the scheduler (only while it loads a model) before 503. */
  maxQueue?: number;
  /** OLLAMA_KEEP_ALIVE, e.g. "5m". */
  keepAlive?: string;
  maxLoadedModels?: number;
  /** OLLAMA_DEBUG=1: the runner logs each request's fate. */
  debug?: boolean;
  /** Runs the server; a private, quiet one when omitted. */
  supervisor?: Supervisor;
  /** Appends the server's output to this file (only with a private supervisor). */
  logFile?: string;
  bin?: string;
  /** Label in the logs. */
  name?: string;
}

export interface OllamaServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** host:port, as OLLAMA_HOST for the CLI. */
  host: string;
  bin: string;
  child: Child;
  /** SIGTERM to the process group (the server and its runners), SIGKILL after a grace. */
  stop(): Promise<void>;
  /** SIGKILL to the process group at once, like a crash or an OOM kill. */
  kill(): Promise<void>;
}

/** Starts `ollama serve` on 127.0.0.1 under the supervisor and resolves once /api/version answers. */
export async function startOllamaServer(options: OllamaServerOptions): Promise<OllamaServer> {
  const bin = options.bin ?? (await findOllama());
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = Object.fromEntries(OLLAMA_VARIABLES.map((name) => [name, undefined]));
  Object.assign(env, {
    HOME: options.home,
    OLLAMA_HOST: host,
    OLLAMA_MODELS: options.modelsDir,
    // No ollama.com: no cloud models in /api/tags, no sign-in, nothing leaves the machine.
    OLLAMA_NO_CLOUD: '1',
    OLLAMA_NUM_PARALLEL: options.numParallel?.toString(),
    OLLAMA_MAX_QUEUE: options.maxQueue?.toString(),
    OLLAMA_KEEP_ALIVE: options.keepAlive,
    OLLAMA_MAX_LOADED_MODELS: options.maxLoadedModels?.toString(),
    OLLAMA_DEBUG: options.debug ? '1' : undefined,
  });
  fs.mkdirSync(options.home, { recursive: true });
  fs.mkdirSync(options.modelsDir, { recursive: true });

  const supervisor = options.supervisor ?? new Supervisor({ echo: false, logFile: options.logFile });
  const child = supervisor.spawn({
    name: options.name ?? 'ollama',
    command: bin,
    args: ['serve'],
    env,
    stopTimeoutMs: 5_000,
    quietWhileStopping: true,
  });
  const exited = child.exited.then((info) => {
    throw new Error(`Ollama exited (code ${info.code}, signal ${info.signal}) before it was ready:\n${child.recentOutput()}`);
  });
  exited.catch(() => {});
  const stopSupervisor = async () => {
    if (!options.supervisor) await supervisor.stop();
  };
  const stop = async () => {
    await child.stop();
    await stopSupervisor();
  };
  const kill = async () => {
    if (child.pid !== undefined && child.running) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    await child.stop(); // reaps the group and tells the reaper
    await stopSupervisor();
  };
  const url = `http://${host}`;
  try {
    await Promise.race([waitUntilServing(url), exited]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, host, bin, child, stop, kill };
}

/** Waits for the port, then for GET /api/version to answer 200. */
export async function waitUntilServing(url: string, timeoutMs = 60_000): Promise<void> {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + timeoutMs;
  await waitForPort(Number(port), hostname, timeoutMs);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/api/version`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
      lastError = new Error(`HTTP ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`Ollama at ${url} did not answer within ${timeoutMs / 1000}s: ${String(lastError)}`);
}

// `tsx scripts/lib/ollama-server.ts --ensure` (used by .ci/run): find or build Ollama, print its path.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--ensure')) {
    findOllama().then(
      (bin) => console.log(`Ollama: ${bin}`),
      (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
      },
    );
  } else {
    console.error('usage: tsx scripts/lib/ollama-server.ts --ensure');
    process.exit(2);
  }
}
