// Charts drawn by hand in SVG: a line chart (one line per series, a
// legend whose entries switch lines on and off) and a bar chart. Every
// point and bar carries its exact value in a <title> (the browser's
// tooltip) and in data-t / data-v; the tables beside the charts hold the
// same numbers as text.

import { el, svg } from './dom.js';
import { iso } from './fmt.js';

// Colours after Okabe and Ito, darkened where needed to keep 3:1 contrast
// on white (WCAG for graphics).
export const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#AD5F8C', '#B8860B', '#00838F', '#000000',
  '#8C564B', '#7F7F7F', '#6A3D9A'];

const H = 280, ML = 64, MR = 16, MT = 12, MB = 40;
// The drawing's width in user units: the page's, so that text keeps its
// size (a hidden view's figure has no width of its own yet).
let W = 960;
function fitWidth(figure) {
  const w = figure.clientWidth || Math.min(1568, document.documentElement.clientWidth - 62);
  W = Math.max(480, Math.round(w));
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function yAxis(g, max, integer) {
  const step = max > 0 ? Math.max(integer ? 1 : 0, niceStep(max, 4)) : 1;
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (v) => H - MB - (v / top) * (H - MT - MB);
  const digits = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  for (let v = 0; v <= top + step / 2; v += step) {
    g.append(svg('line', { x1: ML, x2: W - MR, y1: y(v), y2: y(v), class: 'grid' }));
    g.append(svg('text', { x: ML - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, v.toFixed(digits)));
  }
  return y;
}

const STEPS = [300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400,
  14 * 86400, 30 * 86400];

function xAxis(g, from, to) {
  const x = (t) => ML + ((t - from) / Math.max(1, to - from)) * (W - ML - MR);
  const step = STEPS.find((s) => (to - from) / s <= 8) || STEPS[STEPS.length - 1];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const s = iso(t);
    const label = step < 86400 ? s.slice(5, 10) + ' ' + s.slice(11, 16) : s.slice(0, 10);
    g.append(svg('line', { x1: x(t), x2: x(t), y1: H - MB, y2: H - MB + 4, class: 'axis' }));
    const anchor = x(t) > W - MR - 40 ? 'end' : x(t) < ML + 40 ? 'start' : 'middle';
    g.append(svg('text', { x: x(t), y: H - MB + 18, class: 'tick', 'text-anchor': anchor }, label));
  }
  g.append(svg('line', { x1: ML, x2: W - MR, y1: H - MB, y2: H - MB, class: 'axis' }));
  return x;
}

function frame(label, yLabel) {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'plot' });
  root.append(svg('text', { x: 12, y: MT + (H - MT - MB) / 2, class: 'ylabel', transform: `rotate(-90 12 ${MT + (H - MT - MB) / 2})`, 'text-anchor': 'middle' }, yLabel));
  return root;
}

function fmtValue(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

// series: [{name, points: [{t, v}]}]; from/to in epoch seconds; bin in seconds.
export function lineChart(figure, { label, yLabel, series, from, to, bin }) {
  fitWidth(figure);
  const root = frame(label, yLabel);
  const max = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.v)));
  const y = yAxis(root, max);
  const x = xAxis(root, from, to);
  const lines = series.map((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const g = svg('g', { class: 'series', 'data-series': s.name, stroke: colour, fill: colour });
    const d = s.points.map((p, k) => `${k ? 'L' : 'M'}${x(p.t + bin / 2).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
    g.append(svg('path', { d, fill: 'none', 'stroke-width': 2 }));
    for (const p of s.points) {
      g.append(svg('circle', { cx: x(p.t + bin / 2).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5, 'data-t': iso(p.t), 'data-v': p.v },
        svg('title', {}, `${s.name} ${iso(p.t)}: ${fmtValue(p.v)}`)));
    }
    root.append(g);
    return { s, g, colour };
  });
  const legend = el('ul', { class: 'legend', 'aria-label': 'Legend: press to show or hide a line' },
    ...lines.map(({ s, g, colour }) => {
      const b = el('button', { type: 'button', 'aria-pressed': 'true', 'data-series': s.name },
        el('span', { class: 'swatch', style: `background:${colour}` }), s.name);
      b.addEventListener('click', () => {
        const on = b.getAttribute('aria-pressed') !== 'true';
        b.setAttribute('aria-pressed', String(on));
        g.style.display = on ? '' : 'none';
      });
      return el('li', {}, b);
    }));
  const parts = [root, legend];
  if (!series.length) parts.unshift(el('p', { class: 'empty' }, 'No data in this range.'));
  figure.replaceChildren(...parts);
}

// bars: [{t, v}] at bin starts.
export function barChart(figure, { label, yLabel, bars, from, to, bin, unit }) {
  fitWidth(figure);
  const root = frame(label, yLabel);
  const max = Math.max(0, ...bars.map((b) => b.v));
  const y = yAxis(root, max, true);
  const x = xAxis(root, from, to);
  const w = Math.max(1, x(from + bin) - x(from) - 1);
  const g = svg('g', { class: 'bars' });
  for (const b of bars) {
    g.append(svg('rect', { x: x(b.t).toFixed(1), y: y(b.v).toFixed(1), width: w.toFixed(1), height: (y(0) - y(b.v)).toFixed(1), 'data-t': iso(b.t), 'data-v': b.v },
      svg('title', {}, `${iso(b.t)}: ${b.v} ${unit}`)));
  }
  root.append(g);
  const parts = [root];
  if (!bars.length) parts.unshift(el('p', { class: 'empty' }, 'No data in this range.'));
  figure.replaceChildren(...parts);
}
