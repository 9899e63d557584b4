import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { metricsHandler } from './metrics';

// Never reached: the refusals come first. A sample would be a resource manager's (resource-manager.test.ts).
const unread = () => Promise.reject(new Error('status must not be read'));
const services = { resources: { status: unread, schedulerStatus: unread } };
const bound = { maxWaitingJobs: 15_000 };

async function get(options: Parameters<typeof metricsHandler>[1], headers: Record<string, string> = {}) {
  const server = express().get('/metrics', metricsHandler(services, options)).listen(0, '127.0.0.1');
  try {
    await new Promise((resolve) => server.once('listening', resolve));
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, { headers });
    return { status: response.status, text: await response.text() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('/metrics access', () => {
  it('is refused in production when no METRICS_TOKEN is configured, saying what to set', async () => {
    expect(await get({ token: undefined, production: true, ...bound })).toEqual({ status: 403, text: '# set METRICS_TOKEN to read metrics in production\n' });
  });

  it('wants the bearer token when one is configured', async () => {
    const options = { token: 'a-metrics-token-of-some-length', production: false, ...bound };
    expect((await get(options)).status).toBe(401);
    expect((await get(options, { authorization: 'Bearer wrong-token-of-some-length' })).status).toBe(401);
  });
});
