// The create form: every field of POST /api/v1/hiveboxes (the seed's
// request, plus disk). Empty fields are left out, so the daemon's defaults
// apply; they are shown as placeholders. The API's 400 names the field it
// refuses ("memory: ..."): the message goes beside that field.
//
// The image is a choice among GET /api/v1/images (one not ready yet, "base"
// while it is built, is shown but disabled), the skills are checkboxes from
// GET /api/v1/skills, all checked by default. Each is left out of the body
// when it is the daemon's default: "base", and every skill (the seed:
// skills omitted = all).
import { api, ApiError } from '../api.js';
import { h, fill } from '../dom.js';
import { toast } from './ui.js';

export function mountCreate(el) {
  const form = createForm(el, {
    onCreated: null,
    onClose: () => { location.hash = '#/sandboxes'; },
  });
  return { unmount: form.unmount };
}

// createForm(el, {compact, onCreated(sandbox), onClose()}) -> {unmount()}
export function createForm(el, { compact = false, onCreated, onClose }) {
  const errs = {};
  let busy = false;
  let dead = false;

  function field(name, label, input, help) {
    const err = h('p', { class: 'field-error', id: `create-${name}-error`, role: 'alert' });
    errs[name] = err;
    input.setAttribute('aria-describedby', `create-${name}-error${help ? ` create-${name}-help` : ''}`);
    return h('div', { class: 'field', dataset: { field: name } },
      h('label', { for: input.id }, label), input,
      help ? h('p', { class: 'help muted', id: `create-${name}-help` }, help) : null, err);
  }
  const input = (id, attrs = {}) => h('input', { id: `create-${id}`, name: id, type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });

  const name = input('name', { placeholder: 'random id', maxlength: '63' });
  const image = h('select', { id: 'create-image', name: 'image', dataset: { loaded: 'false' } },
    h('option', { value: 'base', selected: '' }, 'base'));
  const memory = input('memory', { placeholder: '512m' });
  const disk = input('disk', { placeholder: '10g' });
  const cpus = input('cpus', { placeholder: '1.0', inputmode: 'decimal' });
  const pids = input('pids', { placeholder: '128', inputmode: 'numeric' });
  const timeout = input('timeout', { placeholder: '3600', inputmode: 'numeric' });
  const network = h('select', { id: 'create-network', name: 'network' },
    h('option', { value: '' }, 'none (default): loopback only'),
    h('option', { value: 'isolated' }, 'isolated: its own address, internet through NAT'),
    h('option', { value: 'shared' }, 'shared: reaches the sandboxes of its group'));
  const group = input('group', { placeholder: 'default group' });
  const groupField = field('group', 'Group', group, 'Sandboxes of one group reach each other.');
  groupField.hidden = true;
  network.addEventListener('change', () => { groupField.hidden = network.value !== 'shared'; });

  // Skills: one checkbox each, filled once the daemon answered.
  const skillsList = h('div', { class: 'checks', id: 'create-skills-list', dataset: { loaded: 'false' } });
  const skillsNote = h('p', { class: 'help muted', id: 'create-skills-note' }, 'Loading the daemon\'s skills…');
  const checks = () => [...skillsList.querySelectorAll('input[type=checkbox]')];
  const setAll = (on) => { for (const c of checks()) c.checked = on; };
  const skillsAll = h('button', { type: 'button', class: 'btn btn-small', id: 'create-skills-all', onclick: () => setAll(true) }, 'All');
  const skillsNone = h('button', { type: 'button', class: 'btn btn-small', id: 'create-skills-none', onclick: () => setAll(false) }, 'None');
  const skillsBox = h('fieldset', { class: 'field skills', dataset: { field: 'skills' } },
    h('legend', {}, 'Skills for the agent'), h('div', { class: 'radios' }, skillsAll, skillsNone), skillsList, skillsNote,
    errs.skills = h('p', { class: 'field-error', id: 'create-skills-error', role: 'alert' }));

  const mcps = h('textarea', { id: 'create-custom_mcps', name: 'custom_mcps', rows: '4', spellcheck: 'false',
    placeholder: '{"my-server": {"type": "remote", "url": "https://example.com/mcp", "enabled": true}}' });
  const baseUrl = input('llm_base_url', { placeholder: 'global default', type: 'url' });
  const apiKey = input('llm_api_key', { placeholder: 'global default', type: 'password', autocomplete: 'new-password' });
  const model = input('llm_model', { placeholder: 'global default' });

  const formError = h('p', { class: 'field-error', id: 'create-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'create-submit' }, 'Create sandbox');
  const cancel = h('button', { type: 'button', class: 'btn', id: 'create-cancel', onclick: () => onClose && onClose() }, compact ? 'Close' : 'Cancel');
  const result = h('div', { id: 'create-result' });

  const form = h('form', { class: `create-form${compact ? ' compact' : ''}`, id: 'create-form', novalidate: true },
    h('fieldset', { class: 'group' }, h('legend', {}, 'Sandbox'),
      field('name', 'Name', name, 'Letters, digits, . _ -; up to 63.'),
      field('image', 'Image', image, 'An image in the daemon\'s images folder.')),
    h('fieldset', { class: 'group grid' }, h('legend', {}, 'Limits'),
      field('memory', 'Memory', memory, 'e.g. 256m, 2g'),
      field('cpus', 'CPUs', cpus, 'Fraction of cores, e.g. 0.5'),
      field('pids', 'Max processes', pids),
      field('disk', 'Disk', disk, 'e.g. 1g'),
      field('timeout', 'Timeout (seconds)', timeout, 'Destroyed after it; at most 86400.')),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Network'),
      field('network', 'Mode', network), groupField),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Agent'),
      skillsBox,
      field('custom_mcps', 'Custom MCP servers (JSON)', mcps, 'Remote servers only, merged with the built-in hivebox server.'),
      field('llm_base_url', 'LLM base URL', baseUrl, 'OpenAI-compatible endpoint.'),
      field('llm_api_key', 'LLM API key', apiKey, 'Stored by the daemon; never shown again.'),
      field('llm_model', 'LLM model', model)),
    formError,
    h('div', { class: 'actions' }, cancel, submit));

  fill(el, h('section', { class: compact ? 'drawer-body' : 'page', id: 'create' },
    h('div', { class: 'page-head' }, h(compact ? 'h2' : 'h1', {}, 'New sandbox'),
      compact ? h('button', { type: 'button', class: 'btn btn-ghost', id: 'create-close', 'aria-label': 'Close', onclick: () => onClose && onClose() }, '✕') : null),
    result, form));
  name.focus();

  // The choices: images and skills as the daemon knows them now.
  async function loadImages() {
    let r;
    try { r = await api('GET', '/api/v1/images'); } catch (e) { r = null; }
    if (dead) return;
    if (r && Array.isArray(r.images) && r.images.length) {
      fill(image, r.images.map((i) => {
        const label = i.ready ? (i.os ? `${i.name} · ${i.os}` : i.name)
          : `${i.name} (${i.state}${i.progress ? `: ${i.progress}` : ''})`;
        return h('option', { value: i.name, disabled: !i.ready, selected: i.name === 'base' ? '' : null,
          dataset: { state: i.state } }, label);
      }));
      const base = [...image.options].find((o) => o.value === 'base');
      if (base) image.value = 'base';
    }
    image.dataset.loaded = r ? 'true' : 'error';
  }

  async function loadSkills() {
    let r;
    try { r = await api('GET', '/api/v1/skills'); } catch (e) { r = null; }
    if (dead) return;
    const list = r && Array.isArray(r.skills) ? r.skills : [];
    fill(skillsList, list.map((sk, i) => h('label', { class: 'radio', title: sk.description || null },
      h('input', { type: 'checkbox', name: 'skill', value: sk.name, id: `create-skill-${i}`, checked: '' }),
      sk.name, sk.description ? h('span', { class: 'muted' }, ` · ${sk.description}`) : null)));
    skillsAll.disabled = skillsNone.disabled = !list.length;
    let note;
    if (!r) note = 'The skills could not be listed; every skill of the daemon is given.';
    else if (!list.length) note = r.state === 'ok' ? `No skills in ${r.path}.` : `No skills: ${r.path} is ${r.state}.`;
    else note = `From ${r.path}${r.truncated ? ' (only the first ones are shown)' : ''}. All checked: every skill, now and added later.`;
    skillsNote.textContent = note;
    skillsList.dataset.loaded = r ? 'true' : 'error';
  }
  loadImages();
  loadSkills();

  function clearErrors() {
    for (const e of Object.values(errs)) e.textContent = '';
    formError.textContent = '';
    for (const el2 of form.querySelectorAll('[aria-invalid]')) el2.removeAttribute('aria-invalid');
  }

  function showError(fieldName, message) {
    const key = fieldName && fieldName.split(/[.[]/)[0];
    const target = key === 'network' && message.includes('group') ? errs.group || errs.network : errs[key];
    const slot = target || formError;
    slot.textContent = message;
    const ctl = slot.parentElement && slot.parentElement.querySelector('input:not([type=radio]),select,textarea');
    if (target && ctl) { ctl.setAttribute('aria-invalid', 'true'); ctl.focus(); }
  }

  // The body to send, or null after showing what is wrong.
  function body() {
    const b = {};
    const str = (k, el2) => { const v = el2.value.trim(); if (v) b[k] = v; };
    str('name', name);
    if (image.value && image.value !== 'base') b.image = image.value;
    str('memory', memory);
    str('disk', disk);
    let ok = true;
    const num = (k, el2, int) => {
      const v = el2.value.trim();
      if (!v) return;
      const n = Number(v);
      if (!Number.isFinite(n) || (int && !Number.isInteger(n))) {
        showError(k, `${k}: expected ${int ? 'a whole number' : 'a number'}`);
        ok = false;
      } else b[k] = n;
    };
    num('cpus', cpus, false);
    num('pids', pids, true);
    num('timeout', timeout, true);
    if (network.value === 'shared') b.network = group.value.trim() ? `shared:${group.value.trim()}` : 'shared';
    else if (network.value) b.network = network.value;
    const cs = checks();
    if (cs.some((c) => !c.checked)) b.skills = cs.filter((c) => c.checked).map((c) => c.value);
    const mj = mcps.value.trim();
    if (mj) {
      const problem = checkMcps(mj);
      if (typeof problem === 'string') { showError('custom_mcps', problem); ok = false; } else b.custom_mcps = problem;
    }
    str('llm_base_url', baseUrl);
    str('llm_api_key', apiKey);
    str('llm_model', model);
    return ok ? b : null;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (busy) return;
    clearErrors();
    const b = body();
    if (!b) return;
    busy = true;
    submit.disabled = true;
    submit.textContent = 'Creating…';
    try {
      const s = await api('POST', '/api/v1/hiveboxes', b);
      if (dead) return;
      toast(`Created ${s.id}`);
      if (onCreated) onCreated(s);
      showCreated(s);
      form.reset();
      result.scrollIntoView({ block: 'nearest' });
      const open = result.querySelector('#create-open');
      if (open) open.focus({ preventScroll: true });
      groupField.hidden = true;
    } catch (e) {
      if (dead) return;
      if (e instanceof ApiError && e.status === 503) showError(null, `The daemon is not ready: ${e.message}`);
      else showError(e instanceof ApiError ? e.field : null, e.message);
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = 'Create sandbox';
    }
  });

  function showCreated(s) {
    const enc = encodeURIComponent(s.id);
    const token = s.mcp_token ? h('input', { type: 'text', readonly: true, value: s.mcp_token, id: 'create-token', 'aria-label': 'MCP token', class: 'mono' }) : null;
    fill(result, h('div', { class: 'success', role: 'status' },
      h('p', {}, h('strong', {}, `Created ${s.id}`), ` · ${s.image} · network ${(s.network && s.network.mode) || 'none'}${s.network && s.network.ip ? ` · ${s.network.ip}` : ''}`),
      token ? h('p', {}, 'Its MCP token (opens this sandbox\'s MCP endpoint only; shown once): ', token) : null,
      h('p', { class: 'actions' },
        h('a', { class: 'btn btn-primary', href: `#/sandbox/${enc}/overview`, id: 'create-open' }, 'Open it'),
        h('a', { class: 'btn', href: `#/sandbox/${enc}/terminal` }, 'Terminal'),
        h('a', { class: 'btn btn-agent', href: `#/sandbox/${enc}/agent` }, 'Agent'))));
  }

  return { unmount() { dead = true; } };
}

// JSON of custom MCP servers: the parsed object, or what is wrong (a string).
function checkMcps(text) {
  let v;
  try { v = JSON.parse(text); } catch (e) { return `custom_mcps: not valid JSON (${e.message})`; }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'custom_mcps: expected an object of servers by name';
  for (const [k, s] of Object.entries(v)) {
    if (k === 'hivebox') return 'custom_mcps: the name "hivebox" is reserved';
    if (!s || typeof s !== 'object' || Array.isArray(s)) return `custom_mcps: "${k}" must be an object`;
    if (s.type !== 'remote') return `custom_mcps: "${k}" must be {"type": "remote", ...} (local servers would run on the host)`;
    if (typeof s.url !== 'string' || !/^https?:\/\//.test(s.url)) return `custom_mcps: "${k}" needs a "url" (http or https)`;
  }
  return v;
}
