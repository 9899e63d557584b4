import type { IncomingMessage, ServerResponse } from 'node:http';

const maxBodyBytes = 16 * 1024 * 1024;

export class BodyError extends Error {}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new BodyError('request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError('invalid JSON in request body');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** JSON string literal for a token; tokens repeat a lot, so their encodings are memoised. */
const encoded = new Map<string, string>();
export function jsonString(text: string): string {
  let hit = encoded.get(text);
  if (hit === undefined) {
    hit = JSON.stringify(text);
    if (encoded.size < 50_000) encoded.set(text, hit);
  }
  return hit;
}
