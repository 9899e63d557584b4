import http from 'node:http';

/**
 * tRPC over HTTP as the browser's client speaks it, for thousands of simulated users from one
 * process: their requests share a bounded pool of keep-alive connections (like browsers behind a
 * proxy), so the benchmark's own sockets do not become what is measured.
 */

export class CallError extends Error {
  override name = 'CallError';
  /** The tRPC error code (TOO_MANY_REQUESTS, …), an HTTP status, or a socket error code. */
  constructor(readonly kind: string, message: string) {
    super(message);
  }
}

export class TrpcHttp {
  private readonly agent: http.Agent;

  constructor(
    private readonly baseUrl: string,
    maxSockets: number,
  ) {
    // Idle sockets are dropped after 4 s, before the server's 5 s keep-alive timeout closes them
    // under a request that is just being sent on them (an ECONNRESET no user should see).
    this.agent = new http.Agent({ keepAlive: true, maxSockets, timeout: 4_000 });
  }

  /** `signal` gives up at once (the scenario ended), like a browser tab being closed. */
  mutate<T>(cookie: string, path: string, input: unknown, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    return this.call('POST', `/trpc/${path}`, cookie, JSON.stringify({ json: input }), timeoutMs, signal);
  }

  query<T>(cookie: string, path: string, input: unknown, timeoutMs: number): Promise<T> {
    return this.call('GET', `/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, cookie, undefined, timeoutMs);
  }

  close(): void {
    this.agent.destroy();
  }

  private call<T>(method: string, path: string, cookie: string, body: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const request = http.request(
        new URL(path, this.baseUrl),
        {
          method,
          agent: this.agent,
          signal,
          headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('error', (error) => reject(socketError(error)));
          response.on('end', () => {
            let parsed: { result?: { data: { json: T } }; error?: { json: { message: string; data?: { code?: string } } } };
            try {
              parsed = JSON.parse(text);
            } catch {
              return reject(new CallError(`HTTP ${response.statusCode}`, text.slice(0, 200)));
            }
            if (parsed.result) return resolve(parsed.result.data.json);
            const error = parsed.error?.json;
            reject(new CallError(error?.data?.code ?? `HTTP ${response.statusCode}`, error?.message ?? text.slice(0, 200)));
          });
        },
      );
      // Counts the wait for a pooled connection too: the user waits for it as well.
      const timer = setTimeout(() => request.destroy(new CallError('timeout', `${method} ${path} took over ${timeoutMs} ms`)), timeoutMs);
      request.on('error', (error) => reject(error instanceof CallError ? error : socketError(error)));
      request.on('close', () => clearTimeout(timer));
      request.end(body);
    });
  }
}

function socketError(error: Error): CallError {
  const code = (error as NodeJS.ErrnoException).code;
  return new CallError(code ?? 'network error', error.message);
}
