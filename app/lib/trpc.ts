import { createTRPCClient, httpBatchLink, httpLink, splitLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import superjson from 'superjson';
import type { AppRouter } from '../../server/trpc/root';

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

/**
 * Procedures that ask a workflow (server/trpc/init.ts `workflowQueryProcedure`): each goes alone,
 * so a slow workflow query never holds back the database reads batched beside it.
 */
const askWorkflows = new Set(['jobs.live', 'queue.get']);

export function createBrowserTrpcClient() {
  const options = { url: '/trpc', transformer: superjson };
  return createTRPCClient<AppRouter>({
    links: [splitLink({ condition: (op) => askWorkflows.has(op.path), true: httpLink(options), false: httpBatchLink(options) })],
  });
}
