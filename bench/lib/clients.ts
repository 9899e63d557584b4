import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { hashPassword } from '../../server/auth/password';
import { createSessionStore, SESSION_COOKIE } from '../../server/auth/session';
import { createPrisma } from '../../server/db/client';
import type { PrismaClient } from '../../server/generated/prisma/client';
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

export interface BenchTierSpec {
  name: string;
  weight?: number;
  /** Default: no practical cap, so the benchmark measures the system, not the limits. */
  maxRunningPerUser?: number;
}

/** A tier on the local pool with every model and no practical queue or prompt limits. */
function upsertBenchTier(prisma: PrismaClient, spec: BenchTierSpec) {
  const data = {
    weight: spec.weight ?? 1,
    maxRunningPerUser: spec.maxRunningPerUser ?? 100_000,
    maxQueuedPerUser: 100_000,
    allowedModels: [],
    poolPreference: ['local'],
    maxPromptChars: 100_000,
  };
  return prisma.tier.upsert({ where: { name: spec.name }, create: { name: spec.name, ...data }, update: data });
}

/** A team on a tier without per-user caps, so the benchmark measures the system, not the limits. */
export async function createBenchTeam(databaseUrl: string, userCount: number, slug = 'bench'): Promise<BenchTeam> {
  const prisma = createPrisma(databaseUrl);
  try {
    const tier = await upsertBenchTier(prisma, { name: `${slug}-tier` });
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

export interface BenchUser {
  id: string;
  email: string;
  name: string;
  isAdmin: false;
  teamId: string;
  /** A signed-in session's cookie (`sy_session=…`), ready for HTTP and Socket.IO. */
  cookie: string;
}

export interface BenchWorkspaceTeam {
  id: string;
  tier: string;
  weight: number;
  projectIds: string[];
  users: BenchUser[];
}

export interface BenchWorkspaceSpec {
  /** Prefix of names and slugs; unique per database. */
  slug: string;
  tiers: BenchTierSpec[];
  teams: { tier: string; projects: number; users: number }[];
  /** The web process's SESSION_SECRET: sessions are created the way sign-in creates them. */
  sessionSecret: string;
}

/**
 * Many teams, projects and signed-in users at once, written straight to the database (a thousand
 * sign-ins through the form would measure argon2, not the system). Every user gets a real session.
 */
export async function createBenchWorkspace(databaseUrl: string, spec: BenchWorkspaceSpec): Promise<BenchWorkspaceTeam[]> {
  const prisma = createPrisma(databaseUrl);
  try {
    const sessions = createSessionStore(prisma, spec.sessionSecret);
    const tiers = new Map<string, { id: string; weight: number }>();
    for (const tier of spec.tiers) tiers.set(tier.name, await upsertBenchTier(prisma, tier));
    const passwordHash = await hashPassword('bench-password');
    const teams: BenchWorkspaceTeam[] = [];
    for (const [t, teamSpec] of spec.teams.entries()) {
      const tier = tiers.get(teamSpec.tier);
      if (!tier) throw new Error(`team ${t} names tier ${teamSpec.tier}, which is not in the spec`);
      const team = await prisma.team.create({ data: { name: `${spec.slug} team ${t}`, slug: `${spec.slug}-team-${t}`, tierId: tier.id } });
      const projectIds = Array.from({ length: teamSpec.projects }, () => randomUUID());
      await prisma.project.createMany({ data: projectIds.map((id, p) => ({ id, teamId: team.id, name: `Project ${p}` })) });
      const users = Array.from({ length: teamSpec.users }, (_, u) => ({
        id: randomUUID(),
        email: `${spec.slug}-${t}-${u}@bench.local`,
        name: `${spec.slug} user ${t}.${u}`,
      }));
      await prisma.user.createMany({ data: users.map((user) => ({ ...user, passwordHash })) });
      await prisma.membership.createMany({ data: users.map((user) => ({ userId: user.id, teamId: team.id, role: 'member' as const })) });
      const members: BenchUser[] = await Promise.all(
        users.map(async (user) => {
          const { token } = await sessions.create(user.id);
          return { ...user, isAdmin: false as const, teamId: team.id, cookie: `${SESSION_COOKIE}=${token}` };
        }),
      );
      teams.push({ id: team.id, tier: teamSpec.tier, weight: tier.weight, projectIds, users: members });
    }
    return teams;
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
    return BenchClient.connect(baseUrl, cookie);
  }

  /** A client of an existing session (see `createBenchWorkspace`), its socket connected. */
  static async connect(baseUrl: string, cookie: string): Promise<BenchClient> {
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
      // A signed-in state change must name its own origin (server/http/origin-check.ts), as browsers do.
      headers: { cookie: this.cookie, 'content-type': 'application/json', origin: this.baseUrl },
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
