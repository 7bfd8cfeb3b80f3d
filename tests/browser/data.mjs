// The dashboard test's data: telescope and survey records (docs/records.md,
// ids computed here with the documented hash, not by the hub) and interval
// stats for two sensors, together with what the dashboard should show for
// them. Expected values are derived from the same inputs by the rules the
// contract states (sums of packets, per-sensor averages, counts of
// findings, survey lifecycle), not copied from the hub.

import { createHash } from 'node:crypto';
import { iso } from './lib.mjs';

export function kizukiId(domain, ...fields) {
  const h = createHash('sha256');
  for (const f of [domain, ...fields]) {
    const b = Buffer.from(String(f), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len);
    h.update(b);
  }
  return h.digest('hex').slice(0, 32);
}

// Where each test network is: pfx2as and mmdb are written from this.
export const NETS = [
  { prefix: '192.0.2.0', len: 24, asn: 64496, cc: 'JP', name: 'ISP A', contact: 'abuse@isp-a.example' },
  { prefix: '198.51.100.0', len: 24, asn: 64497, cc: 'US', name: 'ISP B', contact: 'abuse@isp-b.example' },
  { prefix: '203.0.113.0', len: 24, asn: 64498, cc: 'DE', name: 'ISP C', contact: 'abuse@isp-c.example' },
];

export function netOf(ip) {
  const p = ip.split('.').slice(0, 3).join('.') + '.0';
  return NETS.find((n) => n.prefix === p) || null;
}

const TLP = { infected: 'AMBER', scanner: 'GREEN', dos: 'AMBER', surge: 'GREEN', survey: 'AMBER' };

function base(feed, tlp, tsource, interval) {
  return {
    'feed.name': feed,
    'time.observation': iso(tsource + 5),
    'time.source': iso(tsource),
    tlp,
    'extra.tlp': tlp,
    ...(interval === undefined ? {} : { 'extra.interval_start': iso(interval) }),
  };
}

// One telescope source observation (infected host or scanner).
function sourceRecord(o) {
  const infected = o.kind === 'infected';
  const fid = kizukiId('kizuki/finding/1', o.ident, o.ip);
  return {
    ...base('kizuki-telescope', infected ? TLP.infected : TLP.scanner, o.last, o.interval),
    'classification.taxonomy': infected ? 'malicious-code' : 'information-gathering',
    'classification.type': infected ? 'infected-system' : 'scanner',
    'classification.identifier': o.ident,
    'source.ip': o.ip,
    'source.port': o.sport,
    'extra.sensor': o.sensor,
    'extra.packets': o.packets,
    'extra.unique_destinations': o.udest,
    'extra.ports': o.ports,
    'extra.fingerprint_basis': o.basis,
    'extra.first_seen': iso(o.first),
    'extra.last_seen': iso(o.last),
    'extra.finding_id': fid,
    'extra.observation_id': kizukiId('kizuki/observation/1', fid, 'interval', o.sensor, iso(o.interval)),
  };
}

function dosRecord(o) {
  const fid = kizukiId('kizuki/finding/1', 'backscatter', o.ip);
  return {
    ...base('kizuki-telescope', TLP.dos, o.end, o.interval),
    'classification.taxonomy': 'availability',
    'classification.type': 'ddos',
    'classification.identifier': 'backscatter',
    'destination.ip': o.ip,
    'extra.sensor': o.sensor,
    'extra.packets': o.packets,
    'extra.start': iso(o.start),
    'extra.end': iso(o.end),
    'extra.max_ppm': o.max_ppm,
    'extra.est_rate_pps': o.est_rate_pps,
    'extra.finding_id': fid,
    'extra.observation_id': kizukiId('kizuki/observation/1', fid, 'interval', o.sensor, iso(o.interval)),
  };
}

function surgeRecord(o) {
  const fid = kizukiId('kizuki/finding/1', 'port-surge', o.sensor, o.transport, String(o.port), iso(o.interval));
  return {
    ...base('kizuki-telescope', TLP.surge, o.interval, o.interval),
    'classification.taxonomy': 'other',
    'classification.type': 'other',
    'classification.identifier': 'port-surge',
    'destination.port': o.port,
    'protocol.transport': o.transport,
    'extra.sensor': o.sensor,
    'extra.sources': o.sources,
    'extra.baseline': o.baseline,
    'extra.finding_id': fid,
    'extra.observation_id': kizukiId('kizuki/observation/1', fid, 'interval', o.sensor, iso(o.interval)),
  };
}

const SURVEY_IDENT = {
  'login-possible': ['vulnerable', 'vulnerable-system', 'weak-credentials'],
  'no-auth': ['vulnerable', 'vulnerable-system', 'no-auth'],
};

function surveyRecord(o) {
  const [tax, type, ident] = SURVEY_IDENT[o.status] || ['vulnerable', 'potentially-unwanted-accessible', 'accessible-' + o.app];
  const fid = kizukiId('kizuki/finding/1', 'survey', o.ip, String(o.port), o.app);
  return {
    ...base('kizuki-survey', TLP.survey, o.t),
    'classification.taxonomy': tax,
    'classification.type': type,
    'classification.identifier': ident,
    'source.ip': o.ip,
    'source.port': o.port,
    'protocol.application': o.app,
    'protocol.transport': 'tcp',
    'extra.status': o.status,
    'extra.run_id': o.run,
    'extra.scanner_ip': '198.18.0.1',
    'extra.finding_id': fid,
    'extra.observation_id': kizukiId('kizuki/observation/1', fid, 'run', o.run),
  };
}

// The survey lifecycle of CONTRACT.md for the statuses used here, with no
// report delivered: a first verdict makes a finding "new"; login-failed
// after a weak verdict remediates it; a weak verdict after that reopens it.
function surveyState(statuses) {
  let state = null, weak = false;
  for (const s of statuses) {
    const isWeak = s === 'login-possible' || s === 'no-auth';
    if (state === null) state = 'new';
    else if (isWeak && state === 'remediated') state = 'reopened';
    else if (!isWeak && weak && state !== 'remediated') state = 'remediated';
    weak = isWeak;
  }
  return state;
}

// Builds everything for a run whose newest data lies just before `now`.
export function build(now) {
  const H = 3600;
  const t0 = Math.floor(now / H) * H - 6 * H; // six whole hours of data
  const events = [];
  const expect = { findings: [], stats: null, t0 };

  const add = (kind, ip, extra) => expect.findings.push({ kind, ip, net: ip ? netOf(ip) : null, ...extra });

  // Infected hosts and scanners. 192.0.2.10 is seen twice: the dashboard
  // shows the latest observation's measurements.
  const sources = [
    { kind: 'infected', ident: 'mirai', ip: '192.0.2.10', sport: 40312, packets: 118, udest: 97, ports: [23, 2323],
      basis: 'mirai: tcp.seq == ip.dst in 112 of 118 packets', first: t0 + 600, last: t0 + 655, interval: t0 + 600, sensor: 'tokyo-1' },
    { kind: 'infected', ident: 'mirai', ip: '192.0.2.10', sport: 40999, packets: 240, udest: 201, ports: [23, 2323],
      basis: 'mirai: tcp.seq == ip.dst in 231 of 240 packets', first: t0 + 600, last: t0 + 2 * H + 50, interval: t0 + 2 * H, sensor: 'tokyo-1' },
    { kind: 'infected', ident: 'mirai', ip: '192.0.2.11', sport: 51000, packets: 64, udest: 60, ports: [23],
      basis: 'mirai: tcp.seq == ip.dst in 60 of 64 packets', first: t0 + H, last: t0 + H + 40, interval: t0 + H, sensor: 'osaka-1' },
    { kind: 'infected', ident: 'mirai', ip: '198.51.100.20', sport: 33000, packets: 77, udest: 70, ports: [23, 2323],
      basis: 'mirai: tcp.seq == ip.dst in 75 of 77 packets', first: t0 + 3 * H, last: t0 + 3 * H + 30, interval: t0 + 3 * H, sensor: 'tokyo-1' },
    { kind: 'infected', ident: 'mirai', ip: '203.0.113.30', sport: 34000, packets: 55, udest: 50, ports: [2323],
      basis: 'mirai: tcp.seq == ip.dst in 50 of 55 packets', first: t0 + 4 * H, last: t0 + 4 * H + 20, interval: t0 + 4 * H, sensor: 'osaka-1' },
    { kind: 'scanner', ident: 'zmap', ip: '192.0.2.50', sport: 54321, packets: 40, udest: 40, ports: [80],
      basis: 'zmap: ip.id == 54321 in 40 of 40 packets', first: t0 + 1800, last: t0 + 1850, interval: t0 + 1800, sensor: 'tokyo-1' },
    { kind: 'scanner', ident: 'masscan', ip: '198.51.100.60', sport: 61000, packets: 300, udest: 290, ports: [445, 8080],
      basis: 'masscan: ip.id == (ip.dst ^ tcp.dport ^ tcp.seq) & 0xffff in 300 of 300 packets', first: t0 + 2 * H, last: t0 + 2 * H + 59, interval: t0 + 2 * H, sensor: 'osaka-1' },
    { kind: 'scanner', ident: 'nmap', ip: '198.51.100.61', sport: 45000, packets: 25, udest: 25, ports: [22],
      basis: 'nmap: window 1024, MSS 1460 only, TTL <= 59 in 25 of 25 packets', first: t0 + 5 * H, last: t0 + 5 * H + 10, interval: t0 + 5 * H, sensor: 'tokyo-1' },
    { kind: 'scanner', ident: 'scanner', ip: '203.0.113.70', sport: 1234, packets: 150, udest: 120, ports: [8080],
      basis: 'no tool fingerprint: 120 distinct destinations', first: t0 + 5 * H, last: t0 + 5 * H + 30, interval: t0 + 5 * H, sensor: 'osaka-1' },
  ];
  for (const s of sources) events.push(sourceRecord(s));
  const latest = new Map();
  for (const s of sources) latest.set(s.ip, s); // the later entry is the later observation
  for (const s of latest.values())
    add(s.kind, s.ip, { identifier: s.ident, packets: s.packets, basis: s.basis, ports: s.ports,
      first: Math.min(...sources.filter((x) => x.ip === s.ip).map((x) => x.last)), last: s.last, state: 'active' });

  const dos = [
    { ip: '192.0.2.80', start: t0 + H + 60, end: t0 + H + 1200, packets: 5120, max_ppm: 1900, est_rate_pps: 1100000.5, interval: t0 + H + 1140, sensor: 'tokyo-1' },
    { ip: '198.51.100.90', start: t0 + 2 * H + 100, end: t0 + 3 * H + 100, packets: 20000, max_ppm: 800, est_rate_pps: 250000.25, interval: t0 + 3 * H + 60, sensor: 'osaka-1' },
    { ip: '203.0.113.95', start: t0 + 2 * H + 1800, end: t0 + 2 * H + 2400, packets: 900, max_ppm: 300, est_rate_pps: 40000.75, interval: t0 + 2 * H + 2340, sensor: 'tokyo-1' },
  ];
  for (const d of dos) {
    events.push(dosRecord(d));
    add('dos-victim', d.ip, { packets: d.packets, max_ppm: d.max_ppm, start: d.start, end: d.end, first: d.end, last: d.end, state: 'active' });
  }

  const surge = { port: 37215, transport: 'tcp', sources: 412, baseline: 12.5, interval: t0 + 3 * H, sensor: 'tokyo-1' };
  events.push(surgeRecord(surge));
  add('port-surge', null, { port: 37215, sources: 412, state: 'active' });

  // Survey: two runs an hour apart.
  const runs = [
    { run: 'run-1', t: t0 + 4 * H, results: [
      ['192.0.2.1', 23, 'telnet', 'login-possible'], ['192.0.2.2', 2323, 'telnet', 'no-auth'],
      ['192.0.2.3', 22, 'ssh', 'login-failed'], ['198.51.100.1', 23, 'telnet', 'login-possible'],
      ['198.51.100.2', 80, 'http', 'login-possible'], ['203.0.113.5', 23, 'telnet', 'login-possible']] },
    { run: 'run-2', t: t0 + 5 * H, results: [
      ['192.0.2.1', 23, 'telnet', 'login-possible'], ['198.51.100.1', 23, 'telnet', 'login-failed']] },
  ];
  const services = new Map();
  for (const r of runs) {
    r.results.forEach(([ip, port, app, status], i) => {
      const t = r.t + i * 7;
      events.push(surveyRecord({ ip, port, app, status, run: r.run, t }));
      const k = `${ip}:${port}/${app}`;
      const s = services.get(k) || { ip, port, app, statuses: [], times: [] };
      s.statuses.push(status);
      s.times.push(t);
      services.set(k, s);
    });
  }
  for (const s of services.values())
    add('survey', s.ip, { port: s.port, app: s.app, status: s.statuses.at(-1), state: surveyState(s.statuses),
      first: Math.min(...s.times), last: Math.max(...s.times), count: s.statuses.length });

  expect.stats = buildStats(t0);
  return { events, stats: expect.stats.lines, expect };
}

// Interval stats: two sensors, 60-second intervals over six hours; port
// 53/udp only at osaka-1, the 37215/tcp surge in the fourth hour only.
function buildStats(t0) {
  const sensors = ['tokyo-1', 'osaka-1'];
  const ports = [
    ['tcp', 23, 40], ['tcp', 2323, 18], ['tcp', 445, 12], ['tcp', 80, 9], ['tcp', 8080, 7], ['tcp', 22, 5],
    ['tcp', 81, 3], ['tcp', 5555, 2], ['udp', 53, 4], ['tcp', 37215, 25], ['tcp', 7547, 1], ['tcp', 3389, 1],
  ];
  const lines = [];
  for (let i = 0; i < 360; i++) {
    const start = t0 + i * 60;
    sensors.forEach((sensor, si) => {
      for (const [proto, port, base] of ports) {
        if (port === 53 && sensor !== 'osaka-1') continue;
        if (port === 37215 && (i < 180 || i >= 240)) continue;
        if ((port === 7547 || port === 3389) && i % 10) continue;
        const trend = [1, 1.3, 1.1, 1.6, 1.2, 0.9][(Math.floor(i / 60) + port) % 6]; // hourly shape
        const packets = Math.round(base * (1 + ((i * 7 + si * 3 + port) % 5)) * trend) + si;
        const unique = 1 + ((i * 3 + port + si) % Math.max(1, Math.floor(base / 2)));
        lines.push({ sensor, darknet_size: 256, interval_start: start, interval_len: 60, proto, port, packets, unique_sources: unique });
      }
    });
  }
  return { lines, t0 };
}

// What the ports graph and table show for one bin size over [from, to):
// per port, per bin: packets, sensors, average per sensor, unique sources
// (the largest sketchless count, since the lines carry no sketch).
export function portsTruth(lines, bin, from, to) {
  const ports = new Map();
  for (const l of lines) {
    if (l.interval_start < from || l.interval_start >= to) continue;
    const key = `${l.port}/${l.proto}`;
    const b = Math.floor(l.interval_start / bin) * bin;
    const p = ports.get(key) || { key, port: l.port, packets: 0, bins: new Map() };
    const x = p.bins.get(b) || { packets: 0, sensors: new Set(), unique: 0 };
    x.packets += l.packets;
    x.sensors.add(l.sensor);
    x.unique = Math.max(x.unique, l.unique_sources);
    p.bins.set(b, x);
    p.packets += l.packets;
    ports.set(key, p);
  }
  const list = [...ports.values()].sort((a, b) => b.packets - a.packets || a.port - b.port);
  for (const p of list) {
    p.perSensor = 0;
    p.peakUnique = 0;
    for (const x of p.bins.values()) {
      x.avg = x.packets / x.sensors.size;
      p.perSensor += x.avg;
      p.peakUnique = Math.max(p.peakUnique, x.unique);
    }
  }
  return list;
}
