// Processes tab: the sandbox's background processes (POST .../processes).
// The list is refreshed from the page's one event stream (views/live.js:
// process.started/exited of this sandbox, and a refetch whenever the stream
// (re)opens) and on demand, never by polling. The
// chosen process's output is followed over server-sent events
// (.../output?offset=N&follow=1), shown as text and bounded to the last
// MAX_LINES lines; a broken stream resumes from the last offset read.
import { api, sbPath, sse } from '../api.js';
import { h, fill } from '../dom.js';
import * as live from '../views/live.js';
import { confirm } from '../views/ui.js';

const MAX_LINES = 2000;
const SIGNALS = ['INT', 'TERM', 'KILL'];
const RETRY_MS = [500, 1000, 2000, 5000];

const SIGNAMES = { 1: 'HUP', 2: 'INT', 3: 'QUIT', 6: 'ABRT', 9: 'KILL', 13: 'PIPE', 14: 'ALRM', 15: 'TERM' };
function sigName(n) { return SIGNAMES[n] ? `SIG${SIGNAMES[n]}` : `signal ${n}`; }

function errText(err) { return err && err.message ? err.message : String(err); }

function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

// Escape sequences of a PTY's output make no sense as plain text: drop them.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHMc])/g;

function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function mount(el, ctx) {
  const id = ctx.id;
  const base = sbPath(id, 'processes');
  const ctl = new AbortController();   // aborts every stream on unmount
  let dead = false;
  let gone = false;                    // the sandbox was destroyed
  let procs = [];
  let selected = null;                 // pid
  let refreshTimer = null;
  let refreshing = null;
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  // ---- the start form ----
  const cmdIn = h('input', {
    class: 'proc-cmd', type: 'text', name: 'command', required: true, autocomplete: 'off',
    spellcheck: false, placeholder: "e.g. python3 -m http.server 8000", 'aria-label': 'Command',
  });
  const tagIn = h('input', {
    class: 'proc-tag-in', type: 'text', name: 'tag', autocomplete: 'off', spellcheck: false,
    placeholder: 'tag (optional)', 'aria-label': 'Tag', pattern: '[A-Za-z0-9._\\-]{1,64}',
    title: 'Letters, digits, . _ - (1 to 64), not all digits',
  });
  const stdinIn = h('input', { type: 'checkbox', name: 'stdin', checked: true });
  const startBtn = h('button', { type: 'submit', class: 'btn btn-primary proc-start-btn' }, 'Start');
  const startErr = h('div', { class: 'proc-error', role: 'alert' });
  const form = h('form', { class: 'proc-start', onsubmit: (e) => { e.preventDefault(); start(); } },
    cmdIn, tagIn,
    h('label', { class: 'proc-check' }, stdinIn, ' keep stdin open'),
    startBtn, startErr);

  // ---- the list ----
  const listStatus = h('span', { class: 'proc-muted', role: 'status' }, 'Loading processes…');
  const liveStatus = h('span', { class: 'proc-live proc-muted' });
  const refreshBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: () => refresh() }, 'Refresh');
  const tbody = h('tbody');
  const table = h('table', { class: 'table proc-table' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'PID'), h('th', { scope: 'col' }, 'Tag'),
      h('th', { scope: 'col' }, 'Command'), h('th', { scope: 'col' }, 'State'),
      h('th', { scope: 'col' }, 'Exit'), h('th', { scope: 'col' }, 'Started'))),
    tbody);

  // ---- the detail: output, stdin, signals ----
  const detail = h('section', { class: 'proc-detail', hidden: true, 'aria-label': 'Process' });

  fill(el, h('div', { class: 'proc-tab' },
    form,
    h('div', { class: 'proc-listbar' }, h('h3', {}, 'Processes'), listStatus, liveStatus, refreshBtn),
    h('div', { class: 'table-wrap proc-tablewrap' }, table),
    detail));

  // ---- list ----
  function queueRefresh() {
    if (dead || gone || refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 150);
  }

  async function refresh() {
    if (dead || gone) return;
    if (refreshing) { queueRefresh(); return; }
    refreshing = (async () => {
      try {
        const r = await api('GET', base, undefined, { signal: ctl.signal });
        if (dead) return;
        procs = (r && r.processes) || [];
        procs.sort((a, b) => b.pid - a.pid);
        listStatus.classList.remove('proc-error');
        renderList();
      } catch (err) {
        if (dead) return;
        listStatus.textContent = `Could not list the processes: ${errText(err)}`;
        listStatus.classList.add('proc-error');
      }
    })();
    await refreshing;
    refreshing = null;
  }

  function renderList() {
    if (!listStatus.classList.contains('proc-error')) {
      listStatus.textContent = procs.length === 1 ? '1 process' : `${procs.length} processes`;
    }
    if (!procs.length) {
      fill(tbody, h('tr', {}, h('td', { colspan: 6, class: 'proc-empty' },
        'No background processes. Start one above.')));
    } else {
      fill(tbody, procs.map((p) => {
        const sel = p.pid === selected;
        const tr = h('tr', {
          class: sel ? 'proc-row selected' : 'proc-row', tabindex: 0,
          'aria-selected': sel ? 'true' : 'false', dataset: { pid: String(p.pid) },
          onclick: () => select(p.pid),
          onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(p.pid); } },
        },
        h('td', { class: 'proc-pid' }, String(p.pid)),
        h('td', { class: 'proc-tagcell' }, p.tag || '–'),
        h('td', { class: 'proc-command', title: p.command },
          p.tag && p.tag.startsWith('dash-term-') ? 'login shell (Terminal tab)' : p.command,
          p.pty ? h('span', { class: 'proc-badge' }, 'tty') : null),
        h('td', {}, stateBadge(p)),
        h('td', { class: 'proc-exit' }, p.exit_code === null || p.exit_code === undefined ? '–' : String(p.exit_code)),
        h('td', { class: 'proc-started', title: p.started_at || '' }, fmtTime(p.started_at)));
        return tr;
      }));
    }
    const cur = procs.find((p) => p.pid === selected);
    if (cur) renderHead(cur);
  }

  function stateBadge(p) {
    let text = p.state;
    if (p.state === 'exited' && p.timed_out) text = 'timed out';
    else if (p.state === 'exited' && p.signal) text = `killed (${sigName(p.signal)})`;
    return h('span', { class: `badge proc-state proc-state-${p.state}`, dataset: { status: p.state } }, text);
  }

  // ---- live updates from the page's event stream ----
  function onEvent(type, data) {
    if (type === 'hb.open') { queueRefresh(); return; }     // (re)opened: refetch what was missed
    if (type === 'hb.state') {
      liveStatus.textContent = data && data.state === 'retrying' ? 'live updates paused, retrying…' : '';
      return;
    }
    if (type === 'dropped') { queueRefresh(); return; }
    if (!data || data.id !== id) return;
    if (type === 'process.started') queueRefresh();
    else if (type === 'process.exited') exited(data);
    else if (type === 'sandbox.destroyed') {
      gone = true;
      clearTimeout(refreshTimer);
      stopFollow();
      listStatus.textContent = 'The sandbox was destroyed.';
    }
  }

  // An exit changes its row in place: no request (the sandbox may be on its way out).
  function exited(ev) {
    const p = procs.find((q) => q.pid === ev.pid);
    if (!p) { queueRefresh(); return; }
    p.state = 'exited';
    p.exit_code = ev.exit_code;
    p.signal = ev.term_signal || null;
    p.timed_out = !!ev.timed_out;
    p.stdin = false;
    if (typeof ev.timestamp === 'number') p.ended_at = new Date(ev.timestamp * 1000).toISOString();
    renderList();
  }

  // ---- start ----
  async function start() {
    const command = cmdIn.value;
    if (!command.trim()) { startErr.textContent = 'command: required'; cmdIn.focus(); return; }
    const body = { command, stdin: stdinIn.checked };
    const tag = tagIn.value.trim();
    if (tag) body.tag = tag;
    startBtn.disabled = true;
    startErr.textContent = '';
    try {
      const p = await api('POST', base, body);
      if (dead) return;
      cmdIn.value = '';
      tagIn.value = '';
      procs = [p, ...procs.filter((q) => q.pid !== p.pid)];
      select(p.pid);
      queueRefresh();
    } catch (err) {
      if (dead) return;
      startErr.textContent = errText(err);
      (err.field === 'tag' ? tagIn : cmdIn).focus();
    } finally {
      startBtn.disabled = false;
    }
  }

  // ---- detail ----
  let follow = null;           // {ctl, pid}
  let out = null;              // the output model of the shown process

  const headEl = h('div', { class: 'proc-head' });
  const actionErr = h('div', { class: 'proc-error', role: 'alert' });
  const outPre = h('pre', { class: 'proc-output', tabindex: 0, 'aria-label': 'Output', 'aria-live': 'off' });
  const outStatus = h('span', { class: 'proc-muted proc-outstatus' });
  const stdinText = h('input', {
    class: 'proc-stdin', type: 'text', autocomplete: 'off', spellcheck: false,
    placeholder: 'send to stdin', 'aria-label': 'Standard input',
  });
  const nlIn = h('input', { type: 'checkbox', checked: true });
  const sendBtn = h('button', { type: 'submit', class: 'btn btn-small' }, 'Send');
  const closeStdinBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: () => act('stdin/close') }, 'Close stdin');
  const stdinForm = h('form', { class: 'proc-stdinform', onsubmit: (e) => { e.preventDefault(); sendStdin(); } },
    stdinText, h('label', { class: 'proc-check' }, nlIn, ' newline'), sendBtn, closeStdinBtn);
  const sigBtns = SIGNALS.map((s) => h('button', {
    type: 'button', class: s === 'KILL' ? 'btn btn-small btn-danger' : 'btn btn-small', dataset: { signal: s },
    title: `Send SIG${s} to its process group`, onclick: () => act('signal', { signal: s }),
  }, s));
  const delBtn = h('button', { type: 'button', class: 'btn btn-small btn-danger proc-delete', onclick: () => del() }, 'Delete');
  const clearBtn = h('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: () => { if (out) { out.lines = []; out.partial = ''; out.trimmed = 0; paint(); } } }, 'Clear view');
  fill(detail,
    headEl,
    h('div', { class: 'proc-actions' }, h('span', { class: 'proc-muted' }, 'Signal:'), sigBtns, delBtn, clearBtn),
    actionErr,
    h('div', { class: 'proc-outbar' }, h('span', {}, 'Output'), outStatus),
    outPre,
    stdinForm);

  function renderHead(p) {
    fill(headEl,
      h('strong', {}, `PID ${p.pid}`),
      p.tag ? h('span', { class: 'proc-tagname' }, p.tag) : null,
      stateBadge(p),
      p.state === 'exited' ? h('span', { class: 'proc-muted' }, `exit code ${p.exit_code}`) : null,
      h('code', { class: 'proc-headcmd' }, p.command));
    const running = p.state === 'running';
    for (const b of sigBtns) b.disabled = !running;
    stdinText.disabled = sendBtn.disabled = closeStdinBtn.disabled = !(running && p.stdin);
    stdinText.placeholder = running && p.stdin ? 'send to stdin' : 'stdin is closed';
  }

  function select(pid) {
    if (dead) return;
    const p = procs.find((q) => q.pid === pid);
    if (!p) return;
    if (selected === pid && follow) { renderList(); return; }
    selected = pid;
    detail.hidden = false;
    actionErr.textContent = '';
    renderList();
    startFollow(p);
  }

  function stopFollow() {
    if (follow) follow.ctl.abort();
    follow = null;
  }

  function startFollow(p) {
    stopFollow();
    out = { pid: p.pid, lines: [], partial: '', trimmed: 0, offset: 0, ended: false, painted: false };
    paint();
    const f = { ctl: new AbortController(), pid: p.pid };
    follow = f;
    const abortAll = () => f.ctl.abort();
    ctl.signal.addEventListener('abort', abortAll, { once: true });
    (async () => {
      let attempt = 0;
      const o = out;
      while (follow === f && !dead && !o.ended) {
        outStatus.textContent = attempt ? 'reconnecting…' : 'following';
        let got = false;
        try {
          await sse(`${sbPath(id, 'processes', String(p.pid), 'output')}?offset=${o.offset}&follow=1`,
            (type, data) => {
              if (follow !== f) return;
              got = true;
              onOutput(o, type, data);
            }, { signal: f.ctl.signal });
        } catch (err) {
          if (follow !== f || dead) return;
          if (err && err.name === 'AbortError') return;
          if (err && err.status === 404) {
            o.ended = true;
            outStatus.textContent = 'this process is gone';
            queueRefresh();
            return;
          }
          if (err && (err.status === 401 || err.status === 400)) {
            outStatus.textContent = errText(err);
            return;
          }
          outStatus.textContent = `reconnecting… (${errText(err)})`;
        }
        if (o.ended || follow !== f || dead) break;
        attempt = got ? 1 : attempt + 1;
        await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(attempt - 1, RETRY_MS.length - 1)]));
      }
      ctl.signal.removeEventListener('abort', abortAll);
    })();
  }

  function onOutput(o, type, data) {
    if (type === 'stdout' || type === 'stderr') {
      let text;
      let n;
      if (data.encoding === 'base64') {
        const bytes = b64bytes(data.data);
        n = bytes.length;
        text = dec.decode(bytes);
      } else {
        text = String(data.data);
        n = enc.encode(text).length;
      }
      o.offset = data.offset + n;
      append(o, text);
    } else if (type === 'dropped') {
      append(o, `\n[… ${data.to - data.from} bytes of output no longer kept …]\n`);
      o.offset = data.to;
    } else if (type === 'exit') {
      o.ended = true;
      const how = data.timed_out ? 'timed out' : data.signal ? `killed by ${sigName(data.signal)}` : 'exited';
      append(o, `${o.partial ? '\n' : ''}[${how}, exit code ${data.exit_code}]\n`);
      outStatus.textContent = 'ended';
      // the row too, should the event feed be slower (or down)
      const p = procs.find((q) => q.pid === o.pid);
      if (p && p.state !== 'exited') {
        exited({ pid: o.pid, exit_code: data.exit_code, term_signal: data.signal, timed_out: data.timed_out });
      }
    } else if (type === 'end') {
      o.offset = data.offset;
    } else if (type === 'error') {
      o.ended = true;   // the sandbox went away (a destroy ends followers this way)
      outStatus.textContent = String(data.error || 'the output stream failed');
    }
  }

  function append(o, text) {
    text = text.replace(ANSI, '').replace(/\r+\n/g, '\n').replace(/\r/g, '');
    const parts = (o.partial + text).split('\n');
    o.partial = parts.pop();
    for (const l of parts) o.lines.push(l);
    if (o.lines.length > MAX_LINES) {
      const cut = o.lines.length - MAX_LINES;
      o.lines.splice(0, cut);
      o.trimmed += cut;
    }
    if (o.partial.length > 65536) { o.lines.push(o.partial); o.partial = ''; }
    schedulePaint();
  }

  let paintQueued = false;
  function schedulePaint() {
    if (paintQueued) return;
    paintQueued = true;
    requestAnimationFrame(() => { paintQueued = false; if (!dead) paint(); });
  }

  function paint() {
    if (!out) return;
    const atBottom = outPre.scrollTop + outPre.clientHeight >= outPre.scrollHeight - 8;
    const head = out.trimmed ? `[… ${out.trimmed} earlier lines not shown …]\n` : '';
    const body = out.lines.join('\n') + (out.lines.length ? '\n' : '') + out.partial;
    outPre.textContent = head + body;   // text, never HTML
    if (atBottom) outPre.scrollTop = outPre.scrollHeight;
  }

  async function act(what, body) {
    const pid = selected;
    if (pid === null) return;
    actionErr.textContent = '';
    try {
      await api('POST', `${sbPath(id, 'processes', String(pid), ...what.split('/'))}`, body);
      queueRefresh();
    } catch (err) {
      if (!dead) actionErr.textContent = errText(err);
    }
  }

  async function sendStdin() {
    const pid = selected;
    if (pid === null) return;
    const text = stdinText.value + (nlIn.checked ? '\n' : '');
    if (!text) return;
    actionErr.textContent = '';
    try {
      await api('POST', sbPath(id, 'processes', String(pid), 'stdin'), text);
      stdinText.value = '';
      stdinText.focus();
    } catch (err) {
      if (!dead) actionErr.textContent = errText(err);
    }
  }

  // Delete asks first (the shell's in-page confirmation, not window.confirm).
  async function del() {
    const pid = selected;
    if (pid === null) return;
    const p = procs.find((q) => q.pid === pid);
    const running = p && p.state === 'running';
    const ok = await confirm({
      title: `Delete process ${pid}${p && p.tag ? ` (${p.tag})` : ''}?`,
      body: running ? 'It is still running: its process group is killed, and its output is forgotten.'
        : 'Its output and exit status are forgotten.',
      action: 'Delete', danger: true,
    });
    if (!ok || dead || selected !== pid) return;
    actionErr.textContent = '';
    try {
      await api('DELETE', sbPath(id, 'processes', String(pid)));
      if (dead) return;
      stopFollow();
      selected = null;
      out = null;
      detail.hidden = true;
      procs = procs.filter((p) => p.pid !== pid);
      renderList();
      queueRefresh();
    } catch (err) {
      if (!dead) actionErr.textContent = errText(err);
    }
  }

  window.__hbTest = window.__hbTest || {};
  const hook = { selected: () => selected, lines: () => (out ? out.lines.length : 0) };
  window.__hbTest.processes = hook;

  const unsubscribe = live.subscribe(onEvent);
  refresh();

  return {
    unmount() {
      dead = true;
      ctl.abort();
      stopFollow();
      clearTimeout(refreshTimer);
      unsubscribe();
      if (window.__hbTest && window.__hbTest.processes === hook) delete window.__hbTest.processes;
      el.replaceChildren();
    },
  };
}
