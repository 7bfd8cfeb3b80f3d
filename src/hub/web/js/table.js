// Tables: sortable columns (a button in each header), a text filter, and
// the rows as CSV to copy or download. Cells hold plain text, so a number
// selected with the mouse copies as the digits shown.

import { el } from './dom.js';

// A column: {key, label, num, value(row) -> raw value (sorting, CSV),
// show(row) -> text or Node (optional), sort(row) -> sort key (optional)}.
function raw(col, row) {
  return col.value ? col.value(row) : row[col.key];
}

function sortKey(col, row) {
  return col.sort ? col.sort(row) : raw(col, row);
}

function compare(a, b) {
  const na = a === null || a === undefined || a === '';
  const nb = b === null || b === undefined || b === '';
  if (na || nb) return na === nb ? 0 : na ? 1 : -1; // empty cells last
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en');
}

function csvCell(v) {
  if (v === null || v === undefined) return '';
  let s = Array.isArray(v) ? v.join(' ') : String(v);
  // A spreadsheet would run a cell that starts like a formula.
  if (/^[=+@]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function toCsv(columns, rows) {
  const lines = [columns.map((c) => csvCell(c.label)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(raw(c, r))).join(','));
  return lines.join('\r\n') + '\r\n';
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the selection way
    }
  }
  const ta = el('textarea', { class: 'offscreen', 'aria-hidden': 'true' }, text);
  document.body.append(ta);
  ta.select();
  let done = false;
  try {
    done = document.execCommand('copy');
  } catch {
    done = false;
  }
  ta.remove();
  return done;
}

// Ipv4 and IPv6 addresses as strings that sort in address order.
export function addrKey(ip) {
  if (!ip) return '';
  if (ip.includes('.') && !ip.includes(':'))
    return '4' + ip.split('.').map((o) => o.padStart(3, '0')).join('.');
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const mid = Array(Math.max(0, 8 - h.length - t.length)).fill('0');
  return '6' + [...h, ...mid, ...t].map((g) => g.padStart(4, '0')).join(':');
}

// Renders a table into container. opts: {id, label, columns, rows,
// sortKey, sortDesc, empty, note}. Returns nothing; the table keeps its own
// sort and filter state.
export function table(container, opts) {
  const { columns, rows } = opts;
  let sortCol = columns.find((c) => c.key === opts.sortKey) || null;
  let desc = !!opts.sortDesc;
  let filter = '';
  const tbody = el('tbody');
  const count = el('span', { class: 'count' });
  const msg = el('span', { class: 'msg', role: 'status' });
  const heads = columns.map((c) => {
    const b = el('button', { type: 'button' }, c.label);
    const th = el('th', { scope: 'col', class: c.num ? 'num' : '', 'data-col': c.key }, b);
    b.addEventListener('click', () => {
      desc = sortCol === c ? !desc : !!c.num;
      sortCol = c;
      draw();
    });
    return th;
  });

  function visible() {
    let list = rows;
    if (filter) {
      const f = filter.toLowerCase();
      list = list.filter((r) =>
        columns.some((c) => {
          const v = raw(c, r);
          return v !== null && v !== undefined && String(v).toLowerCase().includes(f);
        }),
      );
    }
    if (sortCol) {
      list = [...list].sort((a, b) => {
        const d = compare(sortKey(sortCol, a), sortKey(sortCol, b));
        return desc ? -d : d;
      });
    }
    return list;
  }

  function draw() {
    const list = visible();
    for (const th of heads) {
      const on = sortCol && th.dataset.col === sortCol.key;
      th.setAttribute('aria-sort', on ? (desc ? 'descending' : 'ascending') : 'none');
    }
    tbody.replaceChildren(
      ...list.map((r) =>
        el(
          'tr',
          r.finding_id ? { 'data-id': r.finding_id } : {},
          ...columns.map((c) => {
            const v = c.show ? c.show(r) : raw(c, r);
            const text = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : v;
            return el('td', { class: c.num ? 'num' : '', 'data-col': c.key }, text);
          }),
        ),
      ),
    );
    if (!list.length)
      tbody.append(
        el('tr', {}, el('td', { colspan: String(columns.length), class: 'empty' }, opts.empty || 'Nothing here.')),
      );
    const n = (k) => `${k} row${k === 1 ? '' : 's'}`;
    count.textContent = list.length === rows.length ? n(rows.length) : `${list.length} of ${n(rows.length)}`;
  }

  const search = el('input', { type: 'search', 'aria-label': `Filter ${opts.label}` });
  search.addEventListener('input', () => {
    filter = search.value.trim();
    draw();
  });
  const copy = el('button', { type: 'button' }, 'Copy CSV');
  copy.addEventListener('click', async () => {
    const ok = await copyText(toCsv(columns, visible()));
    msg.textContent = ok ? 'Copied.' : 'Copy failed: use Download CSV.';
  });
  const dl = el('button', { type: 'button' }, 'Download CSV');
  dl.addEventListener('click', () => {
    const blob = new Blob([toCsv(columns, visible())], { type: 'text/csv' });
    const a = el('a', { href: URL.createObjectURL(blob), download: (opts.id || 'table') + '.csv' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
  const tools = el(
    'div',
    { class: 'tbl-tools' },
    el('label', {}, 'Filter ', search),
    count,
    copy,
    dl,
    msg,
  );
  const tbl = el(
    'table',
    { id: opts.id || null },
    el('caption', { class: 'sr-only' }, opts.label),
    el('thead', {}, el('tr', {}, ...heads)),
    tbody,
  );
  const parts = [tools, el('div', { class: 'tbl-wrap' }, tbl)];
  if (opts.note) parts.push(el('p', { class: 'note' }, opts.note));
  container.replaceChildren(...parts);
  draw();
}
