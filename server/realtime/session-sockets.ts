import type { Socket } from 'socket.io';
import type { AuthService } from '../services/auth';
import type { IoServer } from './types';

/** Every socket opened with a session is in this room (never joinable by request), on whichever web process. */
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;

// setTimeout's longest delay (~24.8 days); sessions last longer, so a longer wait is re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Disconnects `socket` when its session expires: a socket must not outlive the session that let it in. */
export function disconnectAtExpiry(socket: Socket, expiresAt: Date): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = expiresAt.getTime() - Date.now();
    if (left <= 0) return socket.disconnect(true);
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  socket.once('disconnect', () => clearTimeout(timer));
}

/**
 * When sessions end (sign-out, a password change, "sign out other sessions"), their sockets are
 * disconnected on every web process: through the adapter, `disconnectSockets` reaches them all.
 */
export function disconnectEndedSessions(io: IoServer, auth: Pick<AuthService, 'onSessionsEnded'>): () => void {
  return auth.onSessionsEnded((sessionIds) => io.in(sessionIds.map(sessionRoom)).disconnectSockets(true));
}
