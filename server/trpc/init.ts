import { SpanStatusCode } from '@opentelemetry/api';
import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import superjson from 'superjson';
import type { SessionUser } from '../auth/session';
import {
  ForbiddenError,
  isError,
  LimitError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '../errors';
import type { Services } from '../services';
import { tracer } from '../tracing';
import { describeError } from './error-shape';

/** The HTTP-free part of the context: what tests and Remix loaders build directly. */
export interface Context {
  services: Services;
  user: SessionUser | null;
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // Clients get a sentence (and one per field), never a stack or internals (error-shape.ts).
  errorFormatter({ shape, error }) {
    const { message, fieldErrors, retryAt } = describeError(error);
    const { code, httpStatus, path } = shape.data;
    return { message, code: shape.code, data: { code, httpStatus, path, fieldErrors, retryAt } };
  },
});

const DOMAIN_CODES: [{ readonly type: string; prototype: Error }, TRPC_ERROR_CODE_KEY][] = [
  [NotFoundError, 'NOT_FOUND'],
  [UnauthorizedError, 'UNAUTHORIZED'],
  [ForbiddenError, 'FORBIDDEN'],
  [ValidationError, 'BAD_REQUEST'],
  [LimitError, 'TOO_MANY_REQUESTS'],
  [UnavailableError, 'SERVICE_UNAVAILABLE'],
];

/** Domain errors become tRPC errors here, and nowhere else. */
const convertErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    const code = DOMAIN_CODES.find(([kind]) => isError(cause, kind))?.[1];
    if (code) throw new TRPCError({ code, message: cause!.message, cause });
  }
  return result;
});

/** A span per procedure call (the API's no-op span when tracing is off), under the request's. */
const traceProcedure = t.middleware(({ path, type, next }) =>
  tracer().startActiveSpan(`trpc ${path}`, { attributes: { 'rpc.system': 'trpc', 'rpc.method': path, 'trpc.type': type } }, async (span) => {
    try {
      const result = await next();
      if (!result.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.code });
      return result;
    } finally {
      span.end();
    }
  }),
);

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

export const publicProcedure = t.procedure.use(traceProcedure).use(convertErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (!ctx.user.isAdmin) throw new TRPCError({ code: 'FORBIDDEN', message: 'Admins only.' });
  return next();
});

/** A signed-in procedure that queries a Temporal workflow: limited per user, so no one can load the scheduler for everyone. */
export const workflowQueryProcedure = protectedProcedure.use(({ ctx, next }) => {
  ctx.services.rates.workflowQueries.take(ctx.user.id);
  return next();
});
