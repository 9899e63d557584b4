import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScaleRecommendation } from '../workflows/resources';
import { startAppStack, TEST_REGISTRATION_TOKEN, type AppStack } from '../tests/support/app-stack';
import { useTestDatabase } from '../tests/support/db';

/**
 * The shipped scale hooks, run as the worker runs them (`sh -c`, the recommendation on stdin)
 * against a real Switchyard API and database, with fake `docker` and `kubectl` on PATH that
 * record their arguments: there is no Docker engine or cluster where the tests run.
 */

const hooks = join(dirname(fileURLToPath(import.meta.url)), 'scale-hooks');
const db = useTestDatabase({ seed: true });
let stack: AppStack;
let dir: string;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
  dir = mkdtempSync(join(tmpdir(), 'scale-hooks-'));
  // Each fake appends its arguments to calls.log and answers the queries the hooks make.
  const fake = (name: string, answers: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> "${dir}/calls.log"\n${answers}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  fake('docker', 'case "$*" in *" ps "*) cat "$FAKE_CONTAINERS" ;; esac');
  fake('kubectl', 'case "$1" in get) echo "$FAKE_REPLICAS" ;; esac');
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function recommend(pool: string, action: ScaleRecommendation['action'], currentInstances: number, targetInstances: number): ScaleRecommendation {
  return { pool, action, currentInstances, targetInstances, reason: 'test', at: Date.now(), queueDepth: 0, busy: 0, slots: 0 };
}

/**
 * Runs a hook; returns its exit status, stderr and the commands it ran. Asynchronously: the API it
 * calls is served by this very process.
 */
async function run(hook: 'compose.sh' | 'kubectl.sh', recommendation: ScaleRecommendation, env: Record<string, string>) {
  writeFileSync(join(dir, 'calls.log'), '');
  const child = spawn('sh', ['-c', resolve(hooks, hook)], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, SWITCHYARD_URL: stack.url, BACKEND_REGISTRATION_TOKEN: TEST_REGISTRATION_TOKEN, ...env },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(JSON.stringify({ ...recommendation, backends: [] }));
  const status = await new Promise<number | null>((done) => child.on('close', done));
  return { status, stderr, calls: readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n').filter(Boolean) };
}

const backend = (url: string) => stack.prisma.backend.findUnique({ where: { url } });

async function runningJobOn(url: string) {
  const [project, user, row] = await Promise.all([
    stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } }),
    stack.prisma.user.findUniqueOrThrow({ where: { email: 'demo@switchyard.dev' } }),
    backend(url),
  ]);
  return stack.prisma.job.create({
    data: { teamId: project.teamId, projectId: project.id, userId: user.id, clientKey: `hook-${Date.now()}`, requirements: 'x', model: 'qwen2.5-coder:7b', workflowId: `hook-${Date.now()}`, status: 'running', backendId: row!.id },
  });
}

describe('docker/scale-hooks/compose.sh', () => {
  const containers = join(tmpdir(), `containers-${process.pid}`);
  const env = { FAKE_CONTAINERS: containers, INSTANCE_URL: 'http://{name}:11434' };

  it('scales the service out and registers every instance in the pool', async () => {
    writeFileSync(containers, '127.0.0.11\n127.0.0.12\n127.0.0.13\n');
    const { status, stderr, calls } = await run('compose.sh', recommend('local', 'scale_out', 1, 3), env);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(calls).toContain('docker compose up --detach --no-recreate --scale ollama=3 ollama');
    for (const n of [11, 12, 13]) expect(await backend(`http://127.0.0.${n}:11434`)).toMatchObject({ pool: 'local', kind: 'ollama', draining: false });
    expect(await stack.prisma.auditLog.count({ where: { action: 'backend.create', actorId: null, targetId: 'ollama@127.0.0.11:11434' } })).toBe(1);
  });

  it('drains the instances that go before scaling in, and ignores other pools', async () => {
    expect((await run('compose.sh', recommend('dedicated', 'scale_in', 3, 1), env)).calls).toEqual([]);
    const { status, calls } = await run('compose.sh', recommend('local', 'scale_in', 3, 1), env);
    expect(status).toBe(0);
    expect(calls.at(-1)).toBe('docker compose up --detach --no-recreate --scale ollama=1 ollama');
    expect((await backend('http://127.0.0.11:11434'))!.draining).toBe(false);
    for (const n of [12, 13]) expect((await backend(`http://127.0.0.${n}:11434`))!.draining).toBe(true);
  });
});

describe('docker/scale-hooks/kubectl.sh', () => {
  const env = { INSTANCE_URL: 'http://127.0.1.{i}:11434', STATEFULSET: 'ollama', NAMESPACE: 'ai' };

  it('scales the StatefulSet out and registers its pods by ordinal', async () => {
    const { status, stderr, calls } = await run('kubectl.sh', recommend('local', 'scale_out', 0, 2), { ...env, FAKE_REPLICAS: '0' });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(calls).toContain('kubectl scale statefulset ollama --namespace ai --replicas 2');
    for (const i of [0, 1]) expect(await backend(`http://127.0.1.${i}:11434`)).toMatchObject({ pool: 'local', draining: false });
  });

  it('scales in only once the pod that goes is drained: a running job holds it', async () => {
    const job = await runningJobOn('http://127.0.1.1:11434');
    const waiting = await run('kubectl.sh', recommend('local', 'scale_in', 2, 1), { ...env, FAKE_REPLICAS: '2' });
    expect(waiting.status).toBe(0);
    expect(waiting.stderr).toContain('1 of 1 pods still finishing their jobs');
    expect(waiting.calls.filter((call) => call.startsWith('kubectl scale'))).toEqual([]);
    expect((await backend('http://127.0.1.1:11434'))!.draining).toBe(true);

    await stack.prisma.job.update({ where: { id: job.id }, data: { status: 'completed' } });
    const done = await run('kubectl.sh', recommend('local', 'scale_in', 2, 1), { ...env, FAKE_REPLICAS: '2' });
    expect(done.status).toBe(0);
    expect(done.calls.at(-1)).toBe('kubectl scale statefulset ollama --namespace ai --replicas 1');
    expect((await backend('http://127.0.1.0:11434'))!.draining).toBe(false);
  });

  it('fails loudly when Switchyard refuses the registration', async () => {
    const { status, stderr } = await run('kubectl.sh', recommend('local', 'scale_out', 1, 1), { ...env, FAKE_REPLICAS: '1', BACKEND_REGISTRATION_TOKEN: 'wrong-token-0123456789' });
    expect(status).not.toBe(0);
    expect(stderr).toContain('401');
  });
});
