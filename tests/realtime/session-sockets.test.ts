import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppStack, type AppSocket, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { until } from '../support/until';

/**
 * A socket lives no longer than the session that opened it, on whichever web process it is
 * connected to, and only pages of this site may open one.
 */

const db = useTestDatabase();
let web1: AppStack;
let web2: AppStack;

beforeAll(async () => {
  [web1, web2] = await Promise.all([startAppStack({ databaseUrl: db.url }), startAppStack({ databaseUrl: db.url })]);
});

afterAll(async () => {
  await Promise.all([web1?.stop(), web2?.stop()]);
});

let seq = 0;
async function account() {
  const email = `socket-${++seq}-${Date.now()}@example.com`;
  const { token } = await web1.services.auth.signUp({ name: `Socket ${seq}`, email, password: 'socket-password-1' }, { ip: `10.9.0.${seq}` });
  const user = (await web1.services.sessions.getUser(token))!;
  return { email, token, user };
}

/** Resolves with the time the socket disconnected, measured from `since`. */
const disconnectedAfter = (socket: AppSocket, since: () => number) =>
  new Promise<number>((resolve) => socket.once('disconnect', () => resolve(Date.now() - since())));

describe('handshake origin', () => {
  it('refuses a handshake from another site’s page, accepts one from ours', async () => {
    const { token } = await account();
    await expect(web1.connect(token, { origin: 'https://evil.example' })).rejects.toThrow();
    await expect(web1.connect(token, { origin: 'null' })).rejects.toThrow();
    const own = await web1.connect(token, { origin: web1.url });
    expect(own.connected).toBe(true);
  });
});

describe('sockets end with their session', () => {
  it('disconnects an open socket within 2 s of its user signing out, on another web process', async () => {
    const { token } = await account();
    const socket = await web2.connect(token);
    let signedOutAt = 0;
    const disconnected = disconnectedAfter(socket, () => signedOutAt);
    signedOutAt = Date.now();
    await web1.services.auth.signOut(token);
    expect(await disconnected).toBeLessThan(2_000);
    // Reconnecting with the dead cookie is refused.
    await expect(web2.connect(token)).rejects.toThrow('unauthorized');
  });

  it('disconnects the other sessions’ sockets on a password change, and keeps the one changing it', async () => {
    const { email, token: here, user } = await account();
    const { token: elsewhere } = await web1.services.auth.signIn(email, 'socket-password-1', { ip: '10.9.1.1' });
    const [mine, theirs] = await Promise.all([web1.connect(here), web2.connect(elsewhere)]);
    const gone = disconnectedAfter(theirs, () => 0);
    await web1.services.auth.changePassword(user, { currentPassword: 'socket-password-1', newPassword: 'a-new-password-2' }, here);
    await gone;
    expect(mine.connected).toBe(true);
    expect(await web1.services.sessions.getUser(elsewhere)).toBeNull();
    await expect(web1.services.auth.signIn(email, 'socket-password-1', { ip: '10.9.1.2' })).rejects.toThrow('Wrong email or password.');
    await web1.services.auth.signIn(email, 'a-new-password-2', { ip: '10.9.1.2' });
  });

  it('refuses a password change without the current password, changing nothing', async () => {
    const { email, token, user } = await account();
    await expect(
      web1.services.auth.changePassword(user, { currentPassword: 'not-my-password', newPassword: 'a-new-password-2' }, token),
    ).rejects.toMatchObject({ message: 'That is not your current password.', field: 'currentPassword' });
    await web1.services.auth.signIn(email, 'socket-password-1', { ip: '10.9.2.1' });
  });

  it('disconnects the other sessions’ sockets on "sign out other sessions"', async () => {
    const { email, token: here, user } = await account();
    const { token: elsewhere } = await web1.services.auth.signIn(email, 'socket-password-1', { ip: '10.9.3.1' });
    const [mine, theirs] = await Promise.all([web2.connect(here), web1.connect(elsewhere)]);
    const gone = disconnectedAfter(theirs, () => 0);
    expect(await web1.services.auth.signOutOthers(user, here)).toBe(1);
    await gone;
    expect(mine.connected).toBe(true);
  });

  it('disconnects a socket when its session expires', async () => {
    const { token } = await account();
    await web1.prisma.session.update({ where: { id: web1.services.sessions.idOf(token) }, data: { expiresAt: new Date(Date.now() + 4_000) } });
    const socket = await web1.connect(token);
    await until(() => !socket.connected, 'the socket to be disconnected at its session’s expiry', 15_000);
  });
});
