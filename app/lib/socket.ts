import { useEffect, useRef } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, RoomRequest, ServerToClientEvents } from '../../server/realtime/events';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
let socket: ClientSocket | undefined;

function getSocket(): ClientSocket {
  socket ??= io({ path: '/socket.io', transports: ['websocket'] });
  return socket;
}

/**
 * Joins `room` (the server checks membership) and rejoins after every reconnect. `onSync` runs
 * after each successful join so the caller can refetch whatever it missed while disconnected.
 */
export function useRoom(
  room: RoomRequest | null,
  handlers: Partial<ServerToClientEvents>,
  onSync?: () => void,
): void {
  const latest = useRef({ handlers, onSync });
  latest.current = { handlers, onSync };
  const kind = room?.kind;
  const id = room?.id;

  useEffect(() => {
    if (!kind || !id) return;
    const target: RoomRequest = { kind, id };
    const s = getSocket();
    const join = () =>
      s.emit('join', target, (ack) => {
        if (ack.ok) latest.current.onSync?.();
      });
    const onTokens: ServerToClientEvents['job:tokens'] = (e) => latest.current.handlers['job:tokens']?.(e);
    const onUpdate: ServerToClientEvents['job:update'] = (e) => latest.current.handlers['job:update']?.(e);
    s.on('connect', join);
    s.on('job:tokens', onTokens);
    s.on('job:update', onUpdate);
    if (s.connected) join();
    return () => {
      s.off('connect', join);
      s.off('job:tokens', onTokens);
      s.off('job:update', onUpdate);
      s.emit('leave', target);
    };
  }, [kind, id]);
}
