// One event stream per page: GET /api/v1/events (schemas/events.md), shared
// by every view. subscribe(fn) gets fn(type, data) for each event, plus two
// of our own:
//   hb.state  {state: 'connecting'|'open'|'retrying'}
//   hb.open   {reconnect: bool}  the stream is subscribed; events missed
//             before it (first load, a blip, a 'dropped') need a refetch.
// The stream reconnects with backoff; stop() ends it (log out).
import { sse, ApiError } from '../api.js';

const subs = new Set();
let ctrl = null;
let state = 'idle';
let opened = false;

function emit(type, data) {
  for (const fn of [...subs]) {
    try { fn(type, data); } catch (e) { reportError(e); }
  }
}

function setState(s) {
  state = s;
  emit('hb.state', { state: s });
}

export function subscribe(fn) {
  subs.add(fn);
  if (!ctrl) start();
  else fn('hb.state', { state });
  return () => subs.delete(fn);
}

export function currentState() { return state; }

export function stop() {
  if (ctrl) ctrl.abort();
  ctrl = null;
  opened = false;
  state = 'idle';
}

function start() {
  const c = new AbortController();
  ctrl = c;
  run(c);
}

async function run(c) {
  let delay = 1000;
  while (!c.signal.aborted) {
    setState(opened ? 'retrying' : 'connecting');
    try {
      await sse('/api/v1/events', (type, data) => emit(type, data), {
        signal: c.signal,
        onOpen: () => {
          setState('open');
          emit('hb.open', { reconnect: opened });
          opened = true;
          delay = 1000;
        },
      });
    } catch (e) {
      if (c.signal.aborted) return;
      if (e instanceof ApiError && e.status === 401) return;   // main.js logs out
    }
    if (c.signal.aborted) return;
    setState('retrying');
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 15000);
  }
}
