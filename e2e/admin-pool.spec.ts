import { createSimulator } from '../simulator';
import { expect, test, users } from './fixtures';

/**
 * The pool as live configuration, in the browser: a new Ollama instance (a simulator this test
 * starts, serving a model of its own) is added by an admin into a pool of its own, a catalogue
 * model is mapped onto it and shows it served there, the residency page shows it loaded once the
 * instance loads it, and the admin drains it; nothing restarts.
 */
test('an admin adds a backend, maps a catalogue model onto it, sees it loaded and drains it', async ({ page, signIn }) => {
  const suffix = Math.random().toString(16).slice(2, 8);
  const served = `e2e-pool-${suffix}:1b`;
  const backendName = `GPU box ${suffix}`;
  const pool = `e2e-${suffix}`;
  const sim = await createSimulator({ models: [{ name: served, contextWindow: 8_192 }] });
  try {
    await signIn(page, users.admin.email, users.admin.password);
    await page.goto('/admin');
    await page.getByRole('region', { name: 'Backends' }).getByRole('link', { name: 'New backend' }).click();

    // A host outside the operator's allow-list is refused beside the URL, and nothing is added.
    const url = page.getByLabel('URL');
    await page.getByLabel('Name').fill(backendName);
    await url.fill('http://169.254.169.254/latest');
    await page.getByLabel('Pool').fill(pool);
    await page.getByLabel('Slots').fill('2');
    await page.getByRole('button', { name: 'Add backend' }).click();
    await expect(url).toHaveAttribute('aria-invalid', 'true');
    await expect(url).toHaveAccessibleDescription(/link-local or metadata address/);
    await expect(page.getByLabel('Name')).toHaveValue(backendName);

    await url.fill(sim.url);
    await page.getByRole('button', { name: 'Add backend' }).click();
    await expect(page.getByRole('status')).toContainText(`Backend ${backendName} added (it has ${served}).`);

    // A catalogue model mapped to what the new backend serves.
    await page.goto('/admin/models/new');
    await page.getByLabel('Name').fill(served);
    await page.getByLabel('On Ollama backends').fill(served);
    await page.getByLabel('Output cap (tokens)').fill('512');
    await page.getByRole('button', { name: 'Add model' }).click();
    await expect(page.getByRole('status')).toContainText(`Model ${served} added.`);
    await page.getByRole('link', { name: 'Edit it' }).click();
    await expect(page.getByText(/^Served by /)).toContainText(`(${pool})`);

    // Loaded on the instance (a request from outside Switchyard): the resource loop reads its
    // /api/ps within a tick, and the residency page shows it loaded there.
    await fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: served, messages: [{ role: 'user', content: 'hi' }], stream: false }) });
    await page.goto('/admin/residency');
    const models = page.getByRole('table', { name: `Models on ${backendName}` });
    await expect(async () => {
      await page.reload();
      await expect(models.getByRole('row', { name: new RegExp(served) })).toContainText('loaded', { timeout: 1_000 });
    }).toPass({ timeout: 60_000 });

    // Drained: nothing runs there, so it shows drained at once, and serves the model no more.
    await page.goto('/admin');
    const row = page.getByRole('region', { name: 'Backends' }).getByRole('listitem').filter({ hasText: backendName });
    await expect(row).toContainText(pool);
    await row.getByRole('button', { name: `Drain ${backendName}` }).click();
    await expect(row.getByRole('status')).toContainText(`${backendName} takes no new jobs`);
    await expect(row).toContainText('drained');
    await page.screenshot({ path: test.info().outputPath('admin-pool-1280.png'), fullPage: true });

    // Cleaned up through the UI as well: the model, then the drained backend.
    await page.goto('/admin/models');
    await page.getByRole('link', { name: `Edit model ${served}` }).click();
    await expect(page.getByText('No enabled backend serves it', { exact: false })).toBeVisible();
    await page.getByRole('button', { name: 'Delete model' }).click();
    await expect(page).toHaveURL(/\/admin\/models$/);
    await page.goto('/admin');
    await page.getByRole('link', { name: `Edit backend ${backendName}` }).click();
    await page.getByRole('button', { name: 'Delete backend' }).click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('region', { name: 'Backends' })).not.toContainText(backendName);
  } finally {
    await sim.close();
  }
});
