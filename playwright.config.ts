import { defineConfig, devices } from '@playwright/test';

/**
 * Playwright against the whole stack started by e2e/global-setup.ts (free ports, throwaway data,
 * LLM simulator). The browser is Debian's Chromium, never a downloaded one.
 */
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  // The stack (PostgreSQL, Temporal, simulator, worker, web with Vite) shares two cores with the browsers.
  workers: 2,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    // baseURL comes from the fixture in e2e/fixtures.ts (the stack's port is only known at run time).
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    video: 'off',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
