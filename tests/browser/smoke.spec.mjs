// The page loads with no key, under the strict CSP, with no console error,
// and every file it asks for arrives (no 4xx/5xx for a script or style).
import { test, expect, KEY, allowConsole } from './fixtures.mjs';

test('dashboard loads without a key, under the CSP, with no errors', async ({ page }) => {
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => failed.push(`failed ${r.url()}: ${r.failure()?.errorText}`));
  const res = await page.goto('/dashboard');
  expect(res.status()).toBe(200);
  const h = res.headers();
  expect(h['content-type']).toMatch(/^text\/html/);
  expect(h['content-security-policy']).toContain("script-src 'self'");
  expect(h['content-security-policy']).toContain("connect-src 'self'");
  expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(h['x-content-type-options']).toBe('nosniff');
  await page.waitForLoadState('networkidle');
  expect(failed).toEqual([]);
  // The key was never sent, stored or put in the URL by merely loading.
  expect(page.url()).not.toContain(KEY);
  expect(await page.evaluate(() => document.cookie)).toBe('');
  await expect(page.locator('#app')).toBeAttached();
});

test('an inline script is refused by the CSP', async ({ page }) => {
  await page.goto('/dashboard');
  // A CSP violation is a console error in Chromium: this one is the point.
  allowConsole(page, /inline script violates the following Content Security Policy/);
  const violation = page.waitForEvent('console', (m) => /Content Security Policy/.test(m.text()));
  const ran = await page.evaluate(async () => {
    window.__inline = false;
    const s = document.createElement('script');
    s.textContent = 'window.__inline = true';
    document.head.append(s);
    await new Promise((r) => setTimeout(r, 50));
    return window.__inline;
  }).catch(() => false);
  expect(ran).toBe(false);
  await violation;
});
