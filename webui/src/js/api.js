// The one module that talks to the daemon. Every API call carries the key as
// a Bearer token; the key lives in sessionStorage only (never a URL or a
// cookie), so closing the tab or "log out" forgets it.

const KEY_SLOT = 'hivebox.key';

export function getKey() { return sessionStorage.getItem(KEY_SLOT); }
export function setKey(key) { sessionStorage.setItem(KEY_SLOT, key); }
export function forgetKey() { sessionStorage.removeItem(KEY_SLOT); }

// An error answer of the API: {"error": "field: message"}. The daemon names
// the field it rejects first, so a form can show the message beside it.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
    const m = /^([a-z_][a-z0-9_.\[\]]*): /i.exec(message || '');
    this.field = m ? m[1] : null;
  }
}

function authHeaders(extra) {
  const h = new Headers(extra || {});
  const key = getKey();
  if (key) h.set('Authorization', `Bearer ${key}`);
  return h;
}

function bodyOf(body, headers) {
  if (body === undefined || body === null) return undefined;
  if (body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/octet-stream');
    return body;
  }
  if (typeof body === 'string') return body;
  headers.set('Content-Type', 'application/json');
  return JSON.stringify(body);
}

async function failure(res) {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const j = await res.json();
    if (j && typeof j.error === 'string') msg = j.error;
  } catch (_) { /* not JSON: keep the status line */ }
  if (res.status === 401) window.dispatchEvent(new CustomEvent('hb:unauthorized'));
  return new ApiError(res.status, msg);
}

// fetch() with the key; throws ApiError on a non-2xx answer. Returns the
// Response so callers can read a blob, text or stream.
export async function raw(method, path, body, opts = {}) {
  const headers = authHeaders(opts.headers);
  const res = await fetch(path, { method, headers, body: bodyOf(body, headers), signal: opts.signal });
  if (!res.ok) throw await failure(res);
  return res;
}

// A JSON call: the parsed answer, or null for an empty one (204).
export async function api(method, path, body, opts = {}) {
  const res = await raw(method, path, body, opts);
  const text = await res.text();
  if (!text) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? JSON.parse(text) : text;
}

// Server-sent events over fetch (EventSource cannot send a Bearer header).
// onEvent(type, data, id) gets data parsed as JSON when it parses. Resolves
// when the stream ends; abort with opts.signal. opts.onOpen(res) runs once
// the answer's headers arrived (the stream is subscribed from then on).
export async function sse(path, onEvent, opts = {}) {
  const res = await raw('GET', path, undefined, { signal: opts.signal, headers: { Accept: 'text/event-stream' } });
  if (opts.onOpen) opts.onOpen(res);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let ev = { type: 'message', data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (ev.data.length) dispatch(ev, onEvent);
        ev = { type: 'message', data: [], id: null };
      } else if (!line.startsWith(':')) {
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (field === 'event') ev.type = val;
        else if (field === 'data') ev.data.push(val);
        else if (field === 'id') ev.id = val;
      }
    }
  }
}

function dispatch(ev, onEvent) {
  const text = ev.data.join('\n');
  let data = text;
  try { data = JSON.parse(text); } catch (_) { /* plain text event */ }
  onEvent(ev.type, data, ev.id);
}

// ws:// or wss:// URL for a path on this origin (terminals use ?ticket=).
export function wsUrl(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

// Path of a sandbox route: sbPath(id, 'files') -> /api/v1/hiveboxes/<id>/files
export function sbPath(id, ...rest) {
  const tail = rest.length ? '/' + rest.join('/') : '';
  return `/api/v1/hiveboxes/${encodeURIComponent(id)}${tail}`;
}
