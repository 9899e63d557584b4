/**
 * Collects streamed text and hands it on in batches, so a job streaming 50 tokens/s costs a
 * dozen socket messages a second instead of fifty. Batches go out on a clock shared by every
 * batcher in the process (multiples of the interval since the epoch), so the batches of all the
 * jobs a worker streams leave together and the publisher relays them in one message.
 */
export class TextBatcher {
  private pending = '';
  private offset: number;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    startOffset: number,
    private readonly intervalMs: number,
    private readonly send: (offset: number, text: string) => void,
  ) {
    this.offset = startOffset;
  }

  push(text: string): void {
    this.pending += text;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs - (Date.now() % this.intervalMs));
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.send(this.offset, text);
    this.offset += text.length;
  }
}
