import type { Services } from '../services';

export interface Health {
  ok: boolean;
  database: 'up' | 'down';
  temporal: 'up' | 'down';
}

/** What the app depends on, probed with short timeouts so a dead dependency answers fast. */
export async function checkHealth(services: Pick<Services, 'prisma' | 'temporal'>): Promise<Health> {
  const [database, temporal] = await Promise.all([
    withTimeout(services.prisma.$queryRaw`SELECT 1`),
    withTimeout(services.temporal.get().then((client) => client.workflowService.getSystemInfo({}))),
  ]);
  return { ok: database && temporal, database: database ? 'up' : 'down', temporal: temporal ? 'up' : 'down' };
}

async function withTimeout(probe: Promise<unknown>, ms = 2000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([probe.then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
