// What every dashboard spec imports instead of '@playwright/test'.
//
//   import { test, expect, KEY, login, apiCall, shot } from './fixtures.mjs';
//
// `test` is Playwright's, with a `page` that fails the test on any dialog
// (alert/confirm/prompt: a hostile name that runs script would open one), any
// uncaught page error and any console message of type "error". Chromium logs
// a failed fetch (401, 404, ...) as a console error: a spec that provokes one
// on purpose says so with allowConsole(page, /regex/) before it happens, or
// for a whole file with test.use({ allowConsole: [/regex/] }).
//
// Environment (tests/e2e/test_dashboard.py sets it): HIVEBOX_URL, HIVEBOX_KEY,
// HB_FAKE_LLM (the scripted model's base URL), HIVEBOX_SCREENS.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect } from '@playwright/test';

export { expect };

export const URL_BASE = (process.env.HIVEBOX_URL || 'http://127.0.0.1:7070').replace(/\/$/, '');
export const KEY = process.env.HIVEBOX_KEY || '';
export const FAKE_LLM = process.env.HB_FAKE_LLM || '';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENS = process.env.HIVEBOX_SCREENS || path.join(REPO, 'build', 'webui-screens');

const allowed = new WeakMap();   // page -> [RegExp]
// Chromium asks for /favicon.ico on its own when the page names no icon;
// that 404 is not the dashboard's doing.
const ALWAYS_ALLOWED = [/status of 404 .*\/favicon\.ico\)$/];

// Let console errors matching re pass on this page (e.g. /status of 401/).
export function allowConsole(page, re) {
  allowed.get(page)?.push(re);
}

export const test = base.extend({
  allowConsole: [[], { option: true }],
  page: async ({ page, allowConsole: fileAllowed }, use) => {
    const problems = [];
    allowed.set(page, [...ALWAYS_ALLOWED, ...fileAllowed]);
    const ok = (text) => allowed.get(page).some((re) => re.test(text));
    page.on('dialog', (d) => {
      problems.push(`dialog (${d.type()}): ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.stack || e.message}`));
    page.on('crash', () => problems.push('the page crashed'));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const where = m.location()?.url || '';
      const text = `${m.text()}${where ? ` (${where})` : ''}`;
      if (!ok(text)) problems.push(`console error: ${text}`);
    });
    await use(page);
    expect(problems, 'dialogs, page errors and console errors during the test').toEqual([]);
  },
  // A sandbox for one test: created through the API (spec: the create
  // request's fields), destroyed afterwards whatever happens.
  //   test('x', async ({ page, sandbox }) => { const sb = await sandbox({ name: 'a' }); ... })
  sandbox: async ({}, use) => {
    const made = [];
    await use(async (spec = {}) => {
      const sb = await apiCall('POST', '/api/v1/hiveboxes', spec);
      made.push(sb.id);
      return sb;
    });
    for (const id of made) {
      await apiCall('DELETE', `/api/v1/hiveboxes/${encodeURIComponent(id)}`).catch((e) => {
        if (e.status !== 404) throw e;
      });
    }
  },
});

// Open the dashboard and log in with the key; resolves once the app shows.
// Selector contract with the shell (webui/src/js/main.js): input #login-key,
// button #login-submit, error #login-error; after login #app-nav exists.
export async function login(page, key = KEY) {
  await page.goto('/dashboard');
  await page.locator('#login-key').fill(key);
  await page.locator('#login-submit').click();
  await expect(page.locator('#app-nav')).toBeVisible();
}

// A call to the daemon's API from Node, with the key, for setup and
// teardown: the parsed JSON answer (null when empty, text when not JSON).
// Throws on a non-2xx answer; the error has .status and .body.
export async function apiCall(method, apiPath, body, opts = {}) {
  const headers = { Authorization: `Bearer ${opts.key ?? KEY}`, ...(opts.headers || {}) };
  let payload;
  if (body !== undefined && body !== null) {
    if (typeof body === 'string' || body instanceof Uint8Array) {
      payload = body;
      headers['Content-Type'] ??= 'application/octet-stream';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  const res = await fetch(URL_BASE + apiPath, { method, headers, body: payload });
  const text = await res.text();
  let parsed = text || null;
  if (text && (res.headers.get('content-type') || '').includes('json')) parsed = JSON.parse(text);
  if (!res.ok) {
    const err = new Error(`${method} ${apiPath}: ${res.status} ${text.slice(0, 300)}`);
    err.status = res.status;
    err.body = parsed;
    throw err;
  }
  return parsed;
}

// Screenshot of the whole page to $HIVEBOX_SCREENS/<name>.png (default
// build/webui-screens/): the artifacts CI keeps, one per view.
export async function shot(page, name) {
  fs.mkdirSync(SCREENS, { recursive: true });
  const file = path.join(SCREENS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}
