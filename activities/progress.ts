import type { JobKind, PrismaClient } from '../server/generated/prisma/client';
import type { JobProgressEvent, Publisher } from '../server/realtime/events';
import { STAGE_PERCENT, type JobStage } from '../workflows/definitions';

/**
 * A job's progress as its page sees it, pushed by the activities doing the work: the workflow
 * stays free of I/O, and no page asks a workflow. Stage changes go out at once; generation's
 * tokens and ETA at most once per GENERATION_PROGRESS_MS.
 */

export const GENERATION_PROGRESS_MS = 1_000;

/** Answers of a model whose lengths make its typical length. */
const LENGTH_SAMPLE = 20;
/** A stream's own speed is trusted once this many tokens and milliseconds have passed since its first token. */
const MIN_MEASURED_TOKENS = 8;
const MIN_MEASURED_MS = 250;
/** Weight of the newest stream in a backend's remembered speed. */
const SPEED_WEIGHT = 0.3;

export interface GenerationEstimate {
  percent: number;
  /** The length the answer is now expected to have. */
  expectedTokens: number;
  /** Milliseconds until it is complete; null while the speed is unknown. */
  etaMs: number | null;
}

/**
 * Where a generation stands. `typicalTokens` is what this model's answers usually come to (null:
 * no history, so the cap is all that is known); an answer already past it is expected to run a
 * quarter longer, never past the cap.
 */
export function estimateGeneration(input: { tokens: number; typicalTokens: number | null; outputCap: number; tokensPerSecond: number | null }): GenerationEstimate {
  const { tokens, outputCap, tokensPerSecond } = input;
  const typical = Math.min(input.typicalTokens ?? outputCap, outputCap);
  const expectedTokens = Math.max(tokens, tokens < typical ? typical : Math.min(outputCap, Math.ceil(tokens * 1.25)));
  const done = expectedTokens === 0 ? 1 : tokens / expectedTokens;
  const span = STAGE_PERCENT.reviewing - STAGE_PERCENT.generating;
  return {
    percent: Math.floor(STAGE_PERCENT.generating + span * done),
    expectedTokens,
    etaMs: tokensPerSecond && tokensPerSecond > 0 ? Math.round(((expectedTokens - tokens) / tokensPerSecond) * 1000) : null,
  };
}

/** A stream's speed since its first token, once enough of it has been seen to say. */
export function streamSpeed(tokensSinceFirst: number, msSinceFirst: number): number | null {
  if (tokensSinceFirst < MIN_MEASURED_TOKENS || msSinceFirst < MIN_MEASURED_MS) return null;
  return (tokensSinceFirst / msSinceFirst) * 1000;
}

/** How long a model's typical length is remembered: a median of 20 answers moves slowly. */
const LENGTH_TTL_MS = 60_000;

/**
 * The typical length of a model's answers of a kind (typicalLength), read at most once a minute per
 * model and kind instead of once per model call. An unknown length (no answers yet) is not
 * remembered, so the model's first answers count at once.
 */
export function createLengthBook(prisma: PrismaClient, ttlMs = LENGTH_TTL_MS) {
  const known = new Map<string, { at: number; tokens: number }>();
  return {
    async typical(model: string, kind: JobKind): Promise<number | null> {
      const key = `${kind}/${model}`;
      const hit = known.get(key);
      if (hit && Date.now() - hit.at < ttlMs) return hit.tokens;
      const tokens = await typicalLength(prisma, model, kind);
      if (tokens !== null) known.set(key, { at: Date.now(), tokens });
      return tokens;
    },
  };
}
export type LengthBook = ReturnType<typeof createLengthBook>;

/** The median length of the model's latest completed answers of this kind; null with none. */
async function typicalLength(prisma: PrismaClient, model: string, kind: JobKind): Promise<number | null> {
  const rows = await prisma.job.findMany({
    where: { model, kind, status: 'completed', completionTokens: { gt: 0 } },
    select: { completionTokens: true },
    orderBy: { finishedAt: 'desc' },
    take: LENGTH_SAMPLE,
  });
  if (rows.length === 0) return null;
  const sorted = rows.map((row) => row.completionTokens).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Each backend's speed per stream as this worker measured it, for a stream too young to measure its own. */
export function createSpeedBook() {
  const speeds = new Map<string, number>();
  return {
    get: (backendId: string): number | null => speeds.get(backendId) ?? null,
    record(backendId: string, tokensPerSecond: number): void {
      const known = speeds.get(backendId);
      speeds.set(backendId, known === undefined ? tokensPerSecond : known + SPEED_WEIGHT * (tokensPerSecond - known));
    },
  };
}
export type SpeedBook = ReturnType<typeof createSpeedBook>;

export function createProgress(publisher: Publisher) {
  const send = (event: JobProgressEvent) => publisher.emit(`job:${event.jobId}`, 'job:progress', event);
  return {
    /** The job entered `stage`; `activity` is what works on it. */
    stage(jobId: string, stage: JobStage, activity: string | null): void {
      send({ jobId, stage, percent: STAGE_PERCENT[stage], activity, tokens: null, expectedTokens: null, tokensPerSecond: null, etaMs: null, at: Date.now() });
    },
    generating(jobId: string, tokens: number, tokensPerSecond: number | null, estimate: GenerationEstimate): void {
      send({ jobId, stage: 'generating', activity: 'generate', tokens, tokensPerSecond, ...estimate, at: Date.now() });
    },
  };
}
export type Progress = ReturnType<typeof createProgress>;
