import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';

/** Go from PATH, or from the official tarball's place; undefined when neither has it. */
export function findGo(): string | undefined {
  return which('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/**
 * Runs `go install <args>` into `gobin` with `env` added, echoing Go's output line by line as
 * `[go] …`; resolves with its exit code.
 */
export function goInstall(go: string, args: string[], gobin: string, env: Record<string, string>): Promise<number | null> {
  fs.mkdirSync(gobin, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['install', ...args], { cwd: repoRoot, env: { ...process.env, GOBIN: gobin, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) if (line) console.log(`[go] ${line}`);
      });
      stream.on('end', () => buffer && console.log(`[go] ${buffer}`));
    }
    child.once('error', reject);
    child.once('exit', resolve);
  });
}

export function which(command: string): string | undefined {
  // PATH is the OS's lookup list, not Switchyard configuration, so it is not part of env.ts.
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
