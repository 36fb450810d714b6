// The Overview tab of a sandbox page: its settings, live usage, memory and
// CPU charts, and a one-shot command box.
// Charts: the per-sandbox entries of GET /api/v1/analytics (10 s samples,
// the daemon keeps 24 h), then the metrics.sample events while the page is open.
import { api, sbPath } from '../api.js';
import { h, fill, fmtBytes, fmtDuration } from '../dom.js';
import * as live from './live.js';
import { lineChart } from './chart.js';
import { loading, errorBox, defs } from './ui.js';

const RANGES = [[300, '5 min'], [3600, '1 h']];
const pct = (v) => (v == null ? '–' : `${Math.round(v * 10) / 10}%`);

export function mountInfo(el, { id, sandbox }) {
  let range = 300;
  let points = [];           // [{t, mem, limit, cpu, pids, disk}]
  let gen = 0;
  const expires = Date.parse(sandbox.expires_at);
  const created = Date.parse(sandbox.created_at);
  const ttl = h('span', { id: 'sb-ttl' });
  const cmds = h('span', { id: 'sb-commands' }, String(sandbox.commands_executed ?? 0));
  const uptime = h('span', { id: 'sb-uptime' });
  const usage = h('div', { class: 'cards' });
  const chartStatus = h('div', { class: 'status-line' });
  const memEl = h('div', { class: 'chart-slot' });
  const cpuEl = h('div', { class: 'chart-slot' });
  const buttons = RANGES.map(([secs, label]) => h('button', {
    type: 'button', class: 'seg', id: `sb-range-${secs}`, 'aria-pressed': String(secs === range),
    onclick: () => { range = secs; load(); },
  }, label));
  const net = sandbox.network || {};
  const lim = sandbox.limits || {};
  const llm = sandbox.llm;

  const cmd = h('input', { id: 'exec-command', type: 'text', placeholder: 'uname -a', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Command' });
  const runBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'exec-run' }, 'Run');
  const out = h('div', { id: 'exec-result', 'aria-live': 'polite' });
  const execForm = h('form', { class: 'exec-form', onsubmit: run }, cmd, runBtn);

  fill(el, h('div', { class: 'sbinfo' },
    h('div', { class: 'grid-2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Settings'), defs([
        ['Status', sandbox.status + (sandbox.failure_reason ? ` (${sandbox.failure_reason})` : '')],
        ['Image', sandbox.image],
        ['Created', new Date(created).toLocaleString()],
        ['Uptime', uptime],
        ['Time left', ttl],
        ['Network', `${net.mode || 'none'}${net.group ? ` (group ${net.group})` : ''}`],
        ['IP address', net.ip || '–'],
        ['Memory limit', lim.memory], ['CPUs', lim.cpus], ['Max processes', lim.pids], ['Disk', lim.disk],
        ['Commands run', cmds],
        ['Agent', sandbox.opencode_url ? (llm ? `${llm.model || 'no model'}${llm.provider ? ` via ${llm.provider}` : ''}${llm.api_key_set ? ' (key set)' : ''}` : 'enabled') : 'disabled'],
      ])),
      h('div', { class: 'panel' }, h('h2', {}, 'Run a command'),
        h('p', { class: 'muted' }, 'Runs once with sh -c, 30 s at most. For a shell, use the Terminal tab.'),
        execForm, out)),
    h('div', { class: 'page-head' }, h('h2', {}, 'Usage'),
      h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' }, buttons)),
    usage, chartStatus,
    h('div', { class: 'chart-grid chart-grid-2' }, memEl, cpuEl)));

  const charts = [
    lineChart(memEl, { id: 'sb-memory', title: 'Memory', series: [{ label: 'used' }], fmt: fmtBytes }),
    lineChart(cpuEl, { id: 'sb-cpu', title: 'CPU (100% = one core)', series: [{ label: 'CPU' }], fmt: pct, max: 100 * (lim.cpus || 1) }),
  ];

  function tick() {
    const now = Date.now();
    uptime.textContent = fmtDuration((now - created) / 1000);
    ttl.textContent = Number.isFinite(expires) ? fmtDuration((expires - now) / 1000) : '–';
  }
  tick();
  const timer = setInterval(tick, 1000);

  function draw() {
    const xs = points.map((p) => p.t);
    charts[0].setData(xs, points.map((p) => p.mem));
    charts[1].setData(xs, points.map((p) => p.cpu));
    const last = points[points.length - 1];
    const u = sandbox.usage || {};
    const mem = last ? last.mem : u.memory_bytes;
    const limit = last ? last.limit : u.memory_limit_bytes;
    fill(usage,
      card('Memory', fmtBytes(mem), limit ? `of ${fmtBytes(limit)}` : ''),
      card('CPU', last ? pct(last.cpu) : '–', `limit ${lim.cpus ?? '–'} CPU`),
      card('Processes', String(last ? last.pids : (u.pids ?? '–')), `of ${lim.pids ?? '–'}`),
      card('Disk', fmtBytes(last && last.disk != null ? last.disk : u.disk_bytes), u.disk_limit_bytes ? `of ${fmtBytes(u.disk_limit_bytes)}` : ''),
      u.oom_kills ? card('OOM kills', String(u.oom_kills), 'the memory limit was hit') : null);
    fill(chartStatus, points.length ? null
      : h('p', { class: 'muted' }, 'No samples of this sandbox yet: the daemon takes one every 10 seconds.'));
  }

  function pick(sample) {
    const s = (sample.sandboxes || []).find((x) => x.id === id);
    return s && { t: sample.timestamp, mem: s.memory_bytes, limit: s.memory_limit_bytes, cpu: s.cpu_percent, pids: s.pids, disk: s.disk_bytes };
  }

  async function load() {
    const my = ++gen;
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.id === `sb-range-${range}`));
    fill(chartStatus, loading('Loading metrics…'));
    try {
      const r = await api('GET', `/api/v1/analytics?range=${range}`);
      if (my !== gen) return;
      points = ((r && r.samples) || []).map(pick).filter(Boolean);
      draw();
    } catch (e) {
      if (my === gen) fill(chartStatus, errorBox(e, load));
    }
  }

  async function run(ev) {
    ev.preventDefault();
    const command = cmd.value.trim();
    if (!command) { cmd.focus(); return; }
    runBtn.disabled = true;
    fill(out, loading('Running…'));
    try {
      const r = await api('POST', sbPath(id, 'exec'), { command, timeout: 30 });
      fill(out, h('div', { class: 'exec-out' },
        h('p', { class: r.exit_code === 0 ? 'ok' : 'bad', id: 'exec-exit' },
          `exit ${r.exit_code} · ${r.duration_ms} ms${r.timed_out ? ' · timed out' : ''}${r.oom_killed ? ' · killed: out of memory' : ''}`),
        r.stdout ? h('pre', { class: 'output', id: 'exec-stdout' }, r.stdout) : null,
        r.stderr ? h('pre', { class: 'output stderr', id: 'exec-stderr' }, r.stderr) : null,
        !r.stdout && !r.stderr ? h('p', { class: 'muted' }, 'No output.') : null));
    } catch (e) {
      fill(out, errorBox(e));
    } finally {
      runBtn.disabled = false;
    }
  }

  const unsubscribe = live.subscribe((type, data) => {
    if (type === 'metrics.sample' && data) {
      const p = pick(data);
      if (!p) return;
      points.push(p);
      while (points.length && points[0].t < p.t - range) points.shift();
      draw();
    } else if (type === 'exec.finished' && data && data.id === id) {
      sandbox.commands_executed = (sandbox.commands_executed || 0) + 1;
      cmds.textContent = String(sandbox.commands_executed);
    }
  });
  draw();
  load();

  return {
    unmount() {
      gen++;
      clearInterval(timer);
      unsubscribe();
      for (const c of charts) c.destroy();
    },
  };
}

function card(title, value, sub) {
  return h('div', { class: 'card' }, h('div', { class: 'card-title' }, title),
    h('div', { class: 'card-value' }, value), h('div', { class: 'card-sub muted' }, sub));
}
