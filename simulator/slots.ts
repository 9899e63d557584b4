export interface SlotTicket {
  /** Resolves when the request may start generating. */
  granted: Promise<void>;
  /** Leaves the queue, or frees the slot once granted. Safe to call more than once. */
  release(): void;
}

/**
 * OLLAMA_NUM_PARALLEL: at most `slots` requests generate, the others wait in FIFO order without
 * bound, as requests for a loaded model wait for a runner's slot in Ollama (its OLLAMA_MAX_QUEUE
 * limits only requests waiting for a model load; see SimulatorCore).
 */
export class SlotPool {
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  /** Slot-milliseconds spent generating up to #countedAt; benchmarks derive utilisation from it. */
  #busyMs = 0;
  #countedAt: number;

  constructor(
    private readonly limits: () => { slots: number },
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#countedAt = now();
  }

  get active(): number {
    return this.#active;
  }

  /** Sum over slots of the time each was held, from when the pool was made until `now`. */
  busyMs(now = this.now()): number {
    return this.#busyMs + this.#active * (now - this.#countedAt);
  }

  #setActive(active: number): void {
    const now = this.now();
    this.#busyMs += this.#active * (now - this.#countedAt);
    this.#countedAt = now;
    this.#active = active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  request(): SlotTicket {
    let state: 'waiting' | 'granted' | 'released' = 'waiting';
    let grant!: () => void;
    const granted = new Promise<void>((resolve) => {
      grant = () => {
        state = 'granted';
        this.#setActive(this.#active + 1);
        resolve();
      };
    });
    this.#waiting.push(grant);
    this.pump();
    return {
      granted,
      release: () => {
        if (state === 'granted') {
          this.#setActive(this.#active - 1);
          this.pump();
        } else if (state === 'waiting') {
          this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        }
        state = 'released';
      },
    };
  }

  /** Grants waiting requests while slots are free; also called when the slot count changes. */
  pump(): void {
    while (this.#active < this.limits().slots) {
      const next = this.#waiting.shift();
      if (!next) return;
      next();
    }
  }
}
