import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOllamaServer, type OllamaServer } from '../../scripts/lib/ollama-server';
import { tinyModels, writeTinyModel, type TinyModel } from '../ollama/tiny-model';

export interface StartOllamaOptions {
  /** OLLAMA_NUM_PARALLEL (Ollama's default when omitted). */
  numParallel?: number;
  /** OLLAMA_MAX_QUEUE (Ollama's default, 512, when omitted). */
  maxQueue?: number;
  /** OLLAMA_KEEP_ALIVE. */
  keepAlive?: string;
  /** Models to create before returning; both tiny models by default. */
  models?: TinyModel[];
  debug?: boolean;
}

export interface TestOllama {
  url: string;
  /** host:port, for OLLAMA_HOST. */
  host: string;
  /** Stops the server and its runners, and deletes its home and models. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL to the server and its runners (a crash), then the same clean-up as stop(). */
  kill(): Promise<void>;
  /** The server's output so far (Ollama logs each request: method, path, status, duration). */
  logs(): string;
  /** The pids of the model runners this server has started (one per loaded model). */
  runnerPids(): number[];
}

const running = new Set<TestOllama>();

/**
 * A real Ollama on a free 127.0.0.1 port, with a home and model store of its own in a temporary
 * directory, serving the tiny models. Whatever happens, it is stopped: by stop()/kill(), by
 * stopAllOllamas() (registered as an afterAll hook by tests/support/ollama-setup.ts), at process
 * exit, and by the supervisor's reaper if the test process is killed.
 */
export async function startOllama(options: StartOllamaOptions = {}): Promise<TestOllama> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-ollama-'));
  const logFile = path.join(dir, 'ollama.log');
  let server: OllamaServer | undefined;
  let done: Promise<void> | undefined;
  const cleanUp = (how: 'stop' | 'kill') =>
    (done ??= (async () => {
      running.delete(handle);
      try {
        if (server) await server[how]();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    })());
  const handle: TestOllama = {
    url: '',
    host: '',
    stop: () => cleanUp('stop'),
    kill: () => cleanUp('kill'),
    logs: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    runnerPids: () => runnersOf(path.join(dir, 'models')),
  };
  running.add(handle);
  try {
    server = await startOllamaServer({
      home: path.join(dir, 'home'),
      modelsDir: path.join(dir, 'models'),
      numParallel: options.numParallel,
      maxQueue: options.maxQueue,
      keepAlive: options.keepAlive,
      debug: options.debug,
      logFile,
    });
    handle.url = server.url;
    handle.host = server.host;
    for (const model of options.models ?? tinyModels) {
      const modelfile = writeTinyModel(path.join(dir, 'files'), model);
      await createModel(server, model.name, modelfile, path.join(dir, 'home'));
    }
    return handle;
  } catch (error) {
    await handle.stop();
    throw error;
  }
}

/** `ollama create` with the CLI, as a user would; it uploads the GGUF as a blob over the HTTP API. */
function createModel(server: OllamaServer, name: string, modelfile: string, home: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      server.bin,
      ['create', name, '-f', modelfile],
      { cwd: path.dirname(modelfile), env: { ...process.env, HOME: home, OLLAMA_HOST: server.host }, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`ollama create ${name} failed: ${error.message}\n${stdout}${stderr}`));
        else resolve();
      },
    );
  });
}

/** `ollama runner` processes whose model file lies under `modelsDir`: one server's runners. */
function runnersOf(modelsDir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const model = argv.indexOf('--model');
    if (argv[1] === 'runner' && model > 0 && argv[model + 1]?.startsWith(`${modelsDir}/`)) pids.push(Number(entry));
  }
  return pids;
}

/** Stops every server this process started and has not stopped yet. */
export async function stopAllOllamas(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}
