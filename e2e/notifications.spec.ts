import { openTestData } from './data';
import { expect, test } from './fixtures';

/**
 * An owner manages the project's webhooks on its page (the stack's allow-list is production's
 * default, the public internet only), and hears of a finished job from the bell in the top bar.
 */
test('webhooks on the project page and a job’s notification in the bell', async ({ page, signIn }) => {
  test.setTimeout(120_000);
  const data = await openTestData();
  try {
    const team = await data.team('Bell', ['Nia']);
    const nia = team.members[0]!;
    await signIn(page, nia.email, nia.password);
    await page.goto(`/projects/${team.project.id}`);

    const hooks = page.getByRole('region', { name: 'Webhooks' });
    await hooks.getByLabel('URL').fill('http://127.0.0.1:9/hook');
    await hooks.getByLabel('Secret').fill('e2e-webhook-secret-0123');
    await hooks.getByRole('button', { name: 'Add webhook' }).click();
    await expect(hooks.getByText(/127\.0\.0\.1 is not among the hosts webhooks may use \(WEBHOOK_URL_ALLOWLIST: public\)/)).toBeVisible();

    // A public address (never reached: it only hears of cancellations, and no job is cancelled).
    const url = 'https://93.184.215.14/hook';
    await hooks.getByLabel('URL').fill(url);
    await hooks.getByRole('checkbox', { name: 'completed' }).uncheck();
    await hooks.getByRole('checkbox', { name: 'failed' }).uncheck();
    await hooks.getByRole('checkbox', { name: 'cancelled' }).check();
    await hooks.getByRole('button', { name: 'Add webhook' }).click();
    const hook = hooks.getByRole('article', { name: `Webhook ${url}` });
    await expect(hook).toContainText('cancelled');
    await expect(hooks.getByLabel('URL')).toHaveValue('');
    await hook.getByRole('button', { name: 'Pause' }).click();
    await expect(hook).toContainText('paused');

    const bell = page.getByRole('button', { name: /^Notifications, \d+ unread$/ });
    await expect(bell).toHaveAccessibleName('Notifications, 0 unread');
    const requirements = `A function that doubles a number (${data.suffix})`;
    await page.getByLabel('Requirements').fill(requirements);
    await page.getByRole('button', { name: 'Run job' }).click();
    await expect(page.getByRole('article', { name: 'Job' }).getByText('Completed')).toBeVisible({ timeout: 60_000 });
    // Pushed to this user's sockets as the job ended: no reload.
    await expect(bell).toHaveAccessibleName('Notifications, 1 unread');
    await bell.click();
    const menu = page.getByRole('region', { name: 'Notifications' });
    await menu.getByRole('link', { name: `Completed: ${requirements}` }).click();
    await expect(bell).toHaveAccessibleName('Notifications, 0 unread');

    await hook.getByRole('button', { name: 'Delete' }).click();
    await expect(hook).toHaveCount(0);
  } finally {
    await data.cleanup();
  }
});

/**
 * While the tab is hidden, a notification is also handed to the browser's Notification API. The
 * test browser cannot hide a tab nor show system notifications, so the page is told it is hidden
 * and the API records what it is given; permission is as a person's click would have left it.
 */
test('a notification that arrives while the tab is hidden is shown by the browser', async ({ page, signIn }) => {
  test.setTimeout(120_000);
  const data = await openTestData();
  try {
    const team = await data.team('Hidden', ['Hal']);
    const hal = team.members[0]!;
    await page.addInitScript(() => {
      const shown: { title: string; tag?: string }[] = [];
      Object.assign(window, { shownNotifications: shown });
      Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
      class RecordingNotification {
        static permission = 'granted';
        static requestPermission = () => Promise.resolve('granted');
        onclick: (() => void) | null = null;
        constructor(title: string, options: { tag?: string } = {}) {
          shown.push({ title, tag: options.tag });
        }
      }
      Object.assign(window, { Notification: RecordingNotification });
    });
    await signIn(page, hal.email, hal.password);
    await page.goto(`/projects/${team.project.id}`);
    const requirements = `A function that halves a number (${data.suffix})`;
    await page.getByLabel('Requirements').fill(requirements);
    await page.getByRole('button', { name: 'Run job' }).click();
    await expect(page.getByRole('article', { name: 'Job' }).getByText('Completed')).toBeVisible({ timeout: 60_000 });
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { shownNotifications: { title: string }[] }).shownNotifications.map((n) => n.title)))
      .toEqual([`Completed: ${requirements}`]);
  } finally {
    await data.cleanup();
  }
});
