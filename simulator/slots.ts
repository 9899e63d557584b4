export interface SlotTicket {
  /** Resolves when the request may start generating. */
  granted: Promise<void>;
  /** Leaves the queue, or frees the slot once granted. Safe to call more than once. */
  release(): void;
}

/**
 * OLLAMA_NUM_PARALLEL and OLLAMA_MAX_QUEUE: at most `slots` requests generate, at most `maxQueue`
 * wait in FIFO order, anything beyond is refused at arrival.
 */
export class SlotPool {
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  /** Slot-milliseconds spent generating up to #countedAt; benchmarks derive utilisation from it. */
  #busyMs = 0;
  #countedAt: number;

  constructor(
    private readonly limits: () => { slots: number; maxQueue: number },
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

  /** null when every slot is busy and the queue is full. */
  request(): SlotTicket | null {
    const { slots, maxQueue } = this.limits();
    if (this.#active >= slots && this.#waiting.length >= maxQueue) return null;
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
