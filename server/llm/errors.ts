export type BackendErrorCode =
  | 'unknown_model'
  | 'context_overflow'
  | 'bad_request'
  | 'busy'
  | 'unavailable'
  | 'server_error'
  | 'timeout'
  | 'stream_cut'
  | 'aborted';

const retryableByDefault: Record<BackendErrorCode, boolean> = {
  unknown_model: false,
  context_overflow: false,
  bad_request: false,
  busy: true,
  unavailable: true,
  server_error: true,
  timeout: true,
  stream_cut: true,
  aborted: false,
};

export interface BackendErrorOptions {
  retryable?: boolean;
  /** HTTP status of the response that caused it, when there was one. */
  status?: number;
  cause?: unknown;
}

/** Every failure of an LlmBackend call; `retryable` says whether another attempt can succeed. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  readonly code: BackendErrorCode;
  readonly retryable: boolean;
  readonly status: number | undefined;

  constructor(code: BackendErrorCode, message: string, options: BackendErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? retryableByDefault[code];
    this.status = options.status;
  }
}

export function unknownModelError(model: string, available: readonly string[]): BackendError {
  const list = available.length > 0 ? available.join(', ') : 'none';
  return new BackendError('unknown_model', `Model "${model}" is not available on this backend (available: ${list}).`, { status: 404 });
}

export function contextOverflowError(model: string, promptTokens: number, contextWindow: number): BackendError {
  return new BackendError(
    'context_overflow',
    `Prompt of about ${promptTokens} tokens does not fit the ${contextWindow}-token context window of "${model}".`,
    { status: 400 },
  );
}

/** Where the call was when it failed: a dropped connection mid-answer is a cut stream. */
export type CallPhase = 'request' | 'stream';

const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const droppedCodes = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const timeoutCodes = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Maps whatever the ollama/openai clients or fetch threw to a BackendError: HTTP statuses
 * (4xx final, 429/5xx retryable), socket and DNS failures, timeouts and aborts.
 */
export function classifyError(err: unknown, phase: CallPhase = 'request'): BackendError {
  if (err instanceof BackendError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const chain = causes(err);
  if (chain.some((e) => e.name === 'AbortError' || e.name === 'APIUserAbortError')) {
    return new BackendError('aborted', 'The request was cancelled.', { cause: err });
  }
  if (chain.some((e) => e.name === 'TimeoutError' || e.name === 'APIConnectionTimeoutError' || timeoutCodes.has(codeOf(e)))) {
    return new BackendError('timeout', `The backend did not answer in time (${message}).`, { cause: err });
  }
  const status = statusOf(err);
  if (status !== undefined) return fromStatus(status, message, err);
  const code = chain.map(codeOf).find((c) => c !== '');
  if (code && unreachableCodes.has(code)) {
    return new BackendError('unavailable', `The backend is unreachable (${code}).`, { cause: err });
  }
  const dropped = (code !== undefined && droppedCodes.has(code)) || message === 'terminated';
  if (phase === 'stream' && (dropped || /did not receive done/i.test(message))) {
    return new BackendError('stream_cut', `The answer stream ended before it was complete (${code ?? message}).`, { cause: err });
  }
  if (dropped || err instanceof TypeError || chain.some((e) => e.name === 'APIConnectionError')) {
    return new BackendError('unavailable', `Could not talk to the backend (${code ?? message}).`, { cause: err });
  }
  return new BackendError('server_error', message, { cause: err });
}

function fromStatus(status: number, message: string, cause: unknown): BackendError {
  const details = { status, cause };
  const apiCode = (cause as { code?: unknown }).code;
  if (status === 400 && (apiCode === 'context_length_exceeded' || /context length|too long|context window/i.test(message))) {
    return new BackendError('context_overflow', message, details);
  }
  if (status === 404 && (apiCode === 'model_not_found' || /model/i.test(message))) {
    return new BackendError('unknown_model', message, details);
  }
  if (status === 401 || status === 403) {
    return new BackendError('bad_request', `The backend refused the credentials (${status}): ${message}`, details);
  }
  if (status === 408) return new BackendError('timeout', message, details);
  if (status === 429 || status === 503) return new BackendError('busy', message, details);
  if (status === 502 || status === 504) return new BackendError('unavailable', message, details);
  if (status >= 500) return new BackendError('server_error', message, details);
  return new BackendError('bad_request', message, details);
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, status_code: statusCode } = err as { status?: unknown; status_code?: unknown };
  if (typeof status === 'number') return status;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

function causes(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  return chain;
}

function codeOf(e: Error): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}
