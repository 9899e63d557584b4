import { io, type Socket } from 'socket.io-client';
import { hashPassword } from '../../server/auth/password';
import { createPrisma } from '../../server/db/client';
import type { ClientToServerEvents, JobUpdateEvent, ServerToClientEvents } from '../../server/realtime/events';

/**
 * Benchmark users that act like browsers: signed in through the login form, calling tRPC over
 * HTTP and listening on Socket.IO.
 */

export interface BenchTeam {
  projectId: string;
  teamId: string;
  users: { email: string; password: string }[];
}

/** A team on a tier without per-user caps, so the benchmark measures the system, not the limits. */
export async function createBenchTeam(databaseUrl: string, userCount: number, slug = 'bench'): Promise<BenchTeam> {
  const prisma = createPrisma(databaseUrl);
  try {
    const tier = await prisma.tier.upsert({
      where: { name: `${slug}-tier` },
      create: {
        name: `${slug}-tier`,
        weight: 1,
        maxRunningPerUser: 100_000,
        maxQueuedPerUser: 100_000,
        allowedModels: [],
        poolPreference: ['local'],
        maxPromptChars: 100_000,
      },
      update: {},
    });
    const passwordHash = await hashPassword('bench-password');
    const team = await prisma.team.create({ data: { name: `Bench ${slug}`, slug, tierId: tier.id } });
    const project = await prisma.project.create({ data: { teamId: team.id, name: 'Bench project' } });
    const users = Array.from({ length: userCount }, (_, i) => ({ email: `${slug}-${i}@bench.local`, password: 'bench-password' }));
    for (const [i, user] of users.entries()) {
      await prisma.user.create({
        data: {
          email: user.email,
          name: `Bench user ${i}`,
          passwordHash,
          memberships: { create: { teamId: team.id, role: 'member' } },
        },
      });
    }
    return { projectId: project.id, teamId: team.id, users };
  } finally {
    await prisma.$disconnect();
  }
}

export class BenchClient {
  private constructor(
    readonly baseUrl: string,
    private readonly cookie: string,
    readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>,
  ) {}

  static async signIn(baseUrl: string, email: string, password: string): Promise<BenchClient> {
    const response = await fetch(`${baseUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password }),
    });
    const cookie = response.headers.get('set-cookie')?.split(';')[0];
    if (response.status !== 302 || !cookie) throw new Error(`sign-in of ${email} failed with ${response.status}`);
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(baseUrl, {
      transports: ['websocket'],
      extraHeaders: { cookie },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return new BenchClient(baseUrl, cookie, socket);
  }

  /** Joins a room, and joins it again after every reconnect (a loaded machine drops sockets). */
  async join(kind: 'project' | 'job' | 'team', id: string): Promise<void> {
    const ack = await this.socket.emitWithAck('join', { kind, id });
    if (!ack.ok) throw new Error(`join ${kind}:${id} refused: ${ack.error}`);
    this.socket.io.on('reconnect', () => void this.socket.emitWithAck('join', { kind, id }));
  }

  /** Calls a tRPC query over HTTP. */
  async query<T>(path: string, input: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, {
      headers: { cookie: this.cookie },
    });
    const body = (await response.json()) as { result?: { data: { json: T } }; error?: { json: { message: string } } };
    if (!body.result) throw new Error(`${path}: ${response.status} ${body.error?.json.message ?? ''}`);
    return body.result.data.json;
  }

  /** Calls a tRPC mutation over HTTP, as the browser's client does. */
  async mutate<T>(path: string, input: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/trpc/${path}`, {
      method: 'POST',
      headers: { cookie: this.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ json: input }),
    });
    const body = (await response.json()) as { result?: { data: { json: T } }; error?: { json: { message: string } } };
    if (!body.result) throw new Error(`${path}: ${response.status} ${body.error?.json.message ?? ''}`);
    return body.result.data.json;
  }

  onJobUpdate(listener: (event: JobUpdateEvent) => void): void {
    this.socket.on('job:update', listener);
  }

  close(): void {
    this.socket.close();
  }
}
