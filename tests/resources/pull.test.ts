import { describe, expect, it } from 'vitest';
import type { PullProgressEvent } from '../../server/realtime/events';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';

/**
 * An admin's pull, end to end: the tRPC mutation starts the pull workflow, its activity streams
 * Ollama's /api/pull (the simulator's stand-in registry has the model) and the progress reaches
 * the admins' residency room over Socket.IO; the backend then has the model.
 */

const big = 'qwen2.5-coder:32b';
const { stack, sims } = useJobStack({
  simulators: [{ models: [{ name: 'qwen2.5-coder:7b', contextWindow: 32768 }], registry: [{ name: big, contextWindow: 32768, sizeBytes: 19_000_000_000 }], pullMs: 2_000 }],
});

describe('pulling a model onto a backend', () => {
  it('streams the pull’s progress to the admins’ room, and the backend has the model afterwards', async () => {
    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const socket = await stack.connect(admin.token);
    expect(await socket.emitWithAck('join', { kind: 'admin', id: 'residency' })).toEqual({ ok: true });
    const heard: PullProgressEvent[] = [];
    socket.on('admin:pull', (event) => heard.push(event));
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const outsider = await stack.connect(demo.token);
    expect(await outsider.emitWithAck('join', { kind: 'admin', id: 'residency' })).toEqual({ ok: false, error: 'not found' });

    const [backendId] = stack.backendIds as [string];
    expect(await admin.caller.admin.pullModel({ backendId, model: big })).toEqual({ started: true });
    const final = await until(() => heard.find((event) => event.done), 'the pull to finish');
    expect(final).toMatchObject({ backendId, model: big, status: 'success', error: null });
    const progress = heard.filter((event) => !event.done && event.total === 19_000_000_000).map((event) => event.completed ?? 0);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect((await (await fetch(`${sims[0].url}/api/tags`)).json()) as unknown).toMatchObject({ models: expect.arrayContaining([expect.objectContaining({ name: big })]) });
    expect(await stack.prisma.auditLog.count({ where: { action: 'backend.pull', targetId: backendId } })).toBe(1);
  }, 120_000);

  it('relays a pull Ollama refuses as a failure, and refuses a model outside the catalogue before starting anything', async () => {
    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const socket = await stack.connect(admin.token);
    await socket.emitWithAck('join', { kind: 'admin', id: 'residency' });
    const heard: PullProgressEvent[] = [];
    socket.on('admin:pull', (event) => heard.push(event));
    const [backendId] = stack.backendIds as [string];
    await expect(admin.caller.admin.pullModel({ backendId, model: 'mystery:1b' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // In the catalogue, but not in the simulator's registry: Ollama's "file does not exist".
    await stack.prisma.catalogModel.update({ where: { name: 'llama3.1:8b' }, data: { ollamaModel: 'llama3.1:8b-missing' } });
    try {
      expect(await admin.caller.admin.pullModel({ backendId, model: 'llama3.1:8b-missing' })).toEqual({ started: true });
      const final = await until(() => heard.find((event) => event.done), 'the pull to fail');
      expect(final).toMatchObject({ status: 'failed', error: expect.stringContaining('pull model manifest: file does not exist') });
    } finally {
      await stack.prisma.catalogModel.update({ where: { name: 'llama3.1:8b' }, data: { ollamaModel: 'llama3.1:8b' } });
    }
  }, 120_000);
});
