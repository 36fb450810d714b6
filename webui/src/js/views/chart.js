// Line charts with uPlot (webui/vendor.txt; served at /dashboard/vendor/),
// loaded on first use. lineChart(el, spec) -> {setData(xs, ...ys), destroy()}
//   spec: {title, series: [{label, color}], fmt: (value) => text, min, max}
// xs are unix seconds. When the library cannot load, the chart says so and
// shows the latest values as text instead.
import { h, fill } from '../dom.js';

let uplot = null;
function loadUPlot() {
  uplot ||= import('/dashboard/vendor/uPlot.esm.js').then((m) => m.default);
  return uplot;
}

const PALETTE = ['--accent', '--chart-2', '--chart-3'];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function lineChart(el, spec) {
  const fmt = spec.fmt || ((v) => String(v));
  const now = h('span', { class: 'chart-now' });
  const box = h('div', { class: 'chart-box' }, h('p', { class: 'chart-empty muted' }, 'Loading chart…'));
  const fig = h('figure', { class: 'chart', dataset: { chart: spec.id || spec.title } },
    h('figcaption', {}, h('span', {}, spec.title), now), box);
  fill(el, fig);
  let u = null;
  let data = [[], ...spec.series.map(() => [])];
  let dead = false;
  let ro = null;

  function showNow() {
    const last = data[0].length - 1;
    now.textContent = last < 0 ? '' : spec.series.map((s, i) => (spec.series.length > 1 ? `${s.label} ` : '') + fmt(data[i + 1][last])).join(' · ');
    fig.dataset.points = String(data[0].length);
  }

  function opts(width) {
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border') } };
    return {
      width, height: spec.height || 180,
      legend: { show: spec.series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, lo, hi) => [spec.min ?? Math.min(0, lo), Math.max(spec.max ?? 0, hi * 1.1 || 1)] } },
      axes: [axis, { ...axis, size: 64, values: (_u, vals) => vals.map(fmt), ...(spec.int ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : {}) }],
      series: [{}, ...spec.series.map((s, i) => ({
        label: s.label, stroke: cssVar(s.color || PALETTE[i % PALETTE.length]), width: 2,
        fill: i === 0 ? cssVar('--accent-soft') : undefined,
        value: (_u, v) => (v == null ? '–' : fmt(v)),
      }))],
    };
  }

  loadUPlot().then((UPlot) => {
    if (dead) return;
    fill(box);
    u = new UPlot(opts(Math.max(box.clientWidth, 200)), data, box);
    ro = new ResizeObserver(() => { if (u && box.clientWidth) u.setSize({ width: box.clientWidth, height: spec.height || 180 }); });
    ro.observe(box);
    fig.dataset.ready = 'true';
  }, () => {
    if (dead) return;
    fill(box, h('p', { class: 'chart-empty muted' }, 'Charts are not available (the chart library did not load); latest value above.'));
  });

  return {
    setData(xs, ...ys) {
      data = [xs, ...ys];
      if (u) u.setData(data);
      showNow();
    },
    destroy() {
      dead = true;
      if (ro) ro.disconnect();
      if (u) u.destroy();
    },
  };
}
