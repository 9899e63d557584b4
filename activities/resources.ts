import { spawn } from 'node:child_process';
import { Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Prisma, PrismaClient } from '../server/generated/prisma/client';
import type { CatalogueBackend } from '../server/services/backends';
import { catalogEntrySelect } from '../server/services/catalog-mapping';
import { recordResidency, residencyReport } from '../server/services/residency-read';
import type { ResidencyReport } from '../workflows/scheduler/core';
import type { ResourceSample, ResourceStatus, ScaleRecommendation } from '../workflows/resources';
import { statusQuery } from '../workflows/scheduler/api';
import type { BackendRegistry } from './generate';

export interface ScaleHookConfig {
  /** Run with `sh -c`; gets the recommendation as JSON on stdin. */
  command: string;
  timeoutMs: number;
}

export interface ResourceActivityDeps {
  prisma: PrismaClient;
  temporal: Client;
  backends: BackendRegistry;
  scaleHook?: ScaleHookConfig;
  /** The stored backends with their state, handed to the scale hook with each recommendation. */
  backendCatalogue: () => Promise<CatalogueBackend[]>;
}

/** Kept of a failing hook's stderr for the log and the status. */
const STDERR_TAIL = 500;

export function createResourceActivities({ prisma, temporal, backends, scaleHook, backendCatalogue }: ResourceActivityDeps) {
  return {
    /**
     * Reads /api/tags and /api/ps of every enabled Ollama backend this worker can reach, stores
     * each read and returns it in the scheduler's terms. A backend that does not answer is left
     * out (its health probe reports it); its last read stays stored.
     */
    async readResidency(): Promise<ResidencyReport[]> {
      const [rows, entries] = await Promise.all([
        prisma.backend.findMany({ where: { kind: 'ollama', enabled: true }, select: { id: true }, orderBy: { id: 'asc' } }),
        prisma.catalogModel.findMany({ select: catalogEntrySelect }),
      ]);
      const reports = await Promise.all(
        rows.map(async ({ id }) => {
          const read = await (await backends.get(id))?.readResidency?.().catch((error: unknown) => {
            log.warn('residency read failed', { backendId: id, error: error instanceof Error ? error.message : String(error) });
            return undefined;
          });
          if (!read) return null;
          await recordResidency(prisma, id, read, new Date());
          return residencyReport(id, read, entries);
        }),
      );
      return reports.filter((report) => report !== null);
    },

    /**
     * The scheduler's view of its pools and backends, and a health probe of every backend this
     * worker can reach (the others are left to workers that can).
     */
    async sampleResources(schedulerWorkflowId: string): Promise<ResourceSample> {
      const status = await temporal.workflow.getHandle(schedulerWorkflowId).query(statusQuery);
      const probes = (
        await Promise.all(
          status.backends.map(async (backend) => {
            const adapter = await backends.get(backend.id);
            if (!adapter) return [];
            const report = await adapter.health();
            return [{ backendId: backend.id, ok: report.ok, latencyMs: Math.round(report.latencyMs), ...(report.error ? { error: report.error } : {}) }];
          }),
        )
      ).flat();
      return {
        pools: status.pools,
        backends: status.backends.map(({ id, pool, healthy }) => ({ id, pool, healthy })),
        pressuredPools: status.pressuredPools,
        probes,
      };
    },

    /**
     * Stores the resource manager's status of this tick for pages to read (admins' page): a page
     * never waits on a workflow query. One row per task queue, replaced each time.
     */
    async recordResourceStatus(status: ResourceStatus): Promise<void> {
      const { taskQueue } = Context.current().info;
      const json = status as unknown as Prisma.InputJsonObject;
      await prisma.resourceSnapshot.upsert({ where: { taskQueue }, create: { taskQueue, status: json }, update: { status: json } });
    },

    /**
     * Hands a recommendation to SCALE_HOOK_COMMAND, with the stored backends (`backends`), so a
     * hook scaling in knows which instance is drained and can go. null when none is configured. A
     * failure (exit code, timeout, spawn error) is logged and returned, never thrown: the loop goes on.
     */
    async runScaleHook(recommendation: ScaleRecommendation): Promise<{ ok: boolean; error: string | null } | null> {
      if (!scaleHook) return null;
      const error = await runHook(scaleHook, JSON.stringify({ ...recommendation, backends: await backendCatalogue() }));
      if (error) log.warn('scale hook failed', { command: scaleHook.command, error });
      return { ok: error === null, error };
    },
  };
}

/** Resolves with null on exit code 0, else with what went wrong. */
function runHook({ command, timeoutMs }: ScaleHookConfig, input: string): Promise<string | null> {
  return new Promise((resolve) => {
    // Its own process group, so a timeout also ends whatever the shell started.
    const child = spawn('sh', ['-c', command], { detached: true, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      kill(child.pid);
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve(`could not start: ${error.message}`);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve(`timed out after ${timeoutMs} ms`);
      else if (code === 0) resolve(null);
      else resolve(`exited with ${code === null ? `signal ${signal}` : `code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    });
    // A hook that does not read its input closes the pipe early; that is its business.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function kill(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
