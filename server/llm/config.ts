import { createOllamaBackend } from './ollama';
import { createOpenAIBackend } from './openai';
import type { LlmBackend } from './types';
import { parseBackendUrl } from './url';

export { parseBackendUrl } from './url';

export interface BackendsConfig {
  ollamaUrls: readonly string[];
  /** keep_alive sent to every Ollama instance, e.g. "30m". */
  keepAlive?: string;
  openai?: { baseURL: string; apiKey: string };
  fetch?: typeof fetch;
}

/**
 * Builds the configured backends. Ids derive from host and port ("ollama@127.0.0.1:11434"), so
 * they stay the same across restarts and can key cooldowns and statistics.
 */
export function createBackends(config: BackendsConfig): LlmBackend[] {
  const fetchOption = config.fetch ? { fetch: config.fetch } : {};
  const backends: LlmBackend[] = config.ollamaUrls.map((url) => {
    const base = parseBackendUrl(url);
    return createOllamaBackend({ id: `ollama@${new URL(base).host}`, url: base, ...fetchOption, ...(config.keepAlive ? { keepAlive: config.keepAlive } : {}) });
  });
  const ids = new Set(backends.map((b) => b.id));
  if (ids.size !== backends.length) throw new Error(`The Ollama URL list names the same instance twice: ${config.ollamaUrls.join(', ')}`);
  if (config.openai) {
    const baseURL = parseBackendUrl(config.openai.baseURL);
    backends.push(
      createOpenAIBackend({ id: `openai@${new URL(baseURL).host}`, baseURL, apiKey: config.openai.apiKey, ...fetchOption }),
    );
  }
  return backends;
}
