// A sandbox page: its header, a tab bar and the chosen tab. The Overview tab
// is the shell's (views/sbinfo.js); the others are js/tabs/<name>.js, loaded
// with import() and mounted by the contract in webui/README.md:
//   mount(el, {id, sandbox}) -> {unmount()}
import { api, sbPath, ApiError } from '../api.js';
import { h, fill } from '../dom.js';
import * as live from './live.js';
import { mountInfo } from './sbinfo.js';
import { loading, errorBox, confirm, toast } from './ui.js';
import { rememberIp } from './sandboxes.js';

export const TABS = [
  { name: 'overview', label: 'Overview' },
  { name: 'terminal', label: 'Terminal' },
  { name: 'files', label: 'Files' },
  { name: 'agent', label: 'Agent' },
  { name: 'processes', label: 'Processes' },
];

export function mountSandbox(el, { id, tab }) {
  let sandbox = null;
  let gone = null;           // why the sandbox is no more
  let mounted = null;        // {name, handle}
  let gen = 0;
  let wanted = tab;

  const title = h('h1', { class: 'sb-title' }, id);
  const badge = h('span', { class: 'badge', id: 'sb-status' }, '…');
  const meta = h('p', { class: 'sb-meta muted' });
  const banner = h('div', { class: 'banner', hidden: true, role: 'status' });
  const destroyBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'sb-destroy', onclick: destroy }, 'Destroy');
  // Pause freezes every process (no CPU, memory kept); keep-alive sets the
  // expiry an hour from now (POST .../timeout, at most 86400 s).
  const pauseBtn = h('button', { type: 'button', class: 'btn', id: 'sb-pause', onclick: togglePause }, 'Pause');
  const keepBtn = h('button', { type: 'button', class: 'btn', id: 'sb-keepalive', onclick: keepAlive, title: 'Expire one hour from now' }, 'Keep alive 1 h');
  const tabLinks = TABS.map((t) => h('a', {
    href: `#/sandbox/${encodeURIComponent(id)}/${t.name}`, id: `tab-${t.name}`, class: 'tab',
    dataset: { tab: t.name },
  }, t.label));
  const panel = h('div', { class: 'tab-panel', id: 'tab-panel' }, loading());
  fill(el, h('section', { class: 'page sandbox-page', dataset: { id } },
    h('a', { class: 'back', href: '#/sandboxes' }, '← Sandboxes'),
    h('div', { class: 'page-head' },
      h('div', {}, h('div', { class: 'title-row' }, title, badge), meta),
      h('div', { class: 'actions' }, pauseBtn, keepBtn, destroyBtn)),
    banner,
    h('nav', { class: 'tabs', 'aria-label': 'Sandbox' }, tabLinks),
    panel));

  function header() {
    badge.textContent = gone ? 'destroyed' : sandbox.status;
    badge.dataset.status = gone ? 'destroyed' : sandbox.status;
    const net = sandbox.network || {};
    fill(meta, [sandbox.image && `image ${sandbox.image}`,
      `network ${net.mode || 'none'}${net.group ? ` (${net.group})` : ''}${net.ip ? ` · ${net.ip}` : ''}`,
      sandbox.limits && `${sandbox.limits.memory} · ${sandbox.limits.cpus} CPU · ${sandbox.limits.pids} pids`,
    ].filter(Boolean).join(' · '));
    destroyBtn.disabled = !!gone;
    const usable = !gone && (sandbox.status === 'running' || sandbox.status === 'paused');
    pauseBtn.disabled = !usable;
    keepBtn.disabled = !usable;
    pauseBtn.textContent = sandbox.status === 'paused' ? 'Resume' : 'Pause';
  }

  // The answer is the sandbox as it is now: the header (and the Overview's
  // time left) follow it.
  function updated(sb) {
    if (!sb || gone) return;
    sandbox = sb;
    header();
    if (mounted && mounted.name === 'overview') showTab('overview');
  }

  async function togglePause() {
    const verb = sandbox.status === 'paused' ? 'resume' : 'pause';
    pauseBtn.disabled = true;
    try {
      await api('POST', sbPath(id, verb));
      updated(await api('GET', sbPath(id)));
      toast(verb === 'pause' ? `Paused ${id}` : `Resumed ${id}`);
    } catch (e) {
      toast(`Could not ${verb} ${id}: ${e.message}`, 'error');
    } finally {
      if (sandbox) header();
    }
  }

  async function keepAlive() {
    keepBtn.disabled = true;
    try {
      updated(await api('POST', sbPath(id, 'timeout'), { timeout: 3600 }));
      toast(`${id} now expires in one hour`);
    } catch (e) {
      toast(`Could not extend ${id}: ${e.message}`, 'error');
    } finally {
      if (sandbox) header();
    }
  }

  async function showTab(name) {
    const my = ++gen;
    for (const a of tabLinks) {
      if (a.dataset.tab === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    if (mounted) { mounted.handle.unmount(); mounted = null; }
    const host = h('div', { class: `tab-host tab-${name}` });
    fill(panel, host);
    if (gone) { fill(host, h('p', { class: 'muted' }, 'This sandbox no longer exists.')); return; }
    if (name === 'overview') {
      mounted = { name, handle: mountInfo(host, { id, sandbox }) };
      return;
    }
    fill(host, loading(`Loading the ${name} tab…`));
    let mod;
    try {
      mod = await import(`../tabs/${name}.js`);
    } catch (_) {
      if (my === gen) fill(host, h('p', { class: 'empty', id: 'tab-unavailable' }, `The ${name} tab is not available in this build.`));
      return;
    }
    if (my !== gen) return;
    fill(host);
    try {
      mounted = { name, handle: mod.mount(host, { id, sandbox }) };
    } catch (e) {
      fill(host, errorBox(e));
    }
  }

  async function load() {
    fill(panel, loading());
    try {
      sandbox = await api('GET', sbPath(id));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        badge.textContent = 'not found';
        fill(panel, h('div', { class: 'empty' }, h('p', {}, `There is no sandbox named “${id}”.`),
          h('a', { href: '#/sandboxes' }, 'Back to the sandboxes')));
        destroyBtn.disabled = true;
      } else {
        fill(panel, errorBox(e, load));
      }
      return;
    }
    if (wanted === null) return;
    rememberIp(id, sandbox.network && sandbox.network.ip);
    header();
    showTab(wanted);
  }

  async function destroy() {
    const ok = await confirm({ title: `Destroy ${id}?`, body: 'Its processes, files and agent sessions are deleted. This cannot be undone.', action: 'Destroy', danger: true });
    if (!ok) return;
    destroyBtn.disabled = true;
    try {
      await api('DELETE', sbPath(id));
      toast(`Destroyed ${id}`);
      location.hash = '#/sandboxes';
    } catch (e) {
      destroyBtn.disabled = false;
      toast(`Could not destroy ${id}: ${e.message}`, 'error');
    }
  }

  const unsubscribe = live.subscribe((type, data) => {
    if (!data || data.id !== id || !sandbox) return;
    if (type === 'sandbox.destroyed' && !gone) {
      gone = data.reason || 'destroyed';
      banner.hidden = false;
      banner.textContent = data.reason === 'expired' ? 'This sandbox expired and was destroyed.' : 'This sandbox was destroyed.';
      header();
      if (mounted) { mounted.handle.unmount(); mounted = null; }
      fill(panel, h('p', { class: 'muted' }, 'This sandbox no longer exists.'));
    } else if ((type === 'sandbox.paused' || type === 'sandbox.resumed') && !gone) {
      sandbox = { ...sandbox, status: type === 'sandbox.paused' ? 'paused' : 'running' };
      header();
    } else if (type === 'sandbox.failed') {
      sandbox = { ...sandbox, status: 'failed', failure_reason: data.reason };
      banner.hidden = false;
      banner.textContent = `The sandbox failed: ${data.reason}`;
      header();
    }
  });

  load();

  return {
    update(r) {
      wanted = r.tab;
      if (sandbox) showTab(r.tab);
    },
    unmount() {
      wanted = null;
      gen++;
      unsubscribe();
      if (mounted) mounted.handle.unmount();
      mounted = null;
    },
  };
}
