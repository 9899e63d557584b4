import { WorkflowNotFoundError } from '@temporalio/client';
import type { ResourceStatus } from '../../workflows/resources';
import { resourceManagerWorkflowId, resourceStatusQuery } from '../../workflows/resources/api';
import { schedulerWorkflowId, statusQuery, type SchedulerStatus } from '../../workflows/scheduler/api';
import { UnavailableError } from '../errors';
import type { PrismaClient } from '../generated/prisma/client';
import type { TemporalProvider } from '../temporal/client';

/** What the resource manager of this web process's task queue sees and recommends (admins, /metrics). */
export function createResourceService({ prisma, temporal }: { prisma: PrismaClient; temporal: TemporalProvider }) {
  async function client() {
    return temporal.get().catch(() => {
      throw new UnavailableError('The job service (Temporal) is unreachable; try again in a moment.');
    });
  }
  return {
    async status(): Promise<ResourceStatus> {
      const temporalClient = await client();
      try {
        return await temporalClient.workflow.getHandle(resourceManagerWorkflowId(temporal.config.taskQueue)).query(resourceStatusQuery);
      } catch (error) {
        throw new UnavailableError(
          error instanceof WorkflowNotFoundError
            ? 'The resource manager is not running; it starts with the first worker.'
            : 'The resource manager did not answer; try again in a moment.',
        );
      }
    },

    /**
     * The status the resource manager stored on its last tick (null before its first): what the
     * admin page shows, read from the database so the page never waits on the workflow.
     */
    async snapshot(): Promise<{ status: ResourceStatus; storedAt: Date } | null> {
      const row = await prisma.resourceSnapshot.findUnique({ where: { taskQueue: temporal.config.taskQueue }, select: { status: true, updatedAt: true } });
      return row && { status: row.status as unknown as ResourceStatus, storedAt: row.updatedAt };
    },

    /** The scheduler's slots and leases per backend, for /metrics (Prometheus waits on it, never a page). */
    async schedulerStatus(): Promise<SchedulerStatus> {
      const temporalClient = await client();
      try {
        return await temporalClient.workflow.getHandle(schedulerWorkflowId(temporal.config.taskQueue)).query(statusQuery);
      } catch {
        throw new UnavailableError('The scheduler did not answer; try again in a moment.');
      }
    },
  };
}
