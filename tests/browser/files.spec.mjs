// The Files tab (webui/src/js/tabs/files.js) against a real sandbox: upload
// (file picker and a drop), list, view, edit and save, download, create a
// folder, rename, delete; hostile names and contents stay text. Every change
// made in the page is checked through the API, not just on screen.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { test, expect, login, apiCall, shot, URL_BASE, KEY } from './fixtures.mjs';

const enc = encodeURIComponent;
const fileUrl = (id, p) => `/api/v1/hiveboxes/${enc(id)}/files?path=${enc(p)}`;

// The bytes of a file in the sandbox, read with the API from Node.
async function sandboxBytes(id, p) {
  const res = await fetch(URL_BASE + fileUrl(id, p), { headers: { Authorization: `Bearer ${KEY}` } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

// The sandbox's commands run (GET /api/v1/hiveboxes/:id, commands_executed).
async function commandsRun(id) {
  return (await apiCall('GET', `/api/v1/hiveboxes/${enc(id)}`)).commands_executed;
}

async function listing(id, dir) {
  const r = await apiCall('GET', `/api/v1/hiveboxes/${enc(id)}/files/list?path=${enc(dir)}`);
  return r.entries.filter((e) => e.path === `${dir}/${e.name}`);
}

// A w x h PNG of one colour, made here so the test needs no fixture file.
function png(w, h, rgb) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = table[(c ^ x) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.concat(Array.from({ length: w }, () => Buffer.from(rgb)))]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function openFiles(page, id) {
  await login(page);
  await page.goto(`/dashboard#/sandbox/${enc(id)}/files`);
  await expect(page.locator('.hb-files .files-crumbs')).toContainText('root');
  await expect(page.locator('.hb-files .files-table tbody tr.files-loading')).toHaveCount(0);
}

const row = (page, name) => page.locator('.hb-files .files-table tbody tr')
  .filter({ has: page.getByRole('button', { name, exact: true }) });

test('upload, list, view, edit, download, create a folder, rename, delete', async ({ page, sandbox }) => {
  test.setTimeout(90_000);
  const sb = await sandbox({ name: 'files-ui', network: 'none' });
  const id = sb.id;
  const blob = crypto.randomBytes(300 * 1024);
  await apiCall('PUT', fileUrl(id, '/root/red.png'), png(12, 8, [220, 30, 30]));
  await openFiles(page, id);
  await expect(row(page, '.bashrc')).toHaveCount(1);

  // Upload two files with the picker; each gets a progress bar that fills.
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Upload files' }).click(),
  ]);
  expect(chooser.isMultiple()).toBe(true);
  await chooser.setFiles([
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the browser\n') },
    { name: 'blob.bin', mimeType: 'application/octet-stream', buffer: blob },
  ]);
  await expect(row(page, 'notes.txt')).toHaveCount(1, { timeout: 15_000 });
  await expect(row(page, 'blob.bin')).toHaveCount(1);
  const up = page.locator('.files-uploads li[data-name="blob.bin"]');
  await expect(up).toContainText('uploaded');
  const bar = up.locator('progress');
  expect(await bar.evaluate((p) => p.value === p.max && p.max > 0)).toBe(true);
  await expect(row(page, 'blob.bin').locator('.col-size')).toHaveText('300 KiB');
  expect((await sandboxBytes(id, '/root/blob.bin')).bytes.equals(blob)).toBe(true);

  // Upload by dropping a file on the listing.
  const dt = await page.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(['dropped here\n'], 'dropped.txt', { type: 'text/plain' }));
    return d;
  });
  await page.locator('[data-testid=files-drop]').dispatchEvent('drop', { dataTransfer: dt });
  await expect(row(page, 'dropped.txt')).toHaveCount(1, { timeout: 15_000 });
  expect((await sandboxBytes(id, '/root/dropped.txt')).bytes.toString()).toBe('dropped here\n');

  // Upload a folder with the folder picker: its tree lands under the listing's folder.
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-files-spec-'));
  try {
    fs.mkdirSync(path.join(local, 'proj', 'src'), { recursive: true });
    fs.writeFileSync(path.join(local, 'proj', 'README'), 'top\n');
    fs.writeFileSync(path.join(local, 'proj', 'src', 'main.c'), 'int main(void) { return 0; }\n');
    const [dirChooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: 'Upload folder' }).click(),
    ]);
    await dirChooser.setFiles(path.join(local, 'proj'));
    await expect(row(page, 'proj')).toHaveCount(1, { timeout: 15_000 });
    await expect(page.locator('.files-uploads li[data-name="proj/src/main.c"]')).toContainText('uploaded');
  } finally {
    fs.rmSync(local, { recursive: true, force: true });   // the browser reads the files as it sends them
  }
  expect((await sandboxBytes(id, '/root/proj/src/main.c')).bytes.toString()).toBe('int main(void) { return 0; }\n');
  expect((await sandboxBytes(id, '/root/proj/README')).bytes.toString()).toBe('top\n');

  // Folders first, then names.
  await apiCall('POST', `/api/v1/hiveboxes/${enc(id)}/exec`, { command: 'mkdir /root/zdir && echo inside > /root/zdir/f.txt' });
  // From here on: browsing, viewing, saving, making, renaming and deleting
  // use the file routes, never a command.
  const ranBefore = await commandsRun(id);
  expect(typeof ranBefore).toBe('number');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.locator('.hb-files .files-table tbody tr').nth(0)).toHaveAttribute('data-name', 'proj');
  await expect(page.locator('.hb-files .files-table tbody tr').nth(1)).toHaveAttribute('data-name', 'zdir');

  // View a text file, edit it and save: the API sees the new text.
  await row(page, 'notes.txt').getByRole('button', { name: 'notes.txt', exact: true }).click();
  const view = page.locator('.hb-files .files-view');
  await expect(view.locator('.files-text')).toHaveText('hello from the browser\n');
  await view.getByRole('button', { name: 'Edit' }).click();
  await view.locator('textarea.files-editor').fill('edited in the dashboard\nsecond line\n');
  await expect(view.locator('.files-edit-status')).toHaveText('Unsaved changes');
  await view.getByRole('button', { name: 'Save' }).click();
  await expect(view.locator('.files-edit-status')).toHaveText('Saved');
  expect((await sandboxBytes(id, '/root/notes.txt')).bytes.toString()).toBe('edited in the dashboard\nsecond line\n');
  await expect(row(page, 'notes.txt').locator('.col-size')).toHaveText('36 B');
  await view.getByRole('button', { name: 'Cancel' }).click();
  await expect(view.locator('.files-text')).toHaveText('edited in the dashboard\nsecond line\n');

  // A binary file is not shown as text; an image is shown as an image.
  await row(page, 'blob.bin').getByRole('button', { name: 'blob.bin', exact: true }).click();
  await expect(view.locator('.files-hex')).toContainText('00000000');
  await expect(view.locator('.files-text')).toHaveCount(0);
  await row(page, 'red.png').getByRole('button', { name: 'red.png', exact: true }).click();
  const img = view.locator('img.files-img');
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((i) => i.naturalWidth)).toBe(12);
  expect(await img.getAttribute('src')).toMatch(/^blob:/);

  // Download: the browser saves exactly the sandbox's bytes.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download blob.bin' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('blob.bin');
  expect(fs.readFileSync(await download.path()).equals(blob)).toBe(true);
  // A folder downloads as a tar of files/archive.
  const [tarDl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download zdir' }).click(),
  ]);
  expect(tarDl.suggestedFilename()).toBe('zdir.tar');
  const tar = fs.readFileSync(await tarDl.path());
  expect(tar.subarray(257, 262).toString()).toBe('ustar');
  expect(tar.includes(Buffer.from('zdir/f.txt'))).toBe(true);
  expect(tar.includes(Buffer.from('inside\n'))).toBe(true);

  // Create a folder (a name with a space and a quote), enter it, come back.
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('New folder name').fill("made by 'ui'");
  await page.getByLabel('New folder name').press('Enter');
  await expect(row(page, "made by 'ui'")).toHaveCount(1);
  expect((await listing(id, '/root')).find((e) => e.name === "made by 'ui'")?.entry_type).toBe('directory');
  await row(page, "made by 'ui'").getByRole('button', { name: "made by 'ui'", exact: true }).click();
  await expect(page.locator('.hb-files .files-crumbs [aria-current]')).toHaveText("made by 'ui'");
  await expect(page.locator('.hb-files .files-empty')).toBeVisible();
  await page.getByRole('button', { name: '↑ Up' }).click();
  await expect(row(page, 'notes.txt')).toHaveCount(1);

  // Rename: a taken name is refused, a free one is used.
  await page.getByRole('button', { name: 'Rename dropped.txt' }).click();
  const newName = page.getByLabel('New name for dropped.txt');
  await newName.fill('notes.txt');
  await newName.press('Enter');
  await expect(page.locator('.files-rename .files-field-error')).toContainText('already exists');
  await newName.fill('renamed.txt');
  await newName.press('Enter');
  await expect(row(page, 'renamed.txt')).toHaveCount(1);
  await expect(row(page, 'dropped.txt')).toHaveCount(0);
  expect((await sandboxBytes(id, '/root/renamed.txt')).bytes.toString()).toBe('dropped here\n');
  expect((await sandboxBytes(id, '/root/dropped.txt')).status).toBe(404);
  expect((await sandboxBytes(id, '/root/notes.txt')).bytes.toString()).toBe('edited in the dashboard\nsecond line\n');

  // Delete asks in the page first; Cancel keeps the file, Delete removes it.
  await page.getByRole('button', { name: 'Delete renamed.txt' }).click();
  const confirmBox = page.locator('.hb-files .files-confirm');
  await expect(confirmBox).toContainText('Delete renamed.txt?');
  await confirmBox.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirmBox).toBeHidden();
  expect((await sandboxBytes(id, '/root/renamed.txt')).status).toBe(200);
  await page.getByRole('button', { name: 'Delete renamed.txt' }).click();
  await confirmBox.getByRole('button', { name: 'Delete' }).click();
  await expect(row(page, 'renamed.txt')).toHaveCount(0);
  expect((await sandboxBytes(id, '/root/renamed.txt')).status).toBe(404);

  // A folder goes with its contents.
  await page.getByRole('button', { name: "Delete made by 'ui'" }).click();
  await expect(confirmBox).toContainText('and everything in it');
  await confirmBox.getByRole('button', { name: 'Delete' }).click();
  await expect(row(page, "made by 'ui'")).toHaveCount(0);
  expect((await listing(id, '/root')).some((e) => e.name === "made by 'ui'")).toBe(false);
  expect(await commandsRun(id)).toBe(ranBefore);

  // A big folder: a page of rows, "Show more", and the name filter.
  await apiCall('POST', `/api/v1/hiveboxes/${enc(id)}/exec`, { command: 'mkdir /root/many && cd /root/many && seq -w 1 350 | xargs touch' });
  await page.getByLabel('Go to path').fill('/root/many');
  await page.getByLabel('Go to path').press('Enter');
  const rows = page.locator('.hb-files .files-table tbody tr[data-name]');
  await expect(rows).toHaveCount(300);
  await expect(page.locator('.hb-files .files-foot')).toContainText('350 items');
  await page.getByRole('button', { name: /^Show 50 more/ }).click();
  await expect(rows).toHaveCount(350);
  await expect(rows.last()).toHaveAttribute('data-name', '350');
  await page.getByLabel('Filter names').fill('34');
  await expect(rows).toHaveCount(14);   // 034, 134, 234, 334, 340-349
  await page.getByLabel('Filter names').fill('nothing-like-this');
  await expect(page.locator('.hb-files .files-empty')).toContainText('Nothing here matches');

  // "Go to" a file's path (dot segments resolved): its folder, and the file open.
  await page.locator('.hb-files .files-crumbs').getByRole('button', { name: '/', exact: true }).click();
  await expect(row(page, 'etc')).toHaveCount(1);
  await page.getByLabel('Go to path').fill('/root/zdir/../notes.txt');
  await page.getByLabel('Go to path').press('Enter');
  await expect(page.locator('.hb-files .files-crumbs [aria-current]')).toHaveText('root');
  await expect(view.locator('.files-text')).toHaveText('edited in the dashboard\nsecond line\n');
  await page.evaluate(() => document.activeElement?.blur());
  await shot(page, 'files');
});

test('hostile file names and contents are shown as text', async ({ page, sandbox }) => {
  const sb = await sandbox({ name: 'files-hostile', network: 'none' });
  const id = sb.id;
  const name = '<img src=x onerror=alert(1)>';
  const content = '<script>alert(1)</script>\n<img src=x onerror=alert(2)>\n';
  await apiCall('PUT', fileUrl(id, `/root/${name}`), content);
  const dir = '<b onmouseover=alert(4)>dir';
  await apiCall('PUT', fileUrl(id, `/root/${dir}/inner`), 'x');
  await openFiles(page, id);

  const r = row(page, name);
  await expect(r).toHaveCount(1);
  await expect(r.locator('.files-name')).toHaveText(name);
  await expect(row(page, dir)).toHaveCount(1);
  // Nothing the sandbox named became markup.
  await expect(page.locator('.hb-files img, .hb-files b, .hb-files script')).toHaveCount(0);

  await r.locator('.files-name').click();
  const text = page.locator('.hb-files .files-view .files-text');
  await expect(text).toHaveText(content);
  await expect(page.locator('.hb-files .files-view h3')).toHaveText(name);
  await expect(page.locator('.hb-files img, .hb-files script')).toHaveCount(0);

  // Renaming to another hostile name goes through the exec's environment,
  // never a shell string: the file gets exactly that name.
  const other = '$(touch pwned)"; alert(3) `touch pwned2`';
  await page.getByRole('button', { name: `Rename ${name}` }).click();
  await page.getByLabel(`New name for ${name}`).fill(other);
  await page.getByLabel(`New name for ${name}`).press('Enter');
  await expect(row(page, other)).toHaveCount(1);
  expect((await sandboxBytes(id, `/root/${other}`)).bytes.toString()).toBe(content);
  for (const p of ['/pwned', '/pwned2', '/root/pwned', '/root/pwned2']) {
    expect((await sandboxBytes(id, p)).status, p).toBe(404);
  }
  await expect(page.locator('.hb-files img, .hb-files script')).toHaveCount(0);
});

test('a save keeps CRLF line endings, a byte-order mark, the mode and the owner', async ({ page, sandbox }) => {
  const sb = await sandbox({ name: 'files-edit', network: 'none' });
  const id = sb.id;
  const exec = (command) => apiCall('POST', `/api/v1/hiveboxes/${enc(id)}/exec`, { command });
  await apiCall('PUT', fileUrl(id, '/root/dos.txt'), '\ufeffone\r\ntwo\r\n');
  await apiCall('PUT', fileUrl(id, '/root/run.sh'), '#!/bin/sh\necho one\n');
  await exec('chmod 750 /root/run.sh && chown 1000:1000 /root/run.sh');
  await openFiles(page, id);
  const view = page.locator('.hb-files .files-view');
  await expect(row(page, 'run.sh').locator('.col-mode')).toHaveText('-rwxr-x---');

  await row(page, 'dos.txt').getByRole('button', { name: 'dos.txt', exact: true }).click();
  await view.getByRole('button', { name: 'Edit' }).click();
  await view.locator('textarea.files-editor').fill('\ufeffone\ntwo\nthree\n');
  await view.locator('textarea.files-editor').press('Control+s');
  await expect(view.locator('.files-edit-status')).toHaveText('Saved');
  expect((await sandboxBytes(id, '/root/dos.txt')).bytes.toString()).toBe('\ufeffone\r\ntwo\r\nthree\r\n');

  await row(page, 'run.sh').getByRole('button', { name: 'run.sh', exact: true }).click();
  await view.getByRole('button', { name: 'Edit' }).click();
  await view.locator('textarea.files-editor').fill('#!/bin/sh\necho two\n');
  await view.getByRole('button', { name: 'Save' }).click();
  await expect(view.locator('.files-edit-status')).toHaveText('Saved');
  const r = await exec("stat -c '%a %u:%g' /root/run.sh && /root/run.sh");
  expect(r.stdout).toBe('750 1000:1000\ntwo\n');

  // Leaving with unsaved changes asks first, in the page.
  await view.locator('textarea.files-editor').fill('#!/bin/sh\necho three\n');
  await view.getByRole('button', { name: 'Close file' }).click();
  const confirmBox = page.locator('.hb-files .files-confirm');
  await expect(confirmBox).toContainText('Discard your changes to run.sh?');
  await confirmBox.getByRole('button', { name: 'Cancel' }).click();
  await expect(view.locator('textarea.files-editor')).toHaveValue('#!/bin/sh\necho three\n');
  await view.getByRole('button', { name: 'Close file' }).click();
  await confirmBox.getByRole('button', { name: 'Discard' }).click();
  await expect(view).toBeHidden();
  expect((await sandboxBytes(id, '/root/run.sh')).bytes.toString()).toBe('#!/bin/sh\necho two\n');

  // Keyboard: arrows between names, Backspace to the parent (the folder left stays focused).
  await row(page, 'dos.txt').getByRole('button', { name: 'dos.txt', exact: true }).focus();
  await page.keyboard.press('ArrowDown');
  await expect(row(page, 'run.sh').getByRole('button', { name: 'run.sh', exact: true })).toBeFocused();
  await page.keyboard.press('Backspace');
  await expect(row(page, 'root').getByRole('button', { name: 'root', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('.hb-files .files-crumbs [aria-current]')).toHaveText('root');
  // Entering a folder puts the focus on its first name.
  await expect(row(page, '.bashrc').getByRole('button', { name: '.bashrc', exact: true })).toBeFocused();
});
