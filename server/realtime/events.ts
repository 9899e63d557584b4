/** The Socket.IO contract shared by the server, the worker's publisher and the browser. */

export type JobStatusName = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'dead_letter';

export interface JobTokensEvent {
  jobId: string;
  /** Character offset of `text` in the job's output: lets a client that loaded part of the
   * output skip what it already has and notice a gap. */
  offset: number;
  text: string;
}

export interface JobUpdateEvent {
  jobId: string;
  projectId: string;
  status: JobStatusName;
}

export interface PresenceUser {
  id: string;
  name: string;
}

/** Everyone whose socket is in a project's room, once per user: a snapshot, not a delta. */
export interface PresenceEvent {
  projectId: string;
  users: PresenceUser[];
}

export type RoomRequest = { kind: 'project' | 'job' | 'team'; id: string };

export type JoinAck = { ok: true } | { ok: false; error: string };

export interface ServerToClientEvents {
  'job:tokens': (event: JobTokensEvent) => void;
  'job:update': (event: JobUpdateEvent) => void;
  presence: (event: PresenceEvent) => void;
}

export interface ClientToServerEvents {
  join: (room: RoomRequest, ack: (result: JoinAck) => void) => void;
  leave: (room: RoomRequest) => void;
}

export const roomName = (room: RoomRequest): string => `${room.kind}:${room.id}`;

/** What workers and services need to push events; implemented over the Socket.IO adapter. */
export interface Publisher {
  /** Several rooms make one message, and a socket in more than one of them gets it once. */
  emit<E extends keyof ServerToClientEvents>(
    room: string | string[],
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
  ): void;
}

/** A job's change of state goes to its project's feed and to its own page. */
export const jobUpdateRooms = (update: JobUpdateEvent): string[] => [`project:${update.projectId}`, `job:${update.jobId}`];
