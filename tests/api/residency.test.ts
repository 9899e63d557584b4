import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordResidency } from '../../server/services/residency-read';
import { startAppStack, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { expectTrpcError } from '../support/trpc';

/** The residency admin procedures against the real PostgreSQL: what the page shows, what limits accept. */

const db = useTestDatabase({ seed: true });
let stack: AppStack;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
  // Two pools: "local" has both of its backends' reads, "dedicated" one backend with only the 7b model.
  await stack.prisma.backend.createMany({
    data: [
      { id: 'res-a', kind: 'ollama', name: 'gpu-a', url: 'http://127.0.0.1:9101', pool: 'local' },
      { id: 'res-b', kind: 'ollama', name: 'gpu-b', url: 'http://127.0.0.1:9102', pool: 'local' },
      { id: 'res-c', kind: 'ollama', name: 'gpu-c', url: 'http://127.0.0.1:9103', pool: 'dedicated' },
    ],
  });
  const seenAt = new Date();
  const expiresAt = new Date(Date.now() + 300_000);
  await recordResidency(stack.prisma, 'res-a', { present: [{ name: 'qwen2.5-coder:7b', sizeBytes: 4_700_000_000 }], loaded: [{ name: 'qwen2.5-coder:7b', sizeBytes: 5_600_000_000, expiresAt }] }, seenAt);
  await recordResidency(stack.prisma, 'res-b', { present: [{ name: 'llama3.1:8b', sizeBytes: 4_900_000_000 }, { name: 'qwen2.5-coder:32b', sizeBytes: 19_000_000_000 }], loaded: [] }, seenAt);
  await recordResidency(stack.prisma, 'res-c', { present: [{ name: 'qwen2.5-coder:7b', sizeBytes: 4_700_000_000 }], loaded: [] }, seenAt);
});

afterAll(async () => {
  await stack?.stop();
});

const admin = async () => (await stack.signIn('admin@switchyard.dev', 'admin-password')).caller;

describe('residency for admins', () => {
  it('shows each backend’s read, what it could pull, and flags catalogue models no backend of a pool has', async () => {
    const view = await (await admin()).admin.residency();
    const a = view.backends.find((b) => b.id === 'res-a')!;
    expect(a.models).toEqual([{ model: 'qwen2.5-coder:7b', present: true, loaded: true, sizeBytes: 5_600_000_000, expiresAt: expect.any(Date), seenAt: expect.any(Date) }]);
    expect(a.absent).toEqual(expect.arrayContaining(['llama3.1:8b', 'qwen2.5-coder:32b']));
    // What is on disk became what the backend serves.
    expect((await stack.prisma.backend.findUniqueOrThrow({ where: { id: 'res-b' } })).models).toEqual(['llama3.1:8b', 'qwen2.5-coder:32b']);
    const missing = view.missing.map((m) => `${m.pool}/${m.model}`);
    // "local" has every seeded model on one backend or the other; "dedicated" lacks two.
    expect(missing.sort()).toEqual(['dedicated/llama3.1:8b', 'dedicated/qwen2.5-coder:32b']);
  });

  it('sets a backend’s limits (audited, null = learned / Ollama’s default) and refuses nonsense with a 400', async () => {
    const caller = await admin();
    await caller.admin.setResidencyLimits({ backendId: 'res-a', memoryBudgetMb: 24_000, maxLoadedModels: null });
    expect(await stack.prisma.backend.findUniqueOrThrow({ where: { id: 'res-a' }, select: { memoryBudgetMb: true, maxLoadedModels: true } })).toEqual({ memoryBudgetMb: 24_000, maxLoadedModels: null });
    expect(await stack.prisma.auditLog.count({ where: { action: 'backend.residency', targetId: 'res-a' } })).toBe(1);
    await expectTrpcError(caller.admin.setResidencyLimits({ backendId: 'res-a', memoryBudgetMb: 12.5, maxLoadedModels: 0 }), 'BAD_REQUEST');
    expect((await stack.prisma.backend.findUniqueOrThrow({ where: { id: 'res-a' } })).memoryBudgetMb).toBe(24_000);
  });
});
