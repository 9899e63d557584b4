import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log';
import { groupAlive, Supervisor } from './supervisor';

// A shell that starts a grandchild ignoring SIGTERM: only a process-group kill gets rid of it.
const stubborn = `trap '' TERM; sleep 60 & echo "ready $!"; wait`;

// A zombie (exited, not yet reaped by an init that may never reap it) counts as gone.
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

describe('Supervisor', () => {
  it('stops whole process groups, with SIGKILL after the grace period', async () => {
    const supervisor = new Supervisor({ echo: false });
    const child = supervisor.spawn({ name: 'sh', command: 'sh', args: ['-c', stubborn], stopTimeoutMs: 300 });
    const match = await child.waitForLine(/ready (\d+)/);
    const grandchild = Number(match[1]);
    expect(alive(grandchild)).toBe(true);
    expect(supervisor.processes()).toEqual([{ name: 'sh', pid: child.pid }]);
    await supervisor.stop();
    expect(groupAlive(child.pid!)).toBe(false);
    expect(alive(grandchild)).toBe(false);
  });

  it("brings everything down when a child exits unexpectedly, and says which", async () => {
    const supervisor = new Supervisor({ echo: false });
    // Ignores SIGTERM for a while: `crashed` must not wait for the others to stop, `done` must.
    const long = supervisor.spawn({ name: 'long', command: 'sh', args: ['-c', "trap '' TERM; sleep 60"], stopTimeoutMs: 1_000 });
    supervisor.spawn({ name: 'crash', command: 'sh', args: ['-c', 'echo boom; exit 3'] });
    await expect(supervisor.crashed).resolves.toBe('crash exited unexpectedly (code 3)');
    expect(long.running).toBe(true);
    await expect(supervisor.done).resolves.toBe('crash exited unexpectedly (code 3)');
    expect(long.running).toBe(false);
  });

  it('takes a child stopped on its own as stopped: nothing else stops, nothing restarts, nothing is reported', async () => {
    const lines: string[] = [];
    const logger = createLogger({ name: 'sup', level: 'info', destination: { write: (line: string) => lines.push((JSON.parse(line) as { msg: string }).msg) } });
    const supervisor = new Supervisor({ echo: false, logger });
    const steady = supervisor.spawn({ name: 'steady', command: 'sleep', args: ['60'], stopTimeoutMs: 300 });
    const one = supervisor.spawn({ name: 'one', command: 'sleep', args: ['60'], restart: { initialMs: 50, maxMs: 1_000 }, stopTimeoutMs: 300 });
    await one.stop();
    expect(one.running).toBe(false);
    // Past the restart backoff: a restart would have spawned a new 'one' by now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(supervisor.child('one')).toBe(one);
    expect(steady.running).toBe(true);
    expect(supervisor.failed).toBeUndefined();
    expect(lines.filter((l) => l.includes('exited unexpectedly'))).toEqual([]);
    await supervisor.stop();
  });

  it('restarts a restartable child that dies, with a doubling backoff, and leaves the others running', async () => {
    const lines: string[] = [];
    const logger = createLogger({ name: 'sup', level: 'info', destination: { write: (line: string) => lines.push((JSON.parse(line) as { msg: string }).msg) } });
    const supervisor = new Supervisor({ echo: false, logger });
    const steady = supervisor.spawn({ name: 'steady', command: 'sleep', args: ['60'], stopTimeoutMs: 300 });
    // Dies twice quickly, then stays up: the third run is the one that lasts.
    const marker = `${process.env.TMPDIR ?? '/tmp'}/restart-${process.pid}-${Date.now()}`;
    const script = `n=$(cat ${marker} 2>/dev/null || echo 0); echo $((n+1)) > ${marker}; echo "run $((n+1))"; [ $n -ge 2 ] && exec sleep 60; exit 3`;
    const first = supervisor.spawn({ name: 'flaky', command: 'sh', args: ['-c', script], restart: { initialMs: 200, maxMs: 5_000 }, stopTimeoutMs: 300 });
    const started = Date.now();
    await first.exited;
    const deadline = Date.now() + 20_000;
    while (!supervisor.child('flaky')?.recentOutput().includes('run 3') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const elapsed = Date.now() - started;
    const third = supervisor.child('flaky')!;
    expect(third.recentOutput()).toContain('run 3');
    expect(third.running).toBe(true);
    expect(third.pid).not.toBe(first.pid);
    // 200 ms, then 400 ms: the second wait is doubled.
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(lines.filter((l) => l.startsWith('flaky exited unexpectedly'))).toEqual([
      'flaky exited unexpectedly (code 3); restarting it in 0.2s (crash 1), the rest keeps running',
      'flaky exited unexpectedly (code 3); restarting it in 0.4s (crash 2), the rest keeps running',
    ]);
    expect(steady.running).toBe(true);
    expect(supervisor.failed).toBeUndefined();
    expect(supervisor.processes().map((p) => p.name).sort()).toEqual(['flaky', 'steady']);
    await supervisor.stop();
    expect(third.running).toBe(false);
    fs.rmSync(marker, { force: true });
  });

  it('starts nothing again once it is stopping', async () => {
    const supervisor = new Supervisor({ echo: false });
    const child = supervisor.spawn({ name: 'dies', command: 'sh', args: ['-c', 'exit 1'], restart: { initialMs: 300, maxMs: 1_000 } });
    await child.exited;
    await supervisor.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(supervisor.child('dies')).toBe(child);
  });

  it('rejects a readiness wait with the recent output when the child exits first', async () => {
    const supervisor = new Supervisor({ echo: false });
    const child = supervisor.spawn({ name: 'early', command: 'sh', args: ['-c', 'echo cannot connect; exit 1'], expectExit: true });
    await expect(child.waitForLine(/listening/)).rejects.toThrow(/early exited \(code 1\) before it was ready[\s\S]*\[early\] cannot connect/);
    await supervisor.stop();
  });

  it('labels lines and keeps partial lines together', async () => {
    const supervisor = new Supervisor({ echo: false });
    const child = supervisor.spawn({ name: 'p', command: 'sh', args: ['-c', 'printf "a"; sleep 0.1; printf "b\\nc\\n"'], expectExit: true });
    await child.exited;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(child.recentOutput()).toBe('  [p] ab\n  [p] c');
    await supervisor.stop();
  });
});

describe('reaper', () => {
  it('stops the children of a supervisor that was killed outright', async () => {
    const script = `
      import { Supervisor } from ${JSON.stringify(new URL('./supervisor.ts', import.meta.url).pathname)};
      const s = new Supervisor({ echo: false });
      const c = s.spawn({ name: 'sleeper', command: 'sleep', args: ['60'] });
      console.log('child ' + c.pid);
      setInterval(() => {}, 1000);
    `;
    const { spawn } = await import('node:child_process');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => {
      parent.stdout.on('data', (chunk: Buffer) => {
        const match = /child (\d+)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
    });
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 5_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });
});
