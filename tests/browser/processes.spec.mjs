// The Processes tab (webui/src/js/tabs/processes.js) against a real daemon:
// start, follow the output, stdin, signals, the live list from the event
// feed, delete, and the bounded output view.
import { test, expect, login, apiCall, shot } from './fixtures.mjs';

async function openProcesses(page, id) {
  await login(page);
  await page.evaluate((h) => { location.hash = h; }, `#/sandbox/${encodeURIComponent(id)}/processes`);
  await expect(page.locator('.proc-tab')).toBeVisible();
  await expect(page.locator('.proc-listbar [role=status]')).toHaveText(/process/);
}

const procPath = (id, sel = '') => `/api/v1/hiveboxes/${encodeURIComponent(id)}/processes${sel ? `/${sel}` : ''}`;

// Leave the tab before the test ends: unmounting closes its sockets and
// streams, so the sandbox's teardown cannot race a reconnect.
async function leave(page) {
  await page.evaluate(() => { location.hash = '#/sandboxes'; });
  await expect.poll(() => page.evaluate(() => !!window.__hbTest?.processes)).toBe(false);
}

test("start sh -c 'echo a; cat', follow, stdin echoed, KILL -> exited; long output bounded", async ({ sandbox, page }) => {
  const sb = await sandbox();
  await openProcesses(page, sb.id);
  await page.locator('.proc-cmd').fill("sh -c 'echo a; cat'");
  await page.locator('.proc-tag-in').fill('catter');
  await expect(page.locator('.proc-start input[name=stdin]')).toBeChecked();
  await page.locator('.proc-start-btn').click();

  const out = page.locator('.proc-output');
  await expect(out).toHaveText(/^a\n/);
  const row = page.locator('.proc-row', { hasText: 'catter' });
  await expect(row).toHaveCount(1);
  await expect(row.locator('.proc-state')).toHaveText('running');

  // stdin, hostile on purpose: cat echoes it, and it stays text.
  await page.locator('.proc-stdin').fill('hello <script>alert(1)</script>');
  await page.locator('.proc-stdinform button[type=submit]').click();
  await expect(out).toHaveText('a\nhello <script>alert(1)</script>\n');
  await expect(page.locator('.proc-tab script')).toHaveCount(0);
  await shot(page, 'processes');

  await page.locator('button[data-signal=KILL]').click();
  await expect(out).toContainText('[killed by SIGKILL, exit code 137]');
  await expect(row.locator('.proc-state')).toHaveText('killed (SIGKILL)');
  await expect(row.locator('.proc-exit')).toHaveText('137');
  await expect(page.locator('.proc-stdin')).toBeDisabled();
  const p = await apiCall('GET', procPath(sb.id, 'catter'));
  expect(p.state).toBe('exited');
  expect(p.exit_code).toBe(137);

  // A long output is bounded in the page: the last 2,000 lines.
  await page.locator('.proc-start input[name=stdin]').uncheck();
  await page.locator('.proc-cmd').fill('seq 1 6000');
  await page.locator('.proc-start-btn').click();
  await expect(out).toContainText('exit code 0]');
  const t = await out.textContent();
  const lines = t.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^\[… \d+ earlier lines not shown …\]$/);
  expect(lines.length).toBeLessThanOrEqual(2002);
  expect(lines).toContain('6000');
  expect(lines).not.toContain('3000');
  await expect(out).not.toContainText('\n1\n2\n3\n');
  await leave(page);
});

test('the list follows the event feed; close stdin, delete a running process', async ({ sandbox, page }) => {
  const sb = await sandbox();
  await openProcesses(page, sb.id);
  await expect(page.locator('.proc-empty')).toBeVisible();

  // Started by someone else: the row appears from process.started, no reload.
  await apiCall('POST', procPath(sb.id), { command: 'cat; echo "stdin closed"; sleep 600', tag: 'bg-1', stdin: true });
  const row = page.locator('.proc-row', { hasText: 'bg-1' });
  await expect(row).toHaveCount(1);
  await expect(row.locator('.proc-state')).toHaveText('running');
  await row.click();
  await page.locator('.proc-stdinform').getByRole('button', { name: 'Close stdin' }).click();
  await expect(page.locator('.proc-output')).toHaveText('stdin closed\n');

  // Started and ended by someone else, never opened here: its row comes
  // from process.started and changes from process.exited alone.
  await apiCall('POST', procPath(sb.id), { command: 'sleep 600', tag: 'bg-2' });
  const row2 = page.locator('.proc-row', { hasText: 'bg-2' });
  await expect(row2.locator('.proc-state')).toHaveText('running');
  await apiCall('POST', procPath(sb.id, 'bg-2/signal'), { signal: 'TERM' });
  await expect(row2.locator('.proc-state')).toHaveText('killed (SIGTERM)');
  await expect(row2.locator('.proc-exit')).toHaveText('143');
  await expect(row.locator('.proc-state')).toHaveText('running');

  // Delete asks first (the in-page confirmation), then kills and forgets it.
  await page.locator('.proc-delete').click();
  await expect(page.locator('dialog.confirm')).toContainText('bg-1');
  await expect(page.locator('dialog.confirm')).toContainText('still running');
  await page.locator('#confirm-yes').click();
  await expect(row).toHaveCount(0);
  await expect(page.locator('.proc-detail')).toBeHidden();
  const left = await apiCall('GET', procPath(sb.id));
  expect(left.processes.map((q) => q.tag)).not.toContain('bg-1');
  await leave(page);
});
