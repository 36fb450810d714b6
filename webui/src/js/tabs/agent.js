// The Agent tab: the sandbox's OpenCode sessions and a chat with its agent.
//
// Everything goes through the daemon's proxy at /api/v1/hiveboxes/:id/opencode/
// (OpenCode's own server API): GET/POST/DELETE /session, GET
// /session/:s/message (the history), POST /session/:s/prompt_async, POST
// /session/:s/abort, GET /session/status, and GET /event, the SSE stream the
// answer arrives on: message.updated / message.part.updated (whole messages
// and parts: prompts, text, tool calls with their state) and
// message.part.delta (text as the model writes it), session.status
// (busy / retry / idle), session.error, session.created/updated/deleted.
//
// What the agent writes and what its tools return is data: it goes into the
// page as text nodes only, never as HTML. A finished answer's Markdown is
// shown through a small subset (code blocks, lists, headings, `code`,
// **bold**, *italic*) built as DOM elements around text nodes.

import { api, sse, sbPath, ApiError } from '../api.js';
import { h, fill } from '../dom.js';

const LAST_SESSION = (id) => `hivebox.agent.session.${id}`;
const TOOL_PREFIX = 'hivebox_';

export function mount(el, ctx) {
  const tab = new AgentTab(el, ctx);
  tab.start();
  return { unmount: () => tab.stop() };
}

class AgentTab {
  constructor(el, ctx) {
    this.el = el;
    this.id = ctx.id;
    this.sandbox = ctx.sandbox || null;
    this.base = sbPath(ctx.id, 'opencode');
    this.ctl = new AbortController();    // everything this tab opened
    this.stopped = false;
    this.timers = new Set();
    this.sessions = new Map();            // id -> session info
    this.statuses = new Map();            // session id -> {type, ...}
    this.current = null;                  // chosen session id
    this.messages = new Map();            // message id -> {info, el, body, err, parts: Map}
    this.connected = false;
    this.loadSeq = 0;
    this.held = null;                     // events held while a history loads
  }

  // ------------------------------------------------------------ lifecycle

  async start() {
    this.el.classList.add('agent-tab');
    fill(this.el, h('p', { class: 'agent-loading', role: 'status' }, 'Loading the agent…'));
    let sb = this.sandbox;
    try {
      if (!sb || !('llm' in sb)) sb = await api('GET', sbPath(this.id), undefined, { signal: this.ctl.signal });
    } catch (e) {
      if (this.stopped) return;
      return this.notice('error', 'Could not read this sandbox', errText(e));
    }
    if (this.stopped) return;
    this.sandbox = sb;
    if (!sb.opencode_url) {
      return this.notice('off', 'The agent is switched off on this daemon',
        'OpenCode is disabled (HIVEBOX_OPENCODE=false), so sandboxes have no agent. ' +
        'Start the daemon with HIVEBOX_OPENCODE=true to chat with an agent here.');
    }
    if (sb.llm && !sb.llm.model) {
      return this.notice('nomodel', 'This sandbox has no model configured',
        'The agent needs a model to answer. Create the sandbox with an LLM model ' +
        '(llm_model, and llm_base_url for an OpenAI-compatible server), or set ' +
        'HIVEBOX_OPENCODE_MODEL and HIVEBOX_OPENCODE_BASE_URL for the daemon.');
    }
    this.build();
    this.stream();
    await this.loadSessions(true);
  }

  stop() {
    this.stopped = true;
    this.ctl.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  later(fn, ms) {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.stopped) fn(); }, ms);
    this.timers.add(t);
  }

  notice(kind, title, text) {
    fill(this.el, h('div', { class: `agent-notice agent-notice-${kind}`, role: 'status', dataset: { notice: kind } },
      h('h3', {}, title), h('p', {}, text)));
  }

  // ------------------------------------------------------------ layout

  build() {
    this.list = h('ul', { class: 'agent-session-list', 'aria-label': 'Sessions' });
    this.listState = h('p', { class: 'agent-muted', role: 'status' }, 'Starting the agent… (the first start takes a few seconds)');
    this.newBtn = h('button', { type: 'button', class: 'btn btn-primary agent-new', onclick: () => this.newSession() }, 'New session');
    this.title = h('h3', { class: 'agent-title' }, 'No session');
    this.state = h('span', { class: 'agent-state', dataset: { state: 'idle' }, role: 'status', 'aria-live': 'polite' }, 'idle');
    this.link = h('span', { class: 'agent-link', dataset: { link: 'connecting' }, title: 'the agent\'s event stream' }, 'connecting…');
    const model = this.sandbox?.llm?.model;
    const modelTag = model ? h('span', { class: 'agent-model agent-muted', title: `provider ${this.sandbox.llm.provider || '–'}` }, model) : null;
    this.abortBtn = h('button', { type: 'button', class: 'btn btn-danger agent-abort', disabled: true, onclick: () => this.abort() }, 'Abort');
    this.log = h('div', {
      class: 'agent-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation', tabindex: '0',
      onscroll: () => { this.stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 60; },
    });
    this.stick = true;
    this.input = h('textarea', {
      class: 'agent-input', rows: 3, 'aria-label': 'Prompt',
      placeholder: 'Ask the agent… (Enter sends, Shift+Enter: new line, Esc: abort)',
      onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.send(); }
        if (e.key === 'Escape' && this.busy()) { e.preventDefault(); this.abort(); }
      },
    });
    this.sendBtn = h('button', { type: 'submit', class: 'btn btn-primary agent-send' }, 'Send');
    this.formErr = h('p', { class: 'agent-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'agent-prompt', onsubmit: (e) => { e.preventDefault(); this.send(); } },
      this.input, this.sendBtn);
    fill(this.el, h('div', { class: 'agent' },
      h('aside', { class: 'agent-sessions' },
        h('div', { class: 'agent-sessions-head' }, h('h3', {}, 'Sessions'), this.newBtn),
        this.listState, this.list),
      h('section', { class: 'agent-chat', 'aria-label': 'Agent chat' },
        h('header', { class: 'agent-head' }, this.title, modelTag, this.link, this.state, this.abortBtn),
        this.log, this.formErr, form)));
    this.setReady(false);
  }

  setReady(ok) {
    this.ready = ok;
    this.input.disabled = !ok;
    this.newBtn.disabled = !ok;
    this.updateButtons();
  }

  updateButtons() {
    const busy = this.busy();
    this.sendBtn.disabled = !this.ready || busy;
    this.abortBtn.disabled = !this.ready || !this.current || !busy;
  }

  busy() {
    const st = this.current && this.statuses.get(this.current);
    return !!st && st.type !== 'idle';
  }

  showError(msg) {
    this.formErr.hidden = !msg;
    this.formErr.textContent = msg || '';
  }

  // ------------------------------------------------------------ sessions

  async loadSessions(first) {
    try {
      const [list, status] = await Promise.all([
        api('GET', `${this.base}/session`, undefined, { signal: this.ctl.signal }),
        api('GET', `${this.base}/session/status`, undefined, { signal: this.ctl.signal }),
      ]);
      if (this.stopped) return;
      this.sessions.clear();
      for (const s of Array.isArray(list) ? list : []) if (!s.parentID) this.sessions.set(s.id, s);
      this.statuses.clear();
      for (const [sid, st] of Object.entries(status || {})) this.statuses.set(sid, st);
      this.listState.hidden = true;
      this.setReady(true);
      this.setState();
      this.renderList();
      if (first) {
        const want = sessionStorage.getItem(LAST_SESSION(this.id));
        const pick = this.sessions.has(want) ? want : this.sorted()[0]?.id;
        if (pick) await this.open(pick);
        else this.renderEmpty();
      } else if (this.current) {
        if (this.sessions.has(this.current)) await this.loadMessages();
        else this.renderEmpty();
      }
    } catch (e) {
      if (this.stopped) return;
      this.listState.hidden = false;
      this.listState.textContent = `The agent is not available: ${errText(e)}`;
      this.listState.className = 'agent-error';
      // 404: switched off or gone; 503: OpenCode is not installed (the
      // message says how to install it). Neither heals by itself.
      if (e instanceof ApiError && (e.status === 404 || e.status === 503)) {
        this.stop();
        return this.notice('error', 'The agent is not available', errText(e));
      }
      if (first) this.later(() => this.loadSessions(true), 5000);
    }
  }

  sorted() {
    return [...this.sessions.values()].sort((a, b) => (b.time?.updated || 0) - (a.time?.updated || 0));
  }

  renderList() {
    const rows = this.sorted().map((s) => {
      const st = this.statuses.get(s.id);
      const busy = st && st.type !== 'idle';
      const del = h('button', {
        type: 'button', class: 'agent-session-del', 'aria-label': `Delete session ${s.title || s.id}`,
        title: 'Delete session',
        onclick: () => this.deleteSession(s.id, del),
      }, '✕');
      return h('li', { class: 'agent-session', dataset: { session: s.id } },
        h('button', {
          type: 'button', class: 'agent-session-pick', 'aria-current': s.id === this.current ? 'true' : 'false',
          onclick: () => this.open(s.id),
        },
          h('span', { class: 'agent-session-title' }, s.title || s.id),
          h('small', { class: 'agent-muted' }, busy ? 'working…' : when(s.time?.updated))),
        del);
    });
    fill(this.list, rows);
    if (!rows.length) fill(this.list, h('li', { class: 'agent-muted' }, 'No sessions yet.'));
  }

  renderEmpty() {
    this.current = null;
    this.messages.clear();
    this.title.textContent = 'No session';
    fill(this.log, h('p', { class: 'agent-muted agent-empty' },
      'Start a new session, or just type a prompt below: the agent works inside this sandbox with its tools.'));
    this.setState();
  }

  async newSession() {
    this.showError('');
    this.newBtn.disabled = true;
    try {
      const s = await api('POST', `${this.base}/session`, {}, { signal: this.ctl.signal });
      if (this.stopped) return null;
      this.sessions.set(s.id, s);
      this.renderList();
      await this.open(s.id);
      this.input.focus();
      return s.id;
    } catch (e) {
      if (!this.stopped) this.showError(`Could not create a session: ${errText(e)}`);
      return null;
    } finally {
      if (!this.stopped) this.newBtn.disabled = !this.ready;
    }
  }

  async deleteSession(sid, btn) {
    // Two clicks, no dialog: the first arms the button for a few seconds.
    if (btn.dataset.armed !== 'yes') {
      btn.dataset.armed = 'yes';
      btn.textContent = 'Delete?';
      btn.classList.add('agent-armed');
      this.later(() => { btn.dataset.armed = ''; btn.textContent = '✕'; btn.classList.remove('agent-armed'); }, 4000);
      return;
    }
    btn.disabled = true;
    try {
      await api('DELETE', `${this.base}/session/${encodeURIComponent(sid)}`, undefined, { signal: this.ctl.signal });
      if (this.stopped) return;
      this.forget(sid);
    } catch (e) {
      if (this.stopped) return;
      btn.disabled = false;
      this.showError(`Could not delete the session: ${errText(e)}`);
    }
  }

  forget(sid) {
    this.sessions.delete(sid);
    this.statuses.delete(sid);
    if (sessionStorage.getItem(LAST_SESSION(this.id)) === sid) sessionStorage.removeItem(LAST_SESSION(this.id));
    if (this.current === sid) {
      const next = this.sorted()[0];
      if (next) this.open(next.id); else this.renderEmpty();
    }
    this.renderList();
  }

  async open(sid) {
    this.current = sid;
    sessionStorage.setItem(LAST_SESSION(this.id), sid);
    const s = this.sessions.get(sid);
    this.title.textContent = s?.title || sid;
    this.showError('');
    this.renderList();
    this.setState();
    await this.loadMessages();
  }

  async loadMessages() {
    const sid = this.current;
    const seq = ++this.loadSeq;
    this.messages.clear();
    // the session's events that arrive while its history loads wait, then
    // apply on top of it (whole messages and parts are idempotent)
    this.held = [];
    fill(this.log, h('p', { class: 'agent-muted', role: 'status' }, 'Loading the conversation…'));
    try {
      const msgs = await api('GET', `${this.base}/session/${encodeURIComponent(sid)}/message`, undefined,
        { signal: this.ctl.signal });
      if (this.stopped || seq !== this.loadSeq) return;
      this.log.replaceChildren();
      const had = new Set();
      for (const m of Array.isArray(msgs) ? msgs : []) {
        const rec = this.message(m.info);
        for (const p of m.parts || []) { this.part(rec, p); had.add(p.id); }
      }
      if (!this.messages.size) {
        this.log.append(h('p', { class: 'agent-muted agent-empty' }, 'No messages yet: type a prompt below.'));
      }
      const held = this.held;
      this.held = null;
      // a delta to a part the history already has may be in its text: skip
      for (const ev of held) {
        if (ev.type !== 'message.part.delta' || !had.has(ev.properties?.partID)) this.event(ev);
      }
      this.scroll(true);
    } catch (e) {
      if (this.stopped || seq !== this.loadSeq) return;
      this.held = null;
      fill(this.log, h('p', { class: 'agent-error', role: 'alert' }, `Could not load the conversation: ${errText(e)}`));
    }
  }

  // ------------------------------------------------------------ prompt, abort

  async send() {
    const text = this.input.value.trim();
    if (!text || !this.ready || this.busy()) return;
    this.showError('');
    let sid = this.current;
    if (!sid) {
      sid = await this.newSession();
      if (!sid) return;
    }
    this.sendBtn.disabled = true;
    // busy at once: the session.status event follows
    this.statuses.set(sid, { type: 'busy' });
    this.setState();
    try {
      await api('POST', `${this.base}/session/${encodeURIComponent(sid)}/prompt_async`,
        { parts: [{ type: 'text', text }] }, { signal: this.ctl.signal });
      if (this.stopped) return;
      this.input.value = '';
    } catch (e) {
      if (this.stopped) return;
      this.statuses.set(sid, { type: 'idle' });
      this.setState();
      this.showError(`The prompt was refused: ${errText(e)}`);
    }
  }

  async abort() {
    const sid = this.current;
    if (!sid) return;
    this.abortBtn.disabled = true;
    try {
      await api('POST', `${this.base}/session/${encodeURIComponent(sid)}/abort`, {}, { signal: this.ctl.signal });
    } catch (e) {
      if (!this.stopped) this.showError(`Could not abort: ${errText(e)}`);
    }
    if (!this.stopped) this.updateButtons();
  }

  setState() {
    const st = (this.current && this.statuses.get(this.current)) || { type: 'idle' };
    let label = st.type;
    if (st.type === 'busy') label = 'working…';
    if (st.type === 'retry') label = `retrying (attempt ${st.attempt ?? '?'})${st.message ? ': ' + st.message : ''}`;
    this.state.dataset.state = st.type;
    this.state.textContent = label;
    this.updateButtons();
  }

  // ------------------------------------------------------------ the event stream

  async stream() {
    let delay = 1000;
    while (!this.stopped) {
      try {
        await sse(`${this.base}/event`, (type, data) => {
          if (!this.connected) { this.connected = true; delay = 1000; this.setLink('live'); }
          this.event(data);
        }, { signal: this.ctl.signal });
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof ApiError && (e.status === 404 || e.status === 503 || e.status === 401)) {
          this.setLink('down', errText(e));
          return;
        }
      }
      if (this.stopped) return;
      this.connected = false;
      this.setLink('reconnecting');
      await new Promise((r) => this.later(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }

  setLink(state, why) {
    if (state === 'reconnecting') this.link.dataset.drops = String(Number(this.link.dataset.drops || 0) + 1);
    this.link.dataset.link = state;
    this.link.textContent = state === 'live' ? 'live' : state === 'down' ? `offline: ${why}` : 'reconnecting…';
    if (state === 'live' && this.wasDown) this.loadSessions(false);   // catch up on what was missed
    this.wasDown = state !== 'live';
  }

  event(ev) {
    if (!ev || typeof ev !== 'object' || typeof ev.type !== 'string') return;
    const p = ev.properties || {};
    if (this.held && ev.type.startsWith('message.')) { this.held.push(ev); return; }
    switch (ev.type) {
      case 'session.created':
      case 'session.updated': {
        const s = p.info;
        if (!s || !s.id || s.parentID) return;
        this.sessions.set(s.id, s);
        if (s.id === this.current) this.title.textContent = s.title || s.id;
        this.renderList();
        return;
      }
      case 'session.deleted':
        if (p.info?.id) this.forget(p.info.id);
        return;
      case 'session.status':
        if (!p.sessionID || !p.status) return;
        this.statuses.set(p.sessionID, p.status);
        if (p.sessionID === this.current) this.setState();
        this.renderList();
        return;
      case 'session.idle':
        if (!p.sessionID) return;
        this.statuses.set(p.sessionID, { type: 'idle' });
        if (p.sessionID === this.current) this.setState();
        this.renderList();
        return;
      case 'session.error': {
        if (p.sessionID && p.sessionID !== this.current) return;
        if (!p.sessionID && !this.current) return;
        // an error of a message shows under that message (message.updated):
        // this line is for the others (a refused prompt), and goes away if
        // a message turns out to carry the same error
        const text = errorLine(p.error);
        if (p.error?.name === 'MessageAbortedError') return;
        const el = h('p', { class: 'agent-event-error', role: 'alert', dataset: { error: p.error?.name || '' } }, text);
        this.log.append(el);
        this.eventErr = { text, el };
        this.scroll();
        return;
      }
      case 'message.updated':
        if (p.info?.sessionID !== this.current) return;
        this.message(p.info);
        this.scroll();
        return;
      case 'message.removed':
        if (p.sessionID !== this.current) return;
        this.messages.get(p.messageID)?.el.remove();
        this.messages.delete(p.messageID);
        return;
      case 'message.part.updated': {
        const part = p.part;
        if (!part || part.sessionID !== this.current) return;
        this.part(this.message({ id: part.messageID, sessionID: part.sessionID }), part);
        this.scroll();
        return;
      }
      case 'message.part.removed': {
        if (p.sessionID !== this.current) return;
        const rec = this.messages.get(p.messageID);
        rec?.parts.get(p.partID)?.el.remove();
        rec?.parts.delete(p.partID);
        return;
      }
      case 'message.part.delta': {
        if (p.sessionID !== this.current || p.field !== 'text' || typeof p.delta !== 'string') return;
        const rec = this.message({ id: p.messageID, sessionID: p.sessionID });
        let pr = rec.parts.get(p.partID);
        if (!pr) pr = this.part(rec, { id: p.partID, messageID: p.messageID, type: 'text', text: '' });
        if (pr.text) pr.text.appendData(p.delta);
        this.scroll();
        return;
      }
      default:
    }
  }

  // ------------------------------------------------------------ messages and parts

  // The record of a message, made (in arrival order) on first sight; info
  // fields seen later (role, error, completion) update it.
  message(info) {
    let rec = this.messages.get(info.id);
    if (!rec) {
      this.log.querySelector('.agent-empty')?.remove();
      const body = h('div', { class: 'agent-msg-body' });
      const err = h('p', { class: 'agent-msg-error', hidden: true });
      const meta = h('div', { class: 'agent-msg-meta' });
      const el = h('article', { class: 'agent-msg', dataset: { role: info.role || 'assistant', message: info.id } },
        meta, body, err);
      rec = { info: {}, el, body, err, meta, parts: new Map() };
      this.messages.set(info.id, rec);
      this.log.append(el);
    }
    if (info.role) {
      rec.info = { ...rec.info, ...info };
      rec.el.dataset.role = info.role;
      const who = info.role === 'user' ? 'You' : `Agent${info.modelID ? ' · ' + info.modelID : ''}`;
      rec.meta.textContent = `${who}${info.time?.created ? ' · ' + clock(info.time.created) : ''}`;
      if (info.error) {
        rec.err.hidden = false;
        rec.err.textContent = errorLine(info.error);
        if (this.eventErr?.text === rec.err.textContent) { this.eventErr.el.remove(); this.eventErr = null; }
      }
    }
    return rec;
  }

  // Render or update one part of a message; returns its record.
  part(rec, part) {
    let pr = rec.parts.get(part.id);
    const kind = part.type;
    if (kind === 'step-start' || kind === 'step-finish' || kind === 'snapshot' || kind === 'compaction') return pr || null;
    if (!pr) {
      pr = { el: null, text: null };
      if (kind === 'text' || kind === 'reasoning') {
        pr.text = document.createTextNode('');
        pr.el = h('div', { class: `agent-part agent-${kind}`, dataset: { part: kind } }, pr.text);
      } else if (kind === 'tool') {
        pr.el = h('details', { class: 'agent-part agent-tool', dataset: { part: 'tool' }, open: true });
      } else {
        pr.el = h('div', { class: 'agent-part agent-other agent-muted', dataset: { part: kind || 'other' } });
      }
      rec.parts.set(part.id, pr);
      rec.body.append(pr.el);
    }
    if (kind === 'text' || kind === 'reasoning') {
      if (typeof part.text === 'string') {
        // while it streams: one text node the deltas append to; once the
        // part is done, a safe Markdown subset built as DOM nodes
        if (kind === 'text' && part.time?.end !== undefined || kind === 'text' && rec.info.time?.completed) {
          pr.text = document.createTextNode('');
          fill(pr.el, markdown(part.text));
          pr.el.dataset.rendered = 'md';
        } else {
          if (pr.el.dataset.rendered) { pr.text = document.createTextNode(''); fill(pr.el, pr.text); delete pr.el.dataset.rendered; }
          pr.text.data = part.text;
        }
      }
      if (part.synthetic) pr.el.classList.add('agent-synthetic');
    } else if (kind === 'tool') {
      this.tool(pr.el, part);
    } else if (kind === 'file') {
      pr.el.textContent = `📎 ${part.filename || part.url || 'file'}`;
    } else if (kind === 'patch') {
      pr.el.textContent = `changed ${(part.files || []).length} file(s)`;
    } else if (kind === 'agent' || kind === 'subtask') {
      pr.el.textContent = `${kind}: ${part.name || part.description || ''}`;
    } else if (kind === 'retry') {
      pr.el.textContent = `retry ${part.attempt ?? ''}: ${part.error?.data?.message || ''}`;
    } else {
      pr.el.textContent = kind || 'part';
    }
    return pr;
  }

  tool(el, part) {
    const st = part.state || {};
    const status = st.status || 'pending';
    const name = String(part.tool || 'tool');
    el.dataset.status = status;
    el.dataset.tool = name;
    const short = name.startsWith(TOOL_PREFIX) ? name.slice(TOOL_PREFIX.length) : name;
    const input = st.input && typeof st.input === 'object' ? st.input : {};
    const summary = h('summary', { class: 'agent-tool-head' },
      h('span', { class: 'agent-tool-name' }, short),
      h('span', { class: 'agent-tool-arg' }, oneLine(input)),
      h('span', { class: `agent-badge agent-badge-${status}` }, statusLabel(status)));
    const kids = [summary];
    if (Object.keys(input).length) {
      kids.push(h('div', { class: 'agent-tool-label' }, 'input'),
        h('pre', { class: 'agent-tool-input' }, typeof input.command === 'string' && Object.keys(input).length === 1
          ? `$ ${input.command}` : JSON.stringify(input, null, 2)));
    }
    if (status === 'completed') {
      kids.push(h('div', { class: 'agent-tool-label' }, 'result'),
        h('pre', { class: 'agent-tool-output' }, String(st.output ?? '')));
    } else if (status === 'error') {
      kids.push(h('div', { class: 'agent-tool-label' }, 'error'),
        h('pre', { class: 'agent-tool-output agent-tool-error' }, String(st.error ?? 'failed')));
    } else if (status === 'running') {
      kids.push(h('p', { class: 'agent-muted' }, st.title ? `running: ${st.title}` : 'running…'));
    }
    const open = el.open;
    fill(el, kids);
    el.open = open;
  }

  // Keep the newest line in view, unless the reader scrolled up.
  scroll(force) {
    if (force) this.stick = true;
    if (this.stick) this.log.scrollTop = this.log.scrollHeight;
  }
}

// ------------------------------------------------------------ helpers

function errText(e) {
  if (e instanceof ApiError) return e.message || `HTTP ${e.status}`;
  return (e && e.message) || String(e);
}

function errorLine(err) {
  if (err?.name === 'MessageAbortedError') return 'Aborted.';
  return `Error: ${err?.data?.message || err?.name || 'unknown'}`;
}

function statusLabel(s) {
  return { pending: 'pending', running: 'running…', completed: 'done', error: 'failed' }[s] || s;
}

function oneLine(input) {
  const v = input.command ?? input.path ?? input.filePath ?? input.pattern ?? input.url;
  const s = typeof v === 'string' ? v : Object.keys(input).length ? JSON.stringify(input) : '';
  return s.length > 80 ? s.slice(0, 79) + '…' : s;
}

function clock(ms) {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function when(ms) {
  if (!ms) return '';
  const s = (Date.now() - ms) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

// ------------------------------------------------------------ a Markdown subset, as DOM nodes
// Fenced code blocks, headings, bullet and numbered lists, paragraphs (line
// breaks kept), and inline `code`, **bold**, *italic*. Everything else is
// text; nothing is ever parsed as HTML.

export function markdown(src) {
  const out = [];
  const lines = String(src).replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) out.push(h('p', {}, inlineLines(para)));
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*(```+|~~~+)\s*([\w+.-]*)\s*$/.exec(line);
    if (fence) {
      flush();
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;   // the closing fence (or the end)
      out.push(h('pre', { class: 'agent-code', dataset: fence[2] ? { lang: fence[2] } : undefined }, h('code', {}, body.join('\n'))));
      continue;
    }
    const head = /^(#{1,6})\s+(.*)$/.exec(line);
    if (head) {
      flush();
      out.push(h('p', { class: `agent-h agent-h${head[1].length}` }, h('strong', {}, inline(head[2]))));
      i++;
      continue;
    }
    const item = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(line);
    if (item) {
      flush();
      const ordered = /\d/.test(item[1]);
      const items = [];
      while (i < lines.length) {
        const m = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(lines[i]);
        if (!m || /\d/.test(m[1]) !== ordered) break;
        items.push(h('li', {}, inline(m[2])));
        i++;
      }
      out.push(h(ordered ? 'ol' : 'ul', {}, items));
      continue;
    }
    if (!line.trim()) flush(); else para.push(line);
    i++;
  }
  flush();
  return out;
}

function inlineLines(lines) {
  const out = [];
  lines.forEach((l, n) => { if (n) out.push(h('br')); out.push(...inline(l)); });
  return out;
}

function inline(text) {
  const out = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1] !== undefined) out.push(h('code', {}, m[1]));
    else if (m[2] !== undefined) out.push(h('strong', {}, m[2]));
    else out.push(h('em', {}, m[3]));
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
