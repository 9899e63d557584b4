import { Ollama, type ChatResponse, type Message } from 'ollama';
import { BackendError, classifyError, unknownModelError, type CallPhase } from './errors';
import { ModelDirectory } from './models';
import { sameOllamaModel } from './model-names';
import type { ChatRequest, ChatResult, HealthReport, LlmBackend, ModelInfo, PullProgress, ResidencyRead } from './types';
import { parseBackendUrl } from './url';
import { probeHealth } from './health';
import { DEFAULT_LIVENESS_PROBE_MS, DEFAULT_STREAM_IDLE_MS, stallGuard } from './stall';

export interface OllamaBackendOptions {
  id: string;
  url: string;
  /** Default keep_alive for requests that do not set one, e.g. "30m". */
  keepAlive?: string;
  fetch?: typeof fetch;
  /** Bound on health() and model listing calls. */
  probeTimeoutMs?: number;
  /** Longest silence of an answer that has begun (stall.ts). */
  streamIdleMs?: number;
  /** How often a request with no answer yet checks that the server still answers (stall.ts). */
  livenessProbeMs?: number;
}

/** One Ollama instance, through the official client. */
export function createOllamaBackend(options: OllamaBackendOptions): LlmBackend {
  const host = parseBackendUrl(options.url);
  const baseFetch = options.fetch ?? globalThis.fetch;
  const probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
  // A client per signal: the client only exposes abort() on the iterator it returns after the
  // response headers, but a call must also be cancellable while it is queued for a slot.
  const clientFor = (signal: AbortSignal) => new Ollama({ host, fetch: fetchWithSignal(baseFetch, signal) });
  const probe = () => clientFor(AbortSignal.timeout(probeTimeoutMs));
  const directory = new ModelDirectory(() => listModels(probe()), sameOllamaModel);

  async function streamChat(req: ChatRequest, onText: (text: string) => void): Promise<ChatResult> {
    const started = performance.now();
    const signal = req.signal ?? new AbortController().signal;
    let phase: CallPhase = 'request';
    let text = req.resumeFrom ?? '';
    let firstTokenAt: number | undefined;
    let final: ChatResponse | undefined;
    const guard = stallGuard(signal, options.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS);
    try {
      signal.throwIfAborted();
      await directory.check(req);
      const messages: Message[] = req.resumeFrom ? [...req.messages, { role: 'assistant', content: req.resumeFrom }] : req.messages;
      guard.probeUntilAnswer(() => probe().ps(), options.livenessProbeMs ?? DEFAULT_LIVENESS_PROBE_MS);
      const stream = await clientFor(guard.signal).chat({
        model: req.model,
        messages,
        stream: true,
        keep_alive: req.keepAlive ?? options.keepAlive,
        ...optionsOf(req),
      });
      phase = 'stream';
      guard.alive();
      for await (const part of stream) {
        guard.alive();
        const piece = part.message.content;
        if (piece) {
          firstTokenAt ??= performance.now();
          text += piece;
          onText(piece);
        }
        if (part.done) final = part;
      }
    } catch (err) {
      throw guard.stalled() ?? (await explain(err, phase, signal, req.model));
    } finally {
      guard.dispose();
    }
    if (!final) throw new BackendError('stream_cut', 'The answer stream ended without its final message.');
    const finishedAt = performance.now();
    return {
      text,
      promptTokens: final.prompt_eval_count ?? 0,
      completionTokens: final.eval_count ?? 0,
      timeToFirstTokenMs: (firstTokenAt ?? finishedAt) - started,
      durationMs: finishedAt - started,
      ...(final.load_duration ? { loadMs: final.load_duration / 1e6 } : {}),
      model: final.model || req.model,
      truncated: final.done_reason === 'length',
    };
  }

  async function explain(err: unknown, phase: CallPhase, signal: AbortSignal, model: string): Promise<BackendError> {
    if (signal.aborted) return new BackendError('aborted', 'The request was cancelled.', { cause: err });
    const error = classifyError(err, phase);
    if (error.code !== 'unknown_model' || err instanceof BackendError) return error;
    // The server no longer has a model the cached list had; name what it does have.
    directory.invalidate();
    const available = await directory.names().catch(() => []);
    return unknownModelError(model, available);
  }

  async function listLoaded(): Promise<string[]> {
    try {
      return (await probe().ps()).models.map((m) => m.name);
    } catch (err) {
      throw classifyError(err);
    }
  }

  const health = (): Promise<HealthReport> => probeHealth(listLoaded);

  async function readResidency(): Promise<ResidencyRead> {
    try {
      const client = probe();
      const [tags, ps] = await Promise.all([client.list(), client.ps()]);
      return {
        present: tags.models.map((m) => ({ name: m.name, sizeBytes: m.size })),
        loaded: ps.models.map((m) => ({ name: m.name, sizeBytes: m.size, expiresAt: expiry(m.expires_at as unknown) })),
      };
    } catch (err) {
      throw classifyError(err);
    }
  }

  async function pull(model: string, onProgress: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    try {
      // No probe timeout: a pull of several gigabytes takes minutes; the caller's signal ends it.
      const stream = await clientFor(signal ?? new AbortController().signal).pull({ model, stream: true });
      for await (const part of stream) {
        onProgress({ status: part.status, ...(part.total ? { total: part.total } : {}), ...(part.completed ? { completed: part.completed } : {}) });
      }
      directory.invalidate();
    } catch (err) {
      throw classifyError(err);
    }
  }

  return {
    id: options.id,
    kind: 'ollama',
    streamChat,
    listModels: async () => {
      try {
        return await directory.list();
      } catch (err) {
        throw classifyError(err);
      }
    },
    listLoaded,
    health,
    readResidency,
    pull,
  };
}

/** Ollama's far-future expiry (keep_alive < 0) and a missing one both mean: no expiry. */
function expiry(value: unknown): Date | null {
  const at = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  return at && Number.isFinite(at.getTime()) && at.getUTCFullYear() < 2200 ? at : null;
}

/** Ollama's `options` for what the request sets; none at all when it sets nothing. */
function optionsOf(req: ChatRequest): { options?: { num_predict?: number; temperature?: number; stop?: string[] } } {
  const options = {
    ...(req.maxTokens ? { num_predict: req.maxTokens } : {}),
    ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
    ...(req.stop?.length ? { stop: req.stop } : {}),
  };
  return Object.keys(options).length > 0 ? { options } : {};
}

/** /api/tags has no context window; /api/show has it as "<architecture>.context_length". */
async function listModels(client: Ollama): Promise<ModelInfo[]> {
  const { models } = await client.list();
  return Promise.all(
    models.map(async ({ name }) => {
      const info = await client.show({ model: name }).then((s) => s.model_info as unknown, () => undefined);
      return { name, contextWindow: contextLength(info) };
    }),
  );
}

function contextLength(info: unknown): number | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  const entry = Object.entries(info).find(([key]) => key.endsWith('.context_length'));
  return typeof entry?.[1] === 'number' ? entry[1] : undefined;
}

function fetchWithSignal(base: typeof fetch, signal: AbortSignal): typeof fetch {
  return (input, init) => base(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}
