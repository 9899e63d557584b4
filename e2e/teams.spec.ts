import { expect, test, users } from './fixtures';

test('a new user signs up, creates a team and a project, and invites the demo user, who joins and shows up as present', async ({ browser, baseURL }) => {
  const suffix = Date.now().toString(36);
  const name = `Ana ${suffix}`;
  const teamName = `Rockets ${suffix}`;

  const ana = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
  const page = await ana.newPage();
  await page.goto('/login');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { name: 'Switchyard' })).toBeVisible();

  // A bad submission is refused beside the field and keeps what was typed.
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(`ana-${suffix}@example.com`);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('Use at least 10 characters.')).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveValue(`ana-${suffix}@example.com`);
  await page.getByLabel('Password').fill('a-long-enough-password');
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByRole('heading', { name: 'You are not in a team yet' })).toBeVisible();
  await page.getByRole('link', { name: 'Create a team' }).click();
  await page.getByLabel('Team name').fill(teamName);
  await page.getByRole('button', { name: 'Create team' }).click();
  await expect(page.getByRole('heading', { name: teamName })).toBeVisible();
  await expect(page.getByRole('region', { name: /Members/ })).toContainText(`${name} (you)`);

  await page.getByLabel('Project name').fill('Launchpad');
  await page.getByLabel('Description').fill('Where the rockets are built');
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByRole('status')).toHaveText(/Project “Launchpad” created/);
  await expect(page.getByRole('region', { name: 'Projects' }).getByRole('link', { name: 'Launchpad' })).toBeVisible();

  await page.getByRole('button', { name: 'Create invite link' }).click();
  const inviteUrl = await page.getByTestId('invite-url').inputValue();
  expect(inviteUrl).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);

  // The demo user opens the link signed out: through sign-in and back to the invite.
  const demo = await browser.newContext({ baseURL });
  const demoPage = await demo.newPage();
  await demoPage.goto(inviteUrl);
  await expect(demoPage).toHaveURL(/\/login\?redirectTo=/);
  await demoPage.getByLabel('Email').fill(users.demo.email);
  await demoPage.getByLabel('Password').fill(users.demo.password);
  await demoPage.getByRole('button', { name: 'Sign in' }).click();
  await demoPage.getByRole('button', { name: `Join ${teamName}` }).click();
  await expect(demoPage.getByRole('heading', { name: teamName })).toBeVisible();
  await expect(demoPage.getByText('you are a member')).toBeVisible();

  // The used link is spent.
  await demoPage.goto(inviteUrl);
  await expect(demoPage.getByText(`You are already a member of ${teamName}.`)).toBeVisible();

  await page.reload();
  await expect(page.getByRole('region', { name: /Members/ })).toContainText('Demo User');
  await page.screenshot({ path: test.info().outputPath('team-page-1280.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: test.info().outputPath('team-page-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Both open the project: each sees the other.
  await page.getByRole('link', { name: 'Launchpad' }).first().click();
  await expect(page.getByRole('heading', { name: 'Launchpad' })).toBeVisible();
  await demoPage.getByRole('link', { name: 'Projects' }).click();
  await demoPage.getByRole('link', { name: 'Launchpad' }).click();
  await expect(page.getByTestId('presence')).toHaveText('Also here: Demo User');
  await expect(demoPage.getByTestId('presence')).toHaveText(`Also here: ${name}`);
  await demoPage.close();
  await expect(page.getByTestId('presence')).toHaveText('Only you are here right now.');

  await ana.close();
  await demo.close();
});
