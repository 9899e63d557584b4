import { describe, expect, it } from 'vitest';
import { useJobStack } from '../support/job-stack';
import { expectTrpcError } from '../support/trpc';
import { until } from '../support/until';

/** Admins' views across teams: the audit log searched and paged, every team's jobs (each read audited), acting on them. */

// A slow backend: the demo team's job is still running when the admin acts on it.
const { stack } = useJobStack({
  simulators: [{ slots: 2, tokensPerSecond: 5, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 400 }],
  slots: 2,
});

describe('admin views', () => {
  it('lists another team’s jobs, auditing the read, cancels one from there, and finds it all in the audit log by who, what and when', async () => {
    const since = new Date();
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const { caller: admin } = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' }, select: { id: true, teamId: true } });
    const job = await demo.caller.jobs.submit({ projectId: project.id, requirements: 'A function that sums an array', clientKey: 'admin-views-1', model: 'qwen2.5-coder:7b' });
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'running', 'the job to run');

    const { jobs, nextCursor } = await admin.admin.jobs({ teamId: project.teamId, status: 'running' });
    expect(jobs.map((j) => [j.id, j.team.id, j.user.email, j.status])).toEqual([[job.id, project.teamId, 'demo@switchyard.dev', 'running']]);
    expect(nextCursor).toBeNull();
    expect(jobs[0]).not.toHaveProperty('output');

    await admin.jobs.cancel({ jobId: job.id });
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'cancelled', 'the job to be cancelled');

    const byAdmin = await admin.admin.audit({ who: 'ADMIN@switchyard', from: since });
    expect(byAdmin.entries.map((e) => e.action)).toEqual(['job.cancel', 'admin.jobs.read']);
    expect(byAdmin.entries[0]).toMatchObject({ targetType: 'job', targetId: job.id, actor: { email: 'admin@switchyard.dev', name: 'Admin' } });
    expect(byAdmin.entries[1]).toMatchObject({ targetType: 'team', targetId: project.teamId, data: { status: 'running', count: 1 } });
    // What: an action's prefix; when: a window that ends before the entries finds none of them.
    expect((await admin.admin.audit({ what: 'job.cancel', from: since })).entries.map((e) => e.targetId)).toEqual([job.id]);
    expect((await admin.admin.audit({ who: 'admin@', to: new Date(since.getTime() - 60_000), what: 'job.' })).entries).toEqual([]);

    // Paged: one at a time, newest first, each page after the last id seen.
    const first = await admin.admin.audit({ from: since, limit: 1 });
    const second = await admin.admin.audit({ from: since, limit: 1, cursor: first.nextCursor! });
    expect([...first.entries, ...second.entries].map((e) => e.action)).toEqual(['job.cancel', 'admin.jobs.read']);
    expect(Number(second.entries[0]!.id)).toBeLessThan(Number(first.entries[0]!.id));

    // Bad input: a clear refusal, and no audit entry for a read that did not happen.
    const before = await stack.prisma.auditLog.count();
    await expectTrpcError(admin.admin.audit({ cursor: 'x1' }), 'BAD_REQUEST');
    await expectTrpcError(admin.admin.jobs({ teamId: 'not-a-team' }), 'BAD_REQUEST');
    expect(await stack.prisma.auditLog.count()).toBe(before);
    // Only admins.
    await expectTrpcError(demo.caller.admin.audit({}), 'FORBIDDEN');
    await expectTrpcError(demo.caller.admin.jobs({}), 'FORBIDDEN');
  }, 60_000);
});
