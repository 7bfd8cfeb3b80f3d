// The kizuki hub dashboard: one page, four views (Overview, Telescope,
// Survey, Sources), data from the hub's API v1 only. Which views show
// depends on the signed-in role: findings are for admins and operators
// (an operator's own, as the hub scopes them); interval stats are for all.

import * as api from './api.js';
import { el } from './dom.js';
import { table, addrKey } from './table.js';
import { lineChart, barChart, COLOURS } from './chart.js';
import { iso, epoch, asnText } from './fmt.js';

const $ = (id) => document.getElementById(id);

const BIN_SEC = { '5m': 300, '1h': 3600, '1d': 86400 };
// How far back each bin size looks from the newest data: 288, 168 and 90 bins.
const WINDOW = { '5m': 86400, '1h': 7 * 86400, '1d': 90 * 86400 };
const TOP_PORTS = 10;
const KINDS = ['infected', 'scanner', 'dos-victim', 'port-surge', 'survey'];
const SURVEY_STATES = ['new', 'notified', 'persisting', 'reopened', 'remediated', 'unreachable', 'gone'];
const OPEN = ['new', 'notified', 'persisting', 'reopened'];
const FEEDBACK = ['acknowledged', 'fixed', 'false-positive'];

const state = { me: null, summary: null, found: {}, complete: {}, bin: '1h', measure: 'avg_packets_per_sensor' };

function status(text, bad) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('bad', !!bad);
  s.hidden = !text;
}

function canFindings() {
  return state.me.role === 'admin' || state.me.role === 'operator';
}

const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
const countOf = (counts, kind, states) =>
  states ? states.reduce((a, s) => a + ((counts[kind] || {})[s] || 0), 0) : sum(counts[kind]);

let regionNames = null;
try {
  regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
} catch {
  regionNames = null;
}
function countryName(cc) {
  if (!cc) return 'unknown';
  try {
    return (regionNames && regionNames.of(cc)) || cc;
  } catch {
    return cc;
  }
}

// ------------------------------------------------------------ columns

const col = {
  ip: { key: 'ip', label: 'Address', sort: (r) => addrKey(r.ip) },
  asn: { key: 'asns', label: 'AS', value: (r) => asnText(r.asns), sort: (r) => (r.asns && r.asns[0]) || null },
  cc: { key: 'geo', label: 'Country' },
  first: { key: 'first_seen', label: 'First seen (UTC)' },
  last: { key: 'last_seen', label: 'Last seen (UTC)' },
  state: { key: 'state', label: 'State' },
  ticket: { key: 'ticket', label: 'Ticket' },
  d: (key, label, isNum) => ({ key, label, num: !!isNum, value: (r) => (r.detail ? r.detail[key] ?? null : null) }),
};

function sourceColumns(what) {
  return [col.ip, { key: 'identifier', label: what }, col.d('fingerprint_basis', 'Fingerprint basis'),
    col.d('packets', 'Packets', true), col.d('unique_destinations', 'Dest.', true), col.d('ports', 'Ports'),
    col.first, col.last, col.asn, col.cc, col.state];
}

function truncNote(kind) {
  if (state.complete[kind]) return null;
  return `Showing the ${state.found[kind].length} most recent; the totals above count them all.`;
}

// ----------------------------------------------------------- overview

function card(key, label, value, sub) {
  return el('div', { class: 'card', 'data-card': key },
    el('span', { class: 'label' }, label),
    el('span', { class: 'value' }, String(value)),
    sub ? el('span', { class: 'sub' }, sub) : null);
}

function drawTotals(packets) {
  const cards = [];
  const f = state.summary.findings;
  if (f) {
    const k = f.by_kind;
    cards.push(card('infected', 'Infected hosts', countOf(k, 'infected'), `${countOf(k, 'infected', ['active'])} active`));
    cards.push(card('scanner', 'Scanners', countOf(k, 'scanner'), `${countOf(k, 'scanner', ['active'])} active`));
    cards.push(card('dos-victim', 'DoS victims', countOf(k, 'dos-victim'), `${countOf(k, 'dos-victim', ['active'])} active`));
    cards.push(card('port-surge', 'Port surges', countOf(k, 'port-surge')));
    cards.push(card('survey-open', 'Survey: open', countOf(k, 'survey', OPEN),
      `of ${countOf(k, 'survey')} services; ${countOf(k, 'survey', ['remediated'])} remediated`));
  }
  cards.push(card('packets', 'Packets in the graph', packets === null ? '–' : packets, 'all ports, all sensors'));
  $('totals').replaceChildren(...cards);
}

async function drawPorts() {
  const ext = state.summary.stats[state.bin];
  if (!ext) {
    $('ports-range').textContent = 'No interval statistics yet.';
    lineChart($('ports-chart'), { label: 'Top ports', yLabel: '', series: [], from: 0, to: 1, bin: 1 });
    $('ports-table').replaceChildren();
    drawTotals(null);
    return;
  }
  const bin = BIN_SEC[state.bin];
  const to = Math.ceil(epoch(ext.end) / bin) * bin;
  const from = Math.max(to - WINDOW[state.bin], Math.floor(epoch(ext.first) / bin) * bin);
  const r = await api.statsPorts(iso(from), iso(to), state.bin);
  const ports = new Map();
  let total = 0;
  for (const row of r.series) {
    const key = `${row.port}/${row.proto}`;
    let p = ports.get(key);
    if (!p) {
      p = { key, port: row.port, proto: row.proto, packets: 0, per_sensor: 0, peak_unique: 0, bins: new Map() };
      ports.set(key, p);
    }
    p.packets += row.packets;
    p.per_sensor += row.avg_packets_per_sensor;
    p.peak_unique = Math.max(p.peak_unique, row.unique_sources);
    p.bins.set(epoch(row.start), row);
    total += row.packets;
  }
  const ranked = [...ports.values()].sort((a, b) => b.packets - a.packets || a.port - b.port);
  ranked.forEach((p, i) => {
    p.rank = i + 1;
    p.share = total ? (100 * p.packets) / total : 0;
  });
  const top = ranked.slice(0, TOP_PORTS);
  const series = top.map((p) => {
    const points = [];
    for (let t = from; t < to; t += bin) {
      const row = p.bins.get(t);
      points.push({ t, v: row ? row[state.measure] : 0 });
    }
    return { name: p.key, points };
  });
  const mlabel = $('measure').selectedOptions[0].textContent;
  $('ports-range').textContent = `${iso(from)} to ${iso(to)}, ${state.bin} bins, top ${top.length} of ${ranked.length} ports by packets; y: ${mlabel}`;
  lineChart($('ports-chart'), { label: `Top destination ports, ${mlabel} per ${state.bin} bin`, yLabel: mlabel, series, from, to, bin });
  table($('ports-table'), {
    id: 'top-ports', label: 'top ports', rows: ranked, sortKey: 'rank',
    columns: [
      { key: 'rank', label: 'Rank', num: true },
      { key: 'key', label: 'Port', sort: (p) => p.port * 4 + (p.proto === 'tcp' ? 0 : 1),
        show: (p) => (p.rank <= TOP_PORTS ? el('span', {}, el('span', { class: 'swatch', style: `background:${COLOURS[p.rank - 1]}` }), p.key) : p.key) },
      { key: 'packets', label: 'Packets', num: true },
      { key: 'per_sensor', label: 'Packets per sensor', num: true, value: (p) => Number(p.per_sensor.toFixed(2)) },
      { key: 'peak_unique', label: 'Peak unique sources per bin', num: true },
      { key: 'share', label: '% of packets', num: true, value: (p) => Number(p.share.toFixed(2)) },
    ],
    note: 'Packets per sensor: each bin\'s packets divided by the sensors that saw the port in it, summed over the bins (TSUBAME\'s measure). Unique sources cannot be added up across bins: the peak is the largest bin.',
  });
  drawTotals(total);
}

function drawRecent() {
  const all = KINDS.flatMap((k) => state.found[k] || []);
  all.sort((a, b) => (a.last_seen < b.last_seen ? 1 : a.last_seen > b.last_seen ? -1 : 0));
  table($('recent'), {
    id: 'recent-findings', label: 'recent findings', rows: all.slice(0, 10),
    columns: [col.last, { key: 'kind', label: 'Kind' }, { key: 'identifier', label: 'What' }, col.ip,
      { key: 'port', label: 'Port', num: true }, col.asn, col.cc, col.state, col.ticket],
    empty: 'No findings yet.',
  });
}

// ---------------------------------------------------------- telescope

function drawTelescope() {
  table($('infected'), { id: 'infected-hosts', label: 'infected hosts', rows: state.found.infected, columns: sourceColumns('Family'),
    sortKey: 'last_seen', sortDesc: true, empty: 'No infected hosts.', note: truncNote('infected') });
  table($('scanners'), { id: 'scanners', label: 'scanners', rows: state.found.scanner, columns: sourceColumns('Tool'),
    sortKey: 'last_seen', sortDesc: true, empty: 'No scanners.', note: truncNote('scanner') });
  const dos = state.found['dos-victim'];
  const span = (f) => {
    const d = f.detail || {};
    const s = Math.min(epoch(f.first_seen), d.start ? epoch(d.start) : Infinity);
    const e = Math.max(epoch(f.last_seen), d.end ? epoch(d.end) : -Infinity);
    return [s, e];
  };
  if (dos.length) {
    const spans = dos.map(span);
    const lo = Math.min(...spans.map((s) => s[0]));
    const hi = Math.max(...spans.map((s) => s[1]));
    const bin = hi - lo <= 12 * 3600 ? 300 : hi - lo <= 14 * 86400 ? 3600 : 86400;
    const from = Math.floor(lo / bin) * bin;
    const to = Math.floor(hi / bin) * bin + bin;
    const bars = [];
    for (let t = from; t < to; t += bin) {
      const v = spans.filter(([s, e]) => s < t + bin && e >= t).length;
      if (v) bars.push({ t, v });
    }
    const name = bin === 300 ? '5-minute' : bin === 3600 ? '1-hour' : '1-day';
    $('dos-range').textContent = `${iso(from)} to ${iso(to)}, victims under attack per ${name} bin`;
    barChart($('dos-chart'), { label: `DoS victims under attack per ${name} bin`, yLabel: 'victims', bars, from, to, bin, unit: 'victims' });
  } else {
    $('dos-range').textContent = '';
    $('dos-chart').replaceChildren(el('p', { class: 'empty' }, 'No DoS victims.'));
  }
  table($('dos'), {
    id: 'dos-victims', label: 'DoS victims', rows: dos, sortKey: 'last_seen', sortDesc: true, empty: 'No DoS victims.',
    columns: [{ ...col.ip, label: 'Victim' }, col.d('start', 'Attack start (UTC)'), col.d('end', 'Attack end (UTC)'),
      col.d('packets', 'Packets', true), col.d('max_ppm', 'Max packets/min', true),
      col.d('est_rate_pps', 'Est. rate (pps)', true), col.last, col.asn, col.cc, col.state],
    note: truncNote('dos-victim'),
  });
  table($('surges'), {
    id: 'port-surges', label: 'port surges', rows: state.found['port-surge'], sortKey: 'first_seen', sortDesc: true,
    empty: 'No port surges.',
    columns: [{ key: 'port', label: 'Port', num: true }, { key: 'transport', label: 'Transport' },
      col.d('sources', 'Sources', true), col.d('baseline', 'Baseline', true), col.d('sensor', 'Sensor'),
      { ...col.first, label: 'Interval (UTC)' }, col.state],
    note: truncNote('port-surge'),
  });
}

// ------------------------------------------------------------- survey

function feedbackControl(f) {
  const sel = el('select', { 'aria-label': `Report back on ${f.ticket}` },
    el('option', { value: '' }, 'Report back…'), ...FEEDBACK.map((v) => el('option', { value: v }, v)));
  sel.addEventListener('change', async () => {
    if (!sel.value) return;
    try {
      const r = await api.feedback(f.finding_id, sel.value);
      // Read the findings again: the hub's record of it (time included).
      const got = await api.findings('survey');
      state.found.survey = got.list;
      state.complete.survey = got.complete;
      drawSurvey();
      status(`Feedback "${r.feedback}" recorded on ${f.ticket}.`);
    } catch (e) {
      status(`Feedback on ${f.ticket} failed: ${e.message}`, true);
      sel.value = '';
    }
  });
  return sel;
}

function drawSurvey() {
  const byAsn = (state.summary.findings && state.summary.findings.by_asn) || [];
  const rows = byAsn.filter((a) => countOf(a.counts, 'survey') > 0).map((a) => {
    const r = { asn: a.asn, name: a.name, total: countOf(a.counts, 'survey'), open: countOf(a.counts, 'survey', OPEN) };
    for (const s of SURVEY_STATES) r[s] = countOf(a.counts, 'survey', [s]);
    return r;
  });
  table($('survey-operators'), {
    id: 'survey-operators', label: 'survey findings per operator', rows, sortKey: 'open', sortDesc: true,
    empty: 'No survey findings.',
    columns: [{ key: 'asn', label: 'AS', value: (r) => 'AS' + r.asn, sort: (r) => r.asn }, { key: 'name', label: 'Operator' },
      { key: 'total', label: 'Services', num: true }, { key: 'open', label: 'Open', num: true },
      ...SURVEY_STATES.map((s) => ({ key: s, label: s, num: true }))],
  });
  table($('survey-findings'), {
    id: 'survey-findings', label: 'survey findings', rows: state.found.survey, sortKey: 'last_seen', sortDesc: true,
    empty: 'No survey findings.',
    columns: [col.ticket, col.ip, { key: 'port', label: 'Port', num: true }, { key: 'application', label: 'App' },
      { key: 'status', label: 'Status' }, col.asn,
      ...(state.me.role === 'operator' ? [] : [{ key: 'as_name', label: 'Operator' }]), col.state,
      col.first, col.last, { key: 'count', label: 'Seen', num: true },
      { key: 'feedback', label: 'Feedback', value: (r) => (r.feedback ? `${r.feedback} ${r.feedback_at || ''}`.trim() : null),
        show: (r) => el('span', { class: 'fb' }, r.feedback ? el('span', {}, `${r.feedback} ${r.feedback_at || ''}`.trim()) : null, feedbackControl(r)) }],
    note: truncNote('survey'),
  });
}

// ------------------------------------------------------------ sources

function sourceRows(list, keyOf) {
  const rows = list.map((x) => ({
    ...keyOf(x),
    infected: countOf(x.counts, 'infected'),
    scanner: countOf(x.counts, 'scanner'),
    dos: countOf(x.counts, 'dos-victim'),
    survey: countOf(x.counts, 'survey'),
    total: Object.keys(x.counts).reduce((a, k) => a + countOf(x.counts, k), 0),
  }));
  for (const r of rows) r.other = r.total - r.infected - r.scanner - r.dos - r.survey;
  const max = Math.max(1, ...rows.map((r) => r.total));
  return { rows, max };
}

function barCell(max) {
  return {
    key: 'bar', label: 'Share', value: () => null,
    show: (r) => el('span', { class: 'hbar', role: 'presentation' }, el('span', { style: `width:${((100 * r.total) / max).toFixed(1)}%` })),
  };
}

const COUNT_COLS = [{ key: 'infected', label: 'Infected', num: true }, { key: 'scanner', label: 'Scanners', num: true },
  { key: 'dos', label: 'DoS victims', num: true }, { key: 'survey', label: 'Survey', num: true },
  { key: 'other', label: 'Surges, other', num: true },
  { key: 'total', label: 'Total', num: true }];

function drawSources() {
  const f = state.summary.findings;
  const c = sourceRows(f.by_country, (x) => ({ cc: x.cc, country: countryName(x.cc) }));
  table($('by-country'), {
    id: 'by-country', label: 'findings by country', rows: c.rows, sortKey: 'total', sortDesc: true,
    empty: 'No findings.', columns: [{ key: 'cc', label: 'Code' }, { key: 'country', label: 'Country' }, ...COUNT_COLS, barCell(c.max)],
    note: f.by_country.some((x) => !x.cc) ? 'unknown: no country for the address (the hub runs without --mmdb, or the mmdb has none).' : null,
  });
  const a = sourceRows(f.by_asn, (x) => ({ asn: x.asn, name: x.name }));
  table($('by-asn'), {
    id: 'by-asn', label: 'findings by AS', rows: a.rows, sortKey: 'total', sortDesc: true, empty: 'No attributed findings.',
    columns: [{ key: 'asn', label: 'AS', value: (r) => 'AS' + r.asn, sort: (r) => r.asn }, { key: 'name', label: 'Operator' },
      ...COUNT_COLS, barCell(a.max)],
    note: 'A finding on a multi-origin prefix counts under every origin AS.',
  });
}

// ------------------------------------------------------------ routing

function show() {
  let view = location.hash.replace(/^#/, '') || 'overview';
  const link = document.querySelector(`nav a[data-view="${view}"]`);
  if (!link || link.hidden) view = 'overview';
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.dataset.view !== view;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${link && !link.hidden ? link.textContent : 'Overview'} · kizuki hub`;
}

async function main() {
  $('signout').addEventListener('click', () => api.signOut());
  state.me = await api.session();
  const me = state.me;
  document.body.dataset.role = me.role;
  $('who').textContent = `${me.name} (${me.role}${me.role === 'operator' ? ', ' + asnText(me.asns) : ''})`;
  for (const n of document.querySelectorAll('[data-needs="findings"]')) n.hidden = !canFindings();
  for (const r of document.querySelectorAll('input[name="bin"]')) {
    r.addEventListener('change', () => {
      state.bin = r.value;
      drawPorts().catch(fail);
    });
  }
  $('measure').addEventListener('change', () => {
    state.measure = $('measure').value;
    drawPorts().catch(fail);
  });
  window.addEventListener('hashchange', show);
  show();
  state.summary = await api.summary();
  if (canFindings()) {
    const got = await Promise.all(KINDS.map((k) => api.findings(k)));
    KINDS.forEach((k, i) => {
      state.found[k] = got[i].list;
      state.complete[k] = got[i].complete;
    });
  }
  await drawPorts();
  if (canFindings()) {
    drawRecent();
    drawTelescope();
    drawSurvey();
    drawSources();
  }
  status('');
  document.body.dataset.ready = 'true';
}

function fail(e) {
  status(`Could not load: ${e.message}`, true);
}

main().catch(fail);
