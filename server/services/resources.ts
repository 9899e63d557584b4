import { WorkflowNotFoundError } from '@temporalio/client';
import type { ResourceStatus } from '../../workflows/resources';
import { resourceManagerWorkflowId, resourceStatusQuery } from '../../workflows/resources/api';
import { UnavailableError } from '../errors';
import type { TemporalProvider } from '../temporal/client';

/** What the resource manager of this web process's task queue sees and recommends (admins, /metrics). */
export function createResourceService({ temporal }: { temporal: TemporalProvider }) {
  return {
    async status(): Promise<ResourceStatus> {
      const client = await temporal.get().catch(() => {
        throw new UnavailableError('The job service (Temporal) is unreachable; try again in a moment.');
      });
      try {
        return await client.workflow.getHandle(resourceManagerWorkflowId(temporal.config.taskQueue)).query(resourceStatusQuery);
      } catch (error) {
        throw new UnavailableError(
          error instanceof WorkflowNotFoundError
            ? 'The resource manager is not running; it starts with the first worker.'
            : 'The resource manager did not answer; try again in a moment.',
        );
      }
    },
  };
}
