// The sandbox table and the create form against a real daemon: a sandbox
// created through the form appears in the open table through the event
// stream (no reload, no new list request), the API's 400 shows beside the
// field it names, hostile text stays text, destroy asks first and removes
// the row.
import { test, expect, login, apiCall, allowConsole, shot } from './fixtures.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>';
const uniq = (p) => `${p}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

// Opens the table and waits until it is loaded and the event stream is open;
// returns a counter of list requests made from then on.
async function openTable(page) {
  await login(page);
  await page.locator('#nav-sandboxes').click();
  await expect(page.locator('#sandbox-table')).toHaveAttribute('data-loaded', 'true');
  await expect(page.locator('#live-status')).toHaveAttribute('data-state', 'open');
  const lists = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/hiveboxes' && r.method() === 'GET') lists.push(r.url());
  });
  return lists;
}

test('create through the form: the row arrives by the event stream', async ({ page }) => {
  const name = uniq('form');
  try {
    const lists = await openTable(page);
    await page.evaluate(() => { window.__sameDocument = true; });
    await page.locator('#new-sandbox').click();
    await expect(page.locator('#create-name')).toBeFocused();
    await page.locator('#create-name').fill(name);
    await page.locator('#create-memory').fill('300m');
    await page.locator('#create-cpus').fill('0.5');
    await page.locator('#create-pids').fill('64');
    await page.locator('#create-timeout').fill('900');
    await expect(page.locator('#create-skills-list')).toHaveAttribute('data-loaded', 'true');
    await page.locator('#create-skills-none').click();
    await expect(page.locator('#create-skills-list input[type=checkbox]:checked')).toHaveCount(0);
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.postDataJSON()); });
    await page.locator('#create-custom_mcps').fill('{"docs": {"type": "remote", "url": "https://example.com/mcp", "enabled": false}}');
    await page.locator('#create-llm_model').fill('stub/model-x');
    await page.locator('#create-llm_api_key').fill('sk-from-the-form');
    await expect(page.locator('#create-llm_api_key')).toHaveAttribute('type', 'password');
    await page.locator('#create-submit').click();

    const row = page.locator(`#sandbox-table tbody tr[data-id="${name}"]`);
    await expect(row).toBeVisible();
    await expect(page.locator('#create-result')).toContainText(`Created ${name}`);
    await expect(row).toContainText('running');
    await expect(row).toContainText('300 MiB');
    await expect(row).toContainText('0.5 CPU');
    await expect(row.locator('.btn-agent')).toHaveText('Agent');
    // Time left counts down from 15:00, each second.
    const left = row.locator('td').nth(5);
    await expect(left).toHaveText(/^1[45]:\d\d$/);
    const before = await left.textContent();
    await expect(left).not.toHaveText(before, { timeout: 3000 });
    // No reload, no list request: the row came from sandbox.created.
    expect(await page.evaluate(() => window.__sameDocument)).toBe(true);
    expect(lists).toEqual([]);
    // The form sent every field it was given: no skill checked is [], the
    // default image is left out.
    expect(posts.length).toBe(1);
    expect(posts[0].skills).toEqual([]);
    expect('image' in posts[0]).toBe(false);
    const sb = await apiCall('GET', `/api/v1/hiveboxes/${name}`);
    expect(sb.limits).toMatchObject({ memory: '300m', cpus: 0.5, pids: 64 });
    // (the provider depends on the daemon's global base URL; the model is ours)
    expect(sb.llm.model).toContain('model-x');
    expect(sb.llm.api_key_set).toBe(true);
    await shot(page, 'create-drawer');
  } finally {
    await apiCall('DELETE', `/api/v1/hiveboxes/${name}`).catch(() => {});
  }
});

test('the create page: 400s beside their fields, bad JSON caught before sending', async ({ page }) => {
  allowConsole(page, /status of 400/);
  await login(page);
  await page.locator('#nav-create').click();
  await expect(page.locator('#create-form')).toBeVisible();
  // Defaults shown as placeholders.
  await expect(page.locator('#create-memory')).toHaveAttribute('placeholder', '512m');
  await expect(page.locator('#create-cpus')).toHaveAttribute('placeholder', '1.0');
  await expect(page.locator('#create-pids')).toHaveAttribute('placeholder', '128');
  await expect(page.locator('#create-timeout')).toHaveAttribute('placeholder', '3600');
  await expect(page.locator('#create-network')).toHaveValue('');
  // The image is a choice of the daemon's images, base by default.
  await expect(page.locator('#create-image')).toHaveAttribute('data-loaded', 'true');
  await expect(page.locator('#create-image')).toHaveValue('base');
  await expect(page.locator('#create-image option[value=base]')).toBeEnabled();
  // The skills are the daemon's (test_dashboard.py gives it docx and pdf), all checked.
  await expect(page.locator('#create-skills-list')).toHaveAttribute('data-loaded', 'true');
  const boxes = page.locator('#create-skills-list input[type=checkbox]');
  await expect(boxes).toHaveCount(2);
  expect(await boxes.evaluateAll((bs) => bs.map((b) => b.value))).toEqual(['docx', 'pdf']);
  await expect(page.locator('#create-skills-list input[type=checkbox]:checked')).toHaveCount(2);
  await expect(page.locator('#create-skills-list')).toContainText('PDF files');
  await page.locator('#create-skills-none').click();
  await expect(page.locator('#create-skills-list input[type=checkbox]:checked')).toHaveCount(0);
  await page.locator('#create-skills-all').click();
  await expect(page.locator('#create-skills-list input[type=checkbox]:checked')).toHaveCount(2);
  await shot(page, 'create');

  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.postDataJSON()); });
  await page.locator('#create-custom_mcps').fill('{"oops": ');
  await page.locator('#create-submit').click();
  await expect(page.locator('#create-custom_mcps-error')).toContainText('not valid JSON');
  await page.locator('#create-custom_mcps').fill('{"box": {"type": "local", "command": ["sh"]}}');
  await page.locator('#create-submit').click();
  await expect(page.locator('#create-custom_mcps-error')).toContainText('remote');
  expect(posts).toEqual([]);
  await page.locator('#create-custom_mcps').fill('');

  // The daemon's own 400, beside the field it names.
  await page.locator('#create-memory').fill('lots');
  await page.locator('#create-submit').click();
  await expect(page.locator('#create-memory-error')).toContainText('memory:');
  await expect(page.locator('#create-memory')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#create-custom_mcps-error')).toBeHidden();
  expect(posts).toEqual([{ memory: 'lots' }]);
  await page.locator('#create-memory').fill('');
  await page.locator('#create-timeout').fill('999999');
  await page.locator('#create-submit').click();
  await expect(page.locator('#create-timeout-error')).toContainText('timeout');
  await expect(page.locator('#create-memory-error')).toBeHidden();
  // Some skills checked: exactly those are sent.
  await page.locator('#create-skills-list input[value=docx]').uncheck();
  await page.locator('#create-submit').click();
  await expect(page.locator('#create-timeout-error')).toContainText('timeout');
  expect(posts[posts.length - 1]).toEqual({ timeout: 999999, skills: ['pdf'] });
});

test('hostile text from the daemon and a sandbox stays text', async ({ page, sandbox }) => {
  allowConsole(page, /status of 400/);
  const sb = await sandbox({ name: uniq('xss') });
  await login(page);
  // Names and text from the catalogues are text (answers replaced here: the
  // daemon itself never lists such a name), and a skill name the daemon
  // echoes back in its 400 is too.
  await page.route('**/api/v1/skills', (route) => route.fulfill({ json: {
    skills: [{ name: HOSTILE, description: HOSTILE }, { name: 'pdf' }],
    path: HOSTILE, state: 'ok', truncated: false, opencode: true } }));
  await page.route('**/api/v1/images', (route) => route.fulfill({ json: {
    images: [{ name: 'base', ready: false, state: 'building', progress: HOSTILE },
      { name: 'other', ready: true, state: 'ready', os: HOSTILE }], truncated: false } }));
  await page.locator('#nav-create').click();
  await expect(page.locator('#create-skills-list')).toHaveAttribute('data-loaded', 'true');
  await expect(page.locator('#create-image option[value=base]')).toBeDisabled();
  await expect(page.locator('#create-image option[value=base]')).toContainText(HOSTILE);
  await expect(page.locator('#create-image option[value=other]')).toBeEnabled();
  await expect(page.locator('#create-skills-list')).toContainText(HOSTILE);
  await page.locator('#create-skills-list input[value=pdf]').uncheck();
  await page.locator('#create-submit').click();
  await expect(page.locator('#create-skills-error')).toContainText(HOSTILE);
  await expect(page.locator('img')).toHaveCount(0);
  await page.unroute('**/api/v1/skills');
  await page.unroute('**/api/v1/images');
  // Command output.
  await page.goto(`/dashboard#/sandbox/${sb.id}/overview`);
  await page.locator('#exec-command').fill(`printf '%s\\n' '${HOSTILE}' '<script>alert(2)</script>'; echo '${HOSTILE}' >&2`);
  await page.locator('#exec-run').click();
  await expect(page.locator('#exec-stdout')).toHaveText(`${HOSTILE}\n<script>alert(2)</script>\n`);
  await expect(page.locator('#exec-stderr')).toHaveText(`${HOSTILE}\n`);
  await expect(page.locator('#exec-exit')).toContainText('exit 0');
  await expect(page.locator('#sb-commands')).toHaveText('1');
  await expect(page.locator('img')).toHaveCount(0);
  await expect(page.locator('#app script')).toHaveCount(0);
  await shot(page, 'sandbox');
});

test('destroy asks in the page, then the row disappears', async ({ page, sandbox }) => {
  const keep = await sandbox({ name: uniq('keep') });
  const doomed = await sandbox({ name: uniq('doomed') });
  await openTable(page);
  const row = page.locator(`#sandbox-table tbody tr[data-id="${doomed.id}"]`);
  await expect(row).toBeVisible();
  // Filter and sort.
  await page.locator('#sandbox-filter').fill(doomed.id);
  await expect(page.locator('#sandbox-table tbody tr[data-id]')).toHaveCount(1);
  await expect(page.locator('#sandbox-count')).toContainText('1 of ');
  await page.locator('#sandbox-filter').fill('');
  await page.locator('#sandbox-table th[data-key=id] button').click();
  await expect(page.locator('#sandbox-table th[data-key=id]')).toHaveAttribute('aria-sort', 'ascending');
  const ids = await page.locator('#sandbox-table tbody tr[data-id]').evaluateAll((trs) => trs.map((t) => t.dataset.id));
  expect(ids).toEqual([...ids].sort());
  await shot(page, 'sandboxes');

  // Cancel keeps it.
  await row.locator('[data-action=destroy]').click();
  await expect(page.locator('dialog.confirm')).toBeVisible();
  await page.locator('#confirm-no').click();
  await expect(page.locator('dialog.confirm')).toHaveCount(0);
  await expect(row).toBeVisible();
  expect((await apiCall('GET', `/api/v1/hiveboxes/${doomed.id}`)).id).toBe(doomed.id);
  // Confirm destroys it.
  await row.locator('[data-action=destroy]').click();
  await page.locator('#confirm-yes').click();
  await expect(row).toHaveCount(0);
  await expect(page.locator(`#sandbox-table tbody tr[data-id="${keep.id}"]`)).toBeVisible();
  const gone = await apiCall('GET', `/api/v1/hiveboxes/${doomed.id}`).catch((e) => e.status);
  expect(gone).toBe(404);
});

test('a sandbox destroyed elsewhere leaves the open table by itself', async ({ page, sandbox }) => {
  const sb = await sandbox({ name: uniq('elsewhere') });
  const lists = await openTable(page);
  const row = page.locator(`#sandbox-table tbody tr[data-id="${sb.id}"]`);
  await expect(row).toBeVisible();
  await apiCall('POST', `/api/v1/hiveboxes/${sb.id}/exec`, { command: 'true' });
  await expect(row.locator('td').nth(8)).toHaveText('1');
  await apiCall('DELETE', `/api/v1/hiveboxes/${sb.id}`);
  await expect(row).toHaveCount(0);
  expect(lists).toEqual([]);
});
