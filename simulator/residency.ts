import { defaultKeepAliveMs } from './keep-alive';

export interface LoadedModel {
  name: string;
  /** Infinity when kept loaded forever (keep_alive < 0). */
  expiresAt: number;
}

interface Entry extends LoadedModel {
  inUse: number;
  /** The keep_alive of its last request (Ollama's sessionDuration), Infinity = forever. */
  keepAliveMs: number;
}

export type Sleep = (ms: number) => Promise<void>;

/**
 * Which models sit in (simulated) GPU memory. Loading costs time once per model; concurrent
 * requests for a model being loaded wait for that one load. Idle models expire after their
 * keep-alive; past maxLoadedModels an idle model is evicted by Ollama 0.17's rule (sched.go
 * `findRunnerToUnload`): the one with the shortest keep_alive, ties by name (Ollama: by model file
 * path, which a client cannot see). When every loaded model is busy the simulator over-commits
 * instead of waiting for one to go idle, as real Ollama would.
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
    this.#loaded.get(name)!.inUse++;
    return performance.now() - started;
  }

  release(name: string, keepAliveMs: number): void {
    const entry = this.#loaded.get(name);
    if (!entry) return;
    entry.inUse = Math.max(0, entry.inUse - 1);
    entry.keepAliveMs = keepAliveMs < 0 ? Infinity : keepAliveMs;
    entry.expiresAt = Date.now() + entry.keepAliveMs;
    this.#dropExpired();
  }

  /** As /api/ps lists them: latest expiry first. */
  list(): LoadedModel[] {
    this.#dropExpired();
    return [...this.#loaded.values()].map(({ name, expiresAt }) => ({ name, expiresAt })).sort((a, b) => b.expiresAt - a.expiresAt);
  }

  #load(name: string, loadMs: number, maxLoaded: number): Promise<void> {
    this.#loads++;
    const pending = this.sleep(loadMs)
      .then(() => {
        this.#evictFor(maxLoaded);
        // Listed while in use with the default keep-alive's expiry, as Ollama lists a runner it just loaded.
        this.#loaded.set(name, { name, expiresAt: Date.now() + defaultKeepAliveMs, inUse: 0, keepAliveMs: defaultKeepAliveMs });
      })
      .finally(() => this.#loading.delete(name));
    this.#loading.set(name, pending);
    return pending;
  }

  #evictFor(maxLoaded: number): void {
    const idle = [...this.#loaded.values()]
      .filter((e) => e.inUse === 0)
      .sort((a, b) => a.keepAliveMs - b.keepAliveMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
