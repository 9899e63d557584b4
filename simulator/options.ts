import { z } from 'zod';

export interface SimModel {
  name: string;
  /** Tokens; requests whose prompt estimate exceeds it are refused like the real servers do. */
  contextWindow: number;
  /**
   * A model that never emits its stop token (a broken or badly templated model repeating itself):
   * it answers until its context window is full, unless num_predict / max_tokens stops it sooner.
   */
  endless?: boolean;
  /** Bytes of its files (/api/tags `size`); a loaded runner takes a fifth more. Default: from the name's parameter count. */
  sizeBytes?: number;
}

/**
 * The server it plays. `ollama`: Ollama's native API (/api/*) and its OpenAI compatibility layer
 * (/v1/*), names matched as Ollama matches them. `openai`: OpenAI itself, only /v1/*, model ids
 * matched exactly, /v1/models without context windows.
 */
export type SimulatedServer = 'ollama' | 'openai';

export interface SimulatorOptions {
  server: SimulatedServer;
  host: string;
  /** 0 picks a free port. */
  port: number;
  models: SimModel[];
  /** Pace of each stream, independent of how many run at once (one GPU slot each). */
  tokensPerSecond: number;
  timeToFirstTokenMs: number;
  /** OLLAMA_NUM_PARALLEL: requests generating at the same time. */
  slots: number;
  /** OLLAMA_MAX_QUEUE: requests waiting for their model to load; more are refused with 503. */
  maxQueue: number;
  /** Charged when a request needs a model that is not loaded. */
  modelLoadMs: number;
  /** OLLAMA_MAX_LOADED_MODELS. */
  maxLoadedModels: number;
  /** What `/api/pull` can fetch (a stand-in for registry.ollama.ai); a pulled model joins `models`. */
  registry: SimModel[];
  /** How long a pull of a registry model streams its progress. */
  pullMs: number;
  /** The model's answers: every instance of one model answers a prompt alike, as greedy decoding does. */
  seed: number;
  /**
   * Its index among instances started together: random faults (errors, cuts) differ per instance,
   * answers do not, so a stream cut on one instance and resumed on another ends as the uncut answer.
   */
  instance: number;
  /**
   * Length of every answer the model ends by itself; num_predict / max_tokens cut it shorter
   * (done_reason / finish_reason "length"), never longer.
   */
  outputTokens: number;
}

export const faultsSchema = z
  .object({
    /** Share of generation requests answered with a 500. */
    errorRate: z.number().min(0).max(1),
    /** Accept generation requests and never answer them. */
    hang: z.boolean(),
    /** Cut every stream after this many tokens, before its final object; null disables. */
    cutAfterTokens: z.number().int().min(0).nullable(),
    /**
     * Send this many tokens of every stream (0: only the status line and headers), then nothing,
     * holding the slot, until the client gives up: a server that hangs mid-answer.
     */
    stallAfterTokens: z.number().int().min(0).nullable(),
    /** Share of streams cut at a random token. */
    cutRate: z.number().min(0).max(1),
    /** 'destroy' resets the connection like a crash; 'end' closes the body cleanly like a proxy. */
    cutMode: z.enum(['destroy', 'end']),
    /**
     * Destroy the socket of every non-admin request (and of streams running when it is set).
     * The listener stays up so that `/_sim/faults` can lift the fault again.
     */
    refuseConnections: z.boolean(),
    /** Multiplies every delay: first token, token interval, model load. */
    slowdownFactor: z.number().min(0.01),
  })
  .strict();

export type Faults = z.infer<typeof faultsSchema>;

export const noFaults: Faults = {
  errorRate: 0,
  hang: false,
  cutAfterTokens: null,
  stallAfterTokens: null,
  cutRate: 0,
  cutMode: 'destroy',
  refuseConnections: false,
  slowdownFactor: 1,
};

/** The Ollama side of the seeded catalogue (prisma/seed.ts), so `npm run dev` can run every seeded model. */
export const defaultModels: SimModel[] = [
  { name: 'qwen2.5-coder:7b', contextWindow: 32768 },
  { name: 'llama3.1:8b', contextWindow: 131072 },
  { name: 'qwen2.5-coder:32b', contextWindow: 32768 },
];

export const defaultOptions: SimulatorOptions = {
  server: 'ollama',
  host: '127.0.0.1',
  port: 0,
  models: defaultModels,
  tokensPerSecond: 50,
  timeToFirstTokenMs: 150,
  slots: 4,
  maxQueue: 512,
  modelLoadMs: 1500,
  maxLoadedModels: 3,
  registry: [],
  pullMs: 2000,
  seed: 42,
  instance: 0,
  outputTokens: 120,
};

const simModelSchema = z
  .object({ name: z.string().min(1), contextWindow: z.number().int().positive(), endless: z.boolean().optional(), sizeBytes: z.number().int().positive().optional() })
  .strict();

const optionsSchema = z
  .object({
    server: z.enum(['ollama', 'openai']),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    models: z.array(simModelSchema).min(1),
    tokensPerSecond: z.number().positive(),
    timeToFirstTokenMs: z.number().min(0),
    slots: z.number().int().positive(),
    maxQueue: z.number().int().min(0),
    modelLoadMs: z.number().min(0),
    maxLoadedModels: z.number().int().positive(),
    registry: z.array(simModelSchema),
    pullMs: z.number().min(0),
    seed: z.number().int(),
    instance: z.number().int().min(0),
    outputTokens: z.number().int().positive(),
  })
  .strict();

export function resolveOptions(base: SimulatorOptions, patch: Partial<SimulatorOptions>): SimulatorOptions {
  return optionsSchema.parse({ ...base, ...patch });
}

export function resolveFaults(base: Faults, patch: Partial<Faults>): Faults {
  return faultsSchema.parse({ ...base, ...patch });
}
