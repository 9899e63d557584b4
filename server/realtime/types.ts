import type { Server } from 'socket.io';
import type { SessionUser } from '../auth/session';
import type { ClientToServerEvents, ServerToClientEvents } from './events';
import type { InterServerEvents } from './relay';

export interface SocketData {
  user: SessionUser;
}

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
