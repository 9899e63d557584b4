import type { ServerResponse } from 'node:http';

export interface ClientWatch {
  /** Aborts when the request is over early: the client left, or the simulator ended it. */
  signal: AbortSignal;
  tokensSent: number;
  /** Ends the request without counting it as a client abort. */
  stop(): void;
  /** Closes the connection without counting it as a client abort. */
  drop(): void;
  /** The request is finished; nothing more to watch. */
  dispose(): void;
}

/** Notices a client that goes away before its answer is complete (the response closes unfinished). */
export function watchClient(res: ServerResponse, onClientGone: (tokensSent: number) => void): ClientWatch {
  const controller = new AbortController();
  let serverClosing = false;
  const onClose = () => {
    if (res.writableFinished) return;
    if (!serverClosing) onClientGone(watch.tokensSent);
    controller.abort();
  };
  const watch: ClientWatch = {
    signal: controller.signal,
    tokensSent: 0,
    stop: () => {
      serverClosing = true;
      controller.abort();
    },
    drop: () => {
      serverClosing = true;
      res.destroy();
    },
    dispose: () => {
      res.off('close', onClose);
      controller.abort();
    },
  };
  res.on('close', onClose);
  return watch;
}
