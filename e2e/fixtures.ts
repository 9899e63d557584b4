import { test as base, expect, type Page } from '@playwright/test';
import { loadStackEnv } from '../server/env';

export interface Fixtures {
  /** Signs in through the real login form; resolves once the app navigated away or showed an alert. */
  signIn: (page: Page, email: string, password: string) => Promise<void>;
}

export const users = {
  demo: { email: 'demo@switchyard.dev', password: 'demo-password' },
  admin: { email: 'admin@switchyard.dev', password: 'admin-password' },
} as const;

export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
  baseURL: async ({}, use) => {
    const url = loadStackEnv().E2E_BASE_URL;
    if (!url) throw new Error('E2E_BASE_URL is not set: run the e2e tests through `playwright test` (its global setup starts the stack).');
    await use(url);
  },
  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
  signIn: async ({}, use) => {
    await use(async (page, email, password) => {
      await page.goto('/login');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Either the app navigates away, or a refusal stays on /login with an alert (callers assert on it).
      await Promise.race([
        page.waitForURL((url) => !url.pathname.startsWith('/login')),
        page.getByRole('alert').first().waitFor(),
      ]);
    });
  },
});

export { expect };
