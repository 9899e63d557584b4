import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { getLogger, type Logger } from '../../server/log';

/**
 * Runs the processes of the local stack. Each child gets its own process group (so a stop reaches
 * the grandchildren tsx or npm spawn), its output is labelled line by line, and any unexpected exit
 * brings the whole stack down: a half-running stack is worse than a stopped one.
 */

export interface ChildSpec {
  /** Label in the logs: `[web] …`. */
  name: string;
  command: string;
  args?: string[];
  cwd?: string;
  /** Merged over the inherited environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  uid?: number;
  gid?: number;
  /** Signal for a graceful stop. PostgreSQL wants SIGINT (fast shutdown); SIGTERM would wait for clients. */
  stopSignal?: NodeJS.Signals;
  /** Send the graceful signal to the leader only (its own children follow it); SIGKILL still hits the group. */
  signalLeaderOnly?: boolean;
  /** Grace before SIGKILL. */
  stopTimeoutMs?: number;
  /** Children with a higher phase are stopped first; equal phases stop together. */
  stopPhase?: number;
  /** Drop this child's output once it is being stopped (the Temporal dev server logs a warning per poller). */
  quietWhileStopping?: boolean;
  /**
   * Started again when it exits unexpectedly, after `initialMs` doubling per crash up to `maxMs`
   * (back to `initialMs` once a run lasted `maxMs`), instead of stopping the stack: for stateless
   * processes (web, worker) whose work survives them.
   */
  restart?: { initialMs: number; maxMs: number };
  /** A child that is expected to exit by itself (e.g. a one-shot command) does not stop the stack. */
  expectExit?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SupervisorOptions {
  /** Where the supervisor's own events go (restarts, crashes, signals); default: the process's logger. */
  logger?: Logger;
  /** Echo children's lines to this process's stdout (default true). */
  echo?: boolean | ((name: string) => boolean);
  /** Append every labelled line to this file as well. */
  logFile?: string;
  /** Install SIGINT/SIGTERM/SIGHUP handlers that stop everything and exit (default false). */
  handleSignals?: boolean;
  /** Lines kept per child to explain a failure. */
  tailLines?: number;
  /**
   * Start a watchdog (reaper.mjs) that stops every child if this process dies without doing it
   * (SIGKILL; tsx force-kills a child that does not acknowledge Ctrl-C within 60 ms). Default true.
   */
  reaper?: boolean;
}

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95];
const useColor = Boolean(process.stdout.isTTY);

export class ChildFailedError extends Error {
  override name = 'ChildFailedError';
}

export class Child {
  readonly exited: Promise<ExitInfo>;
  /** After exit and the end of its output (which grandchildren may hold open). */
  readonly closed: Promise<void>;
  exitInfo: ExitInfo | undefined;
  private readonly tail: string[] = [];
  private readonly lineListeners = new Set<(line: string) => void>();
  private stopping: Promise<void> | undefined;

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  constructor(
    readonly spec: ChildSpec,
    readonly process: ChildProcess,
    private readonly tailLines: number,
  ) {
    this.closed = new Promise((resolve) => {
      process.once('close', () => resolve());
      process.once('error', () => resolve());
    });
    this.exited = new Promise((resolve) => {
      process.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      process.once('error', (error) => {
        this.pushLine(`failed to start: ${error.message}`);
        this.exitInfo = { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last lines the child printed, for error messages. */
  recentOutput(): string {
    return this.tail.map((line) => `  [${this.name}] ${line}`).join('\n');
  }

  /** @internal */
  pushLine(line: string): void {
    this.tail.push(line);
    if (this.tail.length > this.tailLines) this.tail.shift();
    for (const listener of this.lineListeners) listener(line);
  }

  /**
   * Resolves with the first line matching `pattern` (the match for a RegExp). Rejects when the
   * child exits first or after `timeoutMs`, with the child's recent output in the message.
   */
  waitForLine(pattern: RegExp, options?: { timeoutMs?: number }): Promise<RegExpMatchArray>;
  waitForLine(pattern: (line: string) => boolean, options?: { timeoutMs?: number }): Promise<string>;
  waitForLine(
    pattern: RegExp | ((line: string) => boolean),
    { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
  ): Promise<RegExpMatchArray | string> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.lineListeners.delete(listener);
      };
      const listener = (line: string) => {
        if (typeof pattern === 'function') {
          if (pattern(line)) {
            cleanup();
            resolve(line);
          }
          return;
        }
        const match = line.match(pattern);
        if (match) {
          cleanup();
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new ChildFailedError(
            `${this.name} did not become ready within ${timeoutMs / 1000}s (waiting for ${String(pattern)}); recent output:\n${this.recentOutput()}`,
          ),
        );
      }, timeoutMs);
      this.lineListeners.add(listener);
      void this.exited.then(async (info) => {
        // 'exit' can come before the last output is read; give the pipes a moment to drain.
        await Promise.race([this.closed, sleep(300)]);
        if (!this.lineListeners.has(listener)) return;
        cleanup();
        reject(new ChildFailedError(`${this.name} exited (${describeExit(info)}) before it was ready; recent output:\n${this.recentOutput()}`));
      });
    });
  }

  /** Graceful stop of the whole process group, SIGKILL after the grace period. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const pid = this.process.pid;
    if (pid === undefined) return;
    const graceMs = this.spec.stopTimeoutMs ?? 8_000;
    if (this.running) {
      const signal = this.spec.stopSignal ?? 'SIGTERM';
      if (this.spec.signalLeaderOnly) this.process.kill(signal);
      else signalGroup(pid, signal);
    }
    const deadline = Date.now() + graceMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    // The leader may be gone while grandchildren linger in its group.
    while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
    if (groupAlive(pid)) {
      signalGroup(pid, 'SIGKILL');
      await this.exited;
      for (let i = 0; i < 40 && groupAlive(pid); i++) await sleep(25);
    }
    await this.exited;
  }

  /** @internal last resort from a synchronous exit handler */
  killNow(): void {
    if (this.process.pid !== undefined && groupAlive(this.process.pid)) signalGroup(this.process.pid, 'SIGKILL');
  }
}

export class Supervisor {
  private readonly children: Child[] = [];
  private stopPromise: Promise<void> | undefined;
  private failure: string | undefined;
  private resolveDone!: (reason: string | undefined) => void;
  /** Resolves when the supervisor has stopped everything; the value says why, if it was a failure. */
  readonly done: Promise<string | undefined> = new Promise((resolve) => (this.resolveDone = resolve));
  private resolveCrashed!: (reason: string) => void;
  /**
   * Resolves with the reason as soon as a child exits unexpectedly, before the others are stopped
   * (which `done` waits for); never resolves otherwise. Lets a benchmark give up at once.
   */
  readonly crashed: Promise<string> = new Promise((resolve) => (this.resolveCrashed = resolve));
  private readonly logStream: fs.WriteStream | undefined;
  private colorIndex = 0;
  private readonly onExit = () => {
    for (const child of this.children) child.killNow();
  };
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();

  constructor(private readonly options: SupervisorOptions = {}) {
    if (options.logFile) this.logStream = fs.createWriteStream(options.logFile, { flags: 'a' });
    process.on('exit', this.onExit);
    if (options.handleSignals) {
      let firstAt: number | undefined;
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        const handler = () => {
          // One Ctrl-C arrives several times: from the terminal to the whole foreground group, and
          // relayed again by npm and tsx. Only a later, deliberate second press means "kill now".
          if (firstAt !== undefined) {
            if (Date.now() - firstAt < 1_500) return;
            this.note('warn', `${signal} again: killing everything now`);
            this.onExit();
            process.exit(130);
          }
          firstAt = Date.now();
          this.note('info', `${signal}: stopping (press Ctrl-C again to kill)`);
          void this.stop().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
        };
        this.signalHandlers.set(signal, handler);
        process.on(signal, handler);
      }
    }
  }

  /** Name and pid of every child running or last run under each name, e.g. for benchmarks that read their CPU time from /proc. */
  processes(): { name: string; pid: number | undefined }[] {
    return this.children.map((child) => ({ name: child.name, pid: child.pid }));
  }

  /** The child now running under `name` (after a restart, the new one). */
  child(name: string): Child | undefined {
    return this.children.find((child) => child.name === name);
  }

  private readonly crashes = new Map<string, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  /** A restartable child died: start it again after its backoff, leaving the rest running. */
  private scheduleRestart(child: Child, info: ExitInfo, startedAt: number): void {
    const { spec } = child;
    const policy = spec.restart!;
    const lived = Date.now() - startedAt;
    const crashes = lived >= policy.maxMs ? 1 : (this.crashes.get(spec.name) ?? 0) + 1;
    this.crashes.set(spec.name, crashes);
    const delay = Math.min(policy.maxMs, policy.initialMs * 2 ** (crashes - 1));
    this.note('warn', `${spec.name} exited unexpectedly (${describeExit(info)}); restarting it in ${delay / 1000}s (crash ${crashes}), the rest keeps running`);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopPromise) return;
      this.children.splice(this.children.indexOf(child), 1);
      this.spawn(spec);
    }, delay);
    this.restartTimers.add(timer);
  }

  /** Why the stack stopped on its own (an unexpected exit), if it did. */
  get failed(): string | undefined {
    return this.failure;
  }

  get stopping(): boolean {
    return this.stopPromise !== undefined;
  }

  private reaperInput: Writable | undefined;

  private tellReaper(line: string): void {
    if (this.options.reaper === false) return;
    if (!this.reaperInput) {
      const reaper = spawn(process.execPath, [fileURLToPath(new URL('./reaper.mjs', import.meta.url))], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      reaper.unref();
      const input = reaper.stdin!;
      // Must not keep this process alive; its closing (at our exit, however it happens) is the signal.
      (input as unknown as { unref?: () => void }).unref?.();
      input.on('error', () => {});
      this.reaperInput = input;
    }
    this.reaperInput.write(`${line}\n`);
  }

  spawn(spec: ChildSpec): Child {
    if (this.stopPromise) throw new Error(`cannot start ${spec.name}: the stack is stopping`);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [key, value] of Object.entries(spec.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    const proc = spawn(spec.command, spec.args ?? [], {
      cwd: spec.cwd,
      env,
      uid: spec.uid,
      gid: spec.gid,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = new Child(spec, proc, this.options.tailLines ?? 40);
    const startedAt = Date.now();
    if (proc.pid !== undefined) {
      this.tellReaper(`add ${proc.pid} ${spec.stopSignal ?? 'SIGTERM'} ${spec.signalLeaderOnly ? 1 : 0}`);
      const pid = proc.pid;
      // Forget a group only once it is empty, so that a pid reused later is never signalled.
      const forget = () => {
        if (!groupAlive(pid)) this.reaperInput?.write(`remove ${pid}\n`);
      };
      void child.exited.then(forget);
      const stop = child.stop.bind(child);
      child.stop = () => stop().then(forget);
    }
    this.children.push(child);
    const color = COLORS[this.colorIndex++ % COLORS.length]!;
    const onLine = (line: string) => {
      child.pushLine(line);
      if (spec.quietWhileStopping && child.isStopping) return;
      this.log(spec.name, line, color);
    };
    pipeLines(proc.stdout!, onLine);
    pipeLines(proc.stderr!, onLine);
    void child.exited.then((info) => {
      // A child stopped on its own (child.stop()) exited as asked: neither a crash nor one to restart.
      if (this.stopPromise || spec.expectExit || child.isStopping) return;
      if (spec.restart) return this.scheduleRestart(child, info, startedAt);
      this.failure = `${spec.name} exited unexpectedly (${describeExit(info)})`;
      this.resolveCrashed(this.failure);
      this.note('error', `${this.failure}; stopping everything`);
      void this.stop();
    });
    return child;
  }

  /** Stops every child (highest stopPhase first, equal phases in parallel). Idempotent. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      for (const timer of this.restartTimers) clearTimeout(timer);
      const phases = [...new Set(this.children.map((c) => c.spec.stopPhase ?? 0))].sort((a, b) => b - a);
      for (const phase of phases) {
        await Promise.all(this.children.filter((c) => (c.spec.stopPhase ?? 0) === phase).map((c) => c.stop()));
      }
      process.off('exit', this.onExit);
      this.reaperInput?.end('exit\n');
      this.reaperInput = undefined;
      for (const [signal, handler] of this.signalHandlers) process.off(signal, handler);
      await new Promise<void>((resolve) => (this.logStream ? this.logStream.end(resolve) : resolve()));
      this.resolveDone(this.failure);
    })();
    return this.stopPromise;
  }

  /** The supervisor's own event: to its logger, and to the log file beside the children's lines. */
  private note(level: 'info' | 'warn' | 'error', message: string): void {
    (this.options.logger ?? getLogger())[level](message);
    this.logStream?.write(`[sup] ${message}\n`);
  }

  /** Prints a labelled line the way children's lines are printed. */
  log(name: string, line: string, color = 90): void {
    const echo = typeof this.options.echo === 'function' ? this.options.echo(name) : this.options.echo !== false;
    if (echo) {
      const label = useColor ? `\x1b[${color}m[${name}]\x1b[0m` : `[${name}]`;
      process.stdout.write(`${label} ${line}\n`);
    }
    this.logStream?.write(`[${name}] ${line}\n`);
  }
}

function pipeLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let index: number;
    while ((index = buffer.indexOf('\n')) >= 0) {
      onLine(stripAnsi(buffer.slice(0, index).replace(/\r$/, '')));
      buffer = buffer.slice(index + 1);
    }
  });
  stream.on('end', () => {
    if (buffer) onLine(stripAnsi(buffer));
    buffer = '';
  });
}

// Children colour their own output when they think they write to a terminal; labels carry the colour here.
function stripAnsi(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;]*m/g, '');
}

export function describeExit(info: ExitInfo): string {
  return info.signal ? `signal ${info.signal}` : `code ${info.code}`;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Whether any live process remains in the group. Zombies do not count: an init that does not reap
 * (some containers) would otherwise make a killed group look alive forever.
 */
export function groupAlive(pgid: number): boolean {
  if (process.platform === 'linux') {
    let entries: string[];
    try {
      entries = fs.readdirSync('/proc');
    } catch {
      entries = [];
    }
    if (entries.length) {
      for (const entry of entries) {
        if (!/^\d+$/.test(entry)) continue;
        let stat: string;
        try {
          stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        } catch {
          continue; // exited meanwhile
        }
        // pid (comm) state ppid pgrp …; comm may contain spaces and parentheses.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
      }
      return false;
    }
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
