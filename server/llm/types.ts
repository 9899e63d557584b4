export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  signal?: AbortSignal;
  /** Text already produced by an earlier attempt; the call continues it. */
  resumeFrom?: string;
  /** Completion tokens for this call (Ollama num_predict, OpenAI max_tokens). */
  maxTokens?: number;
  /** Ollama keep_alive, e.g. "30m"; ignored by cloud backends. */
  keepAlive?: string;
  /** Sampling options of an API request; the backend's defaults when absent. */
  temperature?: number;
  /** Sequences that end the answer (not included in it). */
  stop?: string[];
}

export interface ChatResult {
  /** The full text, including resumeFrom. */
  text: string;
  promptTokens: number;
  completionTokens: number;
  timeToFirstTokenMs: number;
  durationMs: number;
  /** Time the backend spent loading the model for this call (Ollama's load_duration); cloud backends say nothing. */
  loadMs?: number;
  /** The model as the server named it in its answer. */
  model: string;
  /** Stopped by a token limit (maxTokens, or the context window), not by the model itself. */
  truncated: boolean;
}

export interface ModelInfo {
  name: string;
  contextWindow?: number;
}

export interface HealthReport {
  ok: boolean;
  latencyMs: number;
  error?: string;
  loadedModels: string[];
}

/** What an Ollama backend holds: models present on its disk (/api/tags) and loaded in memory (/api/ps). */
export interface ResidencyRead {
  present: Array<{ name: string; sizeBytes: number }>;
  /** Latest expiry first, as Ollama lists them. */
  loaded: Array<{ name: string; sizeBytes: number; expiresAt: Date | null }>;
}

/** One progress object of an Ollama pull (fields it left out are absent). */
export interface PullProgress {
  status: string;
  total?: number;
  completed?: number;
}

export interface LlmBackend {
  readonly id: string;
  readonly kind: 'ollama' | 'openai';
  /**
   * Streams one answer. onText receives each new piece of text (never resumeFrom itself).
   * Rejects with a BackendError.
   */
  streamChat(req: ChatRequest, onText: (text: string) => void): Promise<ChatResult>;
  listModels(): Promise<ModelInfo[]>;
  /** Models that answer without a load delay; for cloud backends, every model. */
  listLoaded(): Promise<string[]>;
  /** Never rejects. */
  health(): Promise<HealthReport>;
  /** Ollama only. Rejects with a BackendError. */
  readResidency?(): Promise<ResidencyRead>;
  /** Ollama only: pulls a model, reporting each progress object; rejects with a BackendError. */
  pull?(model: string, onProgress: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void>;
}
