import tsconfigPaths from 'vite-tsconfig-paths';
import { defineConfig } from 'vitest/config';

// Separate from vite.config.ts on purpose: the Remix plugin must not run under vitest.
export default defineConfig({
  plugins: [tsconfigPaths()],
  test: {
    environment: 'node',
    include: ['{server,workflows,activities,scripts,prisma,app,bench,docker,simulator,tests}/**/*.test.ts'],
    // tests/ollama/ runs on its own (vitest.ollama.config.ts): it needs the Ollama build.
    exclude: ['e2e/**', 'tests/ollama/**', '**/node_modules/**', 'dist/**', 'build/**', '.tools/**', '.data/**'],
    globalSetup: ['tests/support/global-setup.ts'],
    // Forks, not threads: Temporal's native core and Prisma's engine are happier one per process.
    pool: 'forks',
    // Two cores, and PostgreSQL + Temporal run beside the tests; integration tests mostly wait on I/O.
    maxWorkers: 3,
    minWorkers: 1,
    // Generous: a test waits on conditions, and a busy machine (load 8+) must slow it, not fail it.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
