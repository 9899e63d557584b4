export interface LoadedModel {
  name: string;
  /** Infinity when kept loaded forever (keep_alive < 0). */
  expiresAt: number;
}

interface Entry extends LoadedModel {
  inUse: number;
  lastUsed: number;
}

export type Sleep = (ms: number) => Promise<void>;

/**
 * Which models sit in (simulated) GPU memory. Loading costs time once per model; concurrent
 * requests for a model being loaded wait for that one load. Idle models expire after their
 * keep-alive; past maxLoadedModels the least recently used idle model is evicted. When every
 * loaded model is busy the simulator over-commits instead of queueing, which real Ollama would do.
 */
export class ModelResidency {
  readonly #loaded = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<void>>();
  #loads = 0;

  constructor(private readonly sleep: Sleep) {}

  get loads(): number {
    return this.#loads;
  }

  /** Marks the model in use, loading it first when needed; returns the milliseconds spent loading. */
  async acquire(name: string, loadMs: number, maxLoaded: number): Promise<number> {
    const started = performance.now();
    this.#dropExpired();
    while (!this.#loaded.has(name)) {
      const pending = this.#loading.get(name) ?? this.#load(name, loadMs, maxLoaded);
      await pending;
    }
    const entry = this.#loaded.get(name)!;
    entry.inUse++;
    entry.lastUsed = Date.now();
    return performance.now() - started;
  }

  release(name: string, keepAliveMs: number): void {
    const entry = this.#loaded.get(name);
    if (!entry) return;
    entry.inUse = Math.max(0, entry.inUse - 1);
    entry.lastUsed = Date.now();
    entry.expiresAt = keepAliveMs < 0 ? Infinity : entry.lastUsed + keepAliveMs;
    this.#dropExpired();
  }

  list(): LoadedModel[] {
    this.#dropExpired();
    return [...this.#loaded.values()].map(({ name, expiresAt }) => ({ name, expiresAt }));
  }

  #load(name: string, loadMs: number, maxLoaded: number): Promise<void> {
    this.#loads++;
    const pending = this.sleep(loadMs)
      .then(() => {
        this.#evictFor(maxLoaded);
        const now = Date.now();
        this.#loaded.set(name, { name, expiresAt: Infinity, inUse: 0, lastUsed: now });
      })
      .finally(() => this.#loading.delete(name));
    this.#loading.set(name, pending);
    return pending;
  }

  #evictFor(maxLoaded: number): void {
    const idle = [...this.#loaded.values()].filter((e) => e.inUse === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    while (this.#loaded.size >= maxLoaded) {
      const victim = idle.shift();
      if (!victim) return;
      this.#loaded.delete(victim.name);
    }
  }

  #dropExpired(): void {
    const now = Date.now();
    for (const entry of this.#loaded.values()) {
      if (entry.inUse === 0 && entry.expiresAt <= now) this.#loaded.delete(entry.name);
    }
  }
}
