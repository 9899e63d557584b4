import { expect, test, users } from './fixtures';

test('the demo user sees an API request on the usage page, by key, with its chart, and downloads it as CSV', async ({ page, signIn }) => {
  await signIn(page, users.demo.email, users.demo.password);
  await page.goto('/settings/keys');
  const name = `usage ${Date.now().toString(36)}`;
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = await page.getByTestId('api-key').inputValue();

  // One request through the API, answered (and so charged) before the response returns.
  const answer = await page.request.post('/v1/chat/completions', {
    headers: { authorization: `Bearer ${key}` },
    data: { model: 'qwen2.5-coder:7b', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 20 },
  });
  expect(answer.status()).toBe(200);
  const { usage } = (await answer.json()) as { usage: { total_tokens: number } };

  await page.goto('/projects');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage' }).click();
  await expect(page.getByRole('heading', { name: 'Usage', level: 1 })).toBeVisible();
  await page.getByRole('combobox', { name: /^Group by/ }).selectOption('apiKey');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/groupBy=apiKey/);
  const row = page.getByRole('table', { name: 'Usage by api key' }).getByRole('row', { name: new RegExp(name) });
  await expect(row.getByRole('cell').nth(4)).toHaveText('1');
  await expect(page.getByRole('img', { name: /^Tokens per day from .* in all, most on / })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: name })).toBeVisible();

  const csv = await page.request.get(await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href').then((href) => href!));
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toBe('text/csv; charset=utf-8');
  const line = (await csv.text()).split('\r\n').find((l) => l.includes(name));
  expect(line?.split(',').slice(4, 5)).toEqual([String(usage.total_tokens)]);

  // The job form tells what is left of the team's budget this period.
  await page.goto('/projects');
  await page.getByRole('link', { name: 'Demo Project' }).first().click();
  await expect(page.getByTestId('budget-left')).toHaveText(/^Team budget: [\d,]+ of [\d,]+ tokens left \(per day\); resets /);
});
