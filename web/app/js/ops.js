// The operator page (#/ops, for admins named in config): every node with its state and
// since when, listener actors per node, placement balance, recent failovers with their
// durations, and live charts of this node's request rate, p99 and interactions/s. It
// polls GET /api/ops every two seconds while open; a listener who is no admin sees why
// not.

import { get } from './api.js';
import { h, setTitle, empty, fmtAgo } from './ui.js';

const POLL_MS = 2000;
const SVG = 'http://www.w3.org/2000/svg';

export async function renderOps(view) {
  setTitle('Operations');
  const body = h('div', { id: 'ops', 'aria-busy': 'true' });
  view.replaceChildren(h('section', { class: 'page' },
    h('header', { class: 'page-head' }, h('h1', {}, 'Cluster operations')),
    body));
  let stopped = false;
  let timer = null;
  view.cleanup = () => { stopped = true; clearTimeout(timer); };
  const tick = async () => {
    try {
      draw(body, await get('/api/ops'));
    } catch (e) {
      body.replaceChildren(empty(e.status === 403 ? 'Operators only' : 'Could not load the cluster', e.message));
      if (e.status === 403 || e.status === 401) return;
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  await tick();
}

function draw(body, ops) {
  const nodes = h('table', { class: 'ops-table', id: 'ops-nodes' },
    h('thead', {}, h('tr', {}, ['Node', 'State', 'Since', 'Listener actors', 'HTTP'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ops.nodes.map((n) => h('tr', { dataset: { node: n.id, state: n.state } },
      h('td', {}, n.id + (n.id === ops.self ? ' (this node)' : '')),
      h('td', {}, h('span', { class: `badge badge-${n.state}` }, n.state)),
      h('td', { title: new Date(n.since_ms).toISOString() }, fmtAgo(n.since_ms)),
      h('td', { class: 'num' }, n.state === 'gone' ? '–' : String(n.listeners)),
      h('td', {}, n.http_addr)))));
  const p = ops.placement;
  const placement = h('p', { id: 'ops-placement' },
    `${p.owners} node${p.owners === 1 ? '' : 's'} own ${p.listeners} active listener${p.listeners === 1 ? '' : 's'}; `,
    `busiest / mean = ${p.balance ? p.balance.toFixed(2) : '–'}`);
  const failovers = ops.failovers.length
    ? h('ul', { id: 'ops-failovers' }, ops.failovers.map((f) => h('li', {},
      `${f.node} lost ${fmtAgo(f.detected_ms)}: its ${f.listeners} listener${f.listeners === 1 ? '' : 's'} re-placed `,
      `${(f.duration_ms / 1000).toFixed(1)} s after its last heartbeat`)))
    : h('p', { id: 'ops-failovers', class: 'muted' }, 'No failover since this node started.');
  const s = ops.samples;
  const charts = h('div', { class: 'ops-charts' },
    chart('ops-chart-rate', 'Requests / s', s.map((x) => [x.t_ms, x.requests_per_s])),
    chart('ops-chart-p99', 'p99 (ms)', s.map((x) => [x.t_ms, x.p99_ms])),
    chart('ops-chart-interactions', 'Interactions / s', s.map((x) => [x.t_ms, x.interactions_per_s])));
  body.replaceChildren(
    h('h2', {}, 'Nodes'), nodes, placement,
    h('h2', {}, `Traffic on ${ops.self}`), charts,
    h('h2', {}, 'Recent failovers'), failovers);
}

/** A small line chart of [t_ms, value|null] points, the last five minutes. */
function chart(id, title, points) {
  const W = 320, H = 120, PAD = 28;
  const shown = points.slice(-300);
  const values = shown.map(([, v]) => v).filter((v) => v !== null && v !== undefined);
  const max = Math.max(1, ...values);
  const t0 = shown.length ? shown[0][0] : 0;
  const t1 = shown.length ? shown[shown.length - 1][0] : 1;
  const x = (t) => PAD + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD - 4);
  const y = (v) => H - 16 - (v / max) * (H - 28);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'ops-chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  el('line', { x1: PAD, y1: H - 16, x2: W - 4, y2: H - 16, class: 'axis' });
  el('line', { x1: PAD, y1: 12, x2: PAD, y2: H - 16, class: 'axis' });
  el('text', { x: PAD - 4, y: 16, 'text-anchor': 'end', class: 'tick' }, fmt(max));
  el('text', { x: PAD - 4, y: H - 16, 'text-anchor': 'end', class: 'tick' }, '0');
  let d = '';
  let pen = false;
  for (const [t, v] of shown) {
    if (v === null || v === undefined) { pen = false; continue; }
    d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  }
  if (d) el('path', { d, class: 'line' });
  const last = values.length ? values[values.length - 1] : null;
  return h('figure', { id, class: 'ops-figure', dataset: { points: String(values.length), max: String(values.length ? Math.max(...values) : 0) } },
    h('figcaption', {}, `${title}: ${last === null ? '–' : fmt(last)}`), svg);
}

function fmt(v) {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
