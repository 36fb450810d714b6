// The Terminal tab (webui/src/js/tabs/terminal.js) against a real daemon and
// real sandboxes: typing, hostile output as text, resize -> stty size,
// reconnect with replay, several terminals, copy/paste, reattach on remount,
// another window taking a terminal over.
import { test, expect, login, apiCall, shot, URL_BASE } from './fixtures.mjs';

// Each test drives real shells through several steps; on a busy CI host
// that can pass the default 30 s.
test.describe.configure({ timeout: 60_000 });

const hook = (page, fn, ...args) => page.evaluate(([f, a]) => window.__hbTest.terminal[f](...a), [fn, args]);
const text = (page, i = 0) => hook(page, 'text', i);
const countLines = (hay, line) => hay.split('\n').filter((l) => l === line).length;

async function openTerminal(page, id) {
  await login(page);
  await page.evaluate((h) => { location.hash = h; }, `#/sandbox/${encodeURIComponent(id)}/terminal`);
  await expect.poll(() => page.evaluate(() => window.__hbTest?.terminal?.state(0) ?? null),
    { timeout: 15_000 }).toBe('open');
  await prompt(page, 0);
}

// The shell has printed its prompt (keys typed before it are echoed twice).
async function prompt(page, i) {
  await expect.poll(() => text(page, i), { timeout: 10_000 }).toMatch(/[#$]\s*$/);
}

// Type into the terminal shown (its xterm keeps a hidden textarea for input).
async function type(page, line) {
  await page.locator('.term-wrap:not([hidden]) .xterm-helper-textarea').focus();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

async function termProcs(id) {
  const r = await apiCall('GET', `/api/v1/hiveboxes/${encodeURIComponent(id)}/processes`);
  return r.processes.filter((p) => p.tag && p.tag.startsWith('dash-term-'));
}

// Leave the tab before the test ends: unmounting closes its sockets and
// streams, so the sandbox's teardown cannot race a reconnect.
async function leave(page) {
  await page.evaluate(() => { location.hash = '#/sandboxes'; });
  await expect.poll(() => page.evaluate(() => !!window.__hbTest?.terminal)).toBe(false);
}

test('type echo hi, hostile output is text, copy/paste, two terminals, close ends the shell, exit shows', async ({ sandbox, context, page }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: URL_BASE });
  // The browser offers permessage-deflate on its own: the daemon agrees,
  // so everything below runs over compressed frames.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const extensions = [];
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
    const h = Object.entries(e.response.headers).find(([k]) => k.toLowerCase() === 'sec-websocket-extensions');
    extensions.push(h ? h[1] : '');
  });
  const sb = await sandbox();
  await openTerminal(page, sb.id);
  const shown = page.locator('.term-wrap:not([hidden]) .xterm-rows');
  await expect.poll(() => extensions[0]).toMatch(/^permessage-deflate; server_no_context_takeover/);

  await type(page, 'echo hi');
  await expect.poll(() => text(page)).toMatch(/^hi$/m);
  await expect(shown).toContainText('hi');

  // Output a sandbox controls is drawn as text: no element is made from it.
  await type(page, "printf '%s\\n' '<script>alert(1)</script>' '<img src=x onerror=alert(2)>'");
  await expect.poll(() => text(page)).toMatch(/^<img src=x onerror=alert\(2\)>$/m);
  await expect(shown).toContainText('<script>alert(1)</script>');
  await expect(page.locator('.term-tab script, .term-tab img')).toHaveCount(0);

  // Copy: select "copy-42" with the mouse, then Ctrl+C copies it and the
  // shell gets no ^C. Paste: Ctrl+V types the clipboard.
  await type(page, 'clear; echo copy-$((6*7))');
  await expect.poll(() => text(page)).toMatch(/^copy-42$/m);

  const lines = (await text(page)).split('\n');
  const row = lines.findIndex((l) => l === 'copy-42');
  const { rows } = await hook(page, 'size', 0);
  const box = await page.locator('.term-wrap:not([hidden]) .xterm-screen').boundingBox();
  const y = box.y + (row + 0.5) * (box.height / rows);
  await page.mouse.move(box.x + 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, y, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.press('Control+C');
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('copy-42');
  expect(await text(page)).not.toContain('^C');

  await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((8*8))'));
  await page.locator('.term-wrap:not([hidden]) .xterm-helper-textarea').focus();
  await page.keyboard.press('Control+V');
  await page.keyboard.press('Enter');
  await expect.poll(() => text(page)).toMatch(/^pasted-64$/m);

  // The shell runs as a tagged background process of the sandbox.
  const first = await termProcs(sb.id);
  expect(first).toHaveLength(1);
  expect(first[0].state).toBe('running');
  expect(first[0].pty).not.toBeNull();

  // A second terminal: its own shell, its own output.
  await page.locator('.term-add').click();
  await expect.poll(() => page.evaluate(() => [window.__hbTest.terminal.count(), window.__hbTest.terminal.state(1)]))
    .toEqual([2, 'open']);
  await prompt(page, 1);
  await type(page, 'echo two-$((1+1)); ls -l /');
  await expect.poll(() => text(page, 1)).toMatch(/^two-2$/m);
  expect(await text(page, 0)).not.toContain('two-2');
  expect((await termProcs(sb.id)).filter((p) => p.state === 'running')).toHaveLength(2);
  await expect(page.locator('.term-subtab')).toHaveCount(2);
  await shot(page, 'terminal');

  // Back to the first: it is still there and still answers.
  await page.locator('.term-subtab').first().click();
  await type(page, 'echo back-$((2+2))');
  await expect.poll(() => text(page, 0)).toMatch(/^back-4$/m);

  // Closing the second ends its shell (SIGHUP, then DELETE forgets it).
  const second = (await hook(page, 'tags'))[1];
  await page.locator('.term-close').nth(1).click();
  await expect(page.locator('.term-subtab')).toHaveCount(1);
  await expect.poll(async () => (await termProcs(sb.id)).map((p) => p.tag)).toEqual([first[0].tag]);
  expect(second).not.toBe(first[0].tag);

  // A shell that exits says so and stays until closed.
  await type(page, 'exit 3');
  await expect(page.locator('.term-subtab')).toHaveText('Terminal 1 (exited)');
  await expect(page.locator('.term-wrap:not([hidden]) .term-banner')).toHaveText('exited with code 3');
  expect((await termProcs(sb.id))[0].exit_code).toBe(3);
  await page.locator('.term-close').click();
  await expect(page.locator('.term-note')).toHaveText(/No terminal open/);
  await expect.poll(async () => (await termProcs(sb.id)).length).toBe(0);
  await leave(page);
});

test('resize changes stty size; a broken socket reconnects and replays (nothing lost or repeated); remount reattaches; another window takes over', async ({ sandbox, context, page }) => {
  // No `clear` in this test: replayed from the start, a clear would redraw the
  // same screen and hide output shown twice.
  const sb = await sandbox();
  await openTerminal(page, sb.id);
  const sizeLine = async () => {
    const all = [...(await text(page)).matchAll(/^S=(\d+) (\d+)$/gm)];
    return all.length ? `${all[all.length - 1][1]} ${all[all.length - 1][2]}` : null;
  };
  const before = await hook(page, 'size', 0);
  await type(page, 'echo S=$(stty size)');
  await expect.poll(sizeLine).toBe(`${before.rows} ${before.cols}`);

  await page.setViewportSize({ width: 760, height: 560 });
  await expect.poll(async () => (await hook(page, 'size', 0)).cols).toBeLessThan(before.cols);
  const after = await hook(page, 'size', 0);
  expect(after.rows).toBeLessThan(before.rows);
  await type(page, 'echo S=$(stty size)');
  await expect.poll(sizeLine).toBe(`${after.rows} ${after.cols}`);

  await type(page, 'echo one-$((1+1)); sleep 1; echo later-$((2+3))');
  await expect.poll(() => text(page)).toMatch(/^one-2$/m);

  // A network blip: the socket closes and stays closed for 2 s while the
  // shell goes on writing inside the sandbox.
  expect(await hook(page, 'drop', 0, 2000)).toBe(true);
  await expect(page.locator('.term-wrap:not([hidden]) .term-banner')).toHaveText(/reconnecting/);
  expect(await hook(page, 'state', 0)).toBe('reconnecting');
  expect(await text(page)).not.toContain('later-5');
  // Keys typed meanwhile wait for the socket.
  await type(page, 'echo typed-$((1+8))');

  await expect.poll(() => hook(page, 'state', 0), { timeout: 10_000 }).toBe('open');
  await expect.poll(() => text(page)).toMatch(/^later-5$/m);
  await expect(page.locator('.term-wrap:not([hidden]) .term-banner')).toBeHidden();
  await type(page, 'echo after-$((3+4))');
  await expect.poll(() => text(page)).toMatch(/^after-7$/m);
  const t = await text(page);
  expect(countLines(t, 'one-2')).toBe(1);
  expect(countLines(t, 'later-5')).toBe(1);
  expect(countLines(t, 'after-7')).toBe(1);
  expect(countLines(t, 'typed-9')).toBe(1);
  const tag = (await hook(page, 'tags'))[0];

  // Leave the tab and come back: the same shell, its output replayed.
  await page.evaluate((h) => { location.hash = h; }, `#/sandbox/${encodeURIComponent(sb.id)}/processes`);
  await expect.poll(() => page.evaluate(() => !!window.__hbTest?.terminal)).toBe(false);
  await page.evaluate((h) => { location.hash = h; }, `#/sandbox/${encodeURIComponent(sb.id)}/terminal`);
  await expect.poll(() => page.evaluate(() => window.__hbTest?.terminal?.state(0) ?? null)).toBe('open');
  expect(await hook(page, 'tags')).toEqual([tag]);
  await expect.poll(() => text(page)).toMatch(/^after-7$/m);
  expect(countLines(await text(page), 'later-5')).toBe(1);
  expect(await termProcs(sb.id)).toHaveLength(1);

  // A second window on the same terminal takes it over; the first says so
  // and does not fight back until asked to.
  const other = await context.newPage();
  await openTerminal(other, sb.id);
  expect(await hook(other, 'tags')).toEqual([tag]);
  await expect(page.locator('.term-wrap:not([hidden]) .term-banner')).toContainText('taken over');
  expect(await hook(page, 'state', 0)).toBe('taken');
  await type(other, 'echo other-$((4+5))');
  await expect.poll(() => text(other)).toMatch(/^other-9$/m);
  await page.locator('.term-banner').getByRole('button', { name: 'Take it back' }).click();
  await expect.poll(() => hook(page, 'state', 0)).toBe('open');
  await expect.poll(() => text(page)).toMatch(/^other-9$/m);
  await expect.poll(() => hook(other, 'state', 0)).toBe('taken');
  await other.close();
  await leave(page);
});
