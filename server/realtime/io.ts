import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { readSessionToken } from '../auth/session';
import { fromOwnPage } from '../http/origin-check';
import { getLogger, type Logger } from '../log';
import { requestIdOf } from '../log/request';
import type { Services } from '../services';
import { attachAdapter } from './adapter';
import { roomName, userRoom } from './events';
import { watchMembershipEnds } from './membership';
import { createPresence } from './presence';
import { createQueueBroadcaster } from './queue-broadcaster';
import { RELAY_EVENT } from './relay';
import { canJoin, roomRequest } from './rooms';
import { disconnectAtExpiry, disconnectEndedSessions, sessionRoom } from './session-sockets';
import type { IoServer } from './types';

export async function createRealtimeServer(
  httpServer: HttpServer,
  {
    services,
    log = getLogger(),
    databaseUrl,
    redisUrl,
    publicUrl,
  }: {
    services: Services;
    /** Parent of every connection's logger (default: the process's). */
    log?: Logger;
    databaseUrl: string;
    redisUrl?: string | undefined;
    /** PUBLIC_URL: the only Origin a handshake may come from (unset: the request's Host). */
    publicUrl?: string | undefined;
  },
) {
  const publicHost = publicUrl === undefined ? undefined : new URL(publicUrl).host;
  const io: IoServer = new Server(httpServer, {
    path: '/socket.io',
    serveClient: false,
    // A page of another site (even a same-site one, which gets the session cookie) cannot open a
    // socket as its visitor. A handshake naming no origin is not from a browser's page.
    allowRequest: (req, callback) => callback(null, fromOwnPage(req.headers, publicHost) !== false),
  });
  const adapter = await attachAdapter(io, { databaseUrl, redisUrl });
  const presence = createPresence(io, { onError: (err) => log.warn({ err }, 'presence update failed') });
  const stopWatching = watchMembershipEnds(io, services, presence.changed, log);
  const stopDisconnecting = disconnectEndedSessions(io, services.auth);
  const broadcaster = createQueueBroadcaster(io, services.queue, {
    feed: services.feed,
    onError: (err) => log.warn({ err }, 'queue broadcast failed'),
  });

  // What workers publish (see relay.ts), for the sockets of this process.
  io.on(RELAY_EVENT, (emits) => {
    for (const { rooms, event, payload } of emits) {
      (io.local.to(rooms).emit as (e: string, p: unknown) => boolean)(event, payload);
    }
    services.feed.deliverRelay(emits);
  });

  io.use(async (socket, next) => {
    // A request id per connection, as per HTTP request: the handshake's X-Request-Id or a new one.
    socket.data.requestId = requestIdOf(socket.request);
    try {
      const session = await services.sessions.get(readSessionToken(socket.request.headers.cookie));
      if (!session) return next(new Error('unauthorized'));
      socket.data.user = session.user;
      socket.data.sessionId = session.id;
      disconnectAtExpiry(socket, session.expiresAt);
      next();
    } catch (err) {
      log.warn({ err, requestId: socket.data.requestId, socketId: socket.id }, 'socket handshake failed');
      next(new Error('unavailable'));
    }
  });

  io.on('connection', (socket) => {
    const socketLog = log.child({ requestId: socket.data.requestId, socketId: socket.id, userId: socket.data.user.id });
    socketLog.debug('socket connected');
    void socket.join([userRoom(socket.data.user.id), sessionRoom(socket.data.sessionId)]);
    socket.on('join', async (raw, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const parsed = roomRequest.safeParse(raw);
      // Malformed, unknown and forbidden rooms answer alike: nothing is learnt about other teams.
      if (!parsed.success) return reply({ ok: false, error: 'not found' });
      try {
        services.rates.joins.take(socket.data.user.id);
      } catch (error) {
        return reply({ ok: false, error: (error as Error).message });
      }
      try {
        if (!(await canJoin(services.prisma, socket.data.user, parsed.data))) {
          return reply({ ok: false, error: 'not found' });
        }
        await socket.join(roomName(parsed.data));
        reply({ ok: true });
        if (parsed.data.kind === 'project') presence.changed(parsed.data.id);
      } catch (err) {
        socketLog.warn({ err, room: parsed.data }, 'room join failed');
        reply({ ok: false, error: 'unavailable' });
      }
    });
    socket.on('leave', async (raw) => {
      const parsed = roomRequest.safeParse(raw);
      if (!parsed.success) return;
      const name = roomName(parsed.data);
      if (!socket.rooms.has(name)) return;
      await socket.leave(name);
      if (parsed.data.kind === 'project') presence.changed(parsed.data.id);
    });
    // The rooms are gone by 'disconnect', and the socket is still counted during 'disconnecting'.
    let projectsLeft: string[] = [];
    socket.on('disconnecting', () => {
      projectsLeft = [...socket.rooms].filter((r) => r.startsWith('project:')).map((r) => r.slice('project:'.length));
    });
    socket.on('disconnect', (reason) => {
      socketLog.debug({ reason }, 'socket disconnected');
      for (const projectId of projectsLeft) presence.changed(projectId);
    });
  });

  return {
    io,
    async close() {
      stopWatching();
      presence.stop();
      stopDisconnecting();
      await broadcaster.stop();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await adapter.close();
    },
  };
}
