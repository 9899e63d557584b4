import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { planCompletion, type SimMessage } from './conversation';
import { watchClient, type ClientWatch } from './client-watch';
import { parseKeepAlive } from './keep-alive';
import { sendJson } from './http';
import { defaultOptions, noFaults, resolveFaults, resolveOptions, type Faults, type SimModel, type SimulatorOptions } from './options';
import { pace } from './pace';
import { createRandom, type Random } from './random';
import { ModelResidency } from './residency';
import { abortable, untilAborted } from './signals';
import { SlotPool } from './slots';
import { sameOllamaModel } from '../server/llm/model-names';

export interface Disconnect {
  /** Date.now() when the simulator saw the client go away. */
  at: number;
  path: string;
  tokensSent: number;
}

/** One generation request, for measuring what a scheduler made of this backend's slots. */
export interface RequestRecord {
  model: string;
  /** The request's num_predict / max_tokens; null when it set none. */
  maxTokens: number | null;
  /** Epoch milliseconds (fractional) when the request arrived. */
  arrivedAt: number;
  /** When it got a slot (after any wait in the backend's own queue); null if it never did. */
  slotAt: number | null;
  /** When it was over: answered, refused, failed, cut, stalled until the client left, or the client left. */
  endedAt: number;
  outcome: 'completed' | 'refused' | 'failed' | 'cut' | 'stalled' | 'aborted';
  /**
   * SHA-256 (hex) of the whole answer its conversation has, without any prefix it continued: a
   * caller's text is whole — nothing lost or written twice across cuts and resumes — exactly when
   * its digest is this. Empty when the request never got that far (unknown model).
   */
  answerDigest: string;
}

export interface SimulatorStats {
  /** Generation requests received (chat, generate, chat completions). */
  requests: number;
  active: number;
  queued: number;
  /** Configured slots (OLLAMA_NUM_PARALLEL). */
  slots: number;
  /** Slot-milliseconds held by requests since start: utilisation = Δ slotBusyMs / (Δ clockMs × slots). */
  slotBusyMs: number;
  /** The simulator's monotonic clock when these figures were taken, so readers need not trust their own timing. */
  clockMs: number;
  rejected: number;
  errors: number;
  cuts: number;
  /** Streams that went silent mid-answer (the stallAfterTokens fault). */
  stalls: number;
  tokensStreamed: number;
  modelLoads: number;
  loadedModels: string[];
  /** Clients that went away before their answer was complete. */
  closedEarly: number;
  /** The most recent of those, oldest first. */
  disconnects: Disconnect[];
}

export interface GenerationInput {
  model: string;
  messages: SimMessage[];
  stream: boolean;
  maxTokens: number | undefined;
  keepAlive: unknown;
}

export interface Outcome {
  model: string;
  text: string;
  promptTokens: number;
  completionTokens: number;
  loadMs: number;
  promptMs: number;
  evalMs: number;
  totalMs: number;
  /** `length`: stopped by num_predict / max_tokens or a full context, not by the model. */
  doneReason: 'stop' | 'length';
}

export type Failure =
  | { kind: 'unknown_model'; model: string; available: string[] }
  | { kind: 'context_overflow'; promptTokens: number; contextWindow: number }
  | { kind: 'busy' }
  | { kind: 'server_error' };

/** How one wire protocol frames a generation; one instance per request. */
export interface Framing {
  streamContentType: string;
  tokens(tokens: readonly string[], from: number, to: number): string;
  closing(outcome: Outcome): string;
  whole(outcome: Outcome): unknown;
  failure(failure: Failure): { status: number; body: unknown };
}

const keptDisconnects = 100;
/** Enough for a long benchmark; a dev simulator running for days stays bounded. */
const keptRequests = 50_000;
const faultRandom = ({ seed, instance }: SimulatorOptions): Random => createRandom(seed + instance);

/** The digest `RequestRecord.answerDigest` holds, for callers to compare their text with. */
export const answerDigest = (text: string): string => createHash('sha256').update(text).digest('hex');
/** Sub-millisecond wall clock, comparable across processes on one machine. */
const epochNow = () => performance.timeOrigin + performance.now();

/** One simulated server: its settings, faults, capacity, loaded models and counters. */
export class SimulatorCore {
  options: SimulatorOptions;
  faults: Faults = noFaults;
  readonly slots = new SlotPool(() => this.options);
  readonly residency: ModelResidency;
  readonly #lifetime = new AbortController();
  /** Generation requests in progress, for refuseConnections and shutdown. */
  readonly #open = new Set<ClientWatch>();
  #random: Random;
  #counters = { requests: 0, rejected: 0, errors: 0, cuts: 0, stalls: 0, tokensStreamed: 0, closedEarly: 0 };
  /** Requests that arrived while their model was not loaded and whose load has not finished. */
  #awaitingLoad = 0;
  #disconnects: Disconnect[] = [];
  #requests: RequestRecord[] = [];

  constructor(options: Partial<SimulatorOptions>) {
    this.options = resolveOptions(defaultOptions, options);
    this.#random = faultRandom(this.options);
    this.residency = new ModelResidency((ms) => sleep(ms, undefined, { signal: this.#lifetime.signal }));
  }

  configure(patch: Partial<SimulatorOptions>): void {
    this.options = resolveOptions(this.options, patch);
    if (patch.seed !== undefined || patch.instance !== undefined) this.#random = faultRandom(this.options);
    this.slots.pump();
  }

  setFaults(patch: Partial<Faults>): void {
    this.faults = resolveFaults(this.faults, patch);
    if (this.faults.refuseConnections) for (const watch of [...this.#open]) watch.drop();
  }

  stats(): SimulatorStats {
    // One instant for both, unrounded: utilisation over short intervals is a ratio of their deltas.
    const now = performance.now();
    return {
      ...this.#counters,
      active: this.slots.active,
      queued: this.slots.queued,
      slots: this.options.slots,
      slotBusyMs: this.slots.busyMs(now),
      clockMs: now,
      modelLoads: this.residency.loads,
      loadedModels: this.residency.list().map((m) => m.name),
      disconnects: [...this.#disconnects],
    };
  }

  /** The most recent generation requests, oldest first. */
  requests(): RequestRecord[] {
    return [...this.#requests];
  }

  findModel(name: string): SimModel | undefined {
    const same = this.options.server === 'openai' ? (a: string, b: string) => a === b : sameOllamaModel;
    return this.options.models.find((m) => same(m.name, name));
  }

  /** Stops every timer and pending request; the HTTP server closes the sockets. */
  shutdown(): void {
    this.#lifetime.abort();
    for (const watch of [...this.#open]) watch.stop();
  }

  async generate(req: IncomingMessage, res: ServerResponse, input: GenerationInput, framing: Framing): Promise<void> {
    const record: RequestRecord = {
      model: input.model,
      maxTokens: input.maxTokens ?? null,
      arrivedAt: epochNow(),
      slotAt: null,
      endedAt: 0,
      outcome: 'failed',
      answerDigest: '',
    };
    try {
      await this.#generate(req, res, input, framing, record);
    } finally {
      record.endedAt = epochNow();
      this.#requests.push(record);
      if (this.#requests.length > keptRequests) this.#requests.shift();
    }
  }

  async #generate(req: IncomingMessage, res: ServerResponse, input: GenerationInput, framing: Framing, record: RequestRecord): Promise<void> {
    const arrived = performance.now();
    this.#counters.requests++;
    const fail = (failure: Failure) => {
      const { status, body } = framing.failure(failure);
      sendJson(res, status, body);
    };
    const model = this.findModel(input.model);
    if (!model) return fail({ kind: 'unknown_model', model: input.model, available: this.options.models.map((m) => m.name) });
    const { options, faults } = this;
    const plan = planCompletion(options.seed, input.messages, (asked) => (model.endless ? Math.max(1, model.contextWindow - asked) : options.outputTokens));
    record.answerDigest = answerDigest(plan.whole);
    const tokens = plan.tokens.slice(0, input.maxTokens);
    const doneReason = tokens.length < plan.tokens.length || model.endless ? 'length' : 'stop';
    if (plan.promptTokens > model.contextWindow) {
      return fail({ kind: 'context_overflow', promptTokens: plan.promptTokens, contextWindow: model.contextWindow });
    }
    if (this.#random() < faults.errorRate) {
      this.#counters.errors++;
      return fail({ kind: 'server_error' });
    }
    const client = this.#watch(req, res);
    try {
      if (faults.hang) return await untilAborted(client.signal);
      // Ollama's scheduler queues only requests whose model is not loaded: one it is loading for
      // plus OLLAMA_MAX_QUEUE waiting; beyond that, 503. A request for a loaded model skips that
      // queue and waits for a slot without bound.
      let awaitsLoad = !this.residency.list().some((m) => m.name === model.name);
      if (awaitsLoad && this.#awaitingLoad > options.maxQueue) {
        this.#counters.rejected++;
        record.outcome = 'refused';
        return fail({ kind: 'busy' });
      }
      if (awaitsLoad) this.#awaitingLoad++;
      const loaded = () => {
        if (awaitsLoad) this.#awaitingLoad--;
        awaitsLoad = false;
      };
      const ticket = this.slots.request();
      try {
        await abortable(ticket.granted, client.signal);
        record.slotAt = epochNow();
        const keepAliveMs = parseKeepAlive(input.keepAlive);
        const loading = this.residency.acquire(model.name, options.modelLoadMs * faults.slowdownFactor, options.maxLoadedModels);
        const loadMs = await abortable(loading, client.signal).catch((err: unknown) => {
          loading.then(() => this.residency.release(model.name, keepAliveMs), () => {});
          throw err;
        });
        loaded();
        try {
          // The pace in force when generation starts, not when the request arrived: a request
          // that waited in the queue runs at the speed the server has now.
          const pace = this.options;
          const slowdown = this.faults.slowdownFactor;
          const promptMs = pace.timeToFirstTokenMs * slowdown;
          await sleep(promptMs, undefined, { signal: client.signal });
          const intervalMs = (1000 / pace.tokensPerSecond) * slowdown;
          const cutAt = this.#cutPoint(tokens.length);
          const { stallAfterTokens } = this.faults;
          const stallAt = input.stream && stallAfterTokens !== null && stallAfterTokens < tokens.length ? stallAfterTokens : null;
          const evalStart = performance.now();
          const sent = await this.#emit(res, input.stream, framing, tokens, Math.min(tokens.length, cutAt ?? Infinity, stallAt ?? Infinity), intervalMs, client);
          if (client.signal.aborted) return;
          if (stallAt !== null) {
            record.outcome = 'stalled';
            this.#counters.stalls++;
            // The status line and headers go out even when no token does: the server answered, then fell silent.
            res.flushHeaders();
            return await untilAborted(client.signal);
          }
          if (cutAt !== null) {
            record.outcome = 'cut';
            return this.#cut(res, input.stream, client);
          }
          record.outcome = 'completed';
          const evalMs = performance.now() - evalStart;
          const outcome: Outcome = {
            model: input.model,
            text: input.stream ? '' : tokens.join(''),
            promptTokens: plan.promptTokens,
            completionTokens: sent,
            loadMs,
            promptMs,
            evalMs,
            totalMs: performance.now() - arrived,
            doneReason,
          };
          if (input.stream) res.end(framing.closing(outcome));
          else sendJson(res, 200, framing.whole(outcome));
        } finally {
          this.residency.release(model.name, keepAliveMs);
        }
      } finally {
        ticket.release();
        loaded();
      }
    } catch (err) {
      if (!client.signal.aborted) throw err;
    } finally {
      if (client.signal.aborted && record.outcome === 'failed') record.outcome = 'aborted';
      client.dispose();
    }
  }

  /** Tokens to send before cutting the stream (the final object is never sent), or null. */
  #cutPoint(total: number): number | null {
    const { cutAfterTokens, cutRate } = this.faults;
    if (cutAfterTokens !== null) return cutAfterTokens <= total ? cutAfterTokens : null;
    if (total > 1 && this.#random() < cutRate) return 1 + Math.floor(this.#random() * (total - 1));
    return null;
  }

  async #emit(
    res: ServerResponse,
    stream: boolean,
    framing: Framing,
    tokens: readonly string[],
    stopAt: number,
    intervalMs: number,
    client: ClientWatch,
  ): Promise<number> {
    if (!stream) return pace(stopAt, intervalMs, client.signal, () => {});
    res.writeHead(200, { 'Content-Type': framing.streamContentType, 'Cache-Control': 'no-cache' });
    return pace(stopAt, intervalMs, client.signal, (from, to) => {
      res.write(framing.tokens(tokens, from, to));
      client.tokensSent += to - from;
      this.#counters.tokensStreamed += to - from;
    });
  }

  #cut(res: ServerResponse, stream: boolean, client: ClientWatch): void {
    this.#counters.cuts++;
    if (!stream) client.drop();
    else if (this.faults.cutMode === 'end') res.end();
    // Destroying at once would discard the tokens still in the socket buffer.
    else res.write('', () => client.drop());
  }

  #watch(req: IncomingMessage, res: ServerResponse): ClientWatch {
    const watch = watchClient(res, (tokensSent) => {
      this.#counters.closedEarly++;
      this.#disconnects.push({ at: Date.now(), path: req.url ?? '', tokensSent });
      if (this.#disconnects.length > keptDisconnects) this.#disconnects.shift();
    });
    this.#open.add(watch);
    watch.signal.addEventListener('abort', () => this.#open.delete(watch), { once: true });
    return watch;
  }
}
