#!/usr/bin/env python3
"""Checks a kizuki-gen trace against its ground truth, independently of the
generator's code: it parses the classic pcap itself, applies REFERENCE.md's
fingerprint rules to every packet, and recomputes from the packets what the
truth file claims (per-source packets and distinct destinations, victims'
backscatter and RS-DoS peaks, the surge port's sources per minute, junk and
outside-darknet counts, checksums, address ranges).

usage: gen_check.py TRACE.pcap[.gz] TRUTH.jsonl
Exit 0 when everything agrees; otherwise prints each disagreement and exits 1.
"""
import collections
import gzip
import ipaddress
import json
import struct
import sys

ALLOWED = [ipaddress.ip_network(n) for n in (
    "198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
    "2001:db8::/32", "2001:2::/48")]
TOOLS = ("mirai", "zmap", "masscan", "unicornscan", "nmap")

errors = []


def fail(msg):
    if len(errors) < 50:
        print("FAIL:", msg)
    errors.append(msg)


def name(b):
    return str(ipaddress.ip_address(bytes(b)))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def read_pcap(path):
    f = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    hdr = f.read(24)
    magic = struct.unpack("<I", hdr[:4])[0]
    if magic == 0xA1B2C3D4:
        div = 1000
    elif magic == 0xA1B23C4D:
        div = 1
    else:
        raise SystemExit("not a little-endian classic pcap")
    linktype = struct.unpack("<I", hdr[20:24])[0]
    if linktype != 1:
        fail("link type %d, expected Ethernet" % linktype)
    while True:
        rh = f.read(16)
        if len(rh) < 16:
            break
        sec, frac, caplen, origlen = struct.unpack("<IIII", rh)
        data = f.read(caplen)
        yield sec * 1000000000 + frac * div, data, origlen


class Pkt:
    __slots__ = ("ts", "fam", "src", "dst", "proto", "ttl", "ipid", "df", "sport",
                 "dport", "seq", "flags", "win", "opts", "l4", "frag", "icmp",
                 "quoted_dst", "srcb", "dstb", "l4raw")


def parse(ts, data, origlen):
    """Returns ("junk", kind) or ("ip", Pkt)."""
    if len(data) < 14:
        return "junk", "runt"
    et = struct.unpack("!H", data[12:14])[0]
    off = 14
    if et == 0x8100:
        et = struct.unpack("!H", data[16:18])[0]
        off = 18
    if et == 0x0806:
        return "junk", "arp"
    p = Pkt()
    p.ts = ts
    p.frag = False
    p.icmp = None
    p.quoted_dst = None
    ip = data[off:]
    if et == 0x0800:
        if len(ip) < 20:
            return "junk", "truncated"
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        if ip[0] >> 4 != 4 or ihl < 20 or tot < ihl:
            return "junk", "malformed-ip"
        ip = ip[:tot]
        p.fam = 4
        p.srcb, p.dstb = ip[12:16], ip[16:20]
        p.src, p.dst = p.srcb, int.from_bytes(p.dstb, "big")
        p.proto = ip[9]
        p.ttl = ip[8]
        p.ipid = struct.unpack("!H", ip[4:6])[0]
        fo = struct.unpack("!H", ip[6:8])[0]
        p.df = bool(fo & 0x4000)
        if csum(ip[:ihl]) != 0xFFFF:
            fail("%s: bad IPv4 header checksum" % name(p.srcb))
        if fo & 0x3FFF:
            p.frag = True
            if fo & 0x1FFF:
                p.l4 = None
                return "ip", p
        l4 = ip[ihl:]
        pseudo = p.srcb + p.dstb + struct.pack("!BBH", 0, p.proto, len(l4))
    elif et == 0x86DD:
        if len(ip) < 40:
            return "junk", "truncated"
        plen = struct.unpack("!H", ip[4:6])[0]
        p.fam = 6
        p.srcb, p.dstb = ip[8:24], ip[24:40]
        p.src, p.dst = p.srcb, int.from_bytes(p.dstb, "big")
        p.proto = ip[6]
        p.ttl = ip[7]
        p.ipid = None
        p.df = False
        l4 = ip[40:40 + plen]
        pseudo = p.srcb + p.dstb + struct.pack("!IxxxB", len(l4), p.proto)
    else:
        return "junk", "other-ethertype"
    p.l4raw = l4
    p.sport = p.dport = p.seq = p.flags = p.win = None
    p.opts = b""
    if p.proto == 6:
        p.sport, p.dport, p.seq, _ack, doff, p.flags, p.win = struct.unpack(
            "!HHIIBBH", l4[:16])
        p.opts = l4[20:(doff >> 4) * 4]
        if not p.frag and csum(pseudo + l4) != 0xFFFF:
            fail("%s: bad TCP checksum" % name(p.srcb))
    elif p.proto == 17:
        p.sport, p.dport = struct.unpack("!HH", l4[:4])
        if not p.frag and csum(pseudo + l4) != 0xFFFF:
            fail("%s: bad UDP checksum" % name(p.srcb))
    elif p.proto in (1, 58):
        p.icmp = (l4[0], l4[1])
        data_for_sum = l4 if p.proto == 1 else pseudo + l4
        if csum(data_for_sum) != 0xFFFF:
            fail("%s: bad ICMP checksum" % name(p.srcb))
        if p.proto == 1 and l4[0] in (3, 11) and len(l4) >= 28:
            p.quoted_dst = bytes(l4[8 + 16:8 + 20])
    p.l4 = l4
    return "ip", p


def initial_ttl(ttl):
    return 64 if ttl <= 64 else 128 if ttl <= 128 else 255


def is_syn(p):
    return p.proto == 6 and p.flags & 0x12 == 0x02


def rules(p):
    """The tool rules of REFERENCE.md this packet satisfies."""
    out = set()
    if p.fam != 4 or not is_syn(p):
        return out
    dst = p.dst
    if p.seq == dst and initial_ttl(p.ttl) == 64 and not p.opts and p.dport in (23, 2323):
        out.add("mirai")
    if p.ipid == (dst ^ p.dport ^ p.seq) & 0xFFFF and initial_ttl(p.ttl) == 255 and p.win == 1024:
        out.add("masscan")
    if p.ipid == 54321 and initial_ttl(p.ttl) == 255 and p.win == 65535:
        out.add("zmap")
    if p.win == 1024 and p.opts == b"\x02\x04\x05\xb4" and p.ttl <= 59:
        out.add("nmap")
    return out


def bswap(v):
    return struct.unpack("<I", struct.pack(">I", v))[0]


def unicorn_key(p, swapped):
    d = p.dst
    if swapped:
        d = bswap(d)
    return p.seq ^ d ^ (((p.dport << 16) + p.sport) & 0xFFFFFFFF)


def peaks(times):
    ns = 1000000000
    any60 = 0
    j = 0
    for i in range(len(times)):
        while j < len(times) and times[j] < times[i] + 60 * ns:
            j += 1
        any60 = max(any60, j - i)
    grid = 0
    if times:
        w = times[0] - times[0] % ns
        while w <= times[-1]:
            grid = max(grid, sum(1 for t in times if w <= t < w + 60 * ns))
            w += 10 * ns
    return grid, any60


def main():
    trace, truth_path = sys.argv[1], sys.argv[2]
    truth = [json.loads(line) for line in open(truth_path)]
    run = truth[0]
    if run["record"] != "run":
        raise SystemExit("the truth's first record is not the run")
    dark = [ipaddress.ip_network(n) for n in run["darknet"]]
    packed = lambda a: ipaddress.ip_address(a).packed
    sources = {packed(r["addr"]): r for r in truth if r["record"] == "source"}
    victims = {packed(r["addr"]): r for r in truth if r["record"] == "victim"}
    junk_truth = {r["kind"]: r["frames"] for r in truth if r["record"] == "junk"}
    surge = next((r for r in truth if r["record"] == "surge"), None)
    series = next((r for r in truth if r["record"] == "port-series"), None)

    frames = 0
    last_ts = -1
    junk = collections.Counter()
    per_src = collections.Counter()
    per_src_rules = collections.defaultdict(collections.Counter)
    per_port = collections.defaultdict(lambda: collections.defaultdict(set))
    port_pkts = collections.defaultdict(collections.Counter)
    unicorn = collections.defaultdict(lambda: (set(), set()))
    raw_ok = collections.Counter()
    victim_times = collections.defaultdict(list)
    outside = 0
    bins = collections.defaultdict(set)
    zmap_id_only = collections.Counter()
    seen_addr = set()
    dark_ranges = {4: [], 6: []}
    for n in dark:
        dark_ranges[n.version].append((int(n.network_address), int(n.broadcast_address)))

    for ts, data, origlen in read_pcap(trace):
        frames += 1
        if ts < last_ts:
            fail("timestamps go backwards at frame %d" % frames)
        last_ts = ts
        if len(data) < origlen and len(data) >= 14 and len(data) < 34:
            junk["truncated"] += 1
            continue
        kind, p = parse(ts, data, origlen)
        if kind == "junk":
            junk[p] += 1
            continue
        for a in (p.srcb, p.dstb):
            if a not in seen_addr:
                seen_addr.add(a)
                if not any(ipaddress.ip_address(bytes(a)) in n for n in ALLOWED):
                    fail("address %s outside the documentation/benchmarking ranges" % name(a))
        key = p.srcb
        per_src[key] += 1
        in_dark = any(lo <= p.dst <= hi for lo, hi in dark_ranges[p.fam])
        if not in_dark:
            outside += 1
            continue
        rs = rules(p)
        for rname in rs:
            per_src_rules[key][rname] += 1
        if p.fam == 4 and is_syn(p) and p.ipid == 54321:
            zmap_id_only[key] += 1
        if p.fam == 4 and is_syn(p) and p.win == 4096:
            unicorn[key][0].add(unicorn_key(p, False))
            unicorn[key][1].add(unicorn_key(p, True))
        if p.l4 is not None:
            if is_syn(p) or p.proto == 17:
                per_port[key][(p.proto, p.dport)].add(p.dst)
                port_pkts[key][(p.proto, p.dport)] += 1
                if series and p.proto == 6 and p.dport == series["port"]:
                    bins[(ts - series["start_ns"]) // (60 * 10**9)].add(key)
            elif p.icmp and p.icmp[0] in (8, 128):
                per_port[key][(p.proto, p.icmp[0])].add(p.dst)
                port_pkts[key][(p.proto, p.icmp[0])] += 1
        # Backscatter, keyed by victim (the quoted destination for ICMP errors).
        if p.proto == 6 and (p.flags & 0x12 == 0x12 or p.flags & 0x04):
            victim_times[key].append(ts)
        elif p.icmp and p.icmp[0] in (0, 129):
            victim_times[key].append(ts)
        elif p.icmp and p.icmp[0] in (3, 11):
            victim_times[p.quoted_dst].append(ts)

    # Totals.
    total_truth = sum(r["packets"] for r in sources.values()) + sum(junk_truth.values())
    if frames != run["packets"] or frames != total_truth:
        fail("frames %d, truth run %d, truth sources+junk %d" % (frames, run["packets"], total_truth))
    for k in set(junk) | set(junk_truth):
        if junk[k] != junk_truth.get(k, 0):
            fail("junk %s: %d frames, truth %d" % (k, junk[k], junk_truth.get(k, 0)))
    if outside != run["outside_packets"]:
        fail("outside-darknet packets %d, truth %d" % (outside, run["outside_packets"]))

    # Per source.
    for key, r in sources.items():
        addr = r["addr"]
        if per_src[key] != r["packets"]:
            fail("%s (%s): %d packets, truth %d" % (addr, r["kind"], per_src[key], r["packets"]))
        kind = r["kind"]
        got = per_src_rules[key]
        if kind in TOOLS and kind != "unicornscan":
            if got[kind] != r["packets"]:
                fail("%s (%s): %d of %d packets match its rule" % (addr, kind, got[kind], r["packets"]))
            for other in got:
                if other != kind:
                    fail("%s (%s): %d packets also match %s" % (addr, kind, got[other], other))
        elif kind != "unicornscan" and got:
            fail("%s (%s): packets match %s" % (addr, kind, dict(got)))
        if kind == "unicornscan":
            swapped = r["address_term"] == "byte-swapped"
            keys = unicorn[key][1 if swapped else 0]
            if keys != {r["scan_key"]}:
                fail("%s (unicornscan): keys %s, truth %s" % (addr, sorted(keys)[:3], r["scan_key"]))
        elif len(unicorn[key][0]) == 1 and per_src[key] >= 2 or len(unicorn[key][1]) == 1 and per_src[key] >= 2:
            fail("%s (%s): constant unicornscan key" % (addr, kind))
        if kind == "raw-socket" and zmap_id_only[key] != r["packets"]:
            fail("%s (raw-socket): %d of %d packets carry IP ID 54321" % (addr, zmap_id_only[key], r["packets"]))
        # Generic stacks never send IP ID 54321; tools with random IDs
        # (Mirai, nmap, unicornscan, masscan's hash) may, as the real ones do.
        if kind not in TOOLS + ("raw-socket",) and zmap_id_only[key]:
            fail("%s (%s): IP ID 54321" % (addr, kind))
        for port in r["ports"]:
            proto = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}[port["proto"]]
            dests = len(per_port[key][(proto, port["port"])])
            if kind != "misconfig" and dests != port["dests"]:
                fail("%s (%s) %s/%d: %d destinations, truth %d" % (addr, kind, port["proto"], port["port"], dests, port["dests"]))
        # The expectation follows from the definitions.
        dmax = max([len(v) for v in per_port[key].values()] or [0])
        scanner_kinds = ("mirai", "zmap", "masscan", "unicornscan", "nmap", "scanner",
                         "slow-scanner", "raw-socket", "ping-sweeper")
        rate_ok = r["family"] == 6 or (r.get("rate_basis") == "internet" and r["rate_pps"] >= 10)
        q = kind in scanner_kinds and dmax >= run["scanner_min_dests"] and rate_ok
        if kind in scanner_kinds and q != r["qualifies_scanner"]:
            fail("%s (%s): qualifies %s, truth %s" % (addr, kind, q, r["qualifies_scanner"]))
        exp = kind if kind in TOOLS and r["packets"] >= 5 else "scanner" if r["qualifies_scanner"] else None
        if exp != r["expect"]:
            fail("%s (%s): expect %s, truth %s" % (addr, kind, exp, r["expect"]))
        if kind == "slow-scanner" and r["qualifies_scanner"]:
            fail("%s: a slow scanner qualifies" % addr)

    # Victims.
    for key, v in victims.items():
        addr = v["addr"]
        times = sorted(victim_times.get(key, []))
        if len(times) != v["packets"]:
            fail("victim %s: %d backscatter packets, truth %d" % (addr, len(times), v["packets"]))
            continue
        grid, any60 = peaks(times)
        dur = (times[-1] - times[0]) / 1e9 if times else 0
        q = len(times) >= 25 and dur >= 60 and grid >= 30
        if grid != v["peak_60s"] or any60 != v["peak_60s_any"] or q != v["qualifies"]:
            fail("victim %s: peak %d/%d qualifies %s, truth %d/%d %s" % (
                addr, grid, any60, q, v["peak_60s"], v["peak_60s_any"], v["qualifies"]))
    for key in victim_times:
        if key not in victims:
            fail("backscatter for %s, which the truth does not list as a victim" % name(key))

    # The tracked port's sources per minute.
    if series:
        for i, n in enumerate(series["sources"]):
            if len(bins.get(i, ())) != n:
                fail("port %d bin %d: %d sources, truth %d" % (series["port"], i, len(bins.get(i, ())), n))
                break
    if surge and series:
        b = (surge["start_ns"] - series["start_ns"]) // (60 * 10**9)
        before = [len(bins.get(i, ())) for i in range(max(0, b - 30), b)]
        during = [len(bins.get(i, ())) for i in range(b, b + 5)]
        if before and during and min(during) < 3 * max(1, sum(before) / len(before)):
            fail("surge: %s sources per minute after a baseline of %s" % (during, before))

    counts = collections.Counter(r["kind"] for r in sources.values())
    print("checked %d frames, %d sources %s, %d victims, junk %s: %s" % (
        frames, len(sources), dict(counts), len(victims), dict(junk),
        "%d problems" % len(errors) if errors else "all agree"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
