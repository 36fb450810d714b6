// The charts: host CPU, host memory and the sandbox count from
// /api/v1/analytics (one sample every 10 s) on the overview, and a sandbox's
// own memory and CPU on its page. A chart is "rendered with data" when uPlot
// drew its canvas and it holds at least one sample.
import { test, expect, login, apiCall, allowConsole, shot } from './fixtures.mjs';

const points = (page, id) => page.locator(`figure[data-chart="${id}"]`).getAttribute('data-points').then(Number);

test('overview and sandbox charts render with data', async ({ page, sandbox }) => {
  test.setTimeout(60_000);
  const sb = await sandbox({ name: `charts-${Date.now().toString(36)}`, memory: '256m' });
  // Something to measure: the sandbox holds ~40 MiB for the test.
  await apiCall('POST', `/api/v1/hiveboxes/${sb.id}/processes`, {
    command: 'python3 -c "import time; b = bytearray(40 << 20); time.sleep(120)"', tag: 'hog',
  });
  await login(page);
  await expect(page.locator('#nav-overview')).toHaveAttribute('aria-current', 'page');
  for (const id of ['host-cpu', 'host-memory', 'sandbox-count']) {
    await expect(page.locator(`figure[data-chart="${id}"]`)).toHaveAttribute('data-ready', 'true');
    await expect(page.locator(`figure[data-chart="${id}"] canvas`)).toHaveCount(1);
    await expect.poll(() => points(page, id), { timeout: 15_000 }).toBeGreaterThan(0);
  }
  // The cards show the latest sample (one every 10 s): at least our sandbox, a real memory size.
  await expect(page.locator('.card').first().locator('.card-value')).toHaveText(/^[1-9]\d*$/, { timeout: 15_000 });
  await expect(page.locator('.card').nth(2).locator('.card-value')).toHaveText(/\d+(\.\d)? (MiB|GiB)/);
  // The range buttons fetch that range.
  const asked = page.waitForRequest((r) => r.url().includes('/api/v1/analytics?range=3600'));
  await page.locator('#range-3600').click();
  await asked;
  await expect(page.locator('#range-3600')).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => points(page, 'host-cpu')).toBeGreaterThan(0);
  await shot(page, 'overview');

  // The sandbox page: its memory chart shows the 40 MiB it holds.
  await page.goto(`/dashboard#/sandbox/${sb.id}/overview`);
  await expect(page.locator('#tab-overview')).toHaveAttribute('aria-current', 'page');
  await expect(page.locator('figure[data-chart="sb-memory"] canvas')).toHaveCount(1);
  await expect.poll(() => points(page, 'sb-memory'), { timeout: 25_000 }).toBeGreaterThan(0);
  await expect.poll(() => points(page, 'sb-cpu')).toBeGreaterThan(0);
  await expect(page.locator('figure[data-chart="sb-memory"] .chart-now')).toHaveText(/^(\d\d+(\.\d)? MiB|\d(\.\d)? GiB)$/, { timeout: 25_000 });
  await expect(page.locator('#sb-ttl')).toHaveText(/^\d+:\d\d$/);
  await shot(page, 'sandbox-page');

  // The table shows the same live usage (from the samples, not per row).
  await page.locator('#nav-sandboxes').click();
  const row = page.locator(`#sandbox-table tbody tr[data-id="${sb.id}"]`);
  await expect(row.locator('td').nth(6)).toHaveText(/^\d+(\.\d)? MiB \/ 256 MiB$/);
  await expect(row.locator('td').nth(7)).toHaveText(/^\d+% \/ 1 CPU$/);
});

test('the sandbox page mounts the tabs it has and says which it has not', async ({ page, sandbox }) => {
  const sb = await sandbox({ name: `tabs-${Date.now().toString(36)}` });
  await login(page);
  await page.locator('#nav-sandboxes').click();
  const row = page.locator(`#sandbox-table tbody tr[data-id="${sb.id}"]`);
  await row.locator('a', { hasText: sb.id }).click();
  await expect(page).toHaveURL(new RegExp(`#/sandbox/${sb.id}/overview$`));
  await expect(page.locator('.sb-title')).toHaveText(sb.id);
  await expect(page.locator('#sb-status')).toHaveText('running');
  for (const tab of ['terminal', 'files', 'agent', 'processes']) {
    // A tab this build has must mount; one it lacks must say so (its 404 is expected).
    const has = (await page.request.head(`/dashboard/js/tabs/${tab}.js`)).ok();
    if (!has) allowConsole(page, new RegExp(`status of 404.*tabs/${tab}\\.js`));
    await page.locator(`#tab-${tab}`).click();
    await expect(page.locator(`#tab-${tab}`)).toHaveAttribute('aria-current', 'page');
    await expect(page.locator(`.tab-host.tab-${tab}`)).toBeAttached();
    await expect(page.locator('#tab-panel')).not.toContainText(`Loading the ${tab} tab`, { timeout: 10_000 });
    await expect(page.locator('#tab-unavailable')).toHaveCount(has ? 0 : 1);
  }
  // Keyboard: the tab bar is links, reachable and followed with Enter.
  await page.locator('#tab-overview').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#exec-command')).toBeVisible();
  // A sandbox that does not exist says so.
  allowConsole(page, /status of 404.*hiveboxes\/no-such-sandbox/);
  await page.goto('/dashboard#/sandbox/no-such-sandbox/overview');
  await expect(page.locator('#tab-panel')).toContainText('There is no sandbox');
});

test('pause, resume and keep-alive from the sandbox page', async ({ page, sandbox }) => {
  const sb = await sandbox({ name: `pause-${Date.now().toString(36)}`, timeout: 600 });
  const before = Date.parse(sb.expires_at);
  await login(page);
  await page.goto(`/dashboard#/sandbox/${sb.id}/overview`);
  await expect(page.locator('#sb-status')).toHaveText('running');
  await page.locator('#sb-pause').click();
  await expect(page.locator('#sb-status')).toHaveText('paused');
  await expect(page.locator('#sb-pause')).toHaveText('Resume');
  expect((await apiCall('GET', `/api/v1/hiveboxes/${sb.id}`)).status).toBe('paused');
  // The list shows it too (from the sandbox.paused event or its refetch).
  await page.locator('#nav-sandboxes').click();
  await expect(page.locator(`#sandbox-table tbody tr[data-id="${sb.id}"] .badge`)).toHaveText('paused');
  await page.goto(`/dashboard#/sandbox/${sb.id}/overview`);
  await page.locator('#sb-pause').click();
  await expect(page.locator('#sb-status')).toHaveText('running');
  expect((await apiCall('GET', `/api/v1/hiveboxes/${sb.id}`)).status).toBe('running');
  // Keep alive: it now expires an hour from now, not in ten minutes.
  await page.locator('#sb-keepalive').click();
  await expect.poll(async () => Date.parse((await apiCall('GET', `/api/v1/hiveboxes/${sb.id}`)).expires_at))
    .toBeGreaterThan(before + 45 * 60 * 1000);
  await expect(page.locator('#sb-ttl')).toHaveText(/^(59:\d\d|1h 00m)$/);
});
