import type { PoolQueueView, RunningJobView, WaitingJobView } from '../../workflows/scheduler/core';
import type { JobStage } from '../../workflows/definitions';

/** The Socket.IO contract shared by the server, the worker's publisher and the browser. */

export type JobStatusName = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'dead_letter';

export interface JobTokensEvent {
  jobId: string;
  /** Character offset of `text` in the job's output: lets a client that loaded part of the
   * output skip what it already has and notice a gap. */
  offset: number;
  text: string;
  /** Epoch ms when the worker published this batch: lets a client measure its delivery delay. */
  sentAt?: number;
}

export interface JobUpdateEvent {
  jobId: string;
  projectId: string;
  status: JobStatusName;
}

/**
 * Where a job stands, sent to `job:<id>` by the activity doing the work as the stage changes and,
 * while the model writes, about once a second. Activities stamp it with their clock: a client
 * keeps the newest.
 */
export interface JobProgressEvent {
  jobId: string;
  stage: JobStage;
  /** 0–100; generation fills its span by tokens written against the expected length. */
  percent: number;
  /** The activity at work (generate, reviewCode, saveResult…). */
  activity: string | null;
  /** While generating: completion tokens so far, the length expected, the measured speed. */
  tokens: number | null;
  expectedTokens: number | null;
  tokensPerSecond: number | null;
  /** While generating: milliseconds from `at` until the answer is expected to be complete. */
  etaMs: number | null;
  /** Epoch ms when the activity measured this. */
  at: number;
}

/** A code review's progress, sent to the job's room as each file (or chunk) is reviewed. */
export interface ReviewProgressEvent {
  jobId: string;
  /** Items with findings (or failed) of `total`; an item is a file, or a chunk of a long one. */
  reviewed: number;
  total: number;
  /** The item just finished. */
  path: string;
  chunk: number;
}

/** A notification for its user (`user:<id>`): a job of theirs ended. */
export interface NotificationEvent {
  id: string;
  jobId: string;
  projectId: string;
  event: string;
  title: string;
  createdAt: string;
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

/** What the team's members may know of one of its jobs besides the scheduler's ids (null: the row is gone). */
export interface QueueJobInfo {
  userName: string;
  projectId: string;
  projectName: string;
  /** The start of the requirements (of a chat: its last user message). */
  title: string;
  /** The API key the job came through; null for the web form's jobs. */
  apiKeyName: string | null;
}

interface QueueEventStamp {
  /** The scheduler's snapshot version; an event older than what a client holds is stale. */
  version: number;
  /** The scheduler's clock when the state was planned: now − at is the update's latency. */
  at: number;
}

/** A pool's counts and backends, sent to `queue:<pool>`: nothing that identifies a job or a team. */
export type QueuePoolEvent = PoolQueueView & QueueEventStamp;

/** One team's waiting (in dispatch order) and running jobs, sent to `team:<id>` only. */
export interface QueueTeamEvent extends QueueEventStamp {
  teamId: string;
  /** `userId` is read from the job's row with `job` (empty when the row is gone). */
  waiting: (WaitingJobView & { userId: string; job: QueueJobInfo | null })[];
  running: (RunningJobView & { job: QueueJobInfo | null })[];
}

/** Progress of an admin's model pull on one Ollama backend (its /api/pull), sent to `admin:residency`. */
export interface PullProgressEvent {
  backendId: string;
  /** The concrete model pulled, as Ollama names it. */
  model: string;
  /** Ollama's status line ("pulling manifest", "pulling 25fbf6aabbcc", "success"). */
  status: string;
  /** Bytes of the layer being pulled, when Ollama says. */
  total: number | null;
  completed: number | null;
  done: boolean;
  /** Why the pull failed, in Ollama's words; null while it runs or once it succeeded. */
  error: string | null;
}

export type RoomRequest = { kind: 'project' | 'job' | 'team' | 'queue' | 'admin'; id: string };

/** Admins' room for residency: pull progress. */
export const residencyRoom: RoomRequest = { kind: 'admin', id: 'residency' };

export type JoinAck = { ok: true } | { ok: false; error: string };

export interface ServerToClientEvents {
  'job:tokens': (event: JobTokensEvent) => void;
  'job:update': (event: JobUpdateEvent) => void;
  'job:progress': (event: JobProgressEvent) => void;
  notification: (event: NotificationEvent) => void;
  'review:progress': (event: ReviewProgressEvent) => void;
  presence: (event: PresenceEvent) => void;
  'queue:pool': (event: QueuePoolEvent) => void;
  'queue:team': (event: QueueTeamEvent) => void;
  'admin:pull': (event: PullProgressEvent) => void;
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

/** Every socket of a user is also in this room (never joinable by request), so the server can find them on any process. */
export const userRoom = (userId: string) => `user:${userId}`;

/** A job's change of state goes to its project's feed and to its own page. */
export const jobUpdateRooms = (update: JobUpdateEvent): string[] => [`project:${update.projectId}`, `job:${update.jobId}`];
