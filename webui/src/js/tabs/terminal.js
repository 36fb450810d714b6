// Terminal tab: xterm.js on a PTY in the sandbox, several per sandbox.
//
// Each terminal is a background process with a PTY and a tag `dash-term-*`
// (POST .../processes), attached over the WebSocket of
// GET .../processes/<tag>/ws?ticket=..&offset=N. The process belongs to the
// sandbox, not to the socket: a network blip or leaving the tab only closes
// the socket, and attaching again with `offset` = the bytes already shown
// replays what was missed, nothing lost or repeated. Remounting the tab finds
// the running `dash-term-*` processes and reattaches to each.
//
// Closing a sub-tab ends its shell: SIGHUP (as a closed terminal window
// does: bash hangs up its jobs), then DELETE, which kills what is left of
// the process group and forgets the process.
import { api, sbPath, wsUrl } from '../api.js';
import { h, fill } from '../dom.js';
import * as live from '../views/live.js';

const VENDOR = '/dashboard/vendor/';
const TAG_PREFIX = 'dash-term-';
// The same login shell as GET .../terminal: bash where the image has it.
const LOGIN_SHELL = 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi';
const WS_TAKEN = 4001;          // the server's close code: another client attached
const RETRY_MS = [250, 500, 1000, 2000, 4000, 8000];

let xtermMods = null;           // one import of xterm.js and its fit add-on per page
function loadXterm() {
  if (!xtermMods) {
    xtermMods = Promise.all([import(`${VENDOR}xterm.mjs`), import(`${VENDOR}addon-fit.mjs`)])
      .then(([x, f]) => ({ Terminal: x.Terminal, FitAddon: f.FitAddon }))
      .catch((e) => { xtermMods = null; throw e; });
  }
  return xtermMods;
}

// Close a socket; one still connecting is closed once open (closing it
// earlier makes the browser log an error).
function closeWs(ws) {
  ws.onmessage = null;
  if (ws.readyState === WebSocket.CONNECTING) ws.onopen = () => ws.close(1000);
  else ws.close(1000);
}

function newTag() {
  const b = new Uint8Array(5);
  crypto.getRandomValues(b);
  return TAG_PREFIX + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// xterm.js wants plain colours: resolve the CSS variables of the theme
// (terminal.css maps them onto the shell's design) to rgb() through a probe.
function themeOf(node) {
  const cs = getComputedStyle(node);
  const probe = h('span', { style: { display: 'none' } });
  node.append(probe);
  const color = (name, dflt) => {
    const v = cs.getPropertyValue(name).trim();
    if (!v) return dflt;
    probe.style.color = '';
    probe.style.color = v;
    return getComputedStyle(probe).color || dflt;
  };
  const theme = {
    background: color('--term-bg', '#fbfbfa'),
    foreground: color('--term-fg', '#1d1f21'),
    cursor: color('--term-cursor', '#2f6fde'),
    cursorAccent: color('--term-bg', '#fbfbfa'),
    selectionBackground: color('--term-selection', '#c8d7f5'),
  };
  probe.remove();
  return theme;
}

export function mount(el, ctx) {
  const id = ctx.id;
  const terms = [];             // {tag, pid, term, fit, host, tabBtn, ws, offset, state, ...}
  let active = null;
  let dead = false;
  let sandboxGone = false;     // destroyed: nothing to reconnect to
  let counter = 0;
  let mods = null;

  const strip = h('div', { class: 'term-strip', role: 'tablist', 'aria-label': 'Terminals' });
  const addBtn = h('button', {
    class: 'term-add', type: 'button', title: 'New terminal', 'aria-label': 'New terminal',
    onclick: () => { openNew().catch(showError); },
  }, '+');
  const status = h('div', { class: 'term-status', role: 'status', 'aria-live': 'polite' });
  const hint = h('div', { class: 'term-hint' }, 'Ctrl+C copies a selection · Ctrl+V pastes');
  const panel = h('div', { class: 'term-panel' });
  const note = h('div', { class: 'term-note' }, 'Loading the terminal…');
  const root = h('div', { class: 'term-tab' }, h('div', { class: 'term-bar' }, strip, addBtn, status, hint),
    note, panel);
  fill(el, root);

  function showError(err) {
    if (dead) return;
    status.textContent = `Error: ${err && err.message ? err.message : String(err)}`;
    status.classList.add('term-status-error');
  }
  function clearError() {
    status.textContent = '';
    status.classList.remove('term-status-error');
  }

  // ---- layout: fit the shown terminal to the panel, tell the PTY ----
  let fitQueued = false;
  function queueFit() {
    if (fitQueued || dead) return;
    fitQueued = true;
    requestAnimationFrame(() => {
      fitQueued = false;
      if (dead || !active || !panel.clientWidth || !panel.clientHeight) return;
      try { active.fit.fit(); } catch (_) { /* not rendered yet */ }
    });
  }
  const ro = new ResizeObserver(queueFit);
  ro.observe(panel);
  // The panel takes the height left in the window below it (at least 15 rows
  // or so): resizing the window resizes the terminal and its PTY.
  function sizePanel() {
    if (dead || !panel.isConnected) return;
    const top = panel.getBoundingClientRect().top + window.scrollY;
    panel.style.height = `${Math.max(240, Math.floor(window.innerHeight - top - 16))}px`;
  }
  const onOnline = () => { for (const t of terms) if (t.retryTimer) retryNow(t); };
  window.addEventListener('online', onOnline);
  window.addEventListener('resize', sizePanel);
  requestAnimationFrame(sizePanel);

  // ---- the sub-tab strip ----
  function renderTab(t) {
    const label = t.state === 'exited' ? `${t.name} (exited)` : t.name;
    const cls = ['term-subtab'];
    if (t === active) cls.push('active');
    if (t.state !== 'open') cls.push(`term-${t.state}`);
    fill(t.tabBtn, h('span', { class: 'term-subtab-label' }, label));
    t.tabBtn.className = cls.join(' ');
    t.tabBtn.setAttribute('aria-selected', t === active ? 'true' : 'false');
    t.tabBtn.title = t.tag;
    showState(t);
  }

  function showState(t) {
    const text = {
      connecting: 'connecting…',
      reconnecting: 'reconnecting…',
      open: '',
      exited: t.exitText || 'exited',
      taken: 'taken over by another window',
      gone: sandboxGone ? 'the sandbox is gone' : 'this terminal\'s process is gone',
    }[t.state] || '';
    fill(t.banner, text);
    if (t.state === 'taken') {
      t.banner.append(' ', h('button', {
        type: 'button', class: 'btn btn-small',
        onclick: () => { t.state = 'reconnecting'; t.attempt = 0; renderTab(t); connect(t); },
      }, 'Take it back'));
    }
    t.banner.hidden = !text;
    t.host.dataset.state = t.state;
  }

  function activate(t) {
    if (dead) return;
    active = t;
    for (const o of terms) {
      o.wrap.hidden = o !== t;
      renderTab(o);
    }
    if (t) {
      queueFit();
      requestAnimationFrame(() => { if (!dead && active === t) t.term.focus(); });
    }
    note.hidden = terms.length > 0;
    if (!terms.length) note.textContent = 'No terminal open. Press + to start one.';
  }

  // ---- one terminal ----
  function create(tag, offset) {
    const term = new mods.Terminal({
      cursorBlink: true,
      fontFamily: getComputedStyle(root).getPropertyValue('--term-font').trim() || 'ui-monospace, Menlo, Consolas, monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: themeOf(root),
    });
    const fit = new mods.FitAddon();
    term.loadAddon(fit);
    const host = h('div', { class: 'term-host' });
    const banner = h('div', { class: 'term-banner', hidden: true });
    const wrap = h('div', { class: 'term-wrap', hidden: true }, banner, host);
    panel.append(wrap);
    counter += 1;
    const t = {
      tag, name: `Terminal ${counter}`, pid: null, term, fit, host, wrap, banner,
      ws: null, offset, state: 'connecting', attempt: 0, retryTimer: null,
      holdUntil: 0, exitText: '', closing: false, enc: new TextEncoder(), pending: [], pendingBytes: 0,
    };
    t.tabBtn = h('button', {
      class: 'term-subtab', type: 'button', role: 'tab',
      onclick: () => activate(t),
    });
    t.closeBtn = h('button', {
      class: 'term-close', type: 'button', title: 'Close this terminal (ends its shell)',
      'aria-label': `Close ${t.name}`, onclick: (e) => { e.stopPropagation(); closeTerm(t); },
    }, '×');
    t.tabWrap = h('span', { class: 'term-subtab-wrap' }, t.tabBtn, t.closeBtn);
    strip.append(t.tabWrap);
    terms.push(t);

    term.open(host);
    // Copy: Ctrl/Cmd+C with a selection (and Ctrl+Shift+C) is the browser's
    // copy, which xterm answers with its selection; without a selection
    // Ctrl+C stays ^C. Paste: Ctrl/Cmd+V and Ctrl+Shift+V are left to the
    // browser, whose paste event xterm turns into input.
    term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown') return true;
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === 'c' && (e.shiftKey || term.hasSelection())) return false;
      if (mod && k === 'v' && !e.altKey) return false;
      return true;
    });
    term.onData((d) => send(t, t.enc.encode(d)));
    term.onBinary((d) => send(t, Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff)));
    term.onResize(({ cols, rows }) => sendJson(t, { type: 'resize', cols, rows }));
    renderTab(t);
    return t;
  }

  // Keys typed while (re)connecting wait for the socket (up to 64 KiB).
  function send(t, bytes) {
    if (t.ws && t.ws.readyState === WebSocket.OPEN && t.state === 'open') {
      t.ws.send(bytes);
    } else if ((t.state === 'connecting' || t.state === 'reconnecting') && t.pendingBytes + bytes.length <= 65536) {
      t.pending.push(bytes);
      t.pendingBytes += bytes.length;
    }
  }
  function flush(t) {
    const q = t.pending;
    t.pending = [];
    t.pendingBytes = 0;
    for (const b of q) send(t, b);
  }
  function sendJson(t, obj) {
    if (t.ws && t.ws.readyState === WebSocket.OPEN) t.ws.send(JSON.stringify(obj));
  }

  async function connect(t) {
    if (dead || t.closing) return;
    if (sandboxGone) { setGone(t); return; }
    clearTimeout(t.retryTimer);
    t.retryTimer = null;
    const wait = t.holdUntil - Date.now();
    if (wait > 0) { schedule(t, wait); return; }
    let ticket;
    try {
      ({ ticket } = await api('POST', sbPath(id, 'processes', t.tag, 'ticket')));
    } catch (err) {
      if (dead || t.closing) return;
      if (err.status === 404 && /^sandbox /.test(err.message)) {
        sandboxLost();
        return;
      }
      if (err.status === 404) { setGone(t); return; }
      if (err.status === 401 || err.status === 403) { showError(err); return; }
      schedule(t);
      return;
    }
    if (dead || t.closing) return;
    const url = wsUrl(`${sbPath(id, 'processes', t.tag, 'ws')}?ticket=${encodeURIComponent(ticket)}&offset=${t.offset}`);
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    t.ws = ws;
    let hello = false;
    ws.onmessage = (ev) => {
      if (t.ws !== ws) return;
      if (typeof ev.data !== 'string') {
        const bytes = new Uint8Array(ev.data);
        t.offset += bytes.length;
        t.term.write(bytes);
        return;
      }
      let m;
      try { m = JSON.parse(ev.data); } catch (_) { return; }
      if (m.type === 'hello') {
        hello = true;
        t.pid = m.pid;
        if (m.offset > t.offset) {
          t.term.write(`\r\n\x1b[2m[${m.offset - t.offset} bytes of output no longer kept]\x1b[0m\r\n`);
        }
        t.offset = m.offset;
        t.attempt = 0;
        t.state = 'open';
        renderTab(t);
        clearError();
        // the PTY may have another size (another window, or the one we made it with)
        if (m.cols !== t.term.cols || m.rows !== t.term.rows) {
          sendJson(t, { type: 'resize', cols: t.term.cols, rows: t.term.rows });
        }
        flush(t);
      } else if (m.type === 'exit') {
        t.state = 'exited';
        const sig = m.signal ? `, signal ${m.signal}` : '';
        t.exitText = `exited with code ${m.exit_code}${sig}`;
        t.term.write(`\r\n\x1b[2m[${t.exitText}]\x1b[0m\r\n`);
        renderTab(t);
      } else if (m.type === 'error') {
        showError(new Error(m.error));
      }
    };
    ws.onclose = (ev) => {
      if (t.ws !== ws) return;
      t.ws = null;
      if (dead || t.closing || t.state === 'exited') return;
      if (ev.code === WS_TAKEN) {
        t.state = 'taken';
        renderTab(t);
        return;
      }
      // a blip, the server going away, or a refused upgrade: try again.
      // 1011 is the daemon losing the sandbox (a destroy, a failure): give
      // the event feed a moment to say which before asking again.
      if (ev.code === 1011 && hello) { schedule(t, 1500); return; }
      if (!hello && t.attempt >= 3) {
        // maybe the process is gone: ask before trying on
        api('GET', sbPath(id, 'processes', t.tag)).then((p) => {
          if (p && p.state === 'exited' && t.offset >= p.output.end) {
            t.state = 'exited';
            t.exitText = `exited with code ${p.exit_code}`;
            renderTab(t);
          } else {
            schedule(t);
          }
        }, (err) => { if (err.status === 404) setGone(t); else schedule(t); });
        return;
      }
      schedule(t);
    };
  }

  function schedule(t, ms) {
    if (dead || t.closing) return;
    if (t.state !== 'connecting') t.state = 'reconnecting';
    renderTab(t);
    const delay = ms !== undefined ? ms : RETRY_MS[Math.min(t.attempt, RETRY_MS.length - 1)];
    t.attempt += 1;
    clearTimeout(t.retryTimer);
    t.retryTimer = setTimeout(() => { t.retryTimer = null; connect(t); }, delay);
  }
  function retryNow(t) {
    clearTimeout(t.retryTimer);
    t.retryTimer = null;
    connect(t);
  }

  function setGone(t) {
    t.state = 'gone';
    clearTimeout(t.retryTimer);
    t.retryTimer = null;
    renderTab(t);
  }

  function sandboxLost() {
    sandboxGone = true;
    addBtn.disabled = true;
    for (const t of terms) {
      if (t.ws) { const ws = t.ws; t.ws = null; closeWs(ws); }
      if (t.state !== 'exited') setGone(t);
    }
  }
  // Light/dark follows the system: recolour the terminals when it changes.
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const onScheme = () => {
    requestAnimationFrame(() => {
      if (dead) return;
      const theme = themeOf(root);
      for (const t of terms) t.term.options.theme = theme;
    });
  };
  scheme.addEventListener('change', onScheme);
  const unsubscribe = live.subscribe((type, data) => {
    if (type === 'sandbox.destroyed' && data && data.id === id) sandboxLost();
  });

  async function openNew() {
    if (!mods) return;
    clearError();
    const tag = newTag();
    const t = create(tag, 0);
    activate(t);
    try { t.fit.fit(); } catch (_) { /* hidden: the default size */ }
    try {
      await api('POST', sbPath(id, 'processes'), {
        command: LOGIN_SHELL, tag, stdin: true,
        pty: { cols: t.term.cols, rows: t.term.rows },
      });
    } catch (err) {
      dropTerm(t);
      throw err;
    }
    connect(t);
  }

  function dropTerm(t) {
    t.closing = true;
    clearTimeout(t.retryTimer);
    if (t.ws) { const ws = t.ws; t.ws = null; closeWs(ws); }
    t.term.dispose();
    t.wrap.remove();
    t.tabWrap.remove();
    const i = terms.indexOf(t);
    if (i >= 0) terms.splice(i, 1);
    if (active === t) activate(terms[Math.min(i, terms.length - 1)] || null);
  }

  async function closeTerm(t) {
    const sel = sbPath(id, 'processes', t.tag);
    const running = t.state !== 'exited' && t.state !== 'gone';
    dropTerm(t);
    try {
      if (running) {
        await api('POST', `${sel}/signal`, { signal: 'HUP' }).catch((e) => { if (e.status !== 404 && e.status !== 409) throw e; });
      }
      await api('DELETE', sel).catch((e) => { if (e.status !== 404) throw e; });
    } catch (err) {
      showError(err);
    }
  }

  // ---- test hooks (the browser specs break sockets on purpose) ----
  const hook = {
    count: () => terms.length,
    tags: () => terms.map((t) => t.tag),
    state: (i) => terms[i] && terms[i].state,
    offset: (i) => terms[i] && terms[i].offset,
    size: (i) => terms[i] && { cols: terms[i].term.cols, rows: terms[i].term.rows },
    text: (i) => {
      const t = terms[i];
      if (!t) return '';
      const b = t.term.buffer.active;
      const out = [];
      for (let y = 0; y < b.length; y++) {
        const line = b.getLine(y);
        if (line) out.push(line.translateToString(true));
      }
      return out.join('\n');
    },
    // close the socket as a network blip would; no reconnect for holdMs
    drop: (i, holdMs = 0) => {
      const t = terms[i];
      if (!t || !t.ws) return false;
      t.holdUntil = Date.now() + holdMs;
      t.ws.close(4000, 'test: network blip');
      return true;
    },
  };
  window.__hbTest = window.__hbTest || {};
  window.__hbTest.terminal = hook;

  // ---- start: reattach to the running terminals, or open one ----
  (async () => {
    try {
      const [m, list] = await Promise.all([loadXterm(), api('GET', sbPath(id, 'processes'))]);
      if (dead) return;
      mods = m;
      note.hidden = true;
      const mine = ((list && list.processes) || [])
        .filter((p) => p.tag && p.tag.startsWith(TAG_PREFIX) && p.state === 'running' && p.pty)
        .sort((a, b) => (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : a.pid - b.pid));
      for (const p of mine) {
        const t = create(p.tag, 0);
        t.pid = p.pid;
        connect(t);
      }
      if (terms.length) activate(terms[0]);
      else await openNew();
    } catch (err) {
      if (dead) return;
      note.hidden = false;
      note.textContent = `Could not open a terminal: ${err && err.message ? err.message : String(err)}`;
      note.classList.add('term-note-error');
    }
  })();

  return {
    unmount() {
      dead = true;
      unsubscribe();
      scheme.removeEventListener('change', onScheme);
      ro.disconnect();
      window.removeEventListener('online', onOnline);
      window.removeEventListener('resize', sizePanel);
      for (const t of terms) {
        t.closing = true;
        clearTimeout(t.retryTimer);
        if (t.ws) { const ws = t.ws; t.ws = null; closeWs(ws); }
        t.term.dispose();
      }
      terms.length = 0;
      if (window.__hbTest && window.__hbTest.terminal === hook) delete window.__hbTest.terminal;
      el.replaceChildren();
    },
  };
}
