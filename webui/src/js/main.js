// Boot: login, layout and the hash router.
//   #/                      overview (host charts)
//   #/sandboxes             the sandbox table
//   #/create                the create form
//   #/sandbox/<id>/<tab>    a sandbox page (tabs: overview terminal files agent processes)
import { api, getKey, setKey, forgetKey, ApiError } from './api.js';
import { h, fill } from './dom.js';
import * as live from './views/live.js';
import { mountOverview } from './views/overview.js';
import { mountSandboxes } from './views/sandboxes.js';
import { mountCreate } from './views/create.js';
import { mountSandbox, TABS } from './views/sandbox.js';
import { toastRegion } from './views/ui.js';

const root = document.getElementById('app');
let shell = null;      // { main, links, liveEl, unsubscribe } while logged in
let current = null;    // { name, view } the mounted view

// ---- login ---------------------------------------------------------------

function showLogin(message) {
  teardown();
  const key = h('input', {
    id: 'login-key', type: 'password', name: 'key', autocomplete: 'current-password',
    required: true, spellcheck: 'false', 'aria-describedby': 'login-error',
  });
  const submit = h('button', { id: 'login-submit', type: 'submit', class: 'btn btn-primary' }, 'Log in');
  const error = h('p', { id: 'login-error', class: 'field-error', role: 'alert' }, message || '');
  const form = h('form', { class: 'login-card', novalidate: true },
    h('div', { class: 'brand-big' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '⬡'), 'HiveBox'),
    h('p', { class: 'muted' }, 'Sandboxes for AI agents. Log in with the daemon\'s API key.'),
    h('label', { for: 'login-key' }, 'API key'),
    key, error, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const k = key.value.trim();
    if (!k) { error.textContent = 'Enter the API key.'; key.focus(); return; }
    submit.disabled = true;
    submit.textContent = 'Checking…';
    error.textContent = '';
    setKey(k);
    try {
      // A real authenticated call: the smallest answer the API has.
      await api('GET', '/api/v1/analytics?range=1');
      showApp();
    } catch (e) {
      forgetKey();
      error.textContent = e instanceof ApiError && e.status === 401
        ? 'wrong API key'
        : `Cannot reach the daemon: ${e.message}`;
      submit.disabled = false;
      submit.textContent = 'Log in';
      key.select();
      key.focus();
    }
  });
  fill(root, h('main', { class: 'login-page' }, form));
  key.focus();
}

function logout(message) {
  forgetKey();
  sessionStorage.clear();   // and every preference of this session (sort, range)
  showLogin(message);
}

// A 401 from any call (the key was changed or revoked): back to the login.
window.addEventListener('hb:unauthorized', () => {
  if (shell) logout('The daemon refused the key: log in again.');
});

// ---- layout --------------------------------------------------------------

function showApp() {
  teardown();
  const links = {
    overview: h('a', { href: '#/', id: 'nav-overview' }, 'Overview'),
    sandboxes: h('a', { href: '#/sandboxes', id: 'nav-sandboxes' }, 'Sandboxes'),
    create: h('a', { href: '#/create', id: 'nav-create' }, 'Create'),
  };
  const liveEl = h('span', { id: 'live-status', class: 'live', dataset: { state: 'connecting' }, title: 'Event stream' }, 'connecting');
  const logoutBtn = h('button', { id: 'logout', type: 'button', class: 'btn btn-ghost', onclick: () => logout() }, 'Log out');
  const main = h('main', { id: 'main', tabindex: '-1' });
  fill(root,
    h('a', { class: 'skip', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); } }, 'Skip to content'),
    h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: '#/' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '⬡'), 'HiveBox'),
      h('nav', { id: 'app-nav', 'aria-label': 'Main' }, links.overview, links.sandboxes, links.create),
      h('div', { class: 'topbar-end' }, liveEl, logoutBtn)),
    main,
    toastRegion());
  const unsubscribe = live.subscribe((type, data) => {
    if (type !== 'hb.state') return;
    liveEl.dataset.state = data.state;
    liveEl.textContent = { open: 'live', connecting: 'connecting', retrying: 'reconnecting' }[data.state] || data.state;
  });
  shell = { main, links, liveEl, unsubscribe };
  route();
}

function teardown() {
  if (current) { current.view.unmount(); current = null; }
  if (shell) { shell.unsubscribe(); shell = null; }
  live.stop();
}

// ---- router --------------------------------------------------------------

function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: 'overview' };
  if (parts[0] === 'sandboxes' && parts.length === 1) return { name: 'sandboxes' };
  if (parts[0] === 'create' && parts.length === 1) return { name: 'create' };
  if (parts[0] === 'sandbox' && parts[1] && parts.length <= 3) {
    const tab = parts[2] || 'overview';
    if (TABS.some((t) => t.name === tab)) return { name: 'sandbox', id: parts[1], tab };
  }
  return { name: 'notfound' };
}

const VIEWS = {
  overview: (el) => mountOverview(el),
  sandboxes: (el) => mountSandboxes(el),
  create: (el) => mountCreate(el),
  sandbox: (el, r) => mountSandbox(el, r),
  notfound: (el) => {
    fill(el, h('section', { class: 'page' }, h('h1', {}, 'Not found'),
      h('p', {}, 'No page here. ', h('a', { href: '#/' }, 'Go to the overview'), '.')));
    return { unmount() {} };
  },
};

function route() {
  if (!shell) return;
  const r = parse(location.hash);
  for (const [name, a] of Object.entries(shell.links)) {
    const on = name === r.name || (name === 'sandboxes' && r.name === 'sandbox');
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  // Another tab of the same sandbox: the page stays, only the tab changes.
  if (current && current.name === 'sandbox' && r.name === 'sandbox' && current.id === r.id) {
    current.view.update(r);
    return;
  }
  if (current) current.view.unmount();
  const el = h('div', { class: 'view' });
  fill(shell.main, el);
  current = { name: r.name, id: r.id, view: VIEWS[r.name](el, r) };
  document.title = { overview: 'Overview', sandboxes: 'Sandboxes', create: 'New sandbox',
    sandbox: r.id, notfound: 'Not found' }[r.name] + ' · HiveBox';
}

window.addEventListener('hashchange', route);

if (getKey()) showApp(); else showLogin();
