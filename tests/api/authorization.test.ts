import { randomUUID } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppStack, type AppSocket, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import type { SessionUser } from '../../server/auth/session';
import type { PresenceEvent, RoomRequest } from '../../server/realtime/events';
import { roomRequest } from '../../server/realtime/rooms';
import { appRouter } from '../../server/trpc/root';
import { seedCatalog, seedTiers } from '../../prisma/seed';
import { defaultTemplate } from '../../server/services/collaboration-template';

/**
 * Who may call what. Every tRPC procedure and every Socket.IO room kind has a row; a procedure or
 * room kind added without one fails the coverage tests below, so this table stays the whole truth.
 *
 * Roles, all relative to one team T (project P, a finished job J authored by T's owner):
 * anonymous (no session), outsider (owner of another team), member and owner of T, and an admin
 * who is not in T (admins manage tiers and dead letters; they get no view into teams they are not in).
 *
 * Outcomes: 'OK'; 'OK_NOTHING' = allowed, and the answer mentions nothing of T, P or J; otherwise
 * the tRPC error code. BAD_REQUEST for an allowed caller means "past the access check, refused on
 * content": inputs are chosen so that allowed calls cannot start a job or lock the team.
 */
const ROLES = ['anonymous', 'outsider', 'member', 'owner', 'admin'] as const;
type Role = (typeof ROLES)[number];
type Outcome = 'OK' | 'OK_NOTHING' | TRPCError['code'];

interface Fixture {
  teamId: string;
  projectId: string;
  jobId: string;
  /** A finished code review of T, with one file. */
  reviewId: string;
  ownerId: string;
  /** A fresh open invite of T, per call (some cells use one up). */
  invite(): Promise<{ id: string; token: string }>;
  /** A fresh API key of T's owner, per call (revoke uses one up). */
  apiKey(): Promise<{ id: string }>;
  /** A fresh webhook of P, per call (delete uses one up). */
  webhook(): Promise<{ id: string }>;
  /** A fresh collaboration template of T, per call (delete uses one up). */
  template(): Promise<{ id: string }>;
}

interface Row {
  input: (fx: Fixture) => unknown | Promise<unknown>;
  expect: Record<Role, Outcome>;
}

const U = 'UNAUTHORIZED';
const NF = 'NOT_FOUND';
const FB = 'FORBIDDEN';
const BR = 'BAD_REQUEST';
const row = (input: Row['input'], [anonymous, outsider, member, owner, admin]: [Outcome, Outcome, Outcome, Outcome, Outcome]): Row => ({
  input,
  expect: { anonymous, outsider, member, owner, admin },
});

const procedures: Record<string, Row> = {
  //                                                                    anonymous outsider  member  owner   admin
  'projects.list': row(() => undefined, [U, 'OK_NOTHING', 'OK', 'OK', 'OK_NOTHING']),
  'projects.get': row((fx) => ({ projectId: fx.projectId }), [U, NF, 'OK', 'OK', NF]),

  // A model outside T's tier: refused after the access check, before anything durable.
  'jobs.submit': row((fx) => ({ projectId: fx.projectId, requirements: 'x', model: 'no-such-model', clientKey: randomUUID(), priority: 'normal' }), [U, NF, BR, BR, NF]),
  'jobs.list': row((fx) => ({ projectId: fx.projectId, limit: 5 }), [U, NF, 'OK', 'OK', NF]),
  'jobs.get': row((fx) => ({ jobId: fx.jobId }), [U, NF, 'OK', 'OK', NF]),
  'jobs.live': row((fx) => ({ jobId: fx.jobId }), [U, NF, 'OK', 'OK', NF]),
  // J is finished and authored by the owner: a plain member may not touch it; owner and admin get past the check.
  'jobs.cancel': row((fx) => ({ jobId: fx.jobId }), [U, NF, FB, BR, BR]),
  'jobs.retry': row((fx) => ({ jobId: fx.jobId }), [U, NF, FB, BR, BR]),
  // A task over the premium tier's prompt size: refused after the access check, before anything durable.
  'jobs.submitCollaboration': row((fx) => ({ projectId: fx.projectId, task: 'x'.repeat(40_000), clientKey: randomUUID() }), [U, NF, BR, BR, NF]),
  'jobs.deadLetters': row(() => ({ limit: 5 }), [U, FB, FB, FB, 'OK']),
  // Admins only; J is finished, so the admin is refused on content (only waiting jobs move).
  'jobs.boost': row((fx) => ({ jobId: fx.jobId, boost: 5 }), [U, FB, FB, FB, BR]),

  // A model outside T's tier: refused after the access check, before anything durable.
  'reviews.submit': row(
    (fx) => ({ projectId: fx.projectId, source: { kind: 'code', code: 'x' }, model: 'no-such-model', clientKey: randomUUID() }),
    [U, NF, BR, BR, NF],
  ),
  'reviews.files': row((fx) => ({ jobId: fx.reviewId }), [U, NF, 'OK', 'OK', NF]),
  'reviews.file': row((fx) => ({ jobId: fx.reviewId, path: 'src/a.ts' }), [U, NF, 'OK', 'OK', NF]),

  // Admins only; this stack runs no worker, so the admin gets past the check to "not running".
  'resources.status': row(() => undefined, [U, FB, FB, FB, 'SERVICE_UNAVAILABLE']),
  // Read from the database: null before a resource manager stored one.
  'resources.snapshot': row(() => undefined, [U, FB, FB, FB, 'OK']),

  // Every team has the built-in template; only T's members see T's own.
  'collaborations.templates': row((fx) => ({ teamId: fx.teamId }), [U, 'OK_NOTHING', 'OK', 'OK', 'OK_NOTHING']),
  // Owners only; a model no tier has is refused on content.
  'collaborations.saveTemplate': row(
    (fx) => ({ teamId: fx.teamId, template: { ...defaultTemplate('no-such-model'), name: `M ${randomUUID().slice(0, 8)}` } }),
    [U, NF, FB, BR, NF],
  ),
  'collaborations.deleteTemplate': row(async (fx) => ({ templateId: (await fx.template()).id }), [U, NF, FB, 'OK', NF]),
  // J is no collaboration: not found for everyone who may see J, as for those who may not.
  'collaborations.get': row((fx) => ({ jobId: fx.jobId }), [U, NF, NF, NF, NF]),
  'collaborations.decide': row((fx) => ({ jobId: fx.jobId, action: 'approve' }), [U, NF, NF, NF, NF]),

  'teams.list': row(() => undefined, [U, 'OK_NOTHING', 'OK', 'OK', 'OK_NOTHING']),
  'teams.create': row(() => ({ name: `Matrix ${randomUUID().slice(0, 8)}` }), [U, 'OK_NOTHING', 'OK_NOTHING', 'OK_NOTHING', 'OK_NOTHING']),
  'teams.get': row((fx) => ({ teamId: fx.teamId }), [U, NF, 'OK', 'OK', NF]),
  'teams.createProject': row((fx) => ({ teamId: fx.teamId, name: `P ${randomUUID().slice(0, 8)}` }), [U, NF, FB, 'OK', NF]),
  // The owner is T's only owner: demoting or removing them is refused on content.
  'teams.changeRole': row((fx) => ({ teamId: fx.teamId, userId: fx.ownerId, role: 'member' }), [U, NF, FB, BR, NF]),
  'teams.removeMember': row((fx) => ({ teamId: fx.teamId, userId: fx.ownerId }), [U, NF, FB, BR, NF]),
  'teams.leave': row((fx) => ({ teamId: fx.teamId }), [U, NF, 'OK', BR, NF]),

  'invites.create': row((fx) => ({ teamId: fx.teamId }), [U, NF, FB, 'OK', NF]),
  'invites.list': row((fx) => ({ teamId: fx.teamId }), [U, NF, FB, 'OK', NF]),
  'invites.revoke': row(async (fx) => ({ teamId: fx.teamId, inviteId: (await fx.invite()).id }), [U, NF, FB, 'OK', NF]),
  // The token is the permission: whoever holds a valid one may see the team's name and join.
  'invites.preview': row(async (fx) => ({ token: (await fx.invite()).token }), [U, 'OK', 'OK', 'OK', 'OK']),
  'invites.accept': row(async (fx) => ({ token: (await fx.invite()).token }), [U, 'OK', 'OK', 'OK', 'OK']),

  // Any member may make a key for T; the list is the caller's own keys and, for owners, T's; the
  // owner's key is invisible to a plain member, so its revoke is not found.
  'apiKeys.create': row((fx) => ({ teamId: fx.teamId, name: 'matrix' }), [U, NF, 'OK', 'OK', NF]),
  'apiKeys.list': row(() => undefined, [U, 'OK_NOTHING', 'OK', 'OK', 'OK_NOTHING']),
  'apiKeys.revoke': row(async (fx) => ({ id: (await fx.apiKey()).id }), [U, NF, NF, 'OK', NF]),

  // A team's usage is its owners'; a member reads their own (usage.get without a team).
  'usage.get': row((fx) => ({ teamId: fx.teamId, days: 7 }), [U, NF, FB, 'OK', NF]),
  'usage.budget': row((fx) => ({ teamId: fx.teamId }), [U, NF, 'OK', 'OK', NF]),
  // Owners of T only; a plain member lists none (and is told it cannot manage them). A host outside
  // the allow-list: the owner gets past the check and is refused on content.
  'webhooks.list': row((fx) => ({ projectId: fx.projectId }), [U, NF, 'OK', 'OK', NF]),
  'webhooks.create': row((fx) => ({ projectId: fx.projectId, url: 'http://10.0.0.1/hook', secret: 'matrix-secret-0123456789', events: ['job.completed'] }), [U, NF, NF, BR, NF]),
  'webhooks.update': row(async (fx) => ({ webhookId: (await fx.webhook()).id, url: 'http://10.0.0.1/hook' }), [U, NF, NF, BR, NF]),
  'webhooks.delete': row(async (fx) => ({ webhookId: (await fx.webhook()).id }), [U, NF, NF, 'OK', NF]),
  // Each person's own: only J's author (T's owner) has one about J.
  'notifications.list': row(() => ({}), [U, 'OK_NOTHING', 'OK_NOTHING', 'OK', 'OK_NOTHING']),
  'notifications.markRead': row(() => ({ all: true }), [U, 'OK_NOTHING', 'OK_NOTHING', 'OK_NOTHING', 'OK_NOTHING']),

  // Everyone signed in sees the pools' counts; only T's members get T's jobs (and T named).
  'queue.get': row(() => undefined, [U, 'OK_NOTHING', 'OK', 'OK', 'OK_NOTHING']),
  // Global admins only. Edits write the seeded values back, so no other row sees a change.
  'admin.tiers': row(() => undefined, [U, FB, FB, FB, 'OK']),
  'admin.teamLimit': row(() => undefined, [U, FB, FB, FB, 'OK']),
  'admin.setTeamLimit': row(() => ({ maxTeamsPerUser: null }), [U, FB, FB, FB, 'OK']),
  'admin.tier': row(async () => ({ tierId: await freeTierId() }), [U, FB, FB, FB, 'OK']),
  'admin.createTier': row(() => ({ ...freeSettings, name: `matrix-${randomUUID().slice(0, 8)}` }), [U, FB, FB, FB, 'OK']),
  'admin.updateTier': row(async () => ({ ...freeSettings, tierId: await freeTierId() }), [U, FB, FB, FB, 'OK']),
  // The default tier cannot be deleted: the admin gets past the check and is refused on content.
  'admin.deleteTier': row(async () => ({ tierId: await freeTierId() }), [U, FB, FB, FB, BR]),
  'admin.teams': row(() => undefined, [U, FB, FB, FB, 'OK']),
  'admin.audit': row(() => ({ what: 'job.' }), [U, FB, FB, FB, 'OK']),
  'admin.jobs': row((fx) => ({ teamId: fx.teamId }), [U, FB, FB, FB, 'OK']),
  // T is on the free tier already: the admin's move changes nothing.
  'admin.setTeamTier': row(async (fx) => ({ teamId: fx.teamId, tierId: await freeTierId() }), [U, FB, FB, FB, 'OK']),
  'admin.models': row(() => undefined, [U, FB, FB, FB, 'OK']),
  'admin.model': row(async () => ({ modelId: await seededModelId() }), [U, FB, FB, FB, 'OK']),
  // The seeded name is taken: the admin gets past the check and is refused on content.
  'admin.createModel': row(() => ({ ...seededModelSettings, name: seededModelName }), [U, FB, FB, FB, BR]),
  'admin.updateModel': row(async () => ({ ...seededModelSettings, modelId: await seededModelId() }), [U, FB, FB, FB, 'OK']),
  // Seeded tiers name it: refused on content.
  'admin.deleteModel': row(async () => ({ modelId: await seededModelId() }), [U, FB, FB, FB, BR]),
  'backends.list': row(() => undefined, [U, FB, FB, FB, 'OK']),
  // No backend has this id: the admin gets past the check and finds nothing.
  'backends.get': row(() => ({ backendId: 'ollama@127.0.0.1:1' }), [U, FB, FB, FB, NF]),
  'backends.update': row(() => ({ backendId: 'ollama@127.0.0.1:1', slots: 2 }), [U, FB, FB, FB, NF]),
  'backends.drain': row(() => ({ backendId: 'ollama@127.0.0.1:1' }), [U, FB, FB, FB, NF]),
  'backends.undrain': row(() => ({ backendId: 'ollama@127.0.0.1:1' }), [U, FB, FB, FB, NF]),
  'backends.delete': row(() => ({ backendId: 'ollama@127.0.0.1:1' }), [U, FB, FB, FB, NF]),
  // A host outside the allow-list: the admin gets past the check and is refused on content.
  'backends.create': row(() => ({ kind: 'ollama', url: 'http://8.8.8.8:11434', pool: 'local', slots: 1 }), [U, FB, FB, FB, BR]),
  'admin.residency': row(() => undefined, [U, FB, FB, FB, 'OK']),
  'admin.setResidencyLimits': row(() => ({ backendId: 'ollama@127.0.0.1:1', memoryBudgetMb: 16_000, maxLoadedModels: null }), [U, FB, FB, FB, NF]),
  'admin.pullModel': row(() => ({ backendId: 'ollama@127.0.0.1:1', model: 'qwen2.5-coder:7b' }), [U, FB, FB, FB, NF]),
};

const { name: _free, ...freeSettings } = seedTiers.find((tier) => tier.name === 'free')!;
const { name: seededModelName, ...seededModelSettings } = { ...seedCatalog[0]!, enabled: true };
const seededModelId = async () => (await stack.prisma.catalogModel.findUniqueOrThrow({ where: { name: seededModelName } })).id;
const freeTierId = async () => (await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } })).id;

type RoomKind = RoomRequest['kind'];
const MATRIX_POOL = `matrix-pool-${randomUUID().slice(0, 8)}`;
type RoomOutcome = 'joined' | 'not found' | 'no connection';
const rooms: Record<RoomKind, { id: (fx: Fixture) => string; expect: Record<Role, RoomOutcome> }> = {
  team: { id: (fx) => fx.teamId, expect: { anonymous: 'no connection', outsider: 'not found', member: 'joined', owner: 'joined', admin: 'not found' } },
  project: { id: (fx) => fx.projectId, expect: { anonymous: 'no connection', outsider: 'not found', member: 'joined', owner: 'joined', admin: 'not found' } },
  job: { id: (fx) => fx.jobId, expect: { anonymous: 'no connection', outsider: 'not found', member: 'joined', owner: 'joined', admin: 'not found' } },
  // A pool's counts and backends, nothing of any team: open to everyone signed in.
  queue: { id: () => MATRIX_POOL, expect: { anonymous: 'no connection', outsider: 'joined', member: 'joined', owner: 'joined', admin: 'joined' } },
  // Pull progress of backends: admins only.
  admin: { id: () => 'residency', expect: { anonymous: 'no connection', outsider: 'not found', member: 'not found', owner: 'not found', admin: 'joined' } },
};

const db = useTestDatabase({ seed: true });
let stack: AppStack;
let fx: Fixture;
const users = {} as Record<Exclude<Role, 'anonymous'>, { user: SessionUser; token: string }>;
let memberId: string;

async function account(name: string) {
  const email = `${name}-${randomUUID().slice(0, 8)}@example.com`;
  const { token } = await stack.services.auth.signUp({ name, email, password: 'matrix-password' }, { ip: '127.0.0.1' });
  return { user: (await stack.services.sessions.getUser(token))!, token };
}

/** Undoes what an allowed cell changed in T's membership (leave, accept). */
async function resetMemberships() {
  await stack.prisma.membership.deleteMany({ where: { teamId: fx.teamId, userId: { notIn: [fx.ownerId, memberId] } } });
  await stack.prisma.membership.upsert({
    where: { userId_teamId: { userId: memberId, teamId: fx.teamId } },
    create: { userId: memberId, teamId: fx.teamId, role: 'member' },
    update: { role: 'member' },
  });
}

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
  const [owner, member, outsider] = [await account('owner'), await account('member'), await account('outsider')];
  const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
  Object.assign(users, { owner, member, outsider, admin: { user: admin.user, token: admin.token } });
  memberId = member.user.id;

  const ownerCaller = stack.caller(owner.user);
  const team = await ownerCaller.teams.create({ name: 'Matrix Team' });
  await stack.caller(outsider.user).teams.create({ name: 'Elsewhere' });
  const project = await ownerCaller.teams.createProject({ teamId: team.id, name: 'Matrix Project' });
  const job = await stack.prisma.job.create({
    data: {
      teamId: team.id,
      projectId: project.id,
      userId: owner.user.id,
      clientKey: 'matrix-job',
      requirements: 'done already',
      model: 'qwen2.5-coder:7b',
      workflowId: `matrix-${randomUUID()}`,
      status: 'completed',
      finishedAt: new Date(),
    },
  });
  const review = await stack.prisma.job.create({
    data: {
      kind: 'code_review',
      teamId: team.id,
      projectId: project.id,
      userId: owner.user.id,
      clientKey: 'matrix-review',
      requirements: 'Review of 1 file',
      review: { source: 'files', depth: 'standard' },
      model: 'qwen2.5-coder:7b',
      workflowId: `matrix-${randomUUID()}`,
      status: 'completed',
      finishedAt: new Date(),
      reviewItems: { create: { path: 'src/a.ts', chunk: 0, startLine: 1, content: 'x', status: 'done', findings: { findings: [], parsed: true } } },
    },
  });
  await stack.prisma.backend.create({ data: { id: `matrix-${randomUUID()}`, kind: 'ollama', name: 'parked', url: 'http://127.0.0.1:9', pool: MATRIX_POOL } });
  fx = {
    teamId: team.id,
    projectId: project.id,
    jobId: job.id,
    reviewId: review.id,
    ownerId: owner.user.id,
    invite: () => stack.services.invites.create(owner.user, team.id),
    apiKey: () => stack.services.apiKeys.create(owner.user, { teamId: team.id, name: 'matrix' }),
    webhook: () => stack.services.webhooks.create(owner.user, { projectId: project.id, url: 'http://127.0.0.1:9/hook', secret: 'matrix-secret-0123456789', events: ['job.completed'] }),
    // Written directly: no backend of this stack serves a model, so the service would refuse it.
    template: () =>
      stack.prisma.collaborationTemplate.create({ data: { ...defaultTemplate('qwen2.5-coder:7b'), name: `T ${randomUUID().slice(0, 8)}`, teamId: team.id }, select: { id: true } }),
  };
  await stack.prisma.notification.create({ data: { userId: owner.user.id, jobId: job.id, runId: 'matrix-run', event: 'job.completed', title: 'Completed: done already' } });
  await resetMemberships();
  // The member's list names T through this key.
  await stack.services.apiKeys.create(member.user, { teamId: team.id, name: 'member key' });
  expect(admin.user.isAdmin).toBe(true);
});

afterAll(async () => {
  await stack?.stop();
});

async function call(role: Role, path: string, input: unknown): Promise<{ outcome: Outcome; result?: unknown }> {
  const user = role === 'anonymous' ? null : users[role].user;
  // Dotted path to the caller's nested function, exactly as the browser's client addresses it.
  const fn = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], stack.caller(user)) as (i: unknown) => Promise<unknown>;
  try {
    return { outcome: 'OK', result: await fn(input) };
  } catch (error) {
    if (error instanceof TRPCError) return { outcome: error.code };
    throw error;
  }
}

describe('authorisation matrix: tRPC', () => {
  it('covers every procedure of the app router, and nothing else', () => {
    expect(Object.keys(procedures).sort()).toEqual(Object.keys(appRouter._def.procedures).sort());
  });

  for (const [path, { input, expect: expected }] of Object.entries(procedures)) {
    it(`${path}: ${ROLES.map((r) => `${r} → ${expected[r]}`).join(', ')}`, async () => {
      const actual: Record<string, Outcome> = {};
      for (const role of ROLES) {
        try {
          const { outcome, result } = await call(role, path, await input(fx));
          actual[role] = outcome;
          if (outcome === 'OK' && expected[role] === 'OK_NOTHING') {
            const text = JSON.stringify(result) ?? '';
            const leaked = [fx.teamId, fx.projectId, fx.jobId, fx.reviewId].filter((id) => text.includes(id));
            actual[role] = leaked.length ? 'OK' : 'OK_NOTHING';
          }
        } finally {
          await resetMemberships();
        }
      }
      expect(actual).toEqual(expected);
    });
  }
});

describe('authorisation matrix: Socket.IO rooms', () => {
  it('covers every room kind a client can ask for', () => {
    const kinds = roomRequest.options.flatMap((option) => ('options' in option.shape.kind ? option.shape.kind.options : [option.shape.kind.value]));
    expect(Object.keys(rooms).sort()).toEqual(kinds.sort());
  });

  it('joins exactly the rooms of the table, and a refused socket hears nothing of them', async () => {
    const sockets = new Map<Role, AppSocket | null>();
    const heard = new Map<Role, PresenceEvent[]>();
    for (const role of ROLES) {
      if (role === 'anonymous') {
        await expect(stack.connect()).rejects.toThrow('unauthorized');
        sockets.set(role, null);
        continue;
      }
      const socket = await stack.connect(users[role].token);
      heard.set(role, []);
      socket.on('presence', (e) => heard.get(role)!.push(e));
      sockets.set(role, socket);
    }
    const actual: Record<string, Record<string, RoomOutcome>> = {};
    const expected: Record<string, Record<string, RoomOutcome>> = {};
    for (const [kind, room] of Object.entries(rooms) as [RoomKind, (typeof rooms)[RoomKind]][]) {
      actual[kind] = {};
      expected[kind] = room.expect;
      for (const role of ROLES) {
        const socket = sockets.get(role);
        if (!socket) {
          actual[kind][role] = 'no connection';
          continue;
        }
        const ack = await socket.emitWithAck('join', { kind, id: room.id(fx) });
        actual[kind][role] = ack.ok ? 'joined' : (ack.error as RoomOutcome);
      }
    }
    expect(actual).toEqual(expected);
    // The members' joins of P broadcast presence; only sockets in the room may hear it.
    await expect.poll(() => heard.get('owner')!.some((e) => e.users.length === 2)).toBe(true);
    for (const role of ROLES) {
      if (role === 'anonymous') continue;
      const inProjectRoom = rooms.project.expect[role] === 'joined';
      expect(heard.get(role)!.length > 0, `${role} heard presence`).toBe(inProjectRoom);
    }
  });
});
