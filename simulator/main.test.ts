import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

/** `npm run sim` with these flags on free ports; its URLs and printed lines once every instance listens. */
async function startSim(args: string[], instances: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--instances', String(instances), ...args], {
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
    if (urls.length === instances) break;
  }
  return { child, exited, output, urls };
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('npm run sim', () => {
  it('starts N instances, prints one line each, takes faults at run time and stops on SIGTERM', async () => {
    const { child, exited, output, urls } = await startSim(['--slots', '3', '--tps', '1000'], 2);
    expect(output).toEqual([`sim: instance 1/2 listening on ${urls[0]}`, `sim: instance 2/2 listening on ${urls[1]}`]);
    for (const url of urls) expect(await (await fetch(`${url}/api/version`)).json()).toEqual({ version: expect.any(String) });
    const faults = await fetch(`${urls[1]}/_sim/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 1 }) });
    expect(await faults.json()).toMatchObject({ errorRate: 1 });
    expect((await fetch(`${urls[0]}/_sim/faults`).then((r) => r.json())) as unknown).toMatchObject({ errorRate: 0 });
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('answers a prompt alike on every instance, so a stream cut on one resumes whole on another', async () => {
    const { urls } = await startSim(['--tps', '2000', '--ttft', '0', '--load-ms', '0', '--tokens', '60'], 2);
    const [first, second] = urls as [string, string];
    const model = 'qwen2.5-coder:7b';
    const messages = [{ role: 'user', content: 'Write a TypeScript function that reverses a string' }];
    await post(`${first}/_sim/faults`, { cutAfterTokens: 17, cutMode: 'end' });
    // The cut stream ends without its final object, as a connection lost mid-answer does.
    const cut = (await (await post(`${first}/api/chat`, { model, messages })).text()).trim().split('\n').map((line) => JSON.parse(line) as { message: { content: string }; done: boolean });
    expect(cut.map((part) => part.done)).toEqual(Array.from({ length: 17 }, () => false));
    const partial = cut.map((part) => part.message.content).join('');
    // The other instance, given the partial answer as a trailing assistant message, continues it.
    const resumed = (await (await post(`${second}/api/chat`, { model, messages: [...messages, { role: 'assistant', content: partial }], stream: false })).json()) as { message: { content: string } };
    await post(`${first}/_sim/faults`, { cutAfterTokens: null });
    const uncut = (await (await post(`${first}/api/chat`, { model, messages, stream: false })).json()) as { message: { content: string } };
    expect(uncut.message.content).toMatch(/^Here is a TypeScript implementation/);
    expect(partial + resumed.message.content).toBe(uncut.message.content);
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
