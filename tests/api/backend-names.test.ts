import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppStack, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';

/** A job's backend and error: admins see the address, everyone else the backend's name. */

const db = useTestDatabase({ seed: true });
let stack: AppStack;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
});

afterAll(async () => {
  await stack?.stop();
});

const ID = 'ollama@10.1.2.3:11434';
const ERROR = `${ID}: connect ECONNREFUSED 10.1.2.3:11434 (http://10.1.2.3:11434/api/chat); then gpu7.internal:11434 timed out`;

describe('backend names in jobs.get', () => {
  it('shows a member the pool and an ordinal for an unnamed backend, its name once named, and no address in the error; an admin sees all', async () => {
    await stack.prisma.backend.create({ data: { id: ID, kind: 'ollama', name: '10.1.2.3:11434', url: 'http://10.1.2.3:11434', pool: 'gpu-a100', slots: 1 } });
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const membership = await stack.prisma.membership.findFirstOrThrow({ where: { userId: demo.user.id }, select: { teamId: true, team: { select: { projects: { select: { id: true }, take: 1 } } } } });
    const job = await stack.prisma.job.create({
      data: {
        teamId: membership.teamId,
        projectId: membership.team.projects[0]!.id,
        userId: demo.user.id,
        clientKey: 'backend-names-1',
        requirements: 'Write a parser',
        model: 'qwen2.5-coder:7b',
        workflowId: 'job-backend-names-1',
        status: 'failed',
        backendId: ID,
        error: ERROR,
      },
    });

    const seen = await demo.caller.jobs.get({ jobId: job.id });
    expect(seen.backendId).toBe('gpu-a100 #1');
    expect(seen.error).toBe('gpu-a100 #1: connect ECONNREFUSED gpu-a100 #1 (gpu-a100 #1/api/chat); then a backend timed out');
    expect(JSON.stringify(seen)).not.toMatch(/10\.1\.2\.3|gpu7\.internal/);

    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    await stack.prisma.membership.createMany({ data: [{ userId: admin.user.id, teamId: membership.teamId, role: 'member' }], skipDuplicates: true });
    const asAdmin = await admin.caller.jobs.get({ jobId: job.id });
    expect(asAdmin).toMatchObject({ backendId: ID, error: ERROR });

    await stack.prisma.backend.update({ where: { id: ID }, data: { name: 'A100 rack 2' } });
    // Names are read at most every 10 s; a fresh web process reads them at once.
    const fresh = await startAppStack({ databaseUrl: db.url });
    try {
      const again = await fresh.signIn('demo@switchyard.dev', 'demo-password');
      expect((await again.caller.jobs.get({ jobId: job.id })).backendId).toBe('A100 rack 2');
    } finally {
      await fresh.stop();
    }
  });
});
