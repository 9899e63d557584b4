import type { Server } from 'socket.io';
import type { SessionUser } from '../auth/session';
import type { ClientToServerEvents, ServerToClientEvents } from './events';
import type { InterServerEvents } from './relay';

export interface SocketData {
  user: SessionUser;
  /** The stored id of the session the socket was opened with: it is disconnected when that ends. */
  sessionId: string;
  /** The connection's request id (server/log/request.ts), on its log lines. */
  requestId: string;
}

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
