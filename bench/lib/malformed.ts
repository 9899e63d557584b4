import pg from 'pg';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { appRouter } from '../../server/trpc/root';
import { createRandom } from '../../simulator/random';

/**
 * Generated malformed input over every tRPC procedure and every socket event, as a signed-in
 * member, as an admin and signed out: NUL bytes, lone surrogates, wrong types, huge strings,
 * missing and unknown fields, deep nesting, bodies that are not JSON and superjson metadata that
 * lies. The books: no answer 5xx (or no answer at all), every socket `join` acknowledged, and not
 * a row of the database changed (a checksum of every table before and after).
 */

export interface MalformedReport {
  inputs: number;
  procedures: number;
  socketEvents: string[];
  /** HTTP status → answers, over the tRPC calls. */
  statuses: Record<string, number>;
  /** Answers 5xx, or a connection that failed instead of answering. */
  serverErrors: number;
  /** Up to ten of them: the procedure, the status and the body sent (cut short). */
  examples: { target: string; status: number | string; body: string }[];
  socket: { emitted: number; acknowledged: number; unanswered: number; disconnects: number };
  /** Tables whose rows changed (count or checksum), with their counts before and after; the resource manager's own tables aside. */
  written: { table: string; before: number; after: number }[];
}

type Json = unknown;
interface Caller {
  cookie: string | undefined;
}

/** The procedures by path, with the keys of their input object (none for procedures without one). */
function procedures(): { path: string; type: 'query' | 'mutation'; keys: string[] }[] {
  const record = (appRouter._def as unknown as { procedures: Record<string, { _def: { type: string; inputs: { shape?: Record<string, unknown> }[] } }> }).procedures;
  return Object.entries(record)
    .filter(([, procedure]) => procedure._def.type !== 'subscription')
    .map(([path, procedure]) => ({ path, type: procedure._def.type as 'query' | 'mutation', keys: Object.keys(procedure._def.inputs[0]?.shape ?? {}) }));
}

const HUGE = 300_000;
/** Written on a timer by the resource manager (residency reads, load snapshots) whatever requests arrive. */
const BACKGROUND_TABLES = new Set(['BackendResidency', 'ResourceSnapshot']);

export async function sendMalformedInputs(options: {
  webUrl: string;
  databaseUrl: string;
  count: number;
  member: string;
  admin: string;
  /** Real ids to put beside a malformed field, so validation is passed where it can be and lookups run. */
  ids: string[];
  seed?: number;
  concurrency?: number;
}): Promise<MalformedReport> {
  const random = createRandom(options.seed ?? 20);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const targets = procedures();
  const socketEvents = ['join', 'leave'];

  // Each is wrong for any field: no schema takes control characters, broken text, or these types where it wants a value.
  const broken = (): Json =>
    pick<() => Json>([
      () => `x\u0000${pick(options.ids)}`,
      () => `\uD800${pick(['', 'a', 'team'])}`,
      () => `${'\uDC00'.repeat(3)}`,
      () => `${'z'.repeat(HUGE)}\u0000`,
      () => `\u0000`.repeat(pick([1, 64, 4096])),
      () => ({ toString: 1, valueOf: null, __proto__: { polluted: true } }),
      () => [pick(options.ids), 1, null],
      () => nested(pick([50, 2_000])),
      // Numbers no field takes: the API's numbers are bounded, and whole but for a share between
      // 0 and 1. No booleans, 0 or 1: a flag or a count takes them (an admin's limit set to 0 is a write).
      () => pick([-1.5, 1e308, -1e308, 2 ** 53 + 1]),
      () => ({ $gt: '' }),
    ])();
  const plausible = (key: string): Json => {
    if (/id$/i.test(key)) return pick(options.ids);
    return pick<Json>(['x', 'ok', 1, 10, 'normal', 'high', '2026-01-01', 'http://127.0.0.1:9/', ['x'], {}, undefined]);
  };
  // One field at least is broken; the rest plausible, missing or unknown.
  const objectInput = (keys: string[]): Record<string, Json> => {
    const input: Record<string, Json> = {};
    for (const key of keys) if (random() < 0.7) input[key] = plausible(key);
    const target = keys.length ? pick(keys) : pick(['__proto__', 'constructor', 'extra', '']);
    input[target] = broken();
    if (random() < 0.2) input[pick(['extra', 'admin', 'isAdmin', 'teamId'])] = broken();
    return input;
  };
  // A whole input that is an object of unknown keys is valid where every field is optional (zod
  // strips unknown keys: an admin's job list, whose every read is audited, would run), so as a
  // whole input it goes in an array.
  const wholeBroken = (): Json => {
    const value = broken();
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? [value] : value;
  };
  const input = (keys: string[]): Json => (random() < 0.75 ? objectInput(keys) : wholeBroken());

  /** A body as sent: mostly the superjson envelope around the input, sometimes something tRPC must refuse to read. */
  const trpcBody = (keys: string[]): string => {
    const roll = random();
    if (roll < 0.08) return pick(['', '{', 'null', '[]', '{"json":', '"\\ud800"', '{"json":{}}garbage', '\u0000', '{"0":{"json":1}}', `{"json":${'['.repeat(50_000)}${']'.repeat(50_000)}}`]);
    if (roll < 0.16) return JSON.stringify({ json: input(keys), meta: pick([{ values: { a: ['Date'] } }, { values: 'x' }, { values: { '': ['map'] } }, { referentialEqualities: { a: ['b'] } }, { values: [['bigint']] }]) });
    return JSON.stringify({ json: input(keys) });
  };

  const statuses: Record<string, number> = {};
  const examples: MalformedReport['examples'] = [];
  let serverErrors = 0;
  const tally = (target: string, status: number | string, body: string) => {
    statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
    if (typeof status === 'number' && status < 500) return;
    serverErrors++;
    if (examples.length < 10) examples.push({ target, status, body: body.slice(0, 300) });
  };
  const callers: Caller[] = [{ cookie: options.member }, { cookie: options.admin }, { cookie: undefined }];

  async function callProcedure(target: { path: string; type: 'query' | 'mutation'; keys: string[] }): Promise<void> {
    const caller = random() < 0.1 ? callers[2]! : random() < 0.5 ? callers[1]! : callers[0]!;
    const body = trpcBody(target.keys);
    const headers: Record<string, string> = { origin: options.webUrl, 'content-type': random() < 0.05 ? 'text/plain' : 'application/json' };
    if (caller.cookie) headers.cookie = caller.cookie;
    // A query's input travels in the URL; a long one is cut to what a server takes in a request line.
    const url =
      target.type === 'query'
        ? `${options.webUrl}/trpc/${target.path}?input=${encodeURIComponent(body.slice(0, 6_000))}`
        : `${options.webUrl}/trpc/${target.path}${random() < 0.05 ? '?batch=1' : ''}`;
    try {
      const response = await fetch(url, target.type === 'query' ? { headers } : { method: 'POST', headers, body });
      await response.arrayBuffer();
      tally(target.path, response.status, body);
    } catch (error) {
      tally(target.path, `failed: ${(error as Error).message}`, body);
    }
  }

  const sockets: Socket[] = await Promise.all(
    [options.member, options.admin].map(
      (cookie) =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connectSocket(options.webUrl, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: true });
          socket.once('connect', () => resolve(socket));
          socket.once('connect_error', reject);
        }),
    ),
  );
  const socketTally = { emitted: 0, acknowledged: 0, unanswered: 0, disconnects: 0 };
  for (const socket of sockets) socket.on('disconnect', () => socketTally.disconnects++);
  async function emitEvent(event: string): Promise<void> {
    const socket = pick(sockets);
    const payload = random() < 0.5 ? { kind: pick(['team', 'project', 'job', 'queue', 'admin', 'user', '', 'x'.repeat(1000)]), id: broken() } : broken();
    socketTally.emitted++;
    if (event === 'leave') {
      socket.emit(event, payload);
      return;
    }
    try {
      await socket.timeout(10_000).emitWithAck(event, payload);
      socketTally.acknowledged++;
    } catch {
      socketTally.unanswered++;
    }
  }

  const before = await tableChecksums(options.databaseUrl);
  const all: (ReturnType<typeof procedures>[number] | string)[] = [...targets, ...socketEvents];
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      const target = all[next++ % all.length]!;
      if (typeof target === 'string') await emitEvent(target);
      else await callProcedure(target);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 12 }, worker));
  for (const socket of sockets) socket.disconnect();
  const after = await tableChecksums(options.databaseUrl);
  const written = [...after.entries()]
    .filter(([table, sum]) => !BACKGROUND_TABLES.has(table) && before.get(table)?.checksum !== sum.checksum)
    .map(([table, sum]) => ({ table, before: before.get(table)?.rows ?? 0, after: sum.rows }));

  return { inputs: options.count, procedures: targets.length, socketEvents, statuses, serverErrors, examples, socket: socketTally, written };
}

function nested(depth: number): Json {
  return JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as Json;
}

/** Rows and an order-independent checksum of every table of the app's schema. */
async function tableChecksums(databaseUrl: string): Promise<Map<string, { rows: number; checksum: string }>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`);
    const sums = new Map<string, { rows: number; checksum: string }>();
    for (const { name } of tables) {
      const table = client.escapeIdentifier(name);
      const { rows } = await client.query<{ rows: string; checksum: string | null }>(
        `SELECT count(*) AS rows, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS checksum FROM ${table} t`,
      );
      sums.set(name, { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum ?? '' });
    }
    return sums;
  } finally {
    await client.end();
  }
}
