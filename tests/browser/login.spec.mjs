// Login with the API key: a wrong key is refused with a message (checked by a
// real authenticated call), the right one opens the app, log out forgets it.
// The key lives in sessionStorage only: never in the URL or a cookie.
import { test, expect, KEY, login, allowConsole, shot } from './fixtures.mjs';

async function storage(page) {
  return page.evaluate(() => ({ ...sessionStorage }));
}

test('a wrong key is refused and not kept', async ({ page }) => {
  allowConsole(page, /status of 401/);
  const asked = [];
  page.on('request', (r) => { if (r.url().includes('/api/')) asked.push(r.headers().authorization || ''); });
  await page.goto('/dashboard');
  await expect(page.locator('#login-key')).toBeFocused();
  await shot(page, 'login');
  await page.locator('#login-key').fill('not-the-key');
  await page.locator('#login-submit').click();
  await expect(page.locator('#login-error')).toHaveText('wrong API key');
  // It was a real call with that key, and the daemon said no.
  expect(asked).toContain('Bearer not-the-key');
  await expect(page.locator('#app-nav')).toHaveCount(0);
  expect(await storage(page)).toEqual({});
  // An empty key is not even sent.
  asked.length = 0;
  await page.locator('#login-key').fill('');
  await page.locator('#login-submit').click();
  await expect(page.locator('#login-error')).toHaveText('Enter the API key.');
  expect(asked).toEqual([]);
});

test('log in, stay logged in across a reload, log out forgets the key', async ({ page, context }) => {
  await login(page);
  const kept = await storage(page);
  expect(Object.values(kept)).toEqual([KEY]);
  expect(page.url()).not.toContain(KEY);
  expect(await context.cookies()).toEqual([]);
  expect(await page.evaluate(() => document.cookie)).toBe('');
  for (const name of ['Overview', 'Sandboxes', 'Create']) {
    await expect(page.locator('#app-nav').getByRole('link', { name })).toBeVisible();
  }
  // Same tab, reload: still in (sessionStorage), on the same route.
  await page.goto('/dashboard#/sandboxes');
  await page.reload();
  await expect(page.locator('#sandbox-table')).toBeAttached();
  await expect(page.locator('#nav-sandboxes')).toHaveAttribute('aria-current', 'page');

  // A preference of the session (the charts' range) goes with the key.
  await page.locator('#nav-overview').click();
  await page.locator('#range-3600').click();
  await expect(page.locator('#range-3600')).toHaveAttribute('aria-pressed', 'true');
  expect(Object.keys(await storage(page)).length).toBe(2);
  await page.locator('#logout').click();
  await expect(page.locator('#login-key')).toBeVisible();
  await expect(page.locator('#app-nav')).toHaveCount(0);
  expect(await storage(page)).toEqual({});
  expect(await context.cookies()).toEqual([]);
  expect(page.url()).not.toContain(KEY);
  // Nothing left to log in with after a reload either.
  await page.reload();
  await expect(page.locator('#login-key')).toBeVisible();
  expect(await storage(page)).toEqual({});
});

test('a key the daemon stops accepting sends the user back to the login', async ({ page }) => {
  await login(page);
  allowConsole(page, /status of 401/);
  // As if the daemon restarted with another key: the next call gets a 401.
  await page.evaluate(() => sessionStorage.setItem('hivebox.key', 'revoked'));
  await page.locator('#nav-sandboxes').click();
  await expect(page.locator('#login-error')).toContainText('refused the key');
  expect(await storage(page)).toEqual({});
});
