import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('npm run sim', () => {
  it('starts N instances, prints one line each, takes faults at run time and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--instances', '2', '--slots', '3', '--tps', '1000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    onTestFinished(async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    const lines = createInterface({ input: child.stdout });
    const output: string[] = [];
    const urls: string[] = [];
    for await (const line of lines) {
      output.push(line);
      const url = /listening on (\S+)$/.exec(line)?.[1];
      if (url) urls.push(url);
      if (urls.length === 2) break;
    }
    expect(output).toEqual([`sim: instance 1/2 listening on ${urls[0]}`, `sim: instance 2/2 listening on ${urls[1]}`]);
    for (const url of urls) expect(await (await fetch(`${url}/api/version`)).json()).toEqual({ version: expect.any(String) });
    const faults = await fetch(`${urls[1]}/_sim/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 1 }) });
    expect(await faults.json()).toMatchObject({ errorRate: 1 });
    expect((await fetch(`${urls[0]}/_sim/faults`).then((r) => r.json())) as unknown).toMatchObject({ errorRate: 0 });
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('refuses a bad flag with a usage line and exit code 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--tps', 'fast'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain('--tps must be a number');
    expect(stderr).toContain('usage: npm run sim');
  });
});
