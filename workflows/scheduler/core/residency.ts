import type { BackendState, SchedulerState } from './types';

/**
 * What an Ollama backend holds in memory, as the scheduler models it between two reads of its
 * `/api/ps`. The resource loop reads every backend each tick (`applyResidency`); in between, each
 * grant loads its model (`loadModel`), evicting past the backend's limits.
 *
 * Limits: at most `maxLoadedModels` models (OLLAMA_MAX_LOADED_MODELS), and, when a memory budget is
 * known, loaded sizes summing to at most that budget — the admin's `memoryBudgetMb`, else the
 * largest total the backend was seen holding at once (a lower bound of its memory, learned).
 *
 * Eviction: Ollama unloads the idle runner with the shortest keep_alive, ties broken by the model
 * file's path (sched.go `findRunnerToUnload`). Switchyard sends one keep_alive for every request,
 * and a client cannot see the file path, so the prediction is the least recently used model; the
 * next read of `/api/ps` corrects it where Ollama chose otherwise.
 */

/** The residency fields of a backend (BackendState and the planner's copy share them). */
export interface Residency {
  /** Most recently used first. */
  loaded: string[];
  maxLoaded: number;
  /** 0: no memory limit known; only the count applies. */
  budgetMb: number;
  /** Memory a model takes when loaded, by catalogue name; unknown models count 0. */
  sizesMb: Record<string, number>;
}

/** One backend as the resource loop read it: catalogue names, mapped from Ollama's concrete ones. */
export interface ResidencyReport {
  backendId: string;
  /** Present on the backend (/api/tags): what it can serve. */
  models: string[];
  /** Loaded (/api/ps), most recently used first (Ollama lists the latest expiry first). */
  loaded: string[];
  /** Memory each model takes: /api/ps `size` for loaded ones, an estimate from /api/tags for the others. */
  sizesMb: Record<string, number>;
}

export function residencyOf(backend: BackendState): Residency {
  return { loaded: backend.loadedModels, maxLoaded: backend.maxLoadedModels, budgetMb: memoryBudgetMb(backend), sizesMb: backend.modelSizesMb };
}

/** The configured budget, else the learned one, else none (0). */
export function memoryBudgetMb(backend: Pick<BackendState, 'memoryBudgetMb' | 'peakLoadedMb'>): number {
  return backend.memoryBudgetMb > 0 ? backend.memoryBudgetMb : backend.peakLoadedMb;
}

const usedMb = (r: Residency, models: readonly string[]) => models.reduce((sum, model) => sum + (r.sizesMb[model] ?? 0), 0);

/** Whether `model` can be loaded beside everything loaded now, with no eviction. */
export function fitsBeside(r: Residency, model: string): boolean {
  if (r.loaded.includes(model)) return true;
  if (r.loaded.length >= Math.max(1, r.maxLoaded)) return false;
  return r.budgetMb <= 0 || usedMb(r, r.loaded) + (r.sizesMb[model] ?? 0) <= r.budgetMb;
}

/**
 * 0: loaded; 1: loads beside the others; 2: loads only by evicting another model (which another
 * job may be using, and which the next job of that model must load again).
 */
export function switchCost(r: Residency, model: string): 0 | 1 | 2 {
  if (r.loaded.includes(model)) return 0;
  return fitsBeside(r, model) ? 1 : 2;
}

/**
 * `model` becomes the most recently used; the least recently used others are evicted while the
 * count or the memory is past the limits. Returns the evicted models. A model bigger than the
 * whole budget still loads (alone), as Ollama then loads it partly on the CPU.
 */
export function loadModel(r: Residency, model: string): string[] {
  const at = r.loaded.indexOf(model);
  if (at === 0 && r.loaded.length <= Math.max(1, r.maxLoaded)) return [];
  if (at > 0) r.loaded.splice(at, 1);
  if (at !== 0) r.loaded.unshift(model);
  const evicted: string[] = [];
  const over = () => r.loaded.length > Math.max(1, r.maxLoaded) || (r.budgetMb > 0 && usedMb(r, r.loaded) > r.budgetMb);
  while (r.loaded.length > 1 && over()) evicted.push(r.loaded.pop()!);
  return evicted;
}

/**
 * The resource loop's read of one backend replaces the scheduler's guess: served models, loaded
 * models and their sizes, and the learned memory budget. Models of leases running there stay
 * loaded (a load the read did not see yet; a running request keeps its model in Ollama).
 * Returns whether anything the planner uses changed.
 */
export function applyResidency(state: SchedulerState, report: ResidencyReport): boolean {
  const backend = state.backends[report.backendId];
  if (!backend || backend.kind !== 'ollama') return false;
  const inUse = Object.values(state.leases)
    .filter((lease) => lease.backendId === backend.id)
    .map((lease) => lease.model);
  // The scheduler's order among models it still sees loaded: it knows the grants since the read.
  const kept = backend.loadedModels.filter((model) => report.loaded.includes(model) || inUse.includes(model));
  const loaded = [...kept, ...report.loaded.filter((model) => !kept.includes(model))];
  const peak = Math.max(backend.peakLoadedMb, report.loaded.reduce((sum, model) => sum + (report.sizesMb[model] ?? 0), 0));
  const changed =
    !sameList(backend.models, report.models) ||
    !sameList([...backend.loadedModels].sort(), [...loaded].sort()) ||
    !sameSizes(backend.modelSizesMb, report.sizesMb) ||
    peak !== backend.peakLoadedMb;
  backend.models = [...report.models];
  backend.loadedModels = loaded;
  backend.modelSizesMb = { ...report.sizesMb };
  backend.peakLoadedMb = peak;
  return changed;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function sameSizes(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
