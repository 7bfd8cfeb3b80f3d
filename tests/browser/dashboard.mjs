// Browser test of the kizuki hub dashboard (run by
// tests/integration/dashboard_browser.sh, which starts the hub and makes
// the tokens). Loads the hub through its API with data.mjs's records and
// stats, then drives headless Debian Chromium with playwright-core and
// checks, as each role, that the dashboard shows exactly the numbers that
// follow from those inputs, that an operator's browser never receives
// another operator's findings, and saves screenshots.
//
// Environment: KZ_HUB_URL, KZ_TOKEN_DIR (tok-<name> files: the token on the
// first line), KZ_ARTIFACTS (screenshots go there), KZ_PROFILE_DIR (a new,
// empty Chromium profile). Prints "ok:"/"FAIL:" lines and "N passed, N failed".

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, portsTruth, NETS } from './data.mjs';
import { requireEnv, iso, check, hubApi, openDashboard, finish } from './lib.mjs';

const [HUB, TOKENS, ART, PROFILE] = requireEnv('KZ_HUB_URL', 'KZ_TOKEN_DIR', 'KZ_ARTIFACTS', 'KZ_PROFILE_DIR');
const token = (name) => readFileSync(join(TOKENS, 'tok-' + name), 'utf8').split('\n')[0].trim();
const near = (a, b) => Math.abs(Number(a) - Number(b)) < 1e-6 * Math.max(1, Math.abs(Number(b)));
const api = hubApi(HUB);

// ---------------------------------------------------------------- data

const now = Math.floor(Date.now() / 1000);
const data = build(now);
const exp = data.expect;
const sensorTok = token('tokyo-1'), adminTok = token('ops');
const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

const ev = await api('POST', '/api/v1/events', sensorTok, jsonl(data.events));
check(ev.accepted === data.events.length && ev.rejected === 0, `the hub accepted all ${data.events.length} records`, ev);
const st = await api('POST', '/api/v1/stats', sensorTok, jsonl(data.stats));
check(st.accepted === data.stats.length && st.rejected === 0, `the hub accepted all ${data.stats.length} stats lines`, st);

// The hub's own view, for values it assigns (tickets, finding ids) and the
// graphs' time range (which the dashboard anchors at the newest data).
const summary = await api('GET', '/api/v1/summary', adminTok);
const allFindings = (await api('GET', '/api/v1/findings?limit=1000', adminTok)).findings;
check(allFindings.length === exp.findings.length, `the hub holds the ${exp.findings.length} findings sent`, allFindings.length);
const byIp = new Map(allFindings.filter((f) => f.ip).map((f) => [`${f.kind} ${f.ip} ${f.port ?? ''}`, f]));
const hubFinding = (e) => byIp.get(`${e.kind} ${e.ip} ${e.kind === 'survey' ? e.port : allFindings.find((f) => f.ip === e.ip && f.kind === e.kind)?.port ?? ''}`);

function windowFor(bin) {
  const sec = { '5m': 300, '1h': 3600, '1d': 86400 }[bin];
  const span = { '5m': 86400, '1h': 7 * 86400, '1d': 90 * 86400 }[bin];
  const r = summary.stats[bin];
  const to = Math.ceil(Date.parse(r.end) / 1000 / sec) * sec;
  const from = Math.max(to - span, Math.floor(Date.parse(r.first) / 1000 / sec) * sec);
  return { sec, from, to };
}

const OPEN = ['new', 'notified', 'persisting', 'reopened'];
const count = (list, kind, pred = () => true) => list.filter((f) => f.kind === kind && pred(f)).length;

// ------------------------------------------------------------- browser

const browser = await openDashboard({ hubUrl: HUB, artDir: ART, profileDir: PROFILE });
const { page, consoleErrors, signIn, view, rows, cardValue, shot } = browser;
const points = (name) =>
  page.$$eval(`#ports-chart g.series[data-series="${name}"] circle`, (cs) => cs.map((c) => [c.dataset.t, c.dataset.v]));

async function checkPorts(bin, measure) {
  const w = windowFor(bin);
  const truth = portsTruth(data.stats, w.sec, w.from, w.to);
  const legend = await page.$$eval('#ports-chart .legend button', (bs) => bs.map((b) => b.dataset.series));
  check(JSON.stringify(legend) === JSON.stringify(truth.slice(0, 10).map((p) => p.key)),
    `${bin}: the legend lists the top 10 ports by packets, in order`, { legend, truth: truth.slice(0, 10).map((p) => p.key) });
  let bad = [];
  for (const p of truth.slice(0, 10)) {
    const pts = await points(p.key);
    const nbins = (w.to - w.from) / w.sec;
    if (pts.length !== nbins) bad.push(`${p.key}: ${pts.length} points, ${nbins} bins`);
    for (const [t, v] of pts) {
      const x = p.bins.get(Date.parse(t) / 1000);
      const want = !x ? 0 : measure === 'packets' ? x.packets : measure === 'unique_sources' ? x.unique : x.avg;
      if (!near(v, want)) bad.push(`${p.key} ${t}: ${v} != ${want}`);
    }
  }
  check(bad.length === 0, `${bin}: every point of the top 10 lines is the ${measure} of its bin`, bad.slice(0, 5));
  return truth;
}

await finish(browser, 'dashboard-failure.png', async () => {
  // ---------------------------------------------------------- admin
  await page.goto(HUB + '/');
  check((await page.title()).includes('Sign in'), 'before sign-in the hub serves the sign-in page');
  await page.fill('#t', 'not-a-token');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.getElementById('m').textContent.length > 0);
  check((await page.textContent('#m')).includes('wrong token'), 'a wrong token is refused on the sign-in page');
  consoleErrors.length = 0; // the refused sign-in's 401 is expected

  await signIn(adminTok);
  check((await page.textContent('#who')).includes('ops (admin'), 'the header names the signed-in admin');
  const F = exp.findings;
  check(await cardValue('infected') === String(count(F, 'infected')), 'card: infected hosts');
  check(await cardValue('scanner') === String(count(F, 'scanner')), 'card: scanners');
  check(await cardValue('dos-victim') === String(count(F, 'dos-victim')), 'card: DoS victims');
  check(await cardValue('port-surge') === String(count(F, 'port-surge')), 'card: port surges');
  check(await cardValue('survey-open') === String(count(F, 'survey', (f) => OPEN.includes(f.state))), 'card: open survey findings');

  // Top ports, 1-hour bins (the default): graph, table, packets card.
  const t1h = await checkPorts('1h', 'avg_packets_per_sensor');
  const w1h = windowFor('1h');
  const totalPackets = data.stats.filter((l) => l.interval_start >= w1h.from && l.interval_start < w1h.to)
    .reduce((a, l) => a + l.packets, 0);
  check(await cardValue('packets') === String(totalPackets), 'card: packets in the graph equal the stats sent', await cardValue('packets'));
  const ptab = await rows('top-ports');
  check(ptab.length === t1h.length, `the ports table lists all ${t1h.length} ports`);
  const badRows = t1h.filter((p, i) => !ptab[i] || ptab[i].key !== p.key || ptab[i].packets !== String(p.packets) ||
    !near(ptab[i].per_sensor, Number(p.perSensor.toFixed(2))) || ptab[i].peak_unique !== String(p.peakUnique) ||
    ptab[i].rank !== String(i + 1));
  check(badRows.length === 0, 'ports table: rank, packets, packets per sensor, peak unique sources', badRows.map((p) => p.key));
  await shot('dashboard-overview.png');

  await page.check('input[name="bin"][value="5m"]');
  await page.waitForFunction(() => document.getElementById('ports-range').textContent.includes('5m bins'));
  await checkPorts('5m', 'avg_packets_per_sensor');
  await page.selectOption('#measure', 'packets');
  await page.waitForFunction(() => document.getElementById('ports-range').textContent.includes('packets (all'));
  await checkPorts('5m', 'packets');
  await page.check('input[name="bin"][value="1d"]');
  await page.waitForFunction(() => document.getElementById('ports-range').textContent.includes('1d bins'));
  await checkPorts('1d', 'packets');
  await page.selectOption('#measure', 'avg_packets_per_sensor');
  await page.check('input[name="bin"][value="1h"]');
  await page.waitForFunction(() => document.getElementById('ports-range').textContent.includes('1h bins') &&
    document.getElementById('ports-range').textContent.includes('per sensor'));

  const recent = await rows('recent-findings');
  const newest = Math.max(...F.filter((f) => f.last).map((f) => f.last));
  check(recent.length === 10 && recent[0].last_seen === iso(newest), 'recent findings: ten, newest first', recent[0]);

  // Telescope.
  await view('telescope');
  for (const [id, kind] of [['infected-hosts', 'infected'], ['scanners', 'scanner']]) {
    const got = await rows(id);
    const want = F.filter((f) => f.kind === kind);
    check(JSON.stringify(got.map((r) => r.ip).sort()) === JSON.stringify(want.map((f) => f.ip).sort()),
      `${id}: exactly the sources sent, of every operator`, got.map((r) => r.ip));
    const bad = want.filter((e) => {
      const r = got.find((x) => x.ip === e.ip);
      return !r || r.identifier !== e.identifier || r.fingerprint_basis !== e.basis || r.packets !== String(e.packets) ||
        r.ports !== e.ports.join(' ') || r.first_seen !== iso(e.first) || r.last_seen !== iso(e.last) ||
        r.asns !== 'AS' + e.net.asn || r.geo !== e.net.cc || r.state !== e.state;
    });
    check(bad.length === 0, `${id}: fingerprint, basis, packets, ports, first/last seen, AS, country, state`,
      bad.map((e) => [e.ip, got.find((x) => x.ip === e.ip)]));
  }
  const dosRows = await rows('dos-victims');
  const dosWant = F.filter((f) => f.kind === 'dos-victim');
  const dosBad = dosWant.filter((e) => {
    const r = dosRows.find((x) => x.ip === e.ip);
    return !r || r.packets !== String(e.packets) || r.max_ppm !== String(e.max_ppm) || r.start !== iso(e.start) ||
      r.end !== iso(e.end) || r.asns !== 'AS' + e.net.asn;
  });
  check(dosRows.length === dosWant.length && dosBad.length === 0, 'DoS victims: start, end, packets, max ppm, AS', dosBad);
  {
    // Victims under attack per bin: the spans overlap the bin.
    const spans = dosWant.map((e) => [e.start, e.end]);
    const lo = Math.min(...spans.map((s) => s[0])), hi = Math.max(...spans.map((s) => s[1]));
    const bin = hi - lo <= 12 * 3600 ? 300 : 3600;
    const want = [];
    for (let t = Math.floor(lo / bin) * bin; t <= hi; t += bin) {
      const v = spans.filter(([s, e]) => s < t + bin && e >= t).length;
      if (v) want.push([iso(t), String(v)]);
    }
    const bars = await page.$$eval('#dos-chart rect[data-t]', (rs) => rs.map((r) => [r.dataset.t, r.dataset.v]));
    check(JSON.stringify(bars) === JSON.stringify(want), 'DoS graph: victims under attack per bin', { bars, want });
  }
  const surges = await rows('port-surges');
  check(surges.length === 1 && surges[0].port === '37215' && surges[0].sources === '412' && surges[0].baseline === '12.5',
    'port surges: port, sources, baseline', surges);
  await shot('dashboard-telescope.png');

  // Survey.
  await view('survey');
  const ops = await rows('survey-operators');
  const surveyF = F.filter((f) => f.kind === 'survey');
  const opBad = NETS.filter((n) => {
    const mine = surveyF.filter((f) => f.net.asn === n.asn);
    const r = ops.find((x) => x.asn === 'AS' + n.asn);
    return !r || r.name !== n.name || r.total !== String(mine.length) ||
      r.open !== String(mine.filter((f) => OPEN.includes(f.state)).length) ||
      ['new', 'remediated', 'reopened'].some((s) => r[s] !== String(mine.filter((f) => f.state === s).length));
  });
  check(ops.length === NETS.length && opBad.length === 0, 'survey per operator: services, open, new, remediated, reopened', ops);
  const sf = await rows('survey-findings');
  const sfBad = surveyF.filter((e) => {
    const h = hubFinding(e);
    const r = sf.find((x) => x.ip === e.ip && x.port === String(e.port));
    return !h || !r || r.ticket !== h.ticket || r.state !== e.state || r.count !== String(e.count) ||
      r.status !== e.status || r.first_seen !== iso(e.first) || r.last_seen !== iso(e.last) || r.as_name !== e.net.name;
  });
  check(sf.length === surveyF.length && sfBad.length === 0, 'survey findings: ticket, state, last status, count, first/last seen, operator', sfBad);
  await shot('dashboard-survey.png');

  // Sources.
  await view('sources');
  const cc = await rows('by-country');
  const ccBad = [...NETS.map((n) => n.cc), null].filter((code) => {
    const mine = F.filter((f) => (f.net ? f.net.cc : null) === code);
    const r = cc.find((x) => x.cc === (code || ''));
    return !r || r.total !== String(mine.length) || r.infected !== String(count(mine, 'infected')) ||
      r.scanner !== String(count(mine, 'scanner')) || r.dos !== String(count(mine, 'dos-victim')) ||
      r.survey !== String(count(mine, 'survey'));
  });
  check(cc.length === NETS.length + 1 && ccBad.length === 0, 'sources by country (and unknown for the port surge)', cc);
  const asr = await rows('by-asn');
  const asBad = NETS.filter((n) => {
    const mine = F.filter((f) => f.net && f.net.asn === n.asn);
    const r = asr.find((x) => x.asn === 'AS' + n.asn);
    return !r || r.name !== n.name || r.total !== String(mine.length) || r.infected !== String(count(mine, 'infected'));
  });
  check(asr.length === NETS.length && asBad.length === 0, 'sources by AS', asr);
  await shot('dashboard-sources.png');
  await view('overview');
  await shot('dashboard-overview-laptop.png', false);
  {
    // The admin sees every operator's findings: the same search that must
    // find nothing on the operator's page finds them all here.
    const html = await page.content();
    const missing = allFindings.filter((f) => !(f.asns || []).includes(64496))
      .flatMap((f) => [f.ip, f.finding_id, f.kind === 'survey' ? f.ticket : null]).filter((s) => s && !html.includes(s));
    check(missing.length === 0, 'admin: every other operator\'s address, finding id and survey ticket is in the page', missing);
  }

  // ------------------------------------------------------- operator
  await page.click('#signout');
  await page.waitForSelector('#t');
  check(true, 'sign-out returns to the sign-in page');
  const bodies = [], urls = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('response', (r) => bodies.push(r.text().then((t) => [r.url(), t], () => [r.url(), ''])));
  await signIn(token('isp-a'));
  const me = 64496;
  check((await page.textContent('#who')).includes('isp-a (operator, AS64496)'), 'the header names the operator and its AS');
  const mineF = F.filter((f) => f.net && f.net.asn === me);
  check(await cardValue('infected') === String(count(mineF, 'infected')), 'operator card: its own infected hosts only');
  check(await cardValue('survey-open') === String(count(mineF, 'survey', (f) => OPEN.includes(f.state))), 'operator card: its own open survey findings');
  for (const v of ['telescope', 'survey', 'sources']) await view(v);
  const infectedRows = await rows('infected-hosts');
  check(infectedRows.length === count(mineF, 'infected') && infectedRows.every((r) => r.asns === 'AS64496'),
    'operator: infected hosts are its own', infectedRows.map((r) => r.ip));
  const others = allFindings.filter((f) => !(f.asns || []).includes(me));
  const secrets = [...new Set([...others.flatMap((f) => [f.ip, f.ticket, f.finding_id]).filter(Boolean), 'ISP B', 'ISP C'])];
  const html = await page.content();
  const text = await page.evaluate(() => document.body.innerText);
  const inDom = [...secrets, 'AS64497', 'AS64498'].filter((s) => html.includes(s) || text.includes(s));
  check(inDom.length === 0, `operator: none of ${secrets.length} other operators' addresses, tickets, ids or names in the page`, inDom);

  // Feedback through the page: a write with the session's CSRF token.
  const target = mineF.find((f) => f.kind === 'survey' && f.state === 'new');
  const tf = hubFinding(target);
  await view('survey');
  await page.selectOption(`#survey-findings tr[data-id="${tf.finding_id}"] select`, 'acknowledged');
  await page.waitForFunction((t) => document.getElementById('status').textContent.includes(t), tf.ticket);
  check((await page.textContent('#status')).includes('recorded'), 'operator: feedback sent from the page is recorded');
  const after = (await api('GET', '/api/v1/findings?kind=survey&limit=1000', token('isp-a'))).findings
    .find((f) => f.finding_id === tf.finding_id);
  check(after && after.feedback === 'acknowledged', 'the hub stored the feedback', after && after.feedback);
  const fbRow = (await rows('survey-findings')).find((r) => r.ticket === tf.ticket);
  check(fbRow && fbRow.feedback === `acknowledged ${after.feedback_at}`, 'the table shows the feedback and when', fbRow);
  await shot('dashboard-operator.png');

  const received = await Promise.all(bodies);
  const leaks = [];
  for (const [url, body] of received)
    for (const s of [...secrets, ':64497', '[64497', ':64498', '[64498']) if (body.includes(s)) leaks.push([url, s]);
  check(received.length > 5 && leaks.length === 0, `operator: none of them in any of ${received.length} responses the page received`, leaks.slice(0, 5));
  check(urls.every((u) => !/[?&]asn=/.test(u)), 'operator: the page never names an AS in a request', urls.filter((u) => /asn=/.test(u)));

  // ---------------------------------------------------------- sensor
  await page.click('#signout');
  await page.waitForSelector('#t');
  await signIn(sensorTok);
  const navShown = await page.$$eval('nav a', (as) => as.filter((a) => !a.hidden).map((a) => a.dataset.view));
  check(JSON.stringify(navShown) === '["overview"]', 'sensor: only the overview (no findings views)', navShown);
  check(await cardValue('packets') === String(totalPackets), 'sensor: the ports graph and its packets');
  check(consoleErrors.length === 0, 'no errors in the browser console', consoleErrors);
});
