import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionUserSelect } from '../../server/auth/session';
import { createPrisma, type PrismaClient } from '../../server/db/client';
import { createServices, type Services } from '../../server/services';
import { bootstrapAdmin } from '../../server/services/bootstrap-admin';
import { createTemporalProvider } from '../../server/temporal/client';
import { payloadDataConverter } from '../../server/temporal/codec';
import { startStack, stackPolicy, type Stack } from '../../scripts/lib/stack';
import { testBackendUrls, testWebhookUrls, testKeyring } from '../support/app-stack';
import { until } from '../support/until';

/**
 * The local stack's processes under production's policy (`npm start`: no seeded account, crashed
 * processes restarted), from the sources: the production build itself would need `npm run build`.
 */

let stack: Stack;
let prisma: PrismaClient;
let services: Services;
let closeTemporal: () => Promise<void>;

beforeAll(async () => {
  stack = await startStack({ mode: 'test', ...stackPolicy('prod'), echo: false });
  prisma = createPrisma(stack.databaseUrl);
  const temporal = createTemporalProvider({
    address: stack.temporalAddress,
    namespace: stack.temporalNamespace,
    taskQueue: stack.taskQueue,
    dataConverter: payloadDataConverter(stack.encryptionKeys),
  });
  closeTemporal = () => temporal.close();
  services = createServices({
    prisma,
    temporal,
    sessionSecret: 'test-session-secret-of-at-least-32-chars',
    defaultModel: 'qwen2.5-coder:7b',
    temporalUiUrl: 'http://localhost:8233',
    maxTeamsPerUser: 0,
    keyring: testKeyring,
    backendUrls: testBackendUrls,
    webhookUrls: testWebhookUrls,
  });
}, 300_000);

afterAll(async () => {
  await closeTemporal?.();
  await prisma?.$disconnect();
  await stack?.stop();
}, 60_000);

describe('a production-policy stack', () => {
  it('starts with no account at all: the demo admin’s known password signs nobody in', async () => {
    expect(stackPolicy('prod')).toEqual({ demoData: false, restartCrashed: true });
    expect(stack.demoData).toBe(false);
    expect(await prisma.user.count()).toBe(0);
    expect(await prisma.tier.count()).toBeGreaterThan(0);
    const signIn = await fetch(`${stack.webUrl}/login`, {
      method: 'POST',
      body: new URLSearchParams({ email: 'admin@switchyard.dev', password: 'admin-password' }),
      redirect: 'manual',
    });
    expect(signIn.headers.get('set-cookie') ?? '').not.toContain('sy_session=');
    expect(await signIn.text()).toContain('Wrong email or password.');
  });

  it('restarts a killed worker while the web keeps answering, and the job it ran completes', async () => {
    const { id } = await bootstrapAdmin(prisma, { email: 'ops@example.com', name: 'Ops', password: 'a long admin password' });
    const admin = await prisma.user.findUniqueOrThrow({ where: { id }, select: sessionUserSelect });
    const team = await services.teams.create(admin, 'Operations');
    const project = await services.teams.createProject(admin, team.id, { name: 'Restarts', description: '' });
    const job = await services.jobs.submit(admin, { projectId: project.id, requirements: 'A function that survives a worker crash', clientKey: randomUUID(), priority: 'normal' });

    const web = stack.supervisor.child('web')!;
    const killed = stack.supervisor.child('worker')!;
    process.kill(-killed.pid!, 'SIGKILL');
    await killed.exited;

    // While the worker is down and starting again, the web answers every time it is asked.
    const health: number[] = [];
    const restarted = await until(async () => {
      health.push((await fetch(`${stack.webUrl}/healthz`)).status);
      const current = stack.supervisor.child('worker');
      return current !== killed && current?.recentOutput().includes('worker ready') && current;
    }, 'the worker to be started again and ready', 180_000);
    expect(restarted.pid).not.toBe(killed.pid);
    expect(health.length).toBeGreaterThan(0);
    expect(health.every((status) => status === 200)).toBe(true);

    await until(async () => (await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'completed', 'the job to complete on the restarted worker', 180_000);
    expect(stack.supervisor.child('web')).toBe(web);
    expect(web.running).toBe(true);
    expect(stack.supervisor.failed).toBeUndefined();
  }, 400_000);
});
