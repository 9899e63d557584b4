import { openTestData } from './data';
import { expect, test, users } from './fixtures';

test('an admin adds a model to the catalogue: a missing mapping is refused beside its field; the model is offered to tiers, then deleted', async ({
  page,
  signIn,
}) => {
  const data = await openTestData();
  const name = `e2e-${data.suffix}:1b`;
  try {
    await signIn(page, users.admin.email, users.admin.password);
    await page.goto('/admin');
    await page.getByRole('link', { name: 'Model catalogue' }).click();
    const catalogue = page.getByRole('region', { name: 'Model catalogue' });
    // The seeded models, each served by the stack's simulators under its Ollama name.
    const qwen = catalogue.getByRole('row').filter({ has: page.getByRole('link', { name: 'Edit model qwen2.5-coder:7b' }) });
    await expect(qwen).toContainText('gpt-4o-mini');
    await expect(qwen).toContainText('(local)');

    await page.getByRole('link', { name: 'New model' }).click();
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Add model' }).click();
    const ollama = page.getByLabel('On Ollama backends');
    await expect(ollama).toHaveAttribute('aria-invalid', 'true');
    await expect(ollama).toHaveAccessibleDescription('Map the model on at least one kind of backend (Ollama, OpenAI-compatible or both).');
    await expect(page.getByLabel('Name')).toHaveValue(name);

    await ollama.fill(name);
    await page.getByLabel('Output cap (tokens)').fill('512');
    await page.getByRole('button', { name: 'Add model' }).click();
    await expect(page.getByRole('status')).toContainText(`Model ${name} added.`);

    // Tier forms pick from the catalogue.
    await page.goto('/admin/tiers/new');
    await expect(page.getByRole('group', { name: 'Allowed models' }).getByLabel(name)).toBeVisible();

    await page.goto('/admin/models');
    await expect(page.getByRole('row').filter({ hasText: name })).toContainText('no backend serves it');
    await page.screenshot({ path: test.info().outputPath('admin-models-1280.png'), fullPage: true });
    await page.getByRole('link', { name: `Edit model ${name}` }).click();
    await page.screenshot({ path: test.info().outputPath('admin-model-1280.png'), fullPage: true });
    await expect(page.getByText('No enabled backend serves it', { exact: false })).toBeVisible();
    await page.getByRole('button', { name: 'Delete model' }).click();
    await expect(page.getByRole('heading', { name: 'Model catalogue' })).toBeVisible();
    await expect(page.getByRole('link', { name: `Edit model ${name}` })).toHaveCount(0);
  } finally {
    await data.cleanup();
  }
});
