import { openTestData } from './data';
import { expect, test, users } from './fixtures';

test('an admin edits a tier: a bad value is refused beside its field, a good one reaches the scheduler', async ({ page, signIn }) => {
  await signIn(page, users.admin.email, users.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('heading', { name: 'Admin', exact: true })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Backends' })).toContainText('local');

  await page.getByRole('link', { name: 'Edit tier enterprise' }).click();
  await expect(page.getByRole('heading', { name: 'Tier enterprise' })).toBeVisible();
  const weight = page.getByLabel('Fair-share weight');
  await weight.fill('0');
  await page.getByRole('button', { name: 'Save tier' }).click();
  await expect(weight).toHaveAttribute('aria-invalid', 'true');
  await expect(weight).toHaveAccessibleDescription('Weight must be at least 1.');
  await expect(weight).toHaveValue('0');

  // The seeded value again: other tests' jobs see no difference.
  await weight.fill('4');
  await page.getByRole('button', { name: 'Save tier' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved; the scheduler applies it from now on.');
  await expect(weight).toHaveAttribute('aria-invalid', 'false');
  await page.screenshot({ path: test.info().outputPath('admin-tier-1280.png'), fullPage: true });
});

test('a non-admin sees no Admin link and is refused the page', async ({ page, signIn }) => {
  await signIn(page, users.demo.email, users.demo.password);
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await page.goto('/admin');
  await expect(page.getByRole('alert')).toContainText('This page is for administrators.');
});

test('a prompt over the tier’s limit is refused beside the field', async ({ page, signIn }) => {
  await signIn(page, users.demo.email, users.demo.password);
  await page.getByRole('link', { name: 'Demo Project' }).click();
  const requirements = page.getByLabel('Requirements');
  // The demo team is on the premium tier: 32,000 characters.
  await requirements.fill('x'.repeat(32_001));
  await page.getByRole('button', { name: 'Run job' }).click();
  await expect(requirements).toHaveAccessibleDescription('Requirements are 32,001 characters; the premium tier allows 32,000.');
  await expect(requirements).toHaveAttribute('aria-invalid', 'true');
});

test('an admin moves a team to a new tier, cannot delete the tier while the team is on it, then deletes it', async ({ page, signIn }) => {
  const data = await openTestData();
  try {
    const team = await data.team('Tiered', ['Tia']);
    const tierName = `e2e-${data.suffix}`;
    await signIn(page, users.admin.email, users.admin.password);
    await page.goto('/admin/tiers/new');
    await page.getByLabel('Name').fill(tierName);
    await page.getByRole('button', { name: 'Create tier' }).click();
    await expect(page.getByRole('status')).toBeVisible();

    await page.goto('/admin');
    const teams = page.getByRole('region', { name: 'Teams' });
    const row = teams.getByRole('listitem').filter({ hasText: team.name });
    await row.getByLabel('Tier', { exact: true }).selectOption({ label: tierName });
    await row.getByRole('button', { name: `Move ${team.name} to the chosen tier` }).click();
    await expect(row.getByRole('status')).toHaveText(`${team.name} is on the ${tierName} tier; its next jobs run by it.`);

    await page.getByRole('link', { name: `Edit tier ${tierName}` }).click();
    await expect(page.getByText('1 team on this tier.', { exact: false })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Delete tier' })).toBeDisabled();

    await page.goto('/admin');
    await row.getByLabel('Tier', { exact: true }).selectOption({ label: 'premium' });
    await row.getByRole('button', { name: `Move ${team.name} to the chosen tier` }).click();
    await expect(row.getByRole('status')).toContainText('premium tier');
    await page.getByRole('link', { name: `Edit tier ${tierName}` }).click();
    await page.getByRole('button', { name: 'Delete tier' }).click();
    await expect(page.getByRole('heading', { name: 'Admin', exact: true })).toBeVisible();
    await expect(page.getByRole('link', { name: `Edit tier ${tierName}` })).toHaveCount(0);
  } finally {
    await data.cleanup();
  }
});

test('an admin changes how many teams one person may own, and clears it back to the default', async ({ page, signIn }) => {
  await signIn(page, users.admin.email, users.admin.password);
  await page.goto('/admin');
  const teams = page.getByRole('region', { name: 'Teams' });
  const limit = teams.getByLabel('Teams one person may own');
  try {
    await limit.fill('50');
    await teams.getByRole('button', { name: 'Save' }).click();
    await expect(teams.getByRole('status')).toHaveText('One person may own at most 50 teams from now on.');
    // The action's answer shows before the page's data is reloaded; once it is, the field is
    // drawn again from the stored setting (no "default" placeholder), and only then edited.
    await expect(limit).toHaveAttribute('placeholder', '');
    await expect(limit).toHaveValue('50');
  } finally {
    await limit.fill('');
    await teams.getByRole('button', { name: 'Save' }).click();
  }
  await expect(teams.getByRole('status')).toHaveText('One person may own at most 5 teams from now on.');
  await expect(limit).toHaveAttribute('placeholder', 'default 5');
  await expect(limit).toHaveValue('');
});
