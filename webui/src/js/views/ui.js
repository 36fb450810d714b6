// Small pieces every view uses: loading and error blocks, toasts, and an
// in-page confirmation (a <dialog>, never window.confirm).
import { h, fill } from '../dom.js';

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export function errorBox(err, retry) {
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', {}, 'Something went wrong: '), String(err && err.message ? err.message : err),
    retry ? h('button', { type: 'button', class: 'btn btn-small', onclick: retry }, 'Retry') : null);
}

let region = null;
export function toastRegion() {
  region = h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' });
  return region;
}

export function toast(text, kind = 'info') {
  if (!region) return;
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  region.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

// confirm({title, body, action, danger}) -> Promise<boolean>
export function confirm({ title, body, action = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'submit', value: 'yes', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}`, id: 'confirm-yes' }, action);
    const no = h('button', { type: 'submit', value: 'no', class: 'btn', id: 'confirm-no' }, 'Cancel');
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'confirm-title' }, title),
        body ? h('p', {}, body) : null,
        h('div', { class: 'actions' }, no, yes)));
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'yes');
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
    no.focus();
  });
}

// A <dl> from [label, value] pairs; values are text or nodes.
export function defs(pairs) {
  return h('dl', { class: 'defs' }, pairs.filter(Boolean).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '–')]));
}

export { fill };
