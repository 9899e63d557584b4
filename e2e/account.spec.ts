import type { Page } from '@playwright/test';
import { openTestData } from './data';
import { expect, test } from './fixtures';

/** What the browser reported as blocked by the Content-Security-Policy: the app must need nothing it forbids. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) seen.push(message.text());
  });
  return seen;
}

test('changing the password on one computer signs the other out, and the app runs under its CSP', async ({ browser, baseURL, signIn }) => {
  const data = await openTestData();
  try {
    const team = await data.team('Account', ['Ana']);
    const ana = team.members[0]!;
    const [here, there] = await Promise.all([browser.newContext({ baseURL }), browser.newContext({ baseURL })]);
    const [page, other] = await Promise.all([here.newPage(), there.newPage()]);
    const [blockedHere, blockedThere] = [cspViolations(page), cspViolations(other)];
    const blocked = () => [...blockedHere, ...blockedThere];
    await signIn(page, ana.email, ana.password);
    await signIn(other, ana.email, ana.password);
    // The other computer watches the project live (its socket joins the project's room).
    await other.goto(`/projects/${team.project.id}`);
    await expect(other.getByRole('heading', { name: team.project.name })).toBeVisible();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account', exact: true }).click();
    await page.getByLabel('Current password').fill('not-the-password');
    await page.getByLabel('New password').fill('a-brand-new-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByText('That is not your current password.')).toBeVisible();

    await page.getByLabel('Current password').fill(ana.password);
    await page.getByLabel('New password').fill('a-brand-new-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('status')).toHaveText('Your password is changed, and your other sessions are signed out.');

    await other.reload();
    await expect(other).toHaveURL(/\/login\?redirectTo=/);
    await page.goto('/projects');
    await expect(page).toHaveURL(/\/projects$/);
    await signIn(other, ana.email, 'a-brand-new-password');
    await expect(other).toHaveURL(/\/projects/);
    expect(blocked()).toEqual([]);
    await Promise.all([here.close(), there.close()]);
  } finally {
    await data.cleanup();
  }
});
