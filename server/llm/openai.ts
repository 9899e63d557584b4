import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { estimatePromptTokens, estimateTokens } from './estimate';
import { BackendError, classifyError, type CallPhase } from './errors';
import { ModelDirectory } from './models';
import { knownContextWindow } from './cloud-models';
import { continueInstruction } from './resume';
import type { ChatRequest, ChatResult, HealthReport, LlmBackend, ModelInfo } from './types';
import { parseBackendUrl } from './url';
import { probeHealth } from './health';
import { DEFAULT_STREAM_IDLE_MS, stallGuard } from './stall';

export interface OpenAIBackendOptions {
  id: string;
  /** e.g. https://api.openai.com/v1 */
  baseURL: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Bound on one whole call; the client default is ten minutes. */
  timeoutMs?: number;
  /** Bound on health() and model listing calls. */
  probeTimeoutMs?: number;
  /** Longest silence of an answer once its text has begun (stall.ts). */
  streamIdleMs?: number;
}

/** One OpenAI-compatible endpoint, through the official client. */
export function createOpenAIBackend(options: OpenAIBackendOptions): LlmBackend {
  const client = new OpenAI({
    baseURL: parseBackendUrl(options.baseURL),
    apiKey: options.apiKey,
    // Retries belong to the Temporal activity, which can also move the job to another backend.
    maxRetries: 0,
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
  const fetchModels = async (): Promise<ModelInfo[] | null> => {
    const models: ModelInfo[] = [];
    try {
      for await (const model of client.models.list({ timeout: probeTimeoutMs })) models.push(describe(model));
    } catch (err) {
      // Some compatible endpoints (e.g. per-deployment gateways) have no /models; the server judges each call.
      if (err instanceof OpenAI.NotFoundError) return null;
      throw err;
    }
    return models;
  };
  // OpenAI model ids are exact: no default tag, and case matters.
  const directory = new ModelDirectory(fetchModels, (listed, requested) => listed === requested);

  async function streamChat(req: ChatRequest, onText: (text: string) => void): Promise<ChatResult> {
    const started = performance.now();
    const signal = req.signal ?? new AbortController().signal;
    let phase: CallPhase = 'request';
    let text = req.resumeFrom ?? '';
    let firstTokenAt: number | undefined;
    let finishReason: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let model = req.model;
    const guard = stallGuard(signal, options.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS);
    try {
      signal.throwIfAborted();
      await directory.check(req);
      const stream = await client.chat.completions.create(
        {
          model: req.model,
          messages: withResume(req),
          stream: true,
          stream_options: { include_usage: true },
          ...(req.maxTokens ? { max_tokens: req.maxTokens } : {}),
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
          ...(req.stop?.length ? { stop: req.stop } : {}),
        },
        { signal: guard.signal },
      );
      phase = 'stream';
      // Bounded from the first text on, not from the headers: a reasoning model may think in
      // silence for minutes after its first (empty) chunk.
      for await (const chunk of stream) {
        model = chunk.model || model;
        usage = chunk.usage ?? usage;
        const choice = chunk.choices[0];
        const piece = choice?.delta?.content;
        if (piece) {
          firstTokenAt ??= performance.now();
          text += piece;
          onText(piece);
        }
        finishReason = choice?.finish_reason ?? finishReason;
        if (firstTokenAt !== undefined) guard.alive();
      }
    } catch (err) {
      throw guard.stalled() ?? (signal.aborted ? new BackendError('aborted', 'The request was cancelled.', { cause: err }) : classifyError(err, phase));
    } finally {
      guard.dispose();
    }
    // The client ends iteration quietly when aborted or when the connection closes cleanly.
    const stalled = guard.stalled();
    if (stalled) throw stalled;
    if (signal.aborted) throw new BackendError('aborted', 'The request was cancelled.');
    if (finishReason === null) throw new BackendError('stream_cut', 'The answer stream ended without a finish reason.');
    const finishedAt = performance.now();
    const promptTokens = usage?.prompt_tokens ?? estimatePromptTokens(withResume(req).map((m) => ({ content: String(m.content) })));
    const completionTokens = usage?.completion_tokens ?? estimateTokens(text.slice(req.resumeFrom?.length ?? 0));
    return {
      text,
      promptTokens,
      completionTokens,
      timeToFirstTokenMs: (firstTokenAt ?? finishedAt) - started,
      durationMs: finishedAt - started,
      model,
      truncated: finishReason === 'length',
    };
  }

  async function listModels(): Promise<ModelInfo[]> {
    try {
      return await directory.list();
    } catch (err) {
      throw classifyError(err);
    }
  }

  const health = (): Promise<HealthReport> => probeHealth(async () => ((await fetchModels()) ?? []).map((m) => m.name));

  return {
    id: options.id,
    kind: 'openai',
    streamChat,
    listModels,
    // Cloud models have no load delay: every listed model counts as loaded.
    listLoaded: async () => (await listModels()).map((m) => m.name),
    health,
  };
}

/**
 * OpenAI-compatible APIs do not reliably continue a trailing assistant message, so a resume
 * shows the partial answer and asks for the rest (see resume.ts).
 */
function withResume(req: ChatRequest): ChatCompletionMessageParam[] {
  if (!req.resumeFrom) return req.messages;
  return [...req.messages, { role: 'assistant', content: req.resumeFrom }, { role: 'user', content: continueInstruction }];
}

/** context_window / context_length are not in OpenAI's schema but several compatible providers send them. */
function describe(model: OpenAI.Models.Model): ModelInfo {
  const extra = model as unknown as { context_window?: unknown; context_length?: unknown };
  const reported = [extra.context_window, extra.context_length].find((v): v is number => typeof v === 'number');
  return { name: model.id, contextWindow: reported ?? knownContextWindow(model.id) };
}
