import { expect, test } from './fixtures';

test('the demo user runs a job and watches it stream to a result', async ({ page, signIn }) => {
  await signIn(page, 'demo@switchyard.dev', 'demo-password');
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();

  await page.getByRole('link', { name: 'Demo Project' }).click();
  await expect(page.getByRole('heading', { name: 'Demo Project' })).toBeVisible();

  await page.getByLabel('Requirements').fill('A TypeScript function that returns the nth Fibonacci number');
  await page.getByRole('button', { name: 'Run job' }).click();

  const job = page.getByRole('article', { name: 'Job' });
  await expect(job.getByText('A TypeScript function that returns the nth Fibonacci number')).toBeVisible();
  // Tokens arrive before the job completes: the live output grows while it runs.
  await expect(job.getByTestId('job-output')).toContainText(/\S{3,}/, { timeout: 15_000 });
  await expect(job.getByText('Completed')).toBeVisible({ timeout: 30_000 });
  await expect(job.getByTestId('job-result')).toContainText(/\S+/);
  await page.screenshot({ path: test.info().outputPath('project-page.png'), fullPage: true });
});

test('a wrong password is refused with a message and no session', async ({ page, signIn }) => {
  await signIn(page, 'demo@switchyard.dev', 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
  await page.goto('/projects');
  await expect(page).toHaveURL(/\/login/);
});
