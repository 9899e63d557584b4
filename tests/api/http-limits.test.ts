import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password';
import { createPrisma } from '../../server/db/client';
import { MAX_BATCH_CALLS } from '../../server/http/trpc';
import { useTestDatabase } from '../support/db';
import { useWebProcess } from '../support/web-process';

/** Body and batch limits, the origin check and security headers, on the real web process. */

const db = useTestDatabase();
const web = useWebProcess(() => db.url);

const TEN_MB = new Uint8Array(10 * 1024 * 1024).fill(0x61);

async function signIn(): Promise<string> {
  const prisma = createPrisma(db.url);
  const email = `limits-${Date.now()}@example.com`;
  await prisma.user.create({ data: { name: 'Limits', email, passwordHash: await hashPassword('limits-password-1') } });
  await prisma.$disconnect();
  const response = await fetch(`${web.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: web.url },
    body: new URLSearchParams({ email, password: 'limits-password-1' }),
  });
  expect(response.status).toBe(302);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

const healthy = async () => (await fetch(`${web.url}/healthz`)).status;

describe('body limits', () => {
  it('answers a 10 MB sign-in form 413 at once, and keeps serving', async () => {
    const response = await fetch(`${web.url}/login`, {
      method: 'POST',
      headers: { origin: web.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: TEN_MB,
    });
    expect(response.status).toBe(413);
    expect(await response.text()).toBe('The request is too large: at most 256 KB.');
    expect(await healthy()).toBe(200);
    expect((await fetch(`${web.url}/login`)).status).toBe(200);
  });

  it('answers a 10 MB jobs.submit 413 in tRPC’s shape, and lets a big-but-allowed body reach validation', async () => {
    const cookie = await signIn();
    const headers = { origin: web.url, cookie, 'content-type': 'application/json' };
    const tooLarge = await fetch(`${web.url}/trpc/jobs.submit`, { method: 'POST', headers, body: TEN_MB });
    expect(tooLarge.status).toBe(413);
    const body = (await tooLarge.json()) as { error: { json: { message: string; data: { code: string } } } };
    expect(body.error.json.message).toBe('The request is too large: at most 650 KB.');
    expect(body.error.json.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await healthy()).toBe(200);

    // 300 KB is over the default limit but within the submit one: refused by the input's rule, with its field.
    const input = { json: { projectId: '00000000-0000-4000-8000-000000000000', requirements: 'x'.repeat(300_000), clientKey: 'client-key-1' } };
    const long = await fetch(`${web.url}/trpc/jobs.submit`, { method: 'POST', headers, body: JSON.stringify(input) });
    expect(long.status).toBe(400);
    expect(JSON.stringify(await long.json())).toContain('"fieldErrors":{"requirements"');
  });

  it('refuses a body of unknown length rather than reading it to the end', async () => {
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('email=a%40b.c&password=x'));
        controller.close();
      },
    });
    const response = await fetch(`${web.url}/login`, { method: 'POST', headers: { origin: web.url }, body: chunks, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(411);
  });

  it(`refuses a batch of 1,000 calls before running any; ${MAX_BATCH_CALLS} go through`, async () => {
    const cookie = await signIn();
    const batch = (n: number) =>
      fetch(`${web.url}/trpc/${Array(n).fill('teams.list').join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify({}))}`, { headers: { cookie } });
    const refused = await batch(1000);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain(`Too many calls in one batch: at most ${MAX_BATCH_CALLS}.`);
    const served = await batch(MAX_BATCH_CALLS);
    expect(served.status).toBe(200);
    expect(((await served.json()) as unknown[]).length).toBe(MAX_BATCH_CALLS);
  });
});

describe('origin check', () => {
  it('refuses a signed-in state change that names no origin, or another one; accepts its own', async () => {
    const cookie = await signIn();
    const logout = (headers: Record<string, string>) => fetch(`${web.url}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, ...headers } });
    expect((await logout({})).status).toBe(403);
    expect((await logout({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await logout({ origin: 'null' })).status).toBe(403);
    expect((await logout({ referer: 'https://evil.example/page' })).status).toBe(403);
    expect((await logout({ origin: web.url })).status).toBe(302);
  });
});

describe('security headers', () => {
  it('sends a CSP whose nonce is on every script of the page, and forbids framing and sniffing', async () => {
    const response = await fetch(`${web.url}/login`);
    const csp = response.headers.get('content-security-policy')!;
    const nonce = /script-src 'self' 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    // Served over plain http without PUBLIC_URL: no HSTS (it would pin a site that has no TLS).
    expect(response.headers.get('strict-transport-security')).toBeNull();
    const scripts = (await response.text()).match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    // A fresh nonce per response.
    expect((await fetch(`${web.url}/login`)).headers.get('content-security-policy')).not.toContain(nonce);
  });
});

describe('configured for https (PUBLIC_URL behind a TLS proxy)', () => {
  const publicUrl = 'https://switchyard.example.test';
  const secureWeb = useWebProcess(() => db.url, { PUBLIC_URL: publicUrl });

  it('sends HSTS, marks the session cookie Secure, and accepts only the public origin', async () => {
    const page = await fetch(`${secureWeb.url}/login`);
    expect(page.headers.get('strict-transport-security')).toBe('max-age=31536000');

    const prisma = createPrisma(db.url);
    const email = `secure-${Date.now()}@example.com`;
    await prisma.user.create({ data: { name: 'Secure', email, passwordHash: await hashPassword('secure-password-1') } });
    await prisma.$disconnect();
    // As the TLS proxy forwards it: plain http, the public host in X-Forwarded-Host.
    const signIn = (origin: string) =>
      fetch(`${secureWeb.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin, 'x-forwarded-host': new URL(publicUrl).host },
        body: new URLSearchParams({ email, password: 'secure-password-1' }),
      });
    expect((await signIn(secureWeb.url)).status).toBe(403);
    const response = await signIn(publicUrl);
    expect(response.status).toBe(302);
    const cookies = response.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('sy_session='))).toMatch(/; Secure/);
    expect(cookies.find((c) => c.startsWith('sy_device='))).toMatch(/; Secure/);
  });
});
