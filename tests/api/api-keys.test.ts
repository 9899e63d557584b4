import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/db';
import { startAppStack, type AppStack } from '../support/app-stack';
import { isError, UnauthorizedError } from '../../server/errors';
import { createCaller } from '../../server/trpc/root';
import { expectTrpcError } from '../support/trpc';

const db = useTestDatabase({ seed: true });
let stack: AppStack;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
});

afterAll(async () => {
  await stack?.stop();
});

let seq = 0;
async function newUser(name: string) {
  const email = `${name.toLowerCase()}-${++seq}@example.com`;
  const { token } = await stack.services.auth.signUp({ name, email, password: 'long-enough-password' }, { ip: `10.1.0.${seq}` });
  const user = (await stack.services.sessions.getUser(token))!;
  return { user, caller: createCaller({ services: stack.services, user }) };
}

/** An owner with a team, and a member of it. */
async function team() {
  const owner = await newUser('Owner');
  const member = await newUser('Member');
  const created = await owner.caller.teams.create({ name: `Keys ${seq}` });
  await stack.prisma.membership.create({ data: { userId: member.user.id, teamId: created.id, role: 'member' } });
  return { owner, member, teamId: created.id };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => e as Error,
  );

describe('personal API keys', () => {
  it('shows the key once, stores only its HMAC, files its jobs in the team’s API project, and audits the creation', async () => {
    const { member, teamId } = await team();
    const { id, key } = await member.caller.apiKeys.create({ teamId, name: 'aider on my laptop' });
    expect(key).toMatch(/^sy_[A-Za-z0-9_-]{43}$/);
    const row = await stack.prisma.apiKey.findUniqueOrThrow({ where: { id }, include: { project: true } });
    expect(JSON.stringify(row)).not.toContain(key.slice(3));
    expect(row).toMatchObject({ userId: member.user.id, teamId, name: 'aider on my laptop', prefix: key.slice(0, 9), expiresAt: null, lastUsedAt: null });
    expect(row.project).toMatchObject({ teamId, name: 'API' });

    const listed = await member.caller.apiKeys.list();
    expect(listed).toEqual([expect.objectContaining({ id, name: 'aider on my laptop', prefix: key.slice(0, 9), team: { id: teamId, name: expect.any(String) } })]);
    expect(JSON.stringify(listed)).not.toContain(key);

    const audit = await stack.prisma.auditLog.findMany({ where: { teamId, action: { startsWith: 'apiKey.' } }, select: { action: true, actorId: true, targetId: true } });
    expect(audit).toEqual([{ action: 'apiKey.create', actorId: member.user.id, targetId: id }]);
  });

  it('authenticates a key as its user in its team, records its use, and refuses it once revoked', async () => {
    const { member, teamId } = await team();
    const { id, key } = await member.caller.apiKeys.create({ teamId, name: 'continue' });
    const caller = await stack.services.apiKeys.authenticate(key);
    expect(caller).toMatchObject({ key: { id, name: 'continue' }, user: { id: member.user.id }, team: { id: teamId, tier: { name: 'free' } } });
    expect((await stack.prisma.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toBeInstanceOf(Date);

    await member.caller.apiKeys.revoke({ id });
    const error = await refusal(stack.services.apiKeys.authenticate(key));
    expect(isError(error, UnauthorizedError)).toBe(true);
    expect(error!.message).toBe('The API key "continue" was revoked.');
    expect(await member.caller.apiKeys.list()).toEqual([]);
    const actions = await stack.prisma.auditLog.findMany({ where: { teamId, targetId: id }, select: { action: true } });
    expect(actions.map((a) => a.action)).toEqual(['apiKey.create', 'apiKey.revoke']);
  });

  it('refuses an expired key, an unknown one, and the key of someone who left the team', async () => {
    const { member, teamId } = await team();
    const { id, key } = await member.caller.apiKeys.create({ teamId, name: 'script', expiresAt: new Date(Date.now() + 60_000) });
    await stack.prisma.apiKey.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await refusal(stack.services.apiKeys.authenticate(key)))!.message).toBe('The API key "script" expired.');
    expect((await refusal(stack.services.apiKeys.authenticate(`${key}x`)))!.message).toBe('This API key is not valid.');

    const other = await member.caller.apiKeys.create({ teamId, name: 'left behind' });
    await member.caller.teams.leave({ teamId });
    expect((await refusal(stack.services.apiKeys.authenticate(other.key)))!.message).toMatch(/no longer in/);
  });

  it('lets an owner see and revoke a member’s key, but not a member the owner’s', async () => {
    const { owner, member, teamId } = await team();
    const mine = await member.caller.apiKeys.create({ teamId, name: 'member key' });
    const theirs = await owner.caller.apiKeys.create({ teamId, name: 'owner key' });
    expect((await owner.caller.apiKeys.list()).map((k) => k.name).sort()).toEqual(['member key', 'owner key']);
    expect((await member.caller.apiKeys.list()).map((k) => k.name)).toEqual(['member key']);
    await expectTrpcError(member.caller.apiKeys.revoke({ id: theirs.id }), 'NOT_FOUND');
    await owner.caller.apiKeys.revoke({ id: mine.id });
    const audit = await stack.prisma.auditLog.findFirstOrThrow({ where: { targetId: mine.id, action: 'apiKey.revoke' } });
    expect(audit.actorId).toBe(owner.user.id);
  });

  it('refuses a team the user is not in, a past expiry and an empty name, creating nothing', async () => {
    const { teamId } = await team();
    const outsider = await newUser('Outsider');
    const { member, teamId: own } = await team();
    const before = await stack.prisma.apiKey.count();
    await expectTrpcError(outsider.caller.apiKeys.create({ teamId, name: 'nope' }), 'NOT_FOUND');
    const past = await expectTrpcError(member.caller.apiKeys.create({ teamId: own, name: 'old', expiresAt: new Date(Date.now() - 1000) }), 'BAD_REQUEST');
    expect(past.message).toBe('Choose an expiry in the future, or none.');
    await expectTrpcError(member.caller.apiKeys.create({ teamId: own, name: '  ' }), 'BAD_REQUEST');
    expect(await stack.prisma.apiKey.count()).toBe(before);
  });
});
