import { Client } from '@temporalio/client';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../server/auth/session';
import { temporalCodecHandler } from '../../server/http/temporal-codec';
import { ENCRYPTED_ENCODING, payloadToJson, type JsonPayload } from '../../server/temporal/codec';
import { jobWorkflowId } from '../../workflows/definitions';
import { useJobStack } from '../support/job-stack';
import { testPayloadCodec } from '../support/temporal';
import { until } from '../support/until';

/**
 * What the Temporal server keeps of a job — read as anyone with access to Temporal (its UI, its
 * database) reads it, with no codec — holds no prompt and no output; an admin decodes it through
 * the codec server the Temporal UI is configured with.
 */

const { temporal, stack } = useJobStack({
  simulators: [{ tokensPerSecond: 400, timeToFirstTokenMs: 20, modelLoadMs: 0, outputTokens: 40 }],
});
const UI_ORIGIN = 'http://127.0.0.1:8080';
let codecUrl: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const app = express().use('/api/temporal-codec', temporalCodecHandler({ sessions: stack.services.sessions, codec: testPayloadCodec, uiOrigin: UI_ORIGIN }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  codecUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/temporal-codec`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(async () => close?.());

/** Every bytes field of a history (payload data and metadata), as text. */
function payloadTexts(value: unknown, found: string[] = []): string[] {
  if (value instanceof Uint8Array) found.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const item of value) payloadTexts(item, found);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) payloadTexts(item, found);
  return found;
}

/** The payloads of a history, as the Temporal UI sends them to a codec server. */
function payloadsOf(value: unknown, found: JsonPayload[] = []): JsonPayload[] {
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const candidate = value as { metadata?: unknown; data?: unknown };
    if (candidate.metadata && candidate.data instanceof Uint8Array) found.push(payloadToJson(candidate as Parameters<typeof payloadToJson>[0]));
    else for (const item of Object.values(value)) payloadsOf(item, found);
  }
  return found;
}

const decode = (payloads: JsonPayload[], headers: Record<string, string>) =>
  fetch(`${codecUrl}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify({ payloads }) });

describe('payload encryption', () => {
  let payloads: JsonPayload[];
  const marker = `parse ISO dates for team ${randomUUID()}`;
  let output: string;

  it('leaves no plaintext prompt or output in a completed job’s Temporal history', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    const job = await demo.caller.jobs.submit({ projectId: project.id, requirements: `Write a function to ${marker}`, clientKey: randomUUID(), priority: 'normal' });
    const done = await until(async () => {
      const row = await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id }, select: { status: true, output: true } });
      return row.status === 'completed' && row;
    }, 'the job to complete');
    output = done.output;
    expect(output.length).toBeGreaterThan(20);

    // The raw client: a connection to Temporal and no codec, as its UI or database has it.
    const raw = new Client({ connection: temporal.connection, namespace: temporal.namespace });
    const history = await raw.workflow.getHandle(jobWorkflowId(job.id)).fetchHistory();
    const texts = payloadTexts(history);
    expect(texts.length).toBeGreaterThan(10);
    for (const secret of [marker, output.slice(0, 20), 'Write a function']) {
      expect(texts.some((t) => t.includes(secret)), `the history holds "${secret}"`).toBe(false);
    }
    payloads = payloadsOf(history);
    expect(payloads.length).toBeGreaterThan(5);
    // Sealed, all but the SDK's own local-activity markers (ids and timings; the results they wrap are sealed).
    const unsealed = payloads.filter((p) => Buffer.from(p.metadata!.encoding ?? '', 'base64').toString() !== ENCRYPTED_ENCODING);
    expect(unsealed.length).toBeLessThan(payloads.length / 2);
    for (const p of unsealed) expect(JSON.parse(Buffer.from(p.data!, 'base64').toString())).toHaveProperty('activity_type');
  }, 90_000);

  it('decodes those payloads through the codec server for an admin of the UI’s origin, and for nobody else', async () => {
    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const asAdmin = { cookie: `${SESSION_COOKIE}=${admin.token}`, origin: UI_ORIGIN };

    const preflight = await fetch(`${codecUrl}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(Object.fromEntries(['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-headers'].map((h) => [h, preflight.headers.get(h)]))).toEqual({
      'access-control-allow-origin': UI_ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-headers': 'Content-Type, X-Namespace',
    });

    const decoded = await decode(payloads, asAdmin);
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const texts = ((await decoded.json()) as { payloads: JsonPayload[] }).payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString());
    expect(texts.some((t) => t.includes(marker))).toBe(true);
    expect(texts.some((t) => t.includes(output.slice(0, 20)))).toBe(true);

    expect((await decode(payloads, { origin: UI_ORIGIN })).status).toBe(401);
    expect((await decode(payloads, { cookie: `${SESSION_COOKIE}=${demo.token}`, origin: UI_ORIGIN })).status).toBe(403);
    const foreign = await decode(payloads, { ...asAdmin, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${codecUrl}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })).status).toBe(403);
    const malformed = await decode([{ metadata: { encoding: 'not base64 of anything we sealed' }, data: 7 } as unknown as JsonPayload], asAdmin);
    expect(malformed.status).toBe(400);
  });
});
