/**
 * The workflow bundles `npm run build` writes, which a production worker loads instead of
 * bundling at start: one plain, one with tracing's workflow interceptors (a bundle fixes its
 * interceptor modules, so tracing on or off is a choice of file). Relative to the working directory.
 */
export function prebuiltWorkflowBundle(traced: boolean): string {
  return traced ? 'dist/workflow-bundle-traced.js' : 'dist/workflow-bundle.js';
}
