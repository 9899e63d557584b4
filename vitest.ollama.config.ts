import tsconfigPaths from 'vite-tsconfig-paths';
import { defineConfig } from 'vitest/config';

// The tests against a real Ollama (`npm run test:ollama`), apart from `npm test` for now: they
// need the Ollama build (minutes, once) and start a server per test file.
export default defineConfig({
  plugins: [tsconfigPaths()],
  test: {
    environment: 'node',
    include: ['tests/ollama/**/*.test.ts'],
    // The Ollama build, then the run's PostgreSQL and Temporal dev server (for the job path).
    globalSetup: ['tests/support/ollama-global-setup.ts', 'tests/support/global-setup.ts'],
    setupFiles: ['tests/support/ollama-setup.ts'],
    pool: 'forks',
    // Each file runs its own server; two cores.
    maxWorkers: 2,
    minWorkers: 1,
    // Generous: a busy machine slows a model load or a generation, and nothing here asserts speed.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
