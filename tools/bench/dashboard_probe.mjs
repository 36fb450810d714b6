// The dashboard in Debian's chromium, driven by Playwright (from
// tests/browser/node_modules), for bench_dashboard.py. Prints one JSON object.
//
//   node tools/bench/dashboard_probe.mjs <url> <key> <rows> <reps>
//
// weight: every /dashboard/ response of a first, logged-in load of
//   /dashboard (fresh profile: nothing cached), as transferred (gzip bodies
//   plus headers), until no dashboard file has been asked for in 1 s.
// rows: per rep, a fresh profile opens /dashboard#/sandboxes; the time from
//   navigation start (performance.timeOrigin) until #sandbox-table holds
//   <rows> rows with the first of them drawn: tbody tr[data-id] are counted,
//   or, since the shell renders a long table as a window of rows, the
//   table's data-rows (the rows it holds) once a tr[data-id] is painted.
import { fileURLToPath, pathToFileURL } from 'node:url';

const [url, key, rowsArg, repsArg] = process.argv.slice(2);
const rows = Number(rowsArg || 0);
const reps = Number(repsArg || 3);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const { chromium } = await import(pathToFileURL(`${repo}tests/browser/node_modules/playwright/index.mjs`).href);

const browser = await chromium.launch({
  executablePath: process.env.HIVEBOX_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});

async function freshPage() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // The key as the login form would leave it (api.js: sessionStorage 'hivebox.key').
  await ctx.addInitScript((k) => sessionStorage.setItem('hivebox.key', k), key);
  const page = await ctx.newPage();
  return { ctx, page };
}

async function weight() {
  const { ctx, page } = await freshPage();
  const files = [];
  let pending = 0;
  let last = Date.now();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/dashboard')) { pending++; last = Date.now(); }
  });
  const done = async (r, failed) => {
    const path = new URL(r.url()).pathname;
    if (!path.startsWith('/dashboard')) return;
    const s = failed ? { responseBodySize: 0, responseHeadersSize: 0 } : await r.sizes();
    const res = failed ? null : await r.response();
    files.push({ path, status: res ? res.status() : 0, body: s.responseBodySize,
                 headers: s.responseHeadersSize,
                 encoding: res ? (await res.allHeaders())['content-encoding'] || '' : '' });
    pending--;
    last = Date.now();
  };
  page.on('requestfinished', (r) => done(r, false));
  page.on('requestfailed', (r) => done(r, true));
  await page.goto(`${url}/dashboard`, { waitUntil: 'load' });
  const until = Date.now() + 15000;
  while (Date.now() < until && (pending > 0 || Date.now() - last < 1000))
    await new Promise((r) => setTimeout(r, 100));
  await ctx.close();
  const body = files.reduce((a, f) => a + f.body, 0);
  const headers = files.reduce((a, f) => a + f.headers, 0);
  return { bytes: body + headers, body_bytes: body, header_bytes: headers, requests: files.length,
           files, page_errors: errors };
}

async function rowsTime() {
  const out = [];
  const list = [];
  for (let i = 0; i < reps; i++) {
    const { ctx, page } = await freshPage();
    await page.goto(`${url}/dashboard#/sandboxes`, { waitUntil: 'commit' });
    const h = await page.waitForFunction((n) => {
      const t = document.getElementById('sandbox-table');
      if (!t) return false;
      const drawn = t.querySelectorAll('tbody tr[data-id]').length;
      const held = Number(t.dataset.rows || 0);
      return drawn > 0 && Math.max(drawn, held) >= n && performance.now();
    }, rows, { polling: 'raf', timeout: 60000 });
    out.push(await h.jsonValue());
    // Where the time went: the list call's answer, as the page saw it.
    list.push(await page.evaluate(() => {
      const e = performance.getEntriesByType('resource')
        .filter((r) => /\/api\/v1\/hiveboxes(\?|$)/.test(r.name));
      return e.length ? { start: e[0].startTime, end: e[0].responseEnd, bytes: e[0].transferSize } : null;
    }));
    await ctx.close();
  }
  return { rows, ms: out, list };
}

const result = {};
try {
  result.weight = await weight();
  if (rows > 0) result.rows = await rowsTime();
} catch (e) {
  result.error = String(e && e.message || e).slice(0, 500);
}
await browser.close();
process.stdout.write(JSON.stringify(result) + '\n');
