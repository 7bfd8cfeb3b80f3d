// Browser test of the dashboard of a running `kizuki demo` (started by
// tests/integration/demo_browser.sh). Every expected number is asked of the
// demo's hub through its API v1 (as admin, and as the operator), never
// written here: the test checks that the dashboard shows what the hub
// holds after a real round of telescope and survey, that an operator's
// page and every response it receives hold none of another operator's
// findings, and saves screenshots.
//
// Environment: KZ_HUB_URL, KZ_DEMO_OUT (the demo's --out: tokens/admin.token
// and tokens/AS<asn>.token), KZ_ARTIFACTS, KZ_PROFILE_DIR (a new, empty
// Chromium profile). Prints "ok:"/"FAIL:" lines and "N passed, N failed".

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireEnv, iso, check, hubApi, openDashboard, finish } from './lib.mjs';

const [HUB, OUT, ART, PROFILE] = requireEnv('KZ_HUB_URL', 'KZ_DEMO_OUT', 'KZ_ARTIFACTS', 'KZ_PROFILE_DIR');
const token = (name) => readFileSync(join(OUT, 'tokens', name + '.token'), 'utf8').trim();
const adminTok = token('admin');
const ME = 64496;
const operTok = token('AS' + ME);
const get = hubApi(HUB);
const api = (path, tok) => get('GET', path, tok);

async function allFindings(tok, kind) {
  const out = [];
  let cursor = '';
  for (;;) {
    const j = await api(`/api/v1/findings?limit=1000${kind ? '&kind=' + kind : ''}${cursor ? '&cursor=' + cursor : ''}`, tok);
    out.push(...j.findings);
    if (!j.next_cursor) return out;
    cursor = encodeURIComponent(j.next_cursor);
  }
}

// ------------------------------------------------------ the hub's view

const OPEN = ['new', 'notified', 'persisting', 'reopened'];
const summary = await api('/api/v1/summary', adminTok);
const byKind = summary.findings.by_kind;
const total = (kind, states) => Object.entries(byKind[kind] || {})
  .filter(([s]) => !states || states.includes(s)).reduce((a, [, n]) => a + n, 0);
const findings = await allFindings(adminTok);
check(findings.length === summary.findings.total, `the hub lists all ${summary.findings.total} findings`, findings.length);
for (const k of ['infected', 'scanner', 'dos-victim', 'port-surge', 'survey'])
  check(total(k) > 0, `the demo's hub holds ${k} findings (${total(k)})`);

// The 1-hour ports graph's window, as the dashboard anchors it: ending at
// the newest data, at most 7 days.
const end1h = Math.ceil(Date.parse(summary.stats['1h'].end) / 1000 / 3600) * 3600;
const from1h = Math.max(end1h - 7 * 86400, Math.floor(Date.parse(summary.stats['1h'].first) / 1000 / 3600) * 3600);
const ports = await api(`/api/v1/stats/ports?bin=1h&from=${iso(from1h)}&to=${iso(end1h)}`, adminTok);
const perPort = new Map();
for (const s of ports.series) {
  const key = `${s.port}/${s.proto}`;
  perPort.set(key, (perPort.get(key) || 0) + s.packets);
}
const portList = [...perPort.entries()].sort((a, b) => b[1] - a[1] || parseInt(a[0]) - parseInt(b[0]));
const packets = portList.reduce((a, [, n]) => a + n, 0);

// ------------------------------------------------------------ browser

const browser = await openDashboard({ hubUrl: HUB, artDir: ART, profileDir: PROFILE, readyTimeout: 60000 });
const { page, consoleErrors, signIn, view, rows, cardValue, shot } = browser;
const sameSet = (a, b) => a.length === b.length && JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
// An address as a whole word (198.18.128.3 must not match 198.18.128.32).
const hasAddr = (hay, ip) => new RegExp(`(^|[^0-9a-f.:])${ip.replace(/[.]/g, '\\.')}($|[^0-9a-f:]|\\.[^0-9])`, 'i').test(hay);

await finish(browser, 'demo-failure.png', async () => {
  // ---------------------------------------------------------- admin
  await signIn(adminTok);
  check((await page.textContent('#who')).includes('demo-admin (admin'), 'the header names the demo\'s admin');
  check(await cardValue('infected') === String(total('infected')), 'card: infected hosts = the hub\'s', await cardValue('infected'));
  check(await cardValue('scanner') === String(total('scanner')), 'card: scanners = the hub\'s');
  check(await cardValue('dos-victim') === String(total('dos-victim')), 'card: DoS victims = the hub\'s');
  check(await cardValue('port-surge') === String(total('port-surge')), 'card: port surges = the hub\'s');
  check(await cardValue('survey-open') === String(total('survey', OPEN)), 'card: open survey findings = the hub\'s');
  check(await cardValue('packets') === String(packets), 'card: packets in the 1-hour graph = the stats API\'s', [await cardValue('packets'), packets]);
  const legend = await page.$$eval('#ports-chart .legend button', (bs) => bs.map((b) => b.dataset.series));
  check(JSON.stringify(legend) === JSON.stringify(portList.slice(0, 10).map(([k]) => k)),
    'the graph\'s lines are the top 10 ports by packets, in order', { legend, api: portList.slice(0, 10) });
  const ptab = await rows('top-ports');
  check(ptab.length === portList.length && portList.every(([k, n], i) => ptab[i].key === k && ptab[i].packets === String(n)),
    `the ports table: all ${portList.length} ports with their packets, in order`, ptab.slice(0, 3));
  await shot('demo-overview.png');
  await shot('demo-overview-laptop.png', false);

  await view('telescope');
  for (const [id, kind] of [['infected-hosts', 'infected'], ['scanners', 'scanner'], ['dos-victims', 'dos-victim']]) {
    const got = (await rows(id)).map((r) => r.ip);
    const want = findings.filter((f) => f.kind === kind).map((f) => f.ip);
    check(sameSet(got, want), `${id}: exactly the hub's ${want.length}`, { got: got.length, want: want.length });
  }
  {
    const got = await rows('dos-victims');
    const bad = findings.filter((f) => f.kind === 'dos-victim').filter((f) => {
      const r = got.find((x) => x.ip === f.ip);
      return !r || r.packets !== String(f.detail.packets) || r.asns !== f.asns.map((a) => 'AS' + a).join(' ');
    });
    check(bad.length === 0, 'DoS victims: packets and AS as the hub has them', bad.map((f) => f.ip));
    const surges = await rows('port-surges');
    const want = findings.filter((f) => f.kind === 'port-surge');
    check(surges.length === want.length && want.every((f) => surges.some((r) => r.port === String(f.port) &&
      r.sources === String(f.detail.sources))), 'port surges: port and sources as the hub has them', { surges, want: want.map((f) => [f.port, f.detail]) });
  }
  await shot('demo-telescope.png');

  await view('survey');
  {
    const ops = await rows('survey-operators');
    const bad = summary.findings.by_asn.filter((a) => a.counts.survey).filter((a) => {
      const r = ops.find((x) => x.asn === 'AS' + a.asn);
      const n = Object.values(a.counts.survey).reduce((x, y) => x + y, 0);
      return !r || r.name !== a.name || r.total !== String(n);
    });
    check(ops.length === 16 && bad.length === 0, 'survey per operator: the 16 operators, names and services as the hub counts them', ops.slice(0, 2));
    const sf = await rows('survey-findings');
    const want = findings.filter((f) => f.kind === 'survey');
    check(sf.length === want.length, `survey findings: all ${want.length}`, sf.length);
    const weak = want.filter((f) => f.status === 'login-possible');
    check(sf.filter((r) => r.status === 'login-possible').length === weak.length,
      `survey findings: ${weak.length} login-possible, as the hub has them`);
  }
  await shot('demo-survey.png');

  await view('sources');
  {
    const cc = await rows('by-country');
    const want = summary.findings.by_country.map((c) => c.cc || '');
    check(sameSet(cc.map((r) => r.cc), want), 'sources by country: the countries of the demo\'s mmdb', cc.map((r) => r.cc));
    const asr = await rows('by-asn');
    check(asr.length === summary.findings.by_asn.length, 'sources by AS: every AS the hub counts', asr.length);
  }
  await shot('demo-sources.png');

  // ------------------------------------------------------- operator
  await view('overview');
  await page.click('#signout');
  await page.waitForSelector('#t');
  const bodies = [], urls = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('response', (r) => bodies.push(r.text().then((t) => [r.url(), t], () => [r.url(), ''])));
  await signIn(operTok);
  check((await page.textContent('#who')).includes(`operator, AS${ME}`), 'the header names the operator and its AS');
  const mine = findings.filter((f) => (f.asns || []).includes(ME));
  const others = findings.filter((f) => f.ip && !(f.asns || []).includes(ME));
  check(mine.length > 0 && others.length > 0, `the demo gives AS${ME} ${mine.length} findings and the others ${others.length}`);
  const n = (kind, st) => mine.filter((f) => f.kind === kind && (!st || st.includes(f.state))).length;
  check(await cardValue('infected') === String(n('infected')), 'operator card: its own infected hosts only');
  check(await cardValue('survey-open') === String(n('survey', OPEN)), 'operator card: its own open survey findings only');
  for (const v of ['telescope', 'survey', 'sources']) await view(v);
  const sf = await rows('survey-findings');
  check(sameSet(sf.map((r) => r.ip + ':' + r.port), mine.filter((f) => f.kind === 'survey').map((f) => f.ip + ':' + f.port)),
    'operator: the survey table holds exactly its own services', sf.length);
  await shot('demo-operator.png');
  await view('overview');

  const html = await page.content();
  const text = await page.evaluate(() => document.body.innerText);
  const otherNames = summary.findings.by_asn.filter((a) => a.asn !== ME).map((a) => a.name);
  const ids = others.flatMap((f) => [f.ticket, f.finding_id]);
  const inPage = [...others.map((f) => f.ip).filter((ip) => hasAddr(html, ip) || hasAddr(text, ip)),
    ...ids.filter((s) => html.includes(s)), ...otherNames.filter((s) => html.includes(s) || text.includes(s))];
  check(inPage.length === 0, `operator: none of ${others.length} other operators' findings (address, ticket, id) or names in the page`, inPage.slice(0, 10));
  const received = await Promise.all(bodies);
  const leaks = [];
  for (const [u, body] of received) {
    for (const f of others) if (hasAddr(body, f.ip) || body.includes(f.finding_id) || body.includes(f.ticket)) leaks.push([u, f.ip]);
    for (const s of otherNames) if (body.includes(s)) leaks.push([u, s]);
  }
  check(received.length > 5 && leaks.length === 0, `operator: none of them in any of the ${received.length} responses the page received`, leaks.slice(0, 5));
  check(urls.every((u) => !/[?&]asn=/.test(u)), 'operator: the page never names an AS in a request');
  check(consoleErrors.length === 0, 'no errors in the browser console', consoleErrors);
});
