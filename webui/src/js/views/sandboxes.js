// The sandbox table. One GET /api/v1/hiveboxes when it opens; afterwards the
// shared event stream keeps it current: sandbox.created adds a row from the
// event itself, sandbox.destroyed removes one, exec.finished counts a command,
// metrics.sample (every 10 s) brings every sandbox's memory and CPU. The list
// is fetched again only when events may have been missed (the stream
// reconnected, the daemon reported dropped events, or a sample's count
// disagrees with the table). One 1 s timer updates the visible uptimes and
// times left; rows are built once and only moved when sorting or filtering.
import { api, sbPath } from '../api.js';
import { h, fill, fmtBytes, fmtDuration } from '../dom.js';
import * as live from './live.js';
import { loading, errorBox, confirm, toast } from './ui.js';
import { createForm } from './create.js';

const WINDOW_MIN = 150;

const COLS = [
  { key: 'id', label: 'Name', sort: (r) => r.id },
  { key: 'status', label: 'Status', sort: (r) => r.status },
  { key: 'image', label: 'Image', sort: (r) => r.image },
  { key: 'network', label: 'Network', sort: (r) => r.network },
  { key: 'uptime', label: 'Uptime', sort: (r) => -r.created },
  { key: 'ttl', label: 'Time left', sort: (r) => r.expires },
  { key: 'memory', label: 'Memory', sort: (r) => (r.memBytes ?? -1) },
  { key: 'cpu', label: 'CPU', sort: (r) => (r.cpuPct ?? -1) },
  { key: 'commands', label: 'Commands', sort: (r) => r.commands },
  { key: 'actions', label: 'Actions' },
];

// Kept across visits of this page in one session: IPs seen (from the list,
// a create or the sandbox page) and the sort.
const ipCache = new Map();
export function rememberIp(id, ip) { if (ip) ipCache.set(id, ip); }

function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)/i.exec(s || '');
  if (!m) return null;
  return Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
}

export function mountSandboxes(el) {
  const rows = new Map();   // id -> row
  let sortKey = sessionStorage.getItem('hivebox.sort') || 'uptime';
  let sortDir = Number(sessionStorage.getItem('hivebox.sortdir')) || 1;
  let filter = '';
  let visible = [];
  let win = [0, 0];           // the slice of visible[] in the document
  let windowed = false;
  let measured = 0;
  const spacer = () => h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: String(COLS.length) }));
  const padTop = spacer();
  const padBottom = spacer();
  let loaded = false;
  let pending = false;
  let gen = 0;
  let inflight = false;
  let again = false;
  let suspect = 0;
  let settled = null;

  const filterBox = h('input', {
    id: 'sandbox-filter', type: 'search', placeholder: 'Filter by name, image, status, network…',
    'aria-label': 'Filter sandboxes', autocomplete: 'off',
    oninput: () => { filter = filterBox.value.trim().toLowerCase(); render(); },
  });
  const countEl = h('span', { class: 'muted', id: 'sandbox-count' });
  const newBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'new-sandbox', onclick: openDrawer }, 'New sandbox');
  const sortButtons = new Map();
  const thead = h('thead', {}, h('tr', {}, COLS.map((c) => {
    if (!c.sort) return h('th', { scope: 'col', class: c.key }, c.label);
    const b = h('button', { type: 'button', class: 'sort', dataset: { key: c.key }, onclick: () => sortBy(c.key) }, c.label);
    sortButtons.set(c.key, b);
    return h('th', { scope: 'col', dataset: { key: c.key } }, b);
  })));
  const tbody = h('tbody');
  const table = h('table', { id: 'sandbox-table', class: 'table' }, thead, tbody);
  const status = h('div', { class: 'status-line' }, loading('Loading sandboxes…'));
  const wrap = h('div', { class: 'table-wrap' }, table);
  const drawer = h('aside', { class: 'drawer', id: 'create-drawer', hidden: true, 'aria-label': 'New sandbox' });

  fill(el, h('section', { class: 'page', id: 'sandboxes' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Sandboxes'), newBtn),
    h('div', { class: 'toolbar' }, filterBox, countEl),
    status,
    wrap,
    drawer));

  // ---- rows ----
  function makeRow(d) {
    const r = {
      id: d.id, status: d.status || 'running', image: d.image || '', network: d.network || 'none',
      created: d.created, expires: d.expires, memLimit: d.memLimit, memStr: d.memory || '',
      cpus: d.cpus, commands: d.commands || 0, memBytes: null, cpuPct: null, failure: d.failure || null,
      text: '',
    };
    const enc = encodeURIComponent(r.id);
    r.cells = {
      status: h('span', { class: 'badge' }),
      network: h('span'),
      uptime: h('td', { class: 'num' }),
      ttl: h('td', { class: 'num' }),
      memory: h('td', { class: 'num' }),
      cpu: h('td', { class: 'num' }),
      commands: h('td', { class: 'num' }),
    };
    const destroyBtn = h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { action: 'destroy' }, onclick: () => destroy(r, destroyBtn) }, 'Destroy');
    r.tr = h('tr', { dataset: { id: r.id } },
      h('td', { class: 'name' }, h('a', { href: `#/sandbox/${enc}/overview` }, r.id)),
      h('td', {}, r.cells.status),
      h('td', {}, r.image),
      h('td', {}, r.cells.network),
      r.cells.uptime, r.cells.ttl, r.cells.memory, r.cells.cpu, r.cells.commands,
      h('td', { class: 'row-actions' },
        h('a', { class: 'btn btn-small', href: `#/sandbox/${enc}/terminal`, dataset: { action: 'terminal' } }, 'Terminal'),
        h('a', { class: 'btn btn-small', href: `#/sandbox/${enc}/files`, dataset: { action: 'files' } }, 'Files'),
        h('a', { class: 'btn btn-small btn-agent', href: `#/sandbox/${enc}/agent`, dataset: { action: 'agent' } }, 'Agent'),
        destroyBtn));
    paint(r);
    return r;
  }

  function paint(r) {
    r.cells.status.textContent = r.status;
    r.cells.status.dataset.status = r.status;
    r.cells.status.title = r.failure || '';
    const ip = ipCache.get(r.id);
    r.cells.network.textContent = ip ? `${r.network} · ${ip}` : r.network;
    const limit = r.memLimit || parseSize(r.memStr);
    r.cells.memory.textContent = `${r.memBytes == null ? '–' : fmtBytes(r.memBytes)} / ${limit ? fmtBytes(limit) : (r.memStr || '–')}`;
    r.cells.memory.classList.toggle('hot', r.memBytes != null && limit && r.memBytes / limit > 0.9);
    r.cells.cpu.textContent = `${r.cpuPct == null ? '–' : `${Math.round(r.cpuPct)}%`} / ${r.cpus ?? '–'} CPU`;
    r.cells.commands.textContent = String(r.commands);
    r.text = `${r.id} ${r.status} ${r.image} ${r.network} ${ip || ''}`.toLowerCase();
    tickRow(r, Date.now());
  }

  function tickRow(r, now) {
    const up = fmtDuration((now - r.created) / 1000);
    if (r.cells.uptime.textContent !== up) r.cells.uptime.textContent = up;
    const left = (r.expires - now) / 1000;
    const tl = fmtDuration(left);
    if (r.cells.ttl.textContent !== tl) r.cells.ttl.textContent = tl;
    const hot = left < 60;
    if (hot !== r.hot) { r.hot = hot; r.cells.ttl.classList.toggle('hot', hot); }
  }

  function fromList(s, now) {
    rememberIp(s.id, s.ip);
    return {
      id: s.id, status: s.status, image: s.image, network: s.network,
      created: now - (s.uptime_seconds || 0) * 1000, expires: now + (s.ttl_seconds || 0) * 1000,
      memory: s.memory, cpus: s.cpus, commands: s.commands_executed, failure: s.failure_reason,
    };
  }

  // ---- rendering ----
  function render() {
    pending = false;
    const col = COLS.find((c) => c.key === sortKey) || COLS[4];
    const all = [...rows.values()];
    visible = filter ? all.filter((r) => r.text.includes(filter)) : all;
    visible.sort((a, b) => {
      const x = col.sort(a), y = col.sort(b);
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir || (a.id < b.id ? -1 : 1);
    });
    table.dataset.rows = String(visible.length);
    renderWindow(true);
    for (const [k, b] of sortButtons) {
      const th = b.parentElement;
      if (k === sortKey) th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    countEl.textContent = filter ? `${visible.length} of ${rows.size} sandboxes` : `${rows.size} sandbox${rows.size === 1 ? '' : 'es'}`;
    if (loaded) {
      fill(status, rows.size === 0
        ? h('div', { class: 'empty', id: 'sandbox-empty' }, h('p', {}, 'No sandboxes yet.'), h('a', { href: '#/create' }, 'Create one'))
        : visible.length === 0 ? h('p', { class: 'empty' }, 'No sandbox matches the filter.') : null);
    }
    wrap.hidden = visible.length === 0;
  }

  // Up to WINDOW_MIN rows are all in the document. Past it only the rows in
  // (and near) the viewport are, between two spacer rows of the height of the
  // others: a table layout of 1,000 rows costs a second at every change.
  function renderWindow(force) {
    const n = visible.length;
    if (n <= WINDOW_MIN) {
      if (force || windowed) tbody.replaceChildren(...visible.map((r) => r.tr));
      windowed = false;
      win = [0, n];
      return;
    }
    const rowH = rowHeight();
    const top = tbody.getBoundingClientRect().top;
    const over = 20;
    const s = Math.min(Math.max(0, Math.floor(-top / rowH) - over), Math.max(0, n - 1));
    const e = Math.min(n, s + Math.ceil(window.innerHeight / rowH) + 2 * over);
    if (!force && windowed && s === win[0] && e === win[1]) return;
    windowed = true;
    win = [s, e];
    padTop.firstChild.style.height = `${s * rowH}px`;
    padBottom.firstChild.style.height = `${(n - e) * rowH}px`;
    tbody.replaceChildren(padTop, ...visible.slice(s, e).map((r) => r.tr), padBottom);
    const now = Date.now();
    for (let i = s; i < e; i++) tickRow(visible[i], now);
  }

  function rowHeight() {
    if (!measured) {
      const r = tbody.querySelector('tr[data-id]');
      if (r && r.offsetHeight) measured = r.offsetHeight;
    }
    return measured || 42;
  }

  let scrollQueued = false;
  function onScroll() {
    if (scrollQueued || !windowed) return;
    scrollQueued = true;
    requestAnimationFrame(() => { scrollQueued = false; renderWindow(false); });
  }

  function scheduleRender() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(render);
  }

  function sortBy(key) {
    if (sortKey === key) sortDir = -sortDir; else { sortKey = key; sortDir = 1; }
    sessionStorage.setItem('hivebox.sort', sortKey);
    sessionStorage.setItem('hivebox.sortdir', String(sortDir));
    render();
  }

  // ---- data ----
  async function fetchList() {
    const my = ++gen;
    inflight = true;
    beforeOpen = live.currentState() !== 'open';
    try {
      // The table is drawn as soon as the list answers; usage follows.
      const metricsP = api('GET', '/api/v1/analytics?range=20').catch(() => null);
      const list = await api('GET', '/api/v1/hiveboxes');
      if (my !== gen) return;
      const now = Date.now();
      const seen = new Set();
      for (const s of list.sandboxes || []) {
        seen.add(s.id);
        const old = rows.get(s.id);
        const d = fromList(s, now);
        if (old) {
          Object.assign(old, { status: d.status, image: d.image, network: d.network, created: d.created, expires: d.expires, memStr: d.memory, cpus: d.cpus, commands: d.commands, failure: d.failure });
          paint(old);
        } else {
          rows.set(s.id, makeRow(d));
        }
      }
      for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
      loaded = true;
      table.dataset.loaded = 'true';
      render();
      const metrics = await metricsP;
      if (my !== gen) return;
      const samples = metrics && metrics.samples;
      if (samples && samples.length) applySample(samples[samples.length - 1], false);
    } catch (e) {
      if (my !== gen) return;
      fill(status, errorBox(e, fetchList));
    } finally {
      if (my === gen) {
        inflight = false;
        if (again) { again = false; fetchList(); }
      }
    }
  }

  // At most one list request at a time; one more after it if asked meanwhile.
  function refetch() {
    if (inflight) { again = true; return; }
    fetchList();
  }

  function applySample(sample, check) {
    for (const s of sample.sandboxes || []) {
      const r = rows.get(s.id);
      if (!r) continue;
      r.memBytes = s.memory_bytes;
      r.memLimit = s.memory_limit_bytes || r.memLimit;
      r.cpuPct = s.cpu_percent;
      paint(r);
    }
    // A count that disagrees in two samples in a row (an event was missed;
    // one sample may race a create or destroy) fetches the list, once.
    if (check && typeof sample.sandbox_count === 'number') {
      if (sample.sandbox_count === rows.size) { suspect = 0; settled = null; }
      else if (++suspect >= 2 && settled !== sample.sandbox_count) { settled = sample.sandbox_count; refetch(); }
    }
    if (sortKey === 'memory' || sortKey === 'cpu') scheduleRender();
  }

  function onEvent(type, d) {
    // Events before the stream opened are lost: a list asked for before it is stale.
    if (type === 'hb.open') {
      if (!started) { clearTimeout(startTimer); start(); } else if (d.reconnect || beforeOpen) refetch();
      return;
    }
    if (type === 'dropped') { refetch(); return; }
    if (!d || typeof d !== 'object') return;
    if (type === 'metrics.sample') { applySample(d, true); return; }
    if (type === 'sandbox.created') {
      if (rows.has(d.id)) return;
      const now = Date.now();
      const at = typeof d.timestamp === 'number' ? d.timestamp : d.created_at;
      rows.set(d.id, makeRow({
        id: d.id, status: 'running', image: d.image, network: d.network, memory: d.memory, cpus: d.cpus,
        created: now - Math.max(0, at - d.created_at) * 1000, expires: now + Math.max(0, d.expires_at - at) * 1000,
      }));
      scheduleRender();
      return;
    }
    const r = rows.get(d.id);
    if (!r) return;
    if (type === 'sandbox.destroyed') {
      rows.delete(d.id);
      scheduleRender();
    } else if (type === 'sandbox.failed') {
      r.status = 'failed';
      r.failure = d.reason;
      paint(r);
    } else if (type === 'sandbox.paused' || type === 'sandbox.resumed') {
      r.status = type === 'sandbox.paused' ? 'paused' : 'running';
      paint(r);
    } else if (type === 'exec.finished') {
      r.commands += 1;
      paint(r);
    }
  }

  async function destroy(r, btn) {
    const ok = await confirm({ title: `Destroy ${r.id}?`, body: 'Its processes, files and agent sessions are deleted. This cannot be undone.', action: 'Destroy', danger: true });
    if (!ok) { btn.focus(); return; }
    btn.disabled = true;
    btn.textContent = 'Destroying…';
    try {
      await api('DELETE', sbPath(r.id));
      rows.delete(r.id);
      scheduleRender();
      toast(`Destroyed ${r.id}`);
    } catch (e) {
      btn.disabled = false;
      btn.textContent = 'Destroy';
      toast(`Could not destroy ${r.id}: ${e.message}`, 'error');
    }
  }

  // ---- the create drawer ----
  let form = null;
  function openDrawer() {
    if (form) form.unmount();
    drawer.hidden = false;
    form = createForm(drawer, {
      compact: true,
      onCreated: (s) => rememberIp(s.id, s.network && s.network.ip),
      onClose: closeDrawer,
    });
  }
  function closeDrawer() {
    if (form) form.unmount();
    form = null;
    fill(drawer);
    drawer.hidden = true;
    newBtn.focus();
  }
  function onKey(e) { if (e.key === 'Escape' && !drawer.hidden && !document.querySelector('dialog[open]')) closeDrawer(); }
  document.addEventListener('keydown', onKey);
  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('resize', onScroll);

  const timer = setInterval(() => {
    const now = Date.now();
    for (let i = win[0]; i < win[1] && i < visible.length; i++) tickRow(visible[i], now);
  }, 1000);
  // The first list is asked for once the stream is open (or after 1 s
  // without it), so that no event falls between the two.
  let started = false;
  let beforeOpen = false;
  const start = () => { if (!started) { started = true; fetchList(); } };
  const unsubscribe = live.subscribe(onEvent);
  const startTimer = live.currentState() === 'open' ? (start(), null) : setTimeout(start, 1000);

  return {
    unmount() {
      gen++;
      clearInterval(timer);
      clearTimeout(startTimer);
      unsubscribe();
      document.removeEventListener('keydown', onKey);
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
      if (form) form.unmount();
    },
  };
}
