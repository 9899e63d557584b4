import { estimatePromptTokens } from './estimate';
import { contextOverflowError, unknownModelError } from './errors';
import type { ChatRequest, ModelInfo } from './types';

/**
 * A backend's model list, cached for ttlMs so the check before every call is usually free,
 * and reloaded once when a model is missing (it may just have been pulled). A loader returns
 * null when the backend cannot list its models; calls then go unchecked. `matches` is the
 * server's own rule for a requested name against a listed one (Ollama's, or OpenAI's exact ids).
 */
export class ModelDirectory {
  #cached: { at: number; models: Promise<ModelInfo[] | null> } | undefined;

  constructor(
    private readonly load: () => Promise<ModelInfo[] | null>,
    private readonly matches: (listed: string, requested: string) => boolean,
    private readonly ttlMs = 30_000,
  ) {}

  async list(): Promise<ModelInfo[]> {
    return (await this.#current()) ?? [];
  }

  #current(): Promise<ModelInfo[] | null> {
    const now = performance.now();
    if (!this.#cached || now - this.#cached.at > this.ttlMs) {
      const models = this.load();
      this.#cached = { at: now, models };
      models.catch(() => {
        if (this.#cached?.models === models) this.#cached = undefined;
      });
    }
    return this.#cached.models;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  async names(): Promise<string[]> {
    return (await this.list()).map((m) => m.name);
  }

  /**
   * Refuses, before anything is sent, a model the backend does not have or a prompt that cannot
   * fit its context window (estimated at four characters a token, resumed text included).
   */
  async check(req: ChatRequest): Promise<void> {
    const models = await this.#current();
    if (models === null) return;
    let model = models.find((m) => this.matches(m.name, req.model));
    if (!model) {
      this.invalidate();
      const fresh = await this.list();
      model = fresh.find((m) => this.matches(m.name, req.model));
      if (!model) throw unknownModelError(req.model, fresh.map((m) => m.name));
    }
    const promptTokens = estimatePromptTokens([...req.messages, { content: req.resumeFrom ?? '' }]);
    if (model.contextWindow !== undefined && promptTokens > model.contextWindow) {
      throw contextOverflowError(req.model, promptTokens, model.contextWindow);
    }
  }
}
