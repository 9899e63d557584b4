import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { PrismaClient } from '../server/generated/prisma/client';
import type { CatalogueBackend } from '../server/services/backends';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScaleRecommendation } from '../workflows/resources';
import { createResourceActivities, type ScaleHookConfig } from './resources';

/** The scale hook as a real shell command (sampleResources is covered by server/resources.test.ts). */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-hook-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const recommendation: ScaleRecommendation = {
  pool: 'local',
  action: 'scale_out',
  currentInstances: 2,
  targetInstances: 4,
  reason: 'median queue depth 60 ≥ 50',
  at: 1_700_000_000_000,
  queueDepth: 60,
  busy: 8,
  slots: 8,
};

const catalogue: CatalogueBackend[] = [
  { id: 'ollama@ollama-0.ollama:11434', name: 'ollama-0', kind: 'ollama', url: 'http://ollama-0.ollama:11434', pool: 'local', slots: 4, state: 'serving', runningJobs: 3 },
  { id: 'ollama@ollama-1.ollama:11434', name: 'ollama-1', kind: 'ollama', url: 'http://ollama-1.ollama:11434', pool: 'local', slots: 4, state: 'drained', runningJobs: 0 },
];

function runHook(scaleHook: ScaleHookConfig | undefined) {
  // The hook needs neither Temporal, the database nor a backend.
  const activities = createResourceActivities({
    prisma: {} as PrismaClient,
    temporal: {} as Client,
    backends: new Map(),
    backendCatalogue: async () => catalogue,
    ...(scaleHook ? { scaleHook } : {}),
  });
  return new MockActivityEnvironment().run(activities.runScaleHook, recommendation);
}

describe('the scale hook', () => {
  it('gets the recommendation and the catalogue of backends as JSON on stdin', async () => {
    const file = path.join(dir, 'received.json');
    expect(await runHook({ command: `cat > ${file}`, timeoutMs: 10_000 })).toEqual({ ok: true, error: null });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ ...recommendation, backends: catalogue });
  });

  it('reports a failing command with its exit code and stderr instead of throwing', async () => {
    expect(await runHook({ command: 'echo "no capacity left" >&2; exit 3', timeoutMs: 10_000 })).toEqual({
      ok: false,
      error: 'exited with code 3: no capacity left',
    });
  });

  it('ends a hook that outlives its timeout, with whatever it started', async () => {
    const marker = path.join(dir, 'late');
    const started = Date.now();
    const outcome = await runHook({ command: `(sleep 3; touch ${marker}) & sleep 30`, timeoutMs: 300 });
    expect(outcome).toEqual({ ok: false, error: 'timed out after 300 ms' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('does nothing without a configured command', async () => {
    expect(await runHook(undefined)).toBeNull();
  });
});
