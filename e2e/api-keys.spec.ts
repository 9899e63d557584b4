import { expect, test, users } from './fixtures';

test('the demo user creates an API key, uses it on the OpenAI-compatible API, and revokes it', async ({ page, signIn, request }) => {
  await signIn(page, users.demo.email, users.demo.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
  await expect(page.getByRole('heading', { name: 'API keys', level: 1 })).toBeVisible();

  const name = `e2e ${Date.now().toString(36)}`;
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = await page.getByTestId('api-key').inputValue();
  expect(key).toMatch(/^sy_[A-Za-z0-9_-]{43}$/);
  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText(key.slice(0, 9));
  await expect(row).toContainText('never');

  // The key works on the server the page came from, as an editor would use it.
  const models = await request.get('/v1/models', { headers: { authorization: `Bearer ${key}` } });
  expect(models.status()).toBe(200);
  expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain('qwen2.5-coder:7b');

  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(page.getByRole('row').filter({ hasText: name })).toHaveCount(0);

  // The page has the app's top bar: the rest of the app is one click away.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage' }).click();
  await expect(page).toHaveURL(/\/usage$/);
  await expect(page.getByRole('heading', { name: 'Usage', level: 1 })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
  await expect(page.getByRole('heading', { name: 'API keys', level: 1 })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage' })).toBeVisible();
  const refused = await request.get('/v1/models', { headers: { authorization: `Bearer ${key}` } });
  expect(refused.status()).toBe(401);
  expect(await refused.json()).toMatchObject({ error: { code: 'invalid_api_key', message: `The API key "${name}" was revoked.` } });
});
