import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/db';
import { startAppStack, type AppSocket as TestSocket, type AppStack } from '../support/app-stack';
import { isError, ValidationError } from '../../server/errors';
import type { PresenceEvent } from '../../server/realtime/events';
import { DEFAULT_MAX_TEAMS_PER_USER } from '../../server/env';
import { createCaller } from '../../server/trpc/root';
import { expectTrpcError, fieldsOf } from '../support/trpc';

const db = useTestDatabase({ seed: true });
let stack: AppStack;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
});

afterAll(async () => {
  await stack?.stop();
});

let seq = 0;
/** A new account through the same service the sign-up page uses, signed in; each from its own address (sign-ups are limited per address). */
async function newUser(name: string) {
  const email = `${name.toLowerCase()}-${++seq}@example.com`;
  const { token } = await stack.services.auth.signUp({ name, email, password: 'long-enough-password' }, { ip: `10.0.0.${seq}` });
  const user = (await stack.services.sessions.getUser(token))!;
  return { user, token, caller: createCaller({ services: stack.services, user }) };
}

const audits = (teamId: string) =>
  stack.prisma.auditLog.findMany({ where: { teamId }, orderBy: { id: 'asc' }, select: { action: true, actorId: true, targetId: true } });

describe('sign-up', () => {
  it('creates the account with a hashed password and a working session, in no team', async () => {
    const { token } = await stack.services.auth.signUp({ name: ' Ana ', email: ' Ana@Example.com ', password: 'correct horse battery' }, { ip: '127.0.0.1' });
    const user = await stack.services.sessions.getUser(token);
    expect(user).toMatchObject({ name: 'Ana', email: 'ana@example.com', isAdmin: false });
    const row = await stack.prisma.user.findUniqueOrThrow({ where: { email: 'ana@example.com' } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await stack.prisma.membership.count({ where: { userId: row.id } })).toBe(0);
    await expect(stack.services.auth.signIn('ana@example.com', 'correct horse battery', { ip: '127.0.0.1' })).resolves.toHaveProperty('token');
  });

  it.each([
    [{ name: '', email: 'x1@example.com', password: 'long-enough-password' }, 'name', 'Enter your name.'],
    [{ name: 'X', email: 'not-an-email', password: 'long-enough-password' }, 'email', 'Enter a valid email address.'],
    [{ name: 'X', email: 'x2@example.com', password: 'short' }, 'password', 'Use at least 10 characters.'],
    [{ name: 'X', email: 'ANA@example.com', password: 'long-enough-password' }, 'email', /already exists/],
  ])('refuses %o on the field %s and creates nothing', async (input, field, message) => {
    const users = await stack.prisma.user.count();
    const sessions = await stack.prisma.session.count();
    const error = await stack.services.auth.signUp(input, { ip: '127.0.0.1' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isError(error, ValidationError)).toBe(true);
    expect((error as ValidationError).field).toBe(field);
    expect((error as ValidationError).message).toMatch(message);
    expect(await stack.prisma.user.count()).toBe(users);
    expect(await stack.prisma.session.count()).toBe(sessions);
  });

  it('lets exactly one of two concurrent sign-ups with one email through', async () => {
    const input = { name: 'Twin', email: 'twin@example.com', password: 'long-enough-password' };
    const results = await Promise.allSettled([stack.services.auth.signUp(input, { ip: '127.0.0.1' }), stack.services.auth.signUp(input, { ip: '127.0.0.1' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await stack.prisma.user.count({ where: { email: 'twin@example.com' } })).toBe(1);
  });
});

describe('teams', () => {
  it('creates a team on the free tier with its creator as owner and a unique slug', async () => {
    const ana = await newUser('Ana');
    const a = await ana.caller.teams.create({ name: 'Rocket Squad!' });
    const b = await ana.caller.teams.create({ name: 'rocket squad' });
    expect(a.slug).toBe('rocket-squad');
    expect(b.slug).toMatch(/^rocket-squad-[0-9a-f]{6}$/);
    const team = await ana.caller.teams.get({ teamId: a.id });
    expect(team).toMatchObject({ name: 'Rocket Squad!', tier: { name: 'free' }, myRole: 'owner', projects: [] });
    expect(team.members).toEqual([expect.objectContaining({ id: ana.user.id, role: 'owner' })]);
    expect((await ana.caller.teams.list()).map((t) => t.id).sort()).toEqual([a.id, b.id].sort());
    expect((await audits(a.id)).map((e) => e.action)).toEqual(['team.create']);
  });

  it('lets one person own at most MAX_TEAMS_PER_USER teams, however fast they ask; admins are not limited', async () => {
    expect(DEFAULT_MAX_TEAMS_PER_USER).toBe(5);
    const cy = await newUser('Cy');
    // A burst: the count is taken under a lock per user, so exactly five get through.
    const burst = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => cy.caller.teams.create({ name: `Budget ${i}` })));
    expect(burst.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = await expectTrpcError(cy.caller.teams.create({ name: 'One more' }), 'TOO_MANY_REQUESTS');
    expect(refused.message).toBe('You already own 5 teams, the most one person may own here. Use one of them, or hand one to another owner and leave it, to create another.');
    expect(await stack.prisma.membership.count({ where: { userId: cy.user.id } })).toBe(5);

    // Being a member of other teams does not count; owning does.
    const dee = await newUser('Dee');
    const theirs = await dee.caller.teams.create({ name: 'Dee’s' });
    await cy.caller.invites.accept({ token: (await dee.caller.invites.create({ teamId: theirs.id })).token });
    await expectTrpcError(cy.caller.teams.create({ name: 'Still one more' }), 'TOO_MANY_REQUESTS');

    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    for (let i = 0; i < 6; i++) await admin.caller.teams.create({ name: `Admin team ${i}` });
  });

  it('takes the team limit an admin sets, audited, and goes back to the default when it is cleared', async () => {
    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    expect(await admin.caller.admin.teamLimit()).toEqual({ limit: DEFAULT_MAX_TEAMS_PER_USER, setByAdmin: false });
    try {
      expect(await admin.caller.admin.setTeamLimit({ maxTeamsPerUser: 2 })).toEqual({ limit: 2, setByAdmin: true });
      const eve = await newUser('Eve');
      await eve.caller.teams.create({ name: 'Eve one' });
      await eve.caller.teams.create({ name: 'Eve two' });
      const refused = await expectTrpcError(eve.caller.teams.create({ name: 'Eve three' }), 'TOO_MANY_REQUESTS');
      expect(refused.message).toMatch(/^You already own 2 teams/);

      // A bad value is refused on its field and changes nothing.
      const bad = await expectTrpcError(admin.caller.admin.setTeamLimit({ maxTeamsPerUser: -1 }), 'BAD_REQUEST');
      expect(fieldsOf(bad)).toEqual({ maxTeamsPerUser: 'Teams per person cannot be negative (0 means no limit).' });
      expect(await admin.caller.admin.teamLimit()).toEqual({ limit: 2, setByAdmin: true });
      await expectTrpcError(eve.caller.admin.setTeamLimit({ maxTeamsPerUser: 0 }), 'FORBIDDEN');

      await admin.caller.admin.setTeamLimit({ maxTeamsPerUser: 0 });
      await eve.caller.teams.create({ name: 'Eve three' });
      const changes = await stack.prisma.auditLog.findMany({ where: { action: 'settings.teamLimit' }, orderBy: { id: 'asc' }, select: { data: true } });
      expect(changes.map((c) => c.data)).toEqual([
        { before: null, after: 2 },
        { before: 2, after: 0 },
      ]);
    } finally {
      await admin.caller.admin.setTeamLimit({ maxTeamsPerUser: null });
    }
    expect(await admin.caller.admin.teamLimit()).toEqual({ limit: DEFAULT_MAX_TEAMS_PER_USER, setByAdmin: false });
  });

  it('refuses a blank team name on the field, creating nothing', async () => {
    const ana = await newUser('Ana');
    const teams = await stack.prisma.team.count();
    const error = await expectTrpcError(ana.caller.teams.create({ name: '  ' }), 'BAD_REQUEST');
    expect(error.cause?.name).toBe('ZodError');
    expect(await stack.prisma.team.count()).toBe(teams);
  });

  it('creates projects for owners only, with names unique per team', async () => {
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const team = await ana.caller.teams.create({ name: 'Projects' });
    const other = await ana.caller.teams.create({ name: 'Projects elsewhere' });
    const project = await ana.caller.teams.createProject({ teamId: team.id, name: 'API', description: 'The public API' });
    expect(project).toMatchObject({ name: 'API', description: 'The public API' });
    // The same name in another team is fine.
    await ana.caller.teams.createProject({ teamId: other.id, name: 'API' });
    const before = await stack.prisma.project.count();
    const duplicate = await expectTrpcError(ana.caller.teams.createProject({ teamId: team.id, name: 'API' }), 'BAD_REQUEST', /already has a project/);
    expect(duplicate.cause).toMatchObject({ field: 'name' });
    await expectTrpcError(ana.caller.teams.createProject({ teamId: team.id, name: '' }), 'BAD_REQUEST');
    await expectTrpcError(ben.caller.teams.createProject({ teamId: team.id, name: 'Sneaky' }), 'NOT_FOUND');
    expect(await stack.prisma.project.count()).toBe(before);
    expect((await ana.caller.projects.list()).map((p) => p.name)).toEqual(['API', 'API']);
    expect((await audits(team.id)).map((e) => e.action)).toEqual(['team.create', 'project.create']);
  });
});

describe('invites', () => {
  async function teamWithOwner() {
    const owner = await newUser('Owner');
    const team = await owner.caller.teams.create({ name: 'Invitational' });
    return { owner, team };
  }

  it('lets the holder of a link join once; the link is then used up', async () => {
    const { owner, team } = await teamWithOwner();
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const invite = await owner.caller.invites.create({ teamId: team.id });
    expect(invite.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(invite.expiresAt.getTime() - Date.now()).toBeGreaterThan(6.9 * 24 * 3600_000);
    // Only the hash is stored.
    const row = await stack.prisma.invite.findUniqueOrThrow({ where: { id: invite.id } });
    expect(row.tokenHash).not.toContain(invite.token);
    expect(JSON.stringify(row)).not.toContain(invite.token);

    expect(await ana.caller.invites.preview({ token: invite.token })).toMatchObject({
      team: { id: team.id, name: 'Invitational' },
      invitedBy: 'Owner',
      alreadyMember: false,
    });
    expect(await ana.caller.invites.accept({ token: invite.token })).toEqual({ teamId: team.id, joined: true });
    expect((await ana.caller.teams.get({ teamId: team.id })).myRole).toBe('member');
    // The same person again: already in, nothing changes.
    expect(await ana.caller.invites.accept({ token: invite.token })).toEqual({ teamId: team.id, joined: false });
    // Someone else with the used link: refused, not added.
    await expectTrpcError(ben.caller.invites.accept({ token: invite.token }), 'NOT_FOUND', /already been used/);
    await expectTrpcError(ben.caller.teams.get({ teamId: team.id }), 'NOT_FOUND');
    expect(await owner.caller.invites.list({ teamId: team.id })).toEqual([]);
    expect((await audits(team.id)).map((e) => [e.action, e.actorId])).toEqual([
      ['team.create', owner.user.id],
      ['invite.create', owner.user.id],
      ['member.join', ana.user.id],
    ]);
  });

  it('refuses revoked, expired and unknown links with a clear message and changes nothing', async () => {
    const { owner, team } = await teamWithOwner();
    const ana = await newUser('Ana');
    const revoked = await owner.caller.invites.create({ teamId: team.id });
    const expired = await owner.caller.invites.create({ teamId: team.id });
    const open = await owner.caller.invites.create({ teamId: team.id });
    await owner.caller.invites.revoke({ teamId: team.id, inviteId: revoked.id });
    await stack.prisma.invite.update({ where: { id: expired.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await owner.caller.invites.list({ teamId: team.id })).map((i) => i.id)).toEqual([open.id]);

    const memberships = await stack.prisma.membership.count();
    for (const [token, message] of [
      [revoked.token, /was revoked/],
      [expired.token, /has expired/],
      ['x'.repeat(43), /not valid/],
    ] as const) {
      await expectTrpcError(ana.caller.invites.preview({ token }), 'NOT_FOUND', message);
      await expectTrpcError(ana.caller.invites.accept({ token }), 'NOT_FOUND', message);
    }
    await expectTrpcError(ana.caller.invites.accept({ token: 'not a token' }), 'BAD_REQUEST');
    expect(await stack.prisma.membership.count()).toBe(memberships);
    expect((await audits(team.id)).map((e) => e.action)).toEqual(['team.create', 'invite.create', 'invite.create', 'invite.create', 'invite.revoke']);
  });

  it('lets only one of two people racing for one link in', async () => {
    const { owner, team } = await teamWithOwner();
    const [ana, ben] = [await newUser('Ana'), await newUser('Ben')];
    const invite = await owner.caller.invites.create({ teamId: team.id });
    const results = await Promise.allSettled([ana.caller.invites.accept({ token: invite.token }), ben.caller.invites.accept({ token: invite.token })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await stack.prisma.membership.count({ where: { teamId: team.id } })).toBe(2);
  });

  it('does not let an owner revoke another team’s invite by its id', async () => {
    const { owner, team } = await teamWithOwner();
    const other = await teamWithOwner();
    const invite = await other.owner.caller.invites.create({ teamId: other.team.id });
    await expectTrpcError(owner.caller.invites.revoke({ teamId: team.id, inviteId: invite.id }), 'NOT_FOUND');
    expect((await stack.prisma.invite.findUniqueOrThrow({ where: { id: invite.id } })).revokedAt).toBeNull();
  });
});

describe('roles, removal and leaving', () => {
  async function teamOfThree() {
    const owner = await newUser('Owner');
    const ana = await newUser('Ana');
    const ben = await newUser('Ben');
    const team = await owner.caller.teams.create({ name: 'Three' });
    for (const who of [ana, ben]) {
      const { token } = await owner.caller.invites.create({ teamId: team.id });
      await who.caller.invites.accept({ token });
    }
    return { owner, ana, ben, team };
  }

  it('changes roles, and never leaves a team without an owner', async () => {
    const { owner, ana, ben, team } = await teamOfThree();
    await expectTrpcError(ana.caller.teams.changeRole({ teamId: team.id, userId: ana.user.id, role: 'owner' }), 'FORBIDDEN', /Only a team owner/);
    const last = await expectTrpcError(
      owner.caller.teams.changeRole({ teamId: team.id, userId: owner.user.id, role: 'member' }),
      'BAD_REQUEST',
      /at least one owner/,
    );
    expect(last.message).toContain('make someone else an owner first');
    await owner.caller.teams.changeRole({ teamId: team.id, userId: ana.user.id, role: 'owner' });
    expect((await ana.caller.teams.get({ teamId: team.id })).myRole).toBe('owner');
    // Two owners now: either may step down, but not both at once.
    const both = await Promise.allSettled([
      owner.caller.teams.changeRole({ teamId: team.id, userId: owner.user.id, role: 'member' }),
      ana.caller.teams.changeRole({ teamId: team.id, userId: ana.user.id, role: 'member' }),
    ]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const owners = await stack.prisma.membership.findMany({ where: { teamId: team.id, role: 'owner' }, select: { userId: true } });
    expect(owners).toHaveLength(1);
    const remaining = owners[0]!.userId === owner.user.id ? owner : ana;
    await expectTrpcError(remaining.caller.teams.changeRole({ teamId: team.id, userId: crypto.randomUUID(), role: 'owner' }), 'NOT_FOUND');
    await expectTrpcError(ben.caller.teams.changeRole({ teamId: team.id, userId: ben.user.id, role: 'owner' }), 'FORBIDDEN');
    const roleChanges = (await audits(team.id)).filter((e) => e.action === 'member.role');
    expect(roleChanges).toHaveLength(2);
  });

  it('removes members (owners only, not the last owner) and lets members leave', async () => {
    const { owner, ana, ben, team } = await teamOfThree();
    await expectTrpcError(ana.caller.teams.removeMember({ teamId: team.id, userId: ben.user.id }), 'FORBIDDEN');
    await expectTrpcError(owner.caller.teams.removeMember({ teamId: team.id, userId: owner.user.id }), 'BAD_REQUEST', /last one/);
    await owner.caller.teams.removeMember({ teamId: team.id, userId: ben.user.id });
    await expectTrpcError(ben.caller.teams.get({ teamId: team.id }), 'NOT_FOUND');
    await expectTrpcError(owner.caller.teams.removeMember({ teamId: team.id, userId: ben.user.id }), 'NOT_FOUND');

    await expectTrpcError(owner.caller.teams.leave({ teamId: team.id }), 'BAD_REQUEST', /last owner/);
    await ana.caller.teams.leave({ teamId: team.id });
    await expectTrpcError(ana.caller.teams.get({ teamId: team.id }), 'NOT_FOUND');
    await expectTrpcError(ana.caller.teams.leave({ teamId: team.id }), 'NOT_FOUND');
    expect((await owner.caller.teams.get({ teamId: team.id })).members.map((m) => m.id)).toEqual([owner.user.id]);
    const log = await audits(team.id);
    expect(log.filter((e) => e.action === 'member.remove').map((e) => e.targetId)).toEqual([ben.user.id]);
    expect(log.filter((e) => e.action === 'member.leave').map((e) => e.actorId)).toEqual([ana.user.id]);
  });
});

describe('invites of an owner who stops being one', () => {
  /** A team with two owners, `ana` holding two open links and one used one. */
  async function anaWithLinks() {
    const owner = await newUser('Owner');
    const ana = await newUser('Ana');
    const team = await owner.caller.teams.create({ name: 'Links' });
    await ana.caller.invites.accept({ token: (await owner.caller.invites.create({ teamId: team.id })).token });
    await owner.caller.teams.changeRole({ teamId: team.id, userId: ana.user.id, role: 'owner' });
    const used = await ana.caller.invites.create({ teamId: team.id });
    await (await newUser('Cy')).caller.invites.accept({ token: used.token });
    const links = [await ana.caller.invites.create({ teamId: team.id }), await ana.caller.invites.create({ teamId: team.id })];
    const ownersLink = await owner.caller.invites.create({ teamId: team.id });
    return { owner, ana, team, links, ownersLink };
  }

  /** The links a newcomer is refused with "revoked", and that the owner's own link still works. */
  async function expectRevoked(setup: Awaited<ReturnType<typeof anaWithLinks>>) {
    const { owner, team, links, ownersLink } = setup;
    const newcomer = await newUser('Dee');
    for (const { token } of links) await expectTrpcError(newcomer.caller.invites.accept({ token }), 'NOT_FOUND', /was revoked/);
    expect((await owner.caller.invites.list({ teamId: team.id })).map((i) => i.id)).toEqual([ownersLink.id]);
    const revokes = (await audits(team.id)).filter((e) => e.action === 'invite.revoke');
    expect(revokes.map((e) => [e.actorId, e.targetId]).sort()).toEqual(links.map((l) => [revokes[0]!.actorId, l.id]).sort());
    expect(await newcomer.caller.invites.accept({ token: ownersLink.token })).toEqual({ teamId: team.id, joined: true });
  }

  it('revokes them when the owner is made a member', async () => {
    const setup = await anaWithLinks();
    await setup.owner.caller.teams.changeRole({ teamId: setup.team.id, userId: setup.ana.user.id, role: 'member' });
    await expectRevoked(setup);
  });

  it('revokes them when the owner is removed', async () => {
    const setup = await anaWithLinks();
    await setup.owner.caller.teams.removeMember({ teamId: setup.team.id, userId: setup.ana.user.id });
    await expectRevoked(setup);
  });

  it('revokes them when the owner leaves', async () => {
    const setup = await anaWithLinks();
    await setup.ana.caller.teams.leave({ teamId: setup.team.id });
    await expectRevoked(setup);
  });

  it('lets no invite be created by an owner once their demotion has committed, however the two race', async () => {
    const { owner, ana, team } = await anaWithLinks();
    const results = await Promise.allSettled([
      owner.caller.teams.changeRole({ teamId: team.id, userId: ana.user.id, role: 'member' }),
      ...Array.from({ length: 5 }, () => ana.caller.invites.create({ teamId: team.id })),
    ]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(await stack.prisma.invite.count({ where: { teamId: team.id, createdById: ana.user.id, revokedAt: null, usedAt: null } })).toBe(0);
  });
});

describe('presence', () => {
  function nextPresence(socket: TestSocket, predicate: (e: PresenceEvent) => boolean): Promise<PresenceEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching presence event')), 5000);
      const on = (event: PresenceEvent) => {
        if (!predicate(event)) return;
        clearTimeout(timer);
        socket.off('presence', on);
        resolve(event);
      };
      socket.on('presence', on);
    });
  }
  const names = (e: PresenceEvent) => e.users.map((u) => u.name).join(',');

  it('tells a project room who is in it, on join, leave and disconnect, once per user', async () => {
    const owner = await newUser('Cleo');
    const dan = await newUser('Dan');
    const team = await owner.caller.teams.create({ name: 'Presence' });
    const { token } = await owner.caller.invites.create({ teamId: team.id });
    await dan.caller.invites.accept({ token });
    const project = await owner.caller.teams.createProject({ teamId: team.id, name: 'Live' });
    const room = { kind: 'project', id: project.id } as const;

    const cleo1 = await stack.connect(owner.token);
    const first = nextPresence(cleo1, (e) => names(e) === 'Cleo');
    expect(await cleo1.emitWithAck('join', room)).toEqual({ ok: true });
    expect(await first).toEqual({ projectId: project.id, users: [{ id: owner.user.id, name: 'Cleo' }] });

    // A second tab of the same user does not list her twice.
    const cleo2 = await stack.connect(owner.token);
    await cleo2.emitWithAck('join', room);
    const danSocket = await stack.connect(dan.token);
    const both = nextPresence(cleo1, (e) => names(e) === 'Cleo,Dan');
    await danSocket.emitWithAck('join', room);
    expect((await both).users).toEqual([
      { id: owner.user.id, name: 'Cleo' },
      { id: dan.user.id, name: 'Dan' },
    ]);

    const danLeft = nextPresence(cleo1, (e) => names(e) === 'Cleo');
    danSocket.emit('leave', room);
    await danLeft;

    const danBack = nextPresence(cleo2, (e) => names(e) === 'Cleo,Dan');
    await danSocket.emitWithAck('join', room);
    await danBack;
    const gone = nextPresence(cleo2, (e) => names(e) === 'Cleo');
    danSocket.disconnect();
    await gone;
    // Cleo still has a tab open: closing one keeps her listed.
    const stillCleo = nextPresence(cleo2, () => true);
    cleo1.disconnect();
    expect(names(await stillCleo)).toBe('Cleo');
  });

  it('takes a removed member’s open sockets out of the team’s rooms, on the spot', async () => {
    const owner = await newUser('Eve');
    const fay = await newUser('Fay');
    const team = await owner.caller.teams.create({ name: 'Revocation' });
    const { token } = await owner.caller.invites.create({ teamId: team.id });
    await fay.caller.invites.accept({ token });
    const project = await owner.caller.teams.createProject({ teamId: team.id, name: 'Secret' });

    const eveSocket = await stack.connect(owner.token);
    const faySocket = await stack.connect(fay.token);
    for (const room of [{ kind: 'project', id: project.id }, { kind: 'team', id: team.id }] as const) {
      expect(await faySocket.emitWithAck('join', room)).toEqual({ ok: true });
    }
    const both = nextPresence(eveSocket, (e) => names(e) === 'Eve,Fay');
    await eveSocket.emitWithAck('join', { kind: 'project', id: project.id });
    await both;

    const heardAfter: PresenceEvent[] = [];
    const faysOwnView = nextPresence(eveSocket, (e) => names(e) === 'Eve');
    await owner.caller.teams.removeMember({ teamId: team.id, userId: fay.user.id });
    faySocket.on('presence', (e) => heardAfter.push(e));
    await faysOwnView;
    // Eve's next change reaches Eve's room only: Fay is out of it.
    const eveAlone = nextPresence(eveSocket, (e) => names(e) === 'Eve');
    eveSocket.emit('leave', { kind: 'project', id: project.id });
    await eveSocket.emitWithAck('join', { kind: 'project', id: project.id });
    await eveAlone;
    expect(heardAfter).toEqual([]);
    // And she cannot walk back in.
    expect(await faySocket.emitWithAck('join', { kind: 'project', id: project.id })).toEqual({ ok: false, error: 'not found' });
  });
});
