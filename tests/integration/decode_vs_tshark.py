#!/usr/bin/env python3
"""Compares the decoder (through kizuki-capdump) with Wireshark's dissectors
(tshark) on the hand-built frames of the fuzz corpus, one capture file per
link type: addresses, TTL, IP ID, ports, TCP sequence and window, ICMP type,
VLAN ids, and for ICMP errors the quoted packet's addresses and ports.
Frames the decoder rejects are left out; so are fields tshark does not show
(it waits for reassembly before showing a first fragment's ports).

usage: decode_vs_tshark.py CAPDUMP CORPUS_DIR TMPDIR"""
import os
import struct
import subprocess
import sys

# fuzz_pkt's selector (low nibble of the first byte) -> pcap link type
SELECTOR = {0: 1, 1: 1, 2: 1, 12: 1, 3: 101, 13: 101, 7: 113, 14: 113, 8: 276, 9: 0, 10: 108}
FIELDS = ["frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.ttl", "ipv6.hlim",
          "ip.id", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport",
          "sctp.dstport", "tcp.seq_raw", "tcp.window_size_value", "icmp.type", "icmpv6.type",
          "vlan.id", "ieee8021ad.id"]


def write_pcap(path, linktype, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)


def split_port(tok, has_ports):
    if has_ports:
        addr, port = tok.rsplit(".", 1)
        return addr, int(port)
    return tok, None


def parse_ours(line):
    t = line.split()
    if t[1] != "ok":
        return None
    kv = {}
    for tok in t[6:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            kv[k] = v
    proto = int(kv["proto"])
    later = kv.get("frag", "").endswith("+")
    ports = proto in (6, 17, 132, 136) and not later and ("." in t[3] and t[3].count(".") in (1, 4))
    # an IPv4 address has 3 dots, with a port 4; an IPv6 address none, with a port 1
    src, sport = split_port(t[3], ports)
    dst, dport = split_port(t[5], ports)
    o = {"src": src, "dst": dst, "sport": sport, "dport": dport, "proto": proto,
         "ttl": int(kv["ttl"]), "id": int(kv["id"]) if "id" in kv else None,
         "seq": int(kv["seq"]) if "seq" in kv else None,
         "win": int(kv["win"]) if "win" in kv else None,
         "icmp": int(kv["icmp"].split("/")[0]) if "icmp" in kv else None,
         "vlan": sorted(int(v) for v in kv["vlan"].split(",")) if "vlan" in kv else [],
         "inner": None, "inner_ports": None}
    if "inner" in kv:
        a, rest = kv["inner"].split(">")
        b = rest.rsplit("/", 1)[0]
        o["inner"] = (a, b)
        if "ports" in kv:
            o["inner_ports"] = tuple(int(x) for x in kv["ports"].split(">"))
    return o


def first(v):
    return v.split(",")[0] if v else None


def nth(v, i):
    parts = v.split(",") if v else []
    return parts[i] if len(parts) > i else None


def compare(capdump, path):
    ours = subprocess.run([capdump, "-r", path, "--no-ts"], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    cmd = ["tshark", "-r", path, "-T", "fields", "-E", "separator=/t"]
    for f in FIELDS:
        cmd += ["-e", f]
    theirs = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
    if len(ours) != len(theirs):
        sys.exit("%s: %d frames from capdump, %d from tshark" % (path, len(ours), len(theirs)))
    checked = 0
    for n, (mine, line) in enumerate(zip(ours, theirs), 1):
        o = parse_ours(mine)
        if o is None:
            continue
        w = dict(zip(FIELDS, line.split("\t")))
        v6 = ":" in o["src"]
        errs = []

        def check(name, a, b):
            if b not in (None, "") and a != b:
                errs.append("%s: ours %r, tshark %r" % (name, a, b))

        check("src", o["src"], first(w["ipv6.src" if v6 else "ip.src"]))
        check("dst", o["dst"], first(w["ipv6.dst" if v6 else "ip.dst"]))
        check("ttl", o["ttl"], int(first(w["ipv6.hlim" if v6 else "ip.ttl"]) or -1))
        if not v6:
            check("ip id", o["id"], int(first(w["ip.id"]), 16))
        icmp = first(w["icmpv6.type" if v6 else "icmp.type"])
        if icmp:
            check("icmp type", o["icmp"], int(icmp))
        if o["inner"]:
            check("inner src", o["inner"][0], nth(w["ipv6.src" if v6 else "ip.src"], 1))
            check("inner dst", o["inner"][1], nth(w["ipv6.dst" if v6 else "ip.dst"], 1))
        tp = [first(w[k]) for k in ("tcp.srcport", "udp.srcport", "sctp.srcport")]
        tq = [first(w[k]) for k in ("tcp.dstport", "udp.dstport", "sctp.dstport")]
        sport = next((int(x) for x in tp if x), None)
        dport = next((int(x) for x in tq if x), None)
        if o["icmp"] is not None and sport is not None:
            check("inner ports", o["inner_ports"], (sport, dport))
        elif sport is not None:
            check("ports", (o["sport"], o["dport"]), (sport, dport))
            if o["proto"] == 6:
                check("tcp seq", o["seq"], int(first(w["tcp.seq_raw"])))
                check("tcp window", o["win"], int(first(w["tcp.window_size_value"])))
        tags = [int(x) for k in ("vlan.id", "ieee8021ad.id") for x in w[k].split(",") if x]
        if tags:
            check("vlan", o["vlan"], sorted(tags))
        if errs:
            sys.exit("%s frame %d: %s\n  ours:   %s\n  tshark: %s" % (path, n, "; ".join(errs), mine, line))
        checked += 1
    return checked


def main():
    capdump, corpus, tmp = sys.argv[1:4]
    groups = {}
    for name in sorted(os.listdir(corpus)):
        data = open(os.path.join(corpus, name), "rb").read()
        if data and (data[0] & 15) in SELECTOR:
            groups.setdefault(SELECTOR[data[0] & 15], []).append(data[1:])
    total = 0
    for lt, frames in sorted(groups.items()):
        path = os.path.join(tmp, "lt%d.pcap" % lt)
        write_pcap(path, lt, frames)
        k = compare(capdump, path)
        print("decode_vs_tshark: link type %d: %d frames decoded, all as tshark dissects them "
              "(%d rejected by the decoder)" % (lt, k, len(frames) - k))
        total += k
    if total < 25:
        sys.exit("decode_vs_tshark: only %d frames compared" % total)


if __name__ == "__main__":
    main()
