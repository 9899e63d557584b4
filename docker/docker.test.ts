import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadServerEnv } from '../server/env.ts';
import { relativeImports } from '../tests/support/import-graph.ts';
import { OLLAMA_VERSION } from '../scripts/lib/ollama-server.ts';
import { ollamaVersion as simulatedOllamaVersion } from '../simulator/ollama-api.ts';
import { WORKER_NODE_FLAGS } from '../server/temporal/worker-options.ts';

// Static checks of the deployment files: there is no Docker engine where the tests run.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const composeFile = join(root, 'docker/compose.yaml');
const composeText = readFileSync(composeFile, 'utf8');
const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  volumes?: string[];
}
const compose = parse(composeText, { merge: true }) as { name: string; services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const appServices = ['migrate', 'web', 'worker'] as const;

// Stand-ins for the variables the operator must set (`${NAME:?message}`).
const operatorEnv: Record<string, string> = {
  POSTGRES_PASSWORD: 'app-db-password',
  TEMPORAL_DB_PASSWORD: 'temporal-db-password',
  SESSION_SECRET: 's'.repeat(40),
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
};

/** Compose's interpolation of ${NAME}, ${NAME:-default} and ${NAME:?error} with operatorEnv. */
function interpolate(value: string | number): string {
  return String(value).replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind?: string, arg?: string) => {
    const given = operatorEnv[name];
    if (given !== undefined) return given;
    if (kind === '?') throw new Error(`${name} is required: ${arg}`);
    return kind === '-' ? (arg ?? '') : '';
  });
}

function serverEnvNames(): Set<string> {
  const source = readFileSync(join(root, 'server/env.ts'), 'utf8');
  const block = /const serverSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)?.[1];
  expect(block, 'server/env.ts no longer declares `const serverSchema = z.object({…})`; update this test').toBeDefined();
  return new Set([...block!.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
}

function hostOf(url: string): string {
  return new URL(url.includes('://') ? url : `tcp://${url}`).hostname;
}

describe('docker/compose.yaml', () => {
  it('has the expected services, each with an image or a build', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['grafana', 'migrate', 'ollama', 'postgres', 'prometheus', 'temporal', 'temporal-postgres', 'temporal-ui', 'web', 'worker'].sort(),
    );
    for (const [name, service] of Object.entries(services)) {
      expect(service.image ?? service.build, `service ${name} has neither image nor build`).toBeTruthy();
      if (service.image && !service.build) {
        expect(service.image, `service ${name}: pin the image version`).toMatch(/:[\w.-]+$/);
        expect(service.image, `service ${name}: pin the image version`).not.toMatch(/:latest$/);
      }
    }
  });

  it('gives Temporal the dynamic config the dev server runs with (eager activity execution)', () => {
    const temporal = services.temporal!;
    const path = String(temporal.environment?.DYNAMIC_CONFIG_FILE_PATH);
    const mount = temporal.volumes?.map((v) => v.split(':')).find(([, target]) => target === `/etc/temporal/${path}`);
    expect(mount, `no volume mounts a file at /etc/temporal/${path}`).toBeDefined();
    const file = join(root, 'docker', mount![0]!);
    expect(existsSync(file), `${relative(root, file)} is missing`).toBe(true);
    const config = parse(readFileSync(file, 'utf8')) as Record<string, { value: unknown }[]>;
    expect(config['system.enableActivityEagerExecution']).toEqual([{ value: true }]);
    const devServer = readFileSync(join(root, 'scripts/lib/temporal-cli.ts'), 'utf8');
    expect(devServer).toContain("'system.enableActivityEagerExecution=true'");
  });

  it('builds the app image once, from docker/Dockerfile, for web, worker and migrate', () => {
    for (const name of appServices) {
      const service = services[name]!;
      expect(service.image, name).toBe('switchyard:latest');
      expect(service.build, name).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(existsSync(resolve(dirname(composeFile), service.build!.context, service.build!.dockerfile))).toBe(true);
    }
    expect(services.worker!.deploy?.replicas).toBe(2);
  });

  it('runs what `npm run build` produces and what the image contains', () => {
    const build = readFileSync(join(root, 'scripts/build.ts'), 'utf8');
    expect(build).toMatch(/entryPoints:\s*\{\s*main:\s*'server\/main\.ts',\s*worker:\s*'server\/worker\.ts',\s*'bootstrap-admin':\s*'scripts\/bootstrap-admin\.ts'\s*\}/);
    expect(build).toMatch(/outdir:\s*'dist\/server'/);
    expect(services.web!.command).toContain('dist/server/main.js');
    expect(services.worker!.command).toContain('dist/server/worker.js');
    // The same Node flags as the stack's worker (scripts/lib/stack.ts), before the entry.
    const worker = services.worker!.command!;
    for (const flag of WORKER_NODE_FLAGS) expect(worker.indexOf(flag), flag).toBeGreaterThan(0);
    expect(worker.indexOf('dist/server/worker.js')).toBe(worker.length - 1);
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(dockerfile).toContain('"dist/server/main.js"');
  });

  it('runs the migration job from files the image contains', () => {
    const command = services.migrate!.command!;
    expect(command.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies, 'tsx must be a production dependency: the migration job runs it').toHaveProperty('tsx');

    // The script and every module it imports (transitively, relative imports) must be copied.
    const copied = [...dockerfile.matchAll(/^COPY --from=build \/app\/(\S+) /gm)].map((m) => m[1]!);
    const pending = [command[3]!];
    const seen = new Set<string>();
    while (pending.length) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      expect(existsSync(join(root, file)), `${file} exists`).toBe(true);
      expect(copied.some((c) => file === c || file.startsWith(`${c}/`)), `docker/Dockerfile copies ${file} into the runtime image`).toBe(true);
      // `import type` is erased when tsx runs the file: only value imports must be in the image.
      for (const imported of relativeImports(file)) if (!imported.typeOnly) pending.push(imported.file);
    }
    expect(copied).toContain('prisma/migrations');
  });

  it('gives web, worker and migrate only variables that server/env.ts reads, with valid values', () => {
    const names = serverEnvNames();
    for (const name of appServices) {
      const env = services[name]!.environment ?? {};
      for (const key of Object.keys(env)) expect(names, `${name}: ${key} is not read by server/env.ts`).toContain(key);
      for (const required of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'OLLAMA_URL', 'SESSION_SECRET', 'ENCRYPTION_KEYS']) {
        expect(env, `${name} sets ${required}`).toHaveProperty(required);
      }
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v)]));
      expect(() => loadServerEnv(resolved), `${name}'s environment is accepted by loadServerEnv`).not.toThrow();
    }
  });

  it('requires the secrets instead of defaulting them', () => {
    for (const name of ['SESSION_SECRET', 'ENCRYPTION_KEYS', 'POSTGRES_PASSWORD', 'TEMPORAL_DB_PASSWORD']) {
      expect(composeText).toMatch(new RegExp(`\\$\\{${name}:\\?`));
      expect(composeText).not.toMatch(new RegExp(`\\$\\{${name}:-`));
    }
  });

  it('points the app at services that exist, on the ports they listen on', () => {
    const env = Object.fromEntries(Object.entries(services.web!.environment!).map(([k, v]) => [k, interpolate(v)]));
    const db = new URL(env.DATABASE_URL!);
    expect(Object.keys(services)).toContain(db.hostname);
    expect(db.port).toBe('5432');
    expect(db.username).toBe(services[db.hostname]!.environment!.POSTGRES_USER);
    expect(db.pathname.slice(1)).toBe(services[db.hostname]!.environment!.POSTGRES_DB);

    expect(hostOf(env.TEMPORAL_ADDRESS!)).toBe('temporal');
    expect(env.TEMPORAL_ADDRESS!.endsWith(':7233')).toBe(true);
    const ollamaHosts = env.OLLAMA_URL!.split(',').map((u) => new URL(u.trim()));
    // The ollama service's replicas by container name: <project>-ollama-<n>, one per replica.
    const replicas = services.ollama!.deploy?.replicas ?? 1;
    expect(ollamaHosts.map((u) => u.hostname).sort()).toEqual(Array.from({ length: replicas }, (_, i) => `${compose.name}-ollama-${i + 1}`));
    expect(ollamaHosts.every((u) => u.port === '11434')).toBe(true);
    expect(services['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('publishes ports in a valid form, matching the port the web process listens on', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        expect(port, `${name}: ${port}`).toMatch(/^(\d{1,3}(\.\d{1,3}){3}:)?\d{1,5}:\d{1,5}$/);
      }
    }
    const webPort = String(services.web!.environment!.PORT);
    expect(services.web!.ports!.map((p) => p.split(':').at(-1))).toContain(webPort);
    expect(dockerfile).toContain(`EXPOSE ${webPort}`);
  });

  it('depends only on services that exist, waiting on health only where a healthcheck exists', () => {
    const conditions = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services, `${name} depends on ${target}`).toHaveProperty([target]);
        expect(conditions, `${name} → ${target}: ${condition}`).toContain(condition);
        if (condition === 'service_healthy') expect(services[target]!.healthcheck, `${target} needs a healthcheck`).toBeDefined();
      }
    }
    expect(services.web!.depends_on!.migrate!.condition).toBe('service_completed_successfully');
    expect(services.worker!.depends_on!.migrate!.condition).toBe('service_completed_successfully');
    expect(services.migrate!.depends_on!.postgres!.condition).toBe('service_healthy');
  });

  it('pins Ollama to the version the real-Ollama tests run, past CVE-2026-7482 (fixed in 0.17.1)', () => {
    const rank = (version: string) => version.split('.').reduce((sum, part) => sum * 1_000 + Number(part), 0);
    const tested = OLLAMA_VERSION.replace(/^v/, '');
    for (const name of ['ollama']) {
      const tag = /^ollama\/ollama:(\d+\.\d+\.\d+)$/.exec(services[name]!.image ?? '')?.[1];
      expect(tag, `${name} pins ollama/ollama to an exact x.y.z`).toBeDefined();
      expect(rank(tag!), `${name}: ollama/ollama:${tag} is affected by CVE-2026-7482`).toBeGreaterThanOrEqual(rank('0.17.1'));
      expect(tag, `${name} runs the Ollama the tests run`).toBe(tested);
    }
    expect(simulatedOllamaVersion, 'the simulator reports the version it is held to').toBe(tested);
  });

  it('serves the Temporal UI on loopback only, read-only, decoding payloads through the web process', () => {
    const ui = services['temporal-ui']!;
    expect(ui.ports).toEqual(['127.0.0.1:8080:8080']);
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        if (name !== 'web') expect(port, `${name} publishes ${port} beyond loopback`).toMatch(/^127\.0\.0\.1:/);
      }
    }
    const env = Object.fromEntries(Object.entries(ui.environment!).map(([k, v]) => [k, interpolate(v)]));
    expect(env.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    expect(env.TEMPORAL_CODEC_INCLUDE_CREDENTIALS).toBe('true');
    // The endpoint is the web process's codec route, and the app allows the UI's own origin.
    const endpoint = new URL(env.TEMPORAL_CODEC_ENDPOINT!);
    expect(endpoint.pathname).toBe('/api/temporal-codec');
    expect(endpoint.port).toBe(String(services.web!.environment!.PORT));
    const app = readFileSync(join(root, 'server/http/app.ts'), 'utf8');
    expect(app).toContain("app.use('/api/temporal-codec', temporalCodecHandler(");
    const webEnv = Object.fromEntries(Object.entries(services.web!.environment!).map(([k, v]) => [k, interpolate(v)]));
    expect(new URL(webEnv.TEMPORAL_UI_URL!).port).toBe(ui.ports![0]!.split(':')[1]);
  });

  it('runs Ollama as one service the compose scale hook can scale', () => {
    const ollama = services.ollama! as Service & { container_name?: string };
    expect(ollama.container_name, 'a fixed container name stops --scale').toBeUndefined();
    expect(ollama.ports, 'a fixed host port stops --scale').toBeUndefined();
    expect(ollama.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(root, 'docker/scale-hooks/compose.sh'), 'utf8')).toContain('service=${SCALE_SERVICE:-ollama}');
  });

  it('has healthchecks on the long-running infrastructure', () => {
    for (const name of ['postgres', 'temporal-postgres', 'temporal', 'web', 'ollama']) {
      expect(services[name]!.healthcheck?.test, name).toBeDefined();
    }
  });
});

describe('docker/Dockerfile and .dockerignore', () => {
  it('builds on node:22-bookworm-slim in stages: npm ci, npm run build, a runtime without dev dependencies', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-bookworm-slim$/m);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(3);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toMatch(/npm run build/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('keeps dependencies, outputs, local data and secrets out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', '**/node_modules', 'dist', 'build', '.data', '.tools', 'server/generated', '.env']) {
      expect(ignored, `.dockerignore lists ${entry}`).toContain(entry);
    }
  });
});

const composePlugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const hasCompose = composePlugin.status === 0;

describe('docker compose config', () => {
  it.skipIf(!hasCompose)(
    `accepts docker/compose.yaml${hasCompose ? '' : ' (SKIPPED: the docker compose plugin is not installed here)'}`,
    () => {
      execFileSync('docker', ['compose', '-f', composeFile, 'config', '-q'], {
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...operatorEnv },
        stdio: 'pipe',
      });
    },
  );
});
