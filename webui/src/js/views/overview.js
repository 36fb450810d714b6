// The overview: host CPU, host memory and the sandbox count over 5 min, 1 h
// or 24 h from GET /api/v1/analytics (one sample every 10 s), kept current
// by the metrics.sample events of the shared stream.
import { api } from '../api.js';
import { h, fill, fmtBytes } from '../dom.js';
import * as live from './live.js';
import { lineChart } from './chart.js';
import { loading, errorBox } from './ui.js';

const RANGES = [[300, '5 min'], [3600, '1 h'], [86400, '24 h']];
const pct = (v) => (v == null ? '–' : `${Math.round(v * 10) / 10}%`);
const count = (v) => (v == null ? '–' : String(Math.round(v)));

export function mountOverview(el) {
  let range = Number(sessionStorage.getItem('hivebox.range')) || 300;
  let samples = [];
  let gen = 0;
  const status = h('div', { class: 'status-line' });
  const buttons = RANGES.map(([secs, label]) => h('button', {
    type: 'button', class: 'seg', id: `range-${secs}`, 'aria-pressed': String(secs === range),
    onclick: () => { range = secs; sessionStorage.setItem('hivebox.range', String(secs)); load(); },
  }, label));
  const cards = h('div', { class: 'cards' });
  const cpuEl = h('div', { class: 'chart-slot' });
  const memEl = h('div', { class: 'chart-slot' });
  const sbEl = h('div', { class: 'chart-slot' });
  const top = h('div', { class: 'panel' });
  fill(el, h('section', { class: 'page', id: 'overview' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview'),
      h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' }, buttons)),
    status, cards,
    h('div', { class: 'chart-grid' }, cpuEl, memEl, sbEl),
    top));

  const charts = [
    lineChart(cpuEl, { id: 'host-cpu', title: 'Host CPU', series: [{ label: 'CPU' }], fmt: pct, max: 100 }),
    lineChart(memEl, { id: 'host-memory', title: 'Host memory used', series: [{ label: 'used' }], fmt: fmtBytes }),
    lineChart(sbEl, { id: 'sandbox-count', title: 'Sandboxes', series: [{ label: 'sandboxes' }], fmt: count, max: 1, int: true }),
  ];

  function draw() {
    const xs = samples.map((s) => s.timestamp);
    charts[0].setData(xs, samples.map((s) => s.host_cpu_percent));
    charts[1].setData(xs, samples.map((s) => s.host_memory_used));
    charts[2].setData(xs, samples.map((s) => s.sandbox_count));
    const last = samples[samples.length - 1];
    fill(cards,
      card('Sandboxes', last ? String(last.sandbox_count) : '–', h('a', { href: '#/sandboxes' }, 'See them all')),
      card('Host CPU', last ? pct(last.host_cpu_percent) : '–', 'of every core'),
      card('Host memory', last ? fmtBytes(last.host_memory_used) : '–',
        last ? `of ${fmtBytes(last.host_memory_total)} (${pct(100 * last.host_memory_used / (last.host_memory_total || 1))})` : ''));
    fill(status, samples.length
      ? h('span', { class: 'muted' }, `${samples.length} samples, one every 10 s; last at ${new Date(last.timestamp * 1000).toLocaleTimeString()}.`)
      : h('span', { class: 'muted' }, 'No samples yet: the daemon takes one every 10 seconds.'));
    const busy = last ? [...last.sandboxes].sort((a, b) => b.memory_bytes - a.memory_bytes).slice(0, 5) : [];
    fill(top, h('h2', {}, 'Busiest sandboxes now'), busy.length
      ? h('table', { class: 'mini' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Sandbox'), h('th', {}, 'Memory'), h('th', {}, 'CPU'))),
        h('tbody', {}, busy.map((s) => h('tr', {},
          h('td', {}, h('a', { href: `#/sandbox/${encodeURIComponent(s.id)}/overview` }, s.id)),
          h('td', {}, `${fmtBytes(s.memory_bytes)} / ${fmtBytes(s.memory_limit_bytes)}`),
          h('td', {}, pct(s.cpu_percent))))))
      : h('p', { class: 'muted' }, 'No sandbox is running.'));
  }

  async function load() {
    const my = ++gen;
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.id === `range-${range}`));
    fill(status, loading('Loading metrics…'));
    try {
      const r = await api('GET', `/api/v1/analytics?range=${range}`);
      if (my !== gen) return;
      samples = (r && r.samples) || [];
      draw();
    } catch (e) {
      if (my !== gen) return;
      fill(status, errorBox(e, load));
    }
  }

  const unsubscribe = live.subscribe((type, data) => {
    if (type !== 'metrics.sample' || !data || typeof data.timestamp !== 'number') return;
    samples.push(data);
    const cut = data.timestamp - range;
    while (samples.length && samples[0].timestamp < cut) samples.shift();
    draw();
  });
  load();

  return {
    unmount() {
      gen++;
      unsubscribe();
      for (const c of charts) c.destroy();
    },
  };
}

function card(title, value, sub) {
  return h('div', { class: 'card' }, h('div', { class: 'card-title' }, title),
    h('div', { class: 'card-value' }, value), h('div', { class: 'card-sub muted' }, sub));
}
