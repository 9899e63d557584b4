import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { UrlAllowlist } from '../net/allowlist';

export interface PostResult {
  /** The receiver's status; null when it never answered. */
  statusCode: number | null;
  error: string | null;
}

/** A receiver's answer is read no further than this: only its status matters. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs a webhook's body. The URL passes the allow-list first, and the connection is made to an
 * address the allow-list admits at connection time (the lookup below), so a name re-pointed at an
 * internal address after the webhook was saved cannot reach it. Redirects are not followed:
 * a 3xx is an answer like any other non-2xx.
 */
export async function postWebhook(
  allowlist: UrlAllowlist,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<PostResult> {
  const checked = await allowlist.check(url);
  if (!checked.ok) return { statusCode: null, error: checked.reason };
  const guardedLookup: LookupFunction = (hostname, options, callback) => {
    lookup(hostname, { all: true, verbatim: true }).then(
      (found) => {
        const refused = allowlist.refusal(hostname, found.map((a) => a.address));
        if (refused) return callback(new Error(refused), '', 0);
        const wanted = options.family === 6 || options.family === 4 ? found.filter((a) => a.family === options.family) : found;
        const first = (wanted[0] ?? found[0])!;
        if (options.all) (callback as unknown as (e: null, a: typeof found) => void)(null, found);
        else callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, '', 0),
    );
  };
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    const request = transport.request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body).toString(), ...headers },
        lookup: guardedLookup,
        timeout: timeoutMs,
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) response.destroy();
        });
        response.on('close', () => resolve({ statusCode: response.statusCode ?? null, error: null }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ statusCode: null, error: error.message }));
    request.end(body);
  });
}
