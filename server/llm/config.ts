import { createOllamaBackend } from './ollama';
import { createOpenAIBackend } from './openai';
import type { LlmBackend } from './types';
import { parseBackendUrl } from './url';

export { parseBackendUrl } from './url';

export type BackendKind = 'ollama' | 'openai';

/** What a client is built from: a stored backend row, its key opened. */
export interface BackendSpec {
  id: string;
  kind: BackendKind;
  url: string;
  /** Cloud endpoints; Ollama takes none. */
  apiKey: string | null;
}

export interface ClientOptions {
  /** keep_alive sent to every Ollama instance, e.g. "30m". */
  keepAlive?: string;
  fetch?: typeof fetch;
  /** Longest silence of an answer that has begun (stall.ts); default 30 s. */
  streamIdleMs?: number;
}

/** The one place a backend client is built, for workers and for the admin's model listing alike. */
export function createBackendClient(spec: BackendSpec, options: ClientOptions = {}): LlmBackend {
  const common = { ...(options.fetch ? { fetch: options.fetch } : {}), ...(options.streamIdleMs ? { streamIdleMs: options.streamIdleMs } : {}) };
  if (spec.kind === 'ollama') {
    return createOllamaBackend({ id: spec.id, url: spec.url, ...common, ...(options.keepAlive ? { keepAlive: options.keepAlive } : {}) });
  }
  // An endpoint that needs no key (a local OpenAI-compatible server) still gets a value: the client requires one.
  return createOpenAIBackend({ id: spec.id, baseURL: spec.url, apiKey: spec.apiKey ?? 'none', ...common });
}

/** A backend's id: kind and host:port ("ollama@127.0.0.1:11434"), stable across restarts; it keys cooldowns and statistics. */
export function backendIdFor(kind: BackendKind, url: string): string {
  return `${kind}@${new URL(url).host}`;
}

export interface EnvBackendsConfig {
  ollamaUrls: readonly string[];
  ollama: { slots: number; prefetch?: number };
  openai?: { baseURL: string; apiKey: string; slots: number };
}

export interface BootstrapBackend extends BackendSpec {
  pool: string;
  slots: number;
  prefetch?: number;
}

/**
 * The backends the environment names (OLLAMA_URL in the pool "local", the OpenAI endpoint in
 * "cloud"), which a fresh install starts with; admins edit the stored rows from then on.
 */
export function envBackends(config: EnvBackendsConfig): BootstrapBackend[] {
  const backends: BootstrapBackend[] = config.ollamaUrls.map((raw) => {
    const url = parseBackendUrl(raw);
    return { id: backendIdFor('ollama', url), kind: 'ollama', url, apiKey: null, pool: 'local', slots: config.ollama.slots, ...(config.ollama.prefetch === undefined ? {} : { prefetch: config.ollama.prefetch }) };
  });
  const ids = new Set(backends.map((b) => b.id));
  if (ids.size !== backends.length) throw new Error(`The Ollama URL list names the same instance twice: ${config.ollamaUrls.join(', ')}`);
  if (config.openai) {
    const url = parseBackendUrl(config.openai.baseURL);
    backends.push({ id: backendIdFor('openai', url), kind: 'openai', url, apiKey: config.openai.apiKey, pool: 'cloud', slots: config.openai.slots });
  }
  return backends;
}
