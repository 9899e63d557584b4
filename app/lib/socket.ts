import { useEffect, useRef } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, RoomRequest, ServerToClientEvents } from '../../server/realtime/events';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
let socket: ClientSocket | undefined;

const EVENTS = ['job:tokens', 'job:update', 'job:progress', 'review:progress', 'presence', 'queue:pool', 'queue:team', 'admin:pull'] as const satisfies readonly (keyof ServerToClientEvents)[];
// Several components may want one room (the project page and its presence line); leave when the last one goes.
const roomUsers = new Map<string, number>();

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
    // Each event is forwarded to the handler of the same name: the pairing the types cannot express over a loop.
    const untyped = s as unknown as Pick<Socket, 'on' | 'off'>;
    const listeners = EVENTS.map((event) => {
      const listener = (payload: unknown) => (latest.current.handlers[event] as ((p: unknown) => void) | undefined)?.(payload);
      untyped.on(event, listener);
      return [event, listener] as const;
    });
    const key = `${kind}:${id}`;
    roomUsers.set(key, (roomUsers.get(key) ?? 0) + 1);
    s.on('connect', join);
    if (s.connected) join();
    return () => {
      s.off('connect', join);
      for (const [event, listener] of listeners) untyped.off(event, listener);
      const left = (roomUsers.get(key) ?? 1) - 1;
      if (left > 0) roomUsers.set(key, left);
      else {
        roomUsers.delete(key);
        s.emit('leave', target);
      }
    };
  }, [kind, id]);
}

/**
 * Listens for `event` on the page's socket without joining a room: for what the server sends to
 * the signed-in user's own room, which every socket is put in at its handshake.
 */
export function useSocketEvent<E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const untyped = getSocket() as unknown as { on(e: string, l: (p: unknown) => void): void; off(e: string, l: (p: unknown) => void): void };
    const listener = (payload: unknown) => (latest.current as (p: unknown) => void)(payload);
    untyped.on(event, listener);
    return () => untyped.off(event, listener);
  }, [event]);
}
