#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_telescope: short packet trains in its input
format (an options byte, then [quarter seconds][u16 length][frame] records)
that reach every class, every fingerprint rule, RS-DoS vectors, intervals
and evictions. Addresses are from documentation and benchmarking ranges
only. Run from the repository root; the output is checked in."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "telescope")


def a4(s):
    return bytes(int(x) for x in s.split("."))


DARK = "198.18.{}.{}"
S6 = bytes.fromhex("20010db8aaaa00000000000000000001")
D6 = bytes.fromhex("20010db8000000000000000000000042")


def ip4(proto, payload, src, dst, ttl=64, ident=1):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, ttl, proto, 0,
                       a4(src), a4(dst)) + payload


def tcp(sport, dport, seq, flags=2, win=1024, opts=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (20 + len(opts)) // 4 << 4, flags,
                       win, 0, 0) + opts


def rec(dt, frame):
    return struct.pack("!BH", dt, len(frame)) + frame


def dark(i):
    return DARK.format((i >> 8) & 255, i & 255)


def write(name, opts, records):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([opts]) + b"".join(records))


def main():
    os.makedirs(OUT, exist_ok=True)
    mss = b"\x02\x04\x05\xb4"
    # Mirai: seq == dst, TTL 64, no options, port 23.
    r = []
    for i in range(12):
        d = dark(i + 1)
        seq = struct.unpack("!I", a4(d))[0]
        r.append(rec(1, ip4(6, tcp(4000 + i, 23, seq, win=5840), "192.0.2.10", d, ttl=52)))
    write("mirai", 0, r)
    write("mirai-anon", 1, r)
    # ZMap, masscan, nmap, unicornscan from four sources, interleaved.
    r = []
    for i in range(10):
        d = dark(100 + i)
        dv = struct.unpack("!I", a4(d))[0]
        r.append(rec(0, ip4(6, tcp(40000, 80, 7 * i, win=65535), "192.0.2.20", d, ttl=250,
                            ident=54321)))
        seq = 0x1000 + i
        r.append(rec(0, ip4(6, tcp(41000, 443, seq, win=1024), "192.0.2.21", d, ttl=243,
                            ident=(dv ^ 443 ^ seq) & 0xffff)))
        r.append(rec(0, ip4(6, tcp(51000, 22, 99, win=1024, opts=mss), "192.0.2.22", d,
                            ttl=47)))
        ports = (8080 << 16) + 9000 + i
        key = 0x12345678
        r.append(rec(1, ip4(6, tcp(9000 + i, 8080, key ^ dv ^ ports, win=4096, opts=mss),
                            "192.0.2.23", d, ttl=250)))
    write("tools", 0, r)
    # Backscatter: SYN-ACKs and RSTs from one victim over 80 s; ICMP
    # unreachable quoting a packet to another victim.
    r = []
    for i in range(40):
        r.append(rec(8, ip4(6, tcp(80, 1024 + i, i, flags=0x12 if i % 2 else 0x04, win=0),
                            "192.0.2.80", dark(i))))
        quoted = ip4(6, tcp(5000, 80, 1), dark(i), "192.0.2.81")[:28]
        r.append(rec(0, ip4(1, struct.pack("!BBHI", 3, 1, 0, 0) + quoted, "203.0.113.1",
                            dark(i))))
    write("backscatter", 0, r)
    # More sources than the fuzz table holds (16), plus UDP, ICMP echo,
    # packets outside the darknet, a truncated frame and IPv6.
    r = []
    for i in range(40):
        r.append(rec(1, ip4(17, struct.pack("!HHHH", 5000, 53 + i % 3, 8, 0),
                            "192.0.2.%d" % (100 + i), dark(i))))
        r.append(rec(0, ip4(1, struct.pack("!BBHI", 8, 0, 0, i), "198.51.100.%d" % i,
                            dark(i))))
    r.append(rec(0, ip4(6, tcp(1, 2, 3), "192.0.2.1", "10.0.0.1")))
    r.append(rec(0, b"\x45\x00"))
    v6 = struct.pack("!IHBB16s16s", 0x60000000, 24, 6, 50, S6, D6) + tcp(5, 22, 6, opts=mss)
    r.append(rec(0, v6))
    write("crowd", 0, r)
    # The same in Ethernet framing.
    eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
    r = [rec(1, eth + ip4(6, tcp(40000, 80, i, win=65535), "192.0.2.20", dark(i), ttl=250,
                          ident=54321)) for i in range(8)]
    write("ethernet", 2, r)


if __name__ == "__main__":
    main()
