// The Files tab: browse a sandbox's tree one directory at a time, view text
// and images, edit small text files, upload (button or drag and drop, with
// progress), download, create folders, rename and delete.
//
// What the API offers and what this tab does with it:
// - GET/PUT /files?path= download and upload one file; GET /files/archive
//   downloads a directory as a tar stream.
// - GET /files/list?recursive=false lists one directory with each entry's
//   mode, owner (uid:gid) and mtime; POST /files/mkdir, POST /files/move and
//   DELETE /files (recursive for a folder) make, rename and delete. None is
//   a command: browsing does not count in the sandbox's commands run.
// - PUT /files keeps the mode and owner of the file it replaces, so a save
//   needs nothing more. The tab runs no command at all.
// File names, contents and error messages are data: text nodes only.
import { api, raw, getKey, sbPath, ApiError } from '../api.js';
import { h, fill, fmtBytes } from '../dom.js';

const MAX_ENTRIES = 5000;           // rows shown of one directory
const EDIT_MAX = 1024 * 1024;       // text files up to this size can be edited
const TEXT_PREVIEW = 256 * 1024;    // bytes shown of a larger text file
const IMAGE_MAX = 32 * 1024 * 1024; // images past this are not previewed
const HEX_BYTES = 512;              // bytes of a binary file shown as hex
const MAX_TREE_FILES = 5000;        // files taken from one dropped or picked folder
const PAGE_ROWS = 300;              // rows drawn at a time ("Show more")

const IMAGE_TYPES = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif',
  webp: 'image/webp', bmp: 'image/bmp', ico: 'image/x-icon', svg: 'image/svg+xml',
  avif: 'image/avif',
};


// ---- paths ----

export function joinPath(dir, name) {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

// An absolute path with '.', '..' and repeated or trailing slashes resolved;
// null when the text is not an absolute path.
export function normPath(text) {
  if (typeof text !== 'string' || !text.startsWith('/') || text.includes('\0')) return null;
  const out = [];
  for (const part of text.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

function parentOf(path) {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function baseName(path) {
  return path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1);
}

// Why a new name is refused, or null.
function badName(name) {
  if (!name) return 'a name is required';
  if (name === '.' || name === '..') return `"${name}" is not a usable name`;
  if (name.includes('/')) return 'a name cannot contain "/"';
  if (name.includes('\0')) return 'a name cannot contain a NUL byte';
  if (new TextEncoder().encode(name).length > 255) return 'a name is at most 255 bytes';
  return null;
}

function filesUrl(id, path) {
  return `${sbPath(id, 'files')}?path=${encodeURIComponent(path)}`;
}

function archiveUrl(id, path) {
  return `${sbPath(id, 'files', 'archive')}?path=${encodeURIComponent(path)}`;
}

// ---- API pieces ----

function routeUrl(id, route, params) {
  const q = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${route ? sbPath(id, 'files', route) : sbPath(id, 'files')}?${q}`;
}

// mode: st_mode as the API gives it (type and permission bits).
function modeString(mode) {
  const m = mode & 0o7777;
  const t = { 0o040000: 'd', 0o120000: 'l', 0o010000: 'p', 0o140000: 's', 0o020000: 'c', 0o060000: 'b' }[mode & 0o170000] || '-';
  const bit = (b, c) => (m & b ? c : '-');
  const x = (b, special, on, off) => {
    if (m & special) return m & b ? on : off;
    return m & b ? 'x' : '-';
  };
  return t
    + bit(0o400, 'r') + bit(0o200, 'w') + x(0o100, 0o4000, 's', 'S')
    + bit(0o040, 'r') + bit(0o020, 'w') + x(0o010, 0o2000, 's', 'S')
    + bit(0o004, 'r') + bit(0o002, 'w') + x(0o001, 0o1000, 't', 'T');
}

// One entry of GET /files/list. A symlink's target is not listed: opening
// one tries it as a folder, then as a file (isLink).
export function entryOf(e) {
  const type = { file: 'f', directory: 'd', symlink: 'l' }[e.entry_type] || '?';
  const meta = Number.isInteger(e.mode);
  return {
    name: e.name, type,
    isDir: type === 'd',
    isFile: type === 'f',
    isLink: type === 'l',
    size: type === 'f' ? e.size : NaN,
    mtime: Number.isFinite(e.mtime) ? e.mtime * 1000 : NaN,
    mode: meta ? modeString(e.mode) : '',
    modeOct: meta ? (e.mode & 0o7777).toString(8) : '',
    owner: meta ? `${e.uid}:${e.gid}` : '',
    target: null,
    broken: false,
  };
}

// What path is, a last symlink followed (HEAD /files/archive answers with
// X-Hivebox-Path-Type): 'file', 'directory', 'other', or null when it is not
// there. Asked before opening a link or a typed path, so that a file is
// never listed as a folder (a 500) only to find out.
async function pathType(id, path, signal) {
  try {
    const res = await raw('HEAD', archiveUrl(id, path), undefined, { signal });
    return res.headers.get('X-Hivebox-Path-Type');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

async function listDir(id, dir, signal) {
  let r;
  try {
    r = await api('GET', routeUrl(id, 'list', { path: dir, recursive: 'false' }), undefined, { signal });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw new Error(`${dir}: no such directory`);
    if (e instanceof ApiError && /not a directory/.test(e.message)) throw Object.assign(new Error(`${dir}: not a directory`), { notDir: true });
    throw e;
  }
  const entries = (r.entries || []).map(entryOf);
  const more = entries.length > MAX_ENTRIES || Boolean(r.truncated);
  return { entries: entries.slice(0, MAX_ENTRIES), more, partial: entries.some((x) => !x.mode) };
}

// Upload one file with XMLHttpRequest, whose upload progress fetch() lacks.
// The key goes in the Authorization header, as api.js sends it. Returns
// { xhr, done } where done resolves with the API's answer.
export function upload(id, path, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open('PUT', filesUrl(id, path));
    const key = getKey();
    if (key) xhr.setRequestHeader('Authorization', `Bearer ${key}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener('load', () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(body); return; }
      if (xhr.status === 401) window.dispatchEvent(new CustomEvent('hb:unauthorized'));
      const msg = body && typeof body.error === 'string' ? body.error : `${xhr.status} ${xhr.statusText}`;
      reject(new ApiError(xhr.status, msg));
    });
    xhr.addEventListener('error', () => reject(new Error('the upload failed (network error)')));
    xhr.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')));
    xhr.send(file);
  });
  return { xhr, done };
}

// Read a response body up to cap bytes. more: the body went on past cap.
async function readCapped(res, cap, onBytes) {
  const reader = res.body.getReader();
  const chunks = [];
  let n = 0;
  let more = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
    if (onBytes) onBytes(n);
    if (n > cap) { more = true; reader.cancel().catch(() => {}); break; }
  }
  const out = new Uint8Array(Math.min(n, cap));
  let off = 0;
  for (const c of chunks) {
    const take = Math.min(c.length, out.length - off);
    out.set(c.subarray(0, take), off);
    off += take;
    if (off >= out.length) break;
  }
  return { bytes: out, more };
}

// Read a whole body as chunks (a Blob is made of them without a copy).
async function readAll(res, onBytes) {
  const reader = res.body.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { chunks, size: n };
    chunks.push(value);
    n += value.length;
    if (onBytes) onBytes(n);
  }
}

// Text when the bytes are UTF-8 without NULs; null for binary. A multi-byte
// character cut by the preview cap is not a reason to call it binary.
function asText(bytes, cut) {
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return null;
  let ctl = 0;
  for (const c of head) if ((c < 0x20 && c !== 9 && c !== 10 && c !== 12 && c !== 13 && c !== 27) || c === 0x7f) ctl++;
  if (ctl * 10 > head.length) return null;   // mostly control bytes: binary
  try {
    // ignoreBOM keeps a byte-order mark in the text, so a save writes it back.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: cut });
  } catch (_) {
    return null;
  }
}

function hexDump(bytes) {
  const lines = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines.join('\n');
}

function fmtTime(ms) {
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function extOf(name) {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i + 1).toLowerCase() : '';
}

function errText(e) {
  return e && e.message ? e.message : String(e);
}

const isAbort = (e) => e && e.name === 'AbortError';
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

// The files under a dropped folder (FileSystemEntry API), each with its
// path relative to the drop. Throws past MAX_TREE_FILES.
async function walkEntry(entry, prefix, out) {
  if (entry.isFile) {
    if (out.length >= MAX_TREE_FILES) throw new Error(`more than ${MAX_TREE_FILES} files`);
    const file = await new Promise((res, rej) => entry.file(res, rej));
    out.push({ file, rel: prefix + entry.name });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
    if (!batch.length) return;
    for (const child of batch) await walkEntry(child, `${prefix}${entry.name}/`, out);
  }
}

// ---- the tab ----

export function mount(el, ctx) {
  const id = ctx.id;
  const slot = `hivebox.files.${id}`;
  const st = {
    cwd: normPath(sessionStorage.getItem(slot) || '') || '/root',
    firstLoad: true,
    entries: [],
    sort: { key: 'name', dir: 1 },
    filter: '',
    shown: PAGE_ROWS,
    seq: 0,
    dead: false,
    urls: new Set(),
    ctrls: new Set(),
    xhrs: new Set(),
    timers: new Set(),
    view: null,           // { path, name, ctrl, text, editor }
    queue: [],
    uploading: false,
    listCtrl: null,
  };

  const track = () => { const c = new AbortController(); st.ctrls.add(c); return c; };
  const untrack = (c) => st.ctrls.delete(c);
  const later = (fn, ms) => { const t = setTimeout(() => { st.timers.delete(t); fn(); }, ms); st.timers.add(t); };
  const blobUrl = (blob) => { const u = URL.createObjectURL(blob); st.urls.add(u); return u; };
  const revoke = (u) => { if (st.urls.delete(u)) URL.revokeObjectURL(u); };

  // -- skeleton --
  const crumbs = h('nav', { class: 'files-crumbs', 'aria-label': 'Folder path' });
  const upBtn = h('button', { type: 'button', class: 'btn', title: 'Parent folder', onclick: () => go(parentOf(st.cwd)) }, '↑ Up');
  const refreshBtn = h('button', { type: 'button', class: 'btn', onclick: () => load(st.cwd, { keep: true }) }, 'Refresh');
  const fileInput = h('input', { type: 'file', multiple: true, class: 'files-hidden', tabindex: '-1', 'aria-hidden': 'true', 'data-testid': 'files-input' });
  fileInput.addEventListener('change', () => {
    const files = Array.from(fileInput.files || []);
    fileInput.value = '';
    if (files.length) queueUploads(files.map((f) => ({ file: f, rel: f.name })), st.cwd);
  });
  const uploadBtn = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => fileInput.click() }, 'Upload files');
  const folderInput = h('input', { type: 'file', multiple: true, webkitdirectory: true, class: 'files-hidden', tabindex: '-1', 'aria-hidden': 'true', 'data-testid': 'files-folder-input' });
  folderInput.addEventListener('change', () => {
    const files = Array.from(folderInput.files || []);
    folderInput.value = '';
    if (files.length > MAX_TREE_FILES) { fail(`That folder has ${files.length} files; at most ${MAX_TREE_FILES} go at once (upload a tar with files/archive instead).`); return; }
    if (files.length) queueUploads(files.map((f) => ({ file: f, rel: f.webkitRelativePath || f.name })), st.cwd);
  });
  const folderBtn = h('button', { type: 'button', class: 'btn', onclick: () => folderInput.click() }, 'Upload folder');
  const mkdirBtn = h('button', { type: 'button', class: 'btn', onclick: () => showMkdir() }, 'New folder');
  const gotoInput = h('input', { type: 'text', class: 'files-goto-input', 'aria-label': 'Go to path', spellcheck: 'false', autocomplete: 'off' });
  const gotoForm = h('form', { class: 'files-goto', onsubmit: (e) => { e.preventDefault(); gotoPath(); } },
    gotoInput, h('button', { type: 'submit', class: 'btn' }, 'Go'));
  const filterInput = h('input', { type: 'search', class: 'files-filter', placeholder: 'Filter names', 'aria-label': 'Filter names', autocomplete: 'off', spellcheck: 'false' });
  filterInput.addEventListener('input', () => { st.filter = filterInput.value; st.shown = PAGE_ROWS; renderList(); });
  const pathRow = h('div', { class: 'files-pathrow' }, gotoForm, filterInput);

  const msg = h('div', { class: 'files-msg', role: 'status', 'aria-live': 'polite' });
  const errBox = h('div', { class: 'files-error', role: 'alert' });
  const confirmBox = h('div', { class: 'files-confirm', hidden: true });
  const mkdirBox = h('div', { class: 'files-mkdir', hidden: true });
  const uploadsList = h('ul', { class: 'files-uploads', 'aria-label': 'Uploads' });
  const uploadsBox = h('div', { class: 'files-uploads-box', hidden: true },
    h('div', { class: 'files-uploads-head' }, h('strong', {}, 'Uploads'),
      h('button', { type: 'button', class: 'btn btn-small', onclick: clearUploads }, 'Clear finished')),
    uploadsList);

  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'files-table', 'aria-label': 'Folder contents' }, thead, tbody);
  const foot = h('div', { class: 'files-foot' });
  const dropHint = h('div', { class: 'files-drop-hint', 'aria-hidden': 'true' }, 'Drop files or folders to upload here');
  const drop = h('div', { class: 'files-drop', 'data-testid': 'files-drop' }, table, foot, dropHint);
  const viewer = h('section', { class: 'files-view', hidden: true, 'aria-label': 'File' });

  const root = h('div', { class: 'hb-files' },
    h('div', { class: 'files-bar' }, crumbs,
      h('div', { class: 'files-actions' }, upBtn, refreshBtn, mkdirBtn, folderBtn, uploadBtn, fileInput, folderInput)),
    pathRow, errBox, msg, confirmBox, mkdirBox, uploadsBox,
    h('div', { class: 'files-body' }, drop, viewer));
  fill(el, root);

  // -- messages --
  function say(text) { fill(msg, text || ''); }
  function fail(text, retry) {
    if (!text) { fill(errBox); return; }
    fill(errBox, h('span', {}, text),
      retry ? h('button', { type: 'button', class: 'btn btn-small', onclick: retry }, 'Retry') : null,
      h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Dismiss', onclick: () => fail(null) }, '×'));
  }

  // In-page confirmation (never window.confirm): resolves true or false.
  let confirmDone = null;
  function ask(text, yesLabel, danger = true) {
    if (confirmDone) confirmDone(false);
    return new Promise((resolve) => {
      const finish = (v) => {
        if (confirmDone !== finish) return;
        confirmDone = null;
        confirmBox.hidden = true;
        fill(confirmBox);
        resolve(v);
      };
      confirmDone = finish;
      const yes = h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary', onclick: () => finish(true) }, yesLabel);
      const no = h('button', { type: 'button', class: 'btn', onclick: () => finish(false) }, 'Cancel');
      fill(confirmBox, h('span', { class: 'files-confirm-text' }, text), yes, no);
      confirmBox.hidden = false;
      confirmBox.onkeydown = (e) => { if (e.key === 'Escape') finish(false); };
      (danger ? no : yes).focus();   // Enter alone never destroys
    });
  }

  // -- navigation and listing --
  function renderCrumbs() {
    const parts = st.cwd.split('/').filter(Boolean);
    const items = [h('button', { type: 'button', class: 'crumb', onclick: () => go('/') }, '/')];
    let acc = '';
    parts.forEach((p, i) => {
      acc += `/${p}`;
      const target = acc;
      if (i > 0) items.push(h('span', { class: 'sep', 'aria-hidden': 'true' }, '/'));
      const last = i === parts.length - 1;
      items.push(h('button', { type: 'button', class: 'crumb', 'aria-current': last ? 'location' : null, onclick: () => go(target) }, p));
    });
    fill(crumbs, items);
    upBtn.disabled = st.cwd === '/';
    gotoInput.value = st.cwd;
  }

  // focus: the name to focus in the new listing (true: the first).
  function go(dir, focus) {
    if (dir === st.cwd) { load(dir, { keep: true }); return; }
    load(dir, { focus });
  }

  async function gotoPath() {
    const p = normPath(gotoInput.value.trim());
    if (!p) { fail('Type an absolute path, starting with /.'); return; }
    // A file's path: show its folder with the file open.
    const type = p === '/' ? 'directory' : await pathType(id, p).catch(() => 'directory');
    if (st.dead) return;
    if (type === 'file') load(parentOf(p), { open: baseName(p) });
    else load(p, { fileOk: true });
  }

  // A symlink: into the folder it points at, or open the file.
  async function openLink(e, path) {
    let type;
    try {
      type = await pathType(id, path);
    } catch (err) {
      if (!st.dead) fail(`Could not open ${e.name}: ${errText(err)}`);
      return;
    }
    if (st.dead) return;
    if (type === 'directory') go(path, true);
    else if (type === 'file') openFile(e, path);
    else say(`${e.name} is ${type ? 'a link to something that is not a regular file' : 'a broken link'}: nothing to show.`);
  }

  function sortBtn(key, label) {
    const on = st.sort.key === key;
    const arrow = on ? (st.sort.dir > 0 ? ' ▲' : ' ▼') : '';
    return h('th', { scope: 'col', class: `col-${key}`, 'aria-sort': on ? (st.sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'th-sort', onclick: () => {
        st.sort = { key, dir: on ? -st.sort.dir : 1 };
        renderList();
      } }, label + arrow));
  }

  function sorted(entries) {
    const { key, dir } = st.sort;
    const byName = (a, b) => collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return entries.slice().sort((a, b) => {
      if (a.isDir !== b.isDir) return a.isDir ? -1 : 1;
      let c = 0;
      if (key === 'size') c = (a.isDir ? 0 : a.size || 0) - (b.isDir ? 0 : b.size || 0);
      else if (key === 'mtime') c = (a.mtime || 0) - (b.mtime || 0);
      return (c || byName(a, b)) * dir;
    });
  }

  function placeholder(text, cls) {
    fill(tbody, h('tr', { class: cls || 'files-empty' }, h('td', { colspan: '5' }, text)));
  }

  function renderList() {
    fill(thead, h('tr', {}, sortBtn('name', 'Name'), sortBtn('size', 'Size'), sortBtn('mtime', 'Modified'),
      h('th', { scope: 'col', class: 'col-mode' }, 'Mode'),
      h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions'))));
    if (!st.entries.length) {
      placeholder('This folder is empty. Drop files here or use Upload files.');
      return;
    }
    const needle = st.filter.trim().toLowerCase();
    const list = needle ? st.entries.filter((e) => e.name.toLowerCase().includes(needle)) : st.entries;
    if (!list.length) { placeholder(`Nothing here matches “${st.filter.trim()}”.`); return; }
    // A big folder is drawn a page at a time: thousands of rows cost seconds of layout.
    const rows = sorted(list).slice(0, st.shown).map(row);
    const left = list.length - st.shown;
    if (left > 0) {
      rows.push(h('tr', { class: 'files-more' }, h('td', { colspan: '5' },
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => { st.shown += PAGE_ROWS * 4; renderList(); } },
          `Show ${Math.min(left, PAGE_ROWS * 4)} more (${left} not shown)`))));
    }
    fill(tbody, rows);
  }

  function row(e) {
    const path = joinPath(st.cwd, e.name);
    const kind = e.isDir ? 'dir' : e.type === 'l' ? 'link' : e.isFile ? 'file' : 'other';
    const usable = e.isDir || e.isFile || e.isLink;
    const nameBtn = h('button', { type: 'button', class: 'files-name', title: path,
      onclick: () => {
        if (e.isDir) go(path, true);
        else if (e.isFile) openFile(e, path);
        else if (e.isLink) openLink(e, path);
        else say(`${e.name} is ${e.broken ? 'a broken link' : 'not a regular file'}: nothing to show.`);
      } }, e.name);
    const nameCell = h('td', { class: `col-name kind-${kind}` }, h('span', { class: 'files-icon', 'aria-hidden': 'true' }), nameBtn,
      e.target !== null ? h('span', { class: 'files-target', title: e.broken ? 'broken link' : null }, ` → ${e.target}`) : null);
    const tr = h('tr', { dataset: { name: e.name } },
      nameCell,
      h('td', { class: 'col-size', title: e.isDir ? null : `${e.size} bytes` }, e.isDir ? '—' : fmtBytes(e.size)),
      h('td', { class: 'col-mtime', title: Number.isFinite(e.mtime) ? new Date(e.mtime).toISOString() : null }, fmtTime(e.mtime)),
      h('td', { class: 'col-mode', title: e.owner || null }, e.mode || '–'),
      h('td', { class: 'col-actions' },
        h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Download ${e.name}`, disabled: !usable,
          title: e.isDir ? 'Download as .tar' : 'Download', onclick: () => downloadEntry(e, path) }, 'Download'),
        h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Rename ${e.name}`, onclick: () => startRename(e, nameCell, path) }, 'Rename'),
        h('button', { type: 'button', class: 'btn btn-small files-del', 'aria-label': `Delete ${e.name}`, onclick: () => remove(e, path) }, 'Delete')));
    return tr;
  }

  async function load(dir, opts = {}) {
    const seq = ++st.seq;
    st.cwd = dir;
    renderCrumbs();
    fail(null);
    if (!opts.keep) { say(''); st.entries = []; st.shown = PAGE_ROWS; st.filter = ''; filterInput.value = ''; renderList(); placeholder('Loading…', 'files-loading'); fill(foot); }
    drop.setAttribute('aria-busy', 'true');
    if (st.listCtrl) st.listCtrl.abort();   // the folder left behind need not finish
    const c = track();
    st.listCtrl = c;
    try {
      const r = await listDir(id, dir, c.signal);
      if (st.dead || seq !== st.seq) return;
      st.entries = r.entries;
      st.firstLoad = false;
      sessionStorage.setItem(slot, dir);
      renderList();
      if (opts.focus) {
        const names = Array.from(tbody.querySelectorAll('tr[data-name] .files-name'));
        (names.find((b) => b.closest('tr').dataset.name === opts.focus) || names[0])?.focus();
      }
      if (opts.open) {
        const e = st.entries.find((x) => x.name === opts.open);
        if (e && (e.isFile || e.isLink)) openFile(e, joinPath(dir, e.name));
      }
      const notes = [];
      notes.push(`${r.entries.length} item${r.entries.length === 1 ? '' : 's'}`);
      if (r.more) notes.push(`only the first ${r.entries.length} are shown; use the terminal for the rest`);
      if (r.partial) notes.push('listed without dates and modes (this sandbox was started by an older HiveBox)');
      fill(foot, notes.join(' · '));
    } catch (e) {
      if (st.dead || seq !== st.seq || isAbort(e)) return;
      if (st.firstLoad && dir !== '/') { st.firstLoad = false; load('/'); return; }
      // A file's path typed in "Go to": show its folder and open it.
      if (opts.fileOk && e.notDir) { load(parentOf(dir), { open: baseName(dir) }); return; }
      st.entries = [];
      placeholder(`Could not list ${dir}: ${errText(e)}`, 'files-failed');
      fill(foot);
      fail(`Could not list ${dir}: ${errText(e)}`, () => load(dir));
    } finally {
      untrack(c);
      if (st.listCtrl === c) st.listCtrl = null;
      if (seq === st.seq) drop.removeAttribute('aria-busy');
    }
  }

  // -- new folder --
  function showMkdir() {
    const input = h('input', { type: 'text', 'aria-label': 'New folder name', placeholder: 'folder name', autocomplete: 'off', spellcheck: 'false' });
    const note = h('span', { class: 'files-field-error', role: 'alert' });
    const close = () => { mkdirBox.hidden = true; fill(mkdirBox); mkdirBtn.focus(); };
    const form = h('form', { class: 'files-inline-form', onsubmit: async (ev) => {
      ev.preventDefault();
      const name = input.value;
      const bad = badName(name);
      if (bad) { fill(note, bad); return; }
      const dir = st.cwd;
      const path = joinPath(dir, name);
      fill(note);
      create.disabled = true;
      try {
        try {
          await api('POST', routeUrl(id, 'mkdir', { path }));
        } catch (err) {
          if (err instanceof ApiError && err.status === 409) throw new Error(`${name} already exists`);
          throw err;
        }
        if (st.dead) return;
        close();
        say(`Created folder ${name}`);
        if (dir === st.cwd) load(dir, { keep: true });
      } catch (e) {
        if (!st.dead) fill(note, errText(e));
      } finally {
        create.disabled = false;
      }
    } });
    const create = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create');
    input.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
    fill(form, h('label', {}, 'New folder in ', h('code', {}, st.cwd)), input, create,
      h('button', { type: 'button', class: 'btn', onclick: close }, 'Cancel'), note);
    fill(mkdirBox, form);
    mkdirBox.hidden = false;
    input.focus();
  }

  // -- rename --
  function startRename(e, cell, path) {
    const before = Array.from(cell.childNodes);
    const input = h('input', { type: 'text', value: e.name, 'aria-label': `New name for ${e.name}`, autocomplete: 'off', spellcheck: 'false' });
    input.value = e.name;
    const note = h('span', { class: 'files-field-error', role: 'alert' });
    const cancel = () => { cell.replaceChildren(...before); before.find((n) => n.tagName === 'BUTTON')?.focus(); };
    const save = h('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Save');
    const form = h('form', { class: 'files-rename', onsubmit: async (ev) => {
      ev.preventDefault();
      const name = input.value;
      if (name === e.name) { cancel(); return; }
      const bad = badName(name);
      if (bad) { fill(note, bad); return; }
      const dir = st.cwd;
      const to = joinPath(dir, name);
      // Taken in the listing: say so without asking (the route's 409 covers
      // a name made meanwhile).
      if (st.entries.some((x) => x.name === name)) { fill(note, `${name} already exists`); return; }
      save.disabled = true;
      try {
        try {
          // overwrite false: a taken name is a 409, never a replace or a
          // move into the folder of that name.
          await api('POST', sbPath(id, 'files', 'move'), { from: path, to, overwrite: false });
        } catch (err) {
          if (err instanceof ApiError && err.status === 409) throw new Error(`${name} already exists`);
          throw err;
        }
        if (st.dead) return;
        say(`Renamed ${e.name} to ${name}`);
        const v = st.view;
        if (v && (v.path === path || v.path.startsWith(`${path}/`))) {
          // The open file (or a folder above it) moved: follow it.
          if (v.path === path) { v.name = name; fill(v.titleEl, name); }
          v.path = to + v.path.slice(path.length);
        }
        if (dir === st.cwd) load(dir, { keep: true });
      } catch (err) {
        if (!st.dead) fill(note, errText(err));
      } finally {
        save.disabled = false;
      }
    } }, input, save, h('button', { type: 'button', class: 'btn btn-small', onclick: cancel }, 'Cancel'), note);
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); cancel(); } });
    cell.replaceChildren(form);
    input.focus();
    const dot = e.isDir ? -1 : e.name.lastIndexOf('.');
    input.setSelectionRange(0, dot > 0 ? dot : e.name.length);
  }

  // -- delete --
  async function remove(e, path) {
    if (path === '/') return;
    const text = e.isDir ? `Delete the folder ${e.name} and everything in it?` : `Delete ${e.name}?`;
    if (!(await ask(text, 'Delete'))) return;
    const dir = st.cwd;
    try {
      // A link goes as a link (its target stays), a folder with all it holds.
      await api('DELETE', routeUrl(id, '', e.isDir ? { path, recursive: 'true' } : { path }));
      if (st.dead) return;
      say(`Deleted ${e.name}`);
      if (st.view && (st.view.path === path || st.view.path.startsWith(`${path}/`))) closeView(true);
    } catch (err) {
      if (!st.dead) fail(`Could not delete ${e.name}: ${errText(err)}`);
    }
    if (!st.dead && dir === st.cwd) load(dir, { keep: true });
  }

  // -- download --
  async function downloadEntry(e, path) {
    const name = e.isDir ? `${e.name}.tar` : e.name;
    const c = track();
    say(`Downloading ${name}…`);
    try {
      const res = await raw('GET', e.isDir ? archiveUrl(id, path) : filesUrl(id, path), undefined, { signal: c.signal });
      const { chunks, size } = await readAll(res, (n) => { if (!st.dead) say(`Downloading ${name}… ${fmtBytes(n)}`); });
      if (st.dead) return;
      const u = blobUrl(new Blob(chunks, { type: e.isDir ? 'application/x-tar' : 'application/octet-stream' }));
      const a = h('a', { href: u, download: name, class: 'files-hidden' });
      root.append(a);
      a.click();
      a.remove();
      later(() => revoke(u), 30000);
      say(`Downloaded ${name} (${fmtBytes(size)})`);
    } catch (err) {
      if (!st.dead && !isAbort(err)) { say(''); fail(`Could not download ${e.name}: ${errText(err)}`); }
    } finally {
      untrack(c);
    }
  }

  // -- viewer and editor --
  // A textarea turns CRLF into LF: a file whose lines all end in CRLF gets
  // them back when saved. v.base is the editor's text as last loaded or saved.
  const dirty = (v) => Boolean(v && v.editor && v.editor.value !== v.base);

  function closeView(force) {
    const v = st.view;
    if (!v) return;
    if (!force && dirty(v)) {
      ask(`Discard your changes to ${v.name}?`, 'Discard').then((yes) => { if (yes) closeView(true); });
      return;
    }
    v.ctrl.abort();
    untrack(v.ctrl);
    if (v.url) revoke(v.url);
    st.view = null;
    viewer.hidden = true;
    fill(viewer);
    root.classList.remove('has-view');
  }

  function viewHead(v, meta, buttons) {
    return h('header', { class: 'files-view-head' },
      h('div', { class: 'files-view-title' }, v.titleEl = h('h3', {}, v.name), v.meta = h('span', { class: 'files-view-meta' }, meta)),
      h('div', { class: 'files-view-actions' }, buttons,
        h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Close file', onclick: () => closeView(false) }, 'Close')));
  }

  async function openFile(e, path) {
    if (st.view) {
      if (dirty(st.view)) {
        if (!(await ask(`Discard your changes to ${st.view.name}?`, 'Discard'))) return;
      }
      closeView(true);
    }
    const v = { path, name: e.name, ctrl: track(), text: null, editor: null, url: null, entry: e };
    st.view = v;
    root.classList.add('has-view');
    viewer.hidden = false;
    const dl = h('button', { type: 'button', class: 'btn btn-small', onclick: () => downloadEntry({ ...e, name: v.name }, v.path) }, 'Download');
    const body = h('div', { class: 'files-view-body' }, h('p', { class: 'files-loading' }, 'Loading…'));
    fill(viewer, viewHead(v, `${fmtBytes(e.size)} · ${fmtTime(e.mtime)}`, dl), body);
    // Stacked layout (phone, narrow window): the viewer is below the list.
    if (window.matchMedia('(max-width: 900px)').matches) viewer.scrollIntoView({ block: 'start' });
    const mime = IMAGE_TYPES[extOf(e.name)];
    try {
      if (mime) {
        if (e.size > IMAGE_MAX) {
          fill(body, h('p', { class: 'files-note' }, `This image is ${fmtBytes(e.size)}, too large to preview here (limit ${fmtBytes(IMAGE_MAX)}). Download it instead.`));
          return;
        }
        const res = await raw('GET', filesUrl(id, path), undefined, { signal: v.ctrl.signal });
        const { bytes, more } = await readCapped(res, IMAGE_MAX);
        if (st.view !== v) return;
        if (more) { fill(body, h('p', { class: 'files-note' }, 'This image grew too large to preview. Download it instead.')); return; }
        v.url = blobUrl(new Blob([bytes], { type: mime }));
        const img = h('img', { class: 'files-img', alt: e.name, src: v.url });
        img.addEventListener('error', () => { if (st.view === v) fill(body, h('p', { class: 'files-note' }, 'This file could not be shown as an image.')); });
        fill(body, img);
        return;
      }
      const cap = e.size > EDIT_MAX ? TEXT_PREVIEW : EDIT_MAX;
      const res = await raw('GET', filesUrl(id, path), undefined, { signal: v.ctrl.signal });
      const { bytes, more } = await readCapped(res, cap);
      if (st.view !== v) return;
      const text = asText(bytes, more);
      if (text === null) {
        fill(body,
          h('p', { class: 'files-note' }, `Binary file (${fmtBytes(Math.max(e.size, bytes.length))}). The first ${Math.min(HEX_BYTES, bytes.length)} bytes:`),
          h('pre', { class: 'files-hex' }, hexDump(bytes.subarray(0, HEX_BYTES))));
        return;
      }
      v.text = text;
      const pre = h('pre', { class: 'files-text', tabindex: '0', 'aria-label': `Contents of ${e.name}` }, text);
      if (more) {
        fill(body, h('p', { class: 'files-note' }, `Showing the first ${fmtBytes(bytes.length)} of ${fmtBytes(e.size)}: too large to load whole. Download it for the rest.`), pre);
        return;
      }
      // A save replaces the file, so a link would become a copy: edit its target.
      const edit = e.type === 'l'
        ? h('button', { type: 'button', class: 'btn btn-small', disabled: true, title: `A link to ${e.target}: open the target to edit it` }, 'Edit')
        : h('button', { type: 'button', class: 'btn btn-small', onclick: () => startEdit(v, body, pre, edit) }, 'Edit');
      fill(viewer, viewHead(v, `${fmtBytes(bytes.length)} · ${fmtTime(e.mtime)}`, [edit, dl]), body);
      fill(body, pre);
    } catch (err) {
      if (st.view === v && !isAbort(err)) fill(body, h('p', { class: 'files-error', role: 'alert' }, `Could not open ${e.name}: ${errText(err)}`));
    }
  }

  function startEdit(v, body, pre, editBtn) {
    editBtn.hidden = true;
    const editor = h('textarea', { class: 'files-editor', spellcheck: 'false', 'aria-label': `Edit ${v.name}` });
    editor.value = v.text;
    v.base = editor.value;
    v.crlf = v.text.includes('\r\n') && !/(^|[^\r])\n/.test(v.text);
    v.editor = editor;
    const note = h('span', { class: 'files-edit-status', role: 'status' });
    const saveBtn = h('button', { type: 'button', class: 'btn btn-small btn-primary', onclick: () => save() }, 'Save');
    const cancelBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: () => stop(false) }, 'Cancel');
    const stop = async (saved) => {
      if (!saved && dirty(v) && !(await ask(`Discard your changes to ${v.name}?`, 'Discard'))) return;
      if (st.view !== v) return;
      v.editor = null;
      pre.textContent = v.text;
      editBtn.hidden = false;
      fill(body, pre);
      editBtn.focus();
    };
    const save = async () => {
      const shown = editor.value;
      const text = v.crlf ? shown.replace(/\n/g, '\r\n') : shown;
      const blob = new Blob([text]);
      if (blob.size > EDIT_MAX) { fill(note, `The text is ${fmtBytes(blob.size)}, past the ${fmtBytes(EDIT_MAX)} editing limit.`); return; }
      saveBtn.disabled = true;
      fill(note, 'Saving…');
      try {
        await raw('PUT', filesUrl(id, v.path), blob);
        if (st.view !== v) return;
        v.text = text;
        v.base = shown;
        // The PUT keeps the mode and owner of the file it replaces.
        fill(note, 'Saved');
        fill(v.meta, `${fmtBytes(blob.size)} · saved ${fmtTime(Date.now())}`);
        say(`Saved ${v.name}`);
        if (parentOf(v.path) === st.cwd) load(st.cwd, { keep: true });
      } catch (err) {
        if (st.view === v) fill(note, `Not saved: ${errText(err)}`);
      } finally {
        saveBtn.disabled = false;
      }
    };
    editor.addEventListener('keydown', (ev) => {
      if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 's') { ev.preventDefault(); save(); }
    });
    editor.addEventListener('input', () => fill(note, dirty(v) ? 'Unsaved changes' : ''));
    const bar = h('div', { class: 'files-edit-bar' }, saveBtn, cancelBtn, note);
    fill(body, bar, editor);
    editor.focus();
  }

  // -- upload --
  // items: [{ file, rel }], rel the path below dir ("a.txt", "proj/src/a.txt").
  async function queueUploads(items, dir) {
    const names = new Set(st.entries.map((e) => e.name));
    const tops = [...new Set(items.map((it) => it.rel.split('/')[0]))];
    const clash = dir === st.cwd ? tops.filter((n) => names.has(n)) : [];
    if (clash.length) {
      const list = clash.length > 3 ? `${clash.slice(0, 3).join(', ')} and ${clash.length - 3} more` : clash.join(', ');
      if (!(await ask(`Replace ${list} in ${dir}? (Files of the same name are overwritten.)`, 'Replace'))) return;
      if (st.dead) return;
    }
    uploadsBox.hidden = false;
    for (const { file: f, rel } of items) {
      const bad = rel.split('/').map(badName).find(Boolean) || null;
      const item = { file: f, dir, path: joinPath(dir, rel), state: 'queued', xhr: null };
      const bar = h('progress', { max: String(Math.max(f.size, 1)), value: '0', 'aria-label': `Upload of ${f.name}` });
      const status = h('span', { class: 'files-up-status' }, bad ? bad : 'waiting');
      const cancel = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Cancel upload of ${f.name}`, onclick: () => {
        if (item.xhr) item.xhr.abort();
        else if (item.state === 'queued') { item.state = 'cancelled'; fill(status, 'cancelled'); cancel.remove(); li.classList.add('finished'); }
      } }, 'Cancel');
      const li = h('li', { class: 'files-up', dataset: { name: rel } },
        h('span', { class: 'files-up-name', title: item.path }, rel), bar, status, cancel);
      Object.assign(item, { bar, status, cancel, li });
      if (bad) { item.state = 'failed'; li.classList.add('failed', 'finished'); cancel.remove(); }
      uploadsList.append(li);
      if (!bad) st.queue.push(item);
    }
    pump();
  }

  async function pump() {
    if (st.uploading) return;
    st.uploading = true;
    const dirs = new Set();
    while (!st.dead && st.queue.length) {
      const item = st.queue.shift();
      if (item.state !== 'queued') continue;
      item.state = 'running';
      const { file, bar, status, cancel, li } = item;
      fill(status, `0 / ${fmtBytes(file.size)}`);
      const up = upload(id, item.path, file, (loaded, total) => {
        bar.max = Math.max(total, 1);
        bar.value = loaded;
        fill(status, `${fmtBytes(loaded)} / ${fmtBytes(total)}`);
      });
      item.xhr = up.xhr;
      st.xhrs.add(up.xhr);
      try {
        const r = await up.done;
        bar.value = bar.max;
        item.state = 'done';
        li.classList.add('done');
        fill(status, `uploaded, ${fmtBytes(r && Number.isFinite(r.size) ? r.size : file.size)}`);
        dirs.add(item.dir);
      } catch (err) {
        item.state = 'failed';
        li.classList.add('failed');
        fill(status, isAbort(err) ? 'cancelled' : errText(err));
      } finally {
        st.xhrs.delete(up.xhr);
        item.xhr = null;
        cancel.remove();
        li.classList.add('finished');
      }
    }
    st.uploading = false;
    if (!st.dead && dirs.has(st.cwd)) load(st.cwd, { keep: true });
  }

  function clearUploads() {
    for (const li of Array.from(uploadsList.children)) if (li.classList.contains('finished')) li.remove();
    if (!uploadsList.children.length) uploadsBox.hidden = true;
  }

  // Keyboard: arrows move between names, Backspace goes up, Delete asks to delete.
  tbody.addEventListener('keydown', (ev) => {
    const btn = ev.target.closest && ev.target.closest('tr[data-name]') ? ev.target : null;
    if (!btn || ev.target.tagName === 'INPUT' || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const tr = btn.closest('tr');
    const names = Array.from(tbody.querySelectorAll('tr[data-name] .files-name'));
    const i = names.indexOf(tr.querySelector('.files-name'));
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      const next = names[i + (ev.key === 'ArrowDown' ? 1 : -1)];
      if (next) { ev.preventDefault(); next.focus(); }
    } else if (ev.key === 'Backspace' && st.cwd !== '/') {
      ev.preventDefault();
      go(parentOf(st.cwd), baseName(st.cwd));
    } else if (ev.key === 'Delete') {
      const del = tr.querySelector('.files-del');
      if (del) { ev.preventDefault(); del.click(); }
    }
  });

  // Drag and drop onto the listing: files, and folders walked to their files.
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  drop.addEventListener('dragenter', (e) => { if (!hasFiles(e)) return; e.preventDefault(); depth++; drop.classList.add('drag-over'); });
  drop.addEventListener('dragover', (e) => { if (!hasFiles(e)) return; e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; drop.classList.add('drag-over'); });
  drop.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) drop.classList.remove('drag-over'); });
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove('drag-over');
    const dt = e.dataTransfer;
    if (!dt) return;
    const dir = st.cwd;
    const out = [];
    const folders = [];
    // Entries must be taken while the event runs; the walk comes after.
    const fileItems = Array.from(dt.items || []).filter((x) => x.kind === 'file');
    Array.from(dt.files || []).forEach((f, i) => {
      const it = fileItems[i];
      const entry = it && typeof it.webkitGetAsEntry === 'function' ? it.webkitGetAsEntry() : null;
      if (entry && entry.isDirectory) folders.push(entry);
      else out.push({ file: f, rel: f.name });
    });
    if (folders.length) {
      say(`Reading ${folders.map((f) => f.name).join(', ')}…`);
      try {
        for (const f of folders) await walkEntry(f, '', out);
      } catch (err) {
        if (!st.dead) { say(''); fail(`Could not read the dropped folder: ${errText(err)}. Upload a tar with files/archive instead.`); }
        return;
      }
      if (st.dead) return;
      say('');
      if (!out.length) { fail('The dropped folders hold no files (empty folders are not uploaded).'); return; }
    }
    if (out.length) queueUploads(out, dir);
  });

  load(st.cwd);

  return {
    unmount() {
      st.dead = true;
      if (confirmDone) confirmDone(false);
      for (const c of st.ctrls) c.abort();
      for (const x of st.xhrs) x.abort();
      for (const t of st.timers) clearTimeout(t);
      for (const u of st.urls) URL.revokeObjectURL(u);
      st.ctrls.clear(); st.xhrs.clear(); st.timers.clear(); st.urls.clear();
      st.queue = [];
      el.replaceChildren();
    },
  };
}
