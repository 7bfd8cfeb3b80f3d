#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_pkt and fuzz_pcapfile: hand-built frames
for every link type and edge case the unit tests cover, and small valid and
damaged capture files. Addresses are from documentation and benchmarking
ranges only. Run from the repository root; the output is checked in."""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MACS = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2])
S4 = bytes([192, 0, 2, 7])
D4 = bytes([198, 18, 3, 4])
S6 = bytes.fromhex("20010db8000000000000000000000001")
D6 = bytes.fromhex("20010db8000000000000000000000042")

# link type selectors of fuzz_pkt (low nibble of the first byte)
ETH, RAW, SLL, SLL2, NULL, LOOP, UNSUPPORTED = 0, 3, 7, 8, 9, 10, 15


def ip4(proto, payload, ttl=64, ident=1, frag=0, opts=b"", src=S4, dst=D4):
    ihl = 20 + len(opts)
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, 0, ihl + len(payload), ident,
                       frag, ttl, proto, 0, src, dst) + opts + payload


def ip6(nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim, S6, D6) + payload


def tcp(sport, dport, seq, flags=2, win=1024, opts=b"", ack=0):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (20 + len(opts)) // 4 << 4,
                       flags, win, 0, 0) + opts


def udp(sport, dport, data=b"", length=None):
    return struct.pack("!HHHH", sport, dport, 8 + len(data) if length is None else length, 0) + data


def icmp(t, c, rest=b"\0\0\0\0", data=b""):
    return struct.pack("!BBH", t, c, 0) + rest + data


def eth(ethertype, payload, tags=()):
    b = MACS
    for tpid, vid in tags:
        b += struct.pack("!HH", tpid, vid)
    return b + struct.pack("!H", ethertype) + payload


def sll(proto, payload):
    return struct.pack("!HHH8sH", 0, 1, 6, MACS[:8], proto) + payload


def sll2(proto, payload):
    return struct.pack("!HHIHBB8s", proto, 0, 3, 1, 0, 6, MACS[:8]) + payload


def ext(nh, len8):
    return bytes([nh, len8]) + bytes((len8 + 1) * 8 - 2)


def frames():
    syn = ip4(6, tcp(40000, 23, 0xc6120304, win=0x3e1f))
    yield "mirai-syn", ETH, eth(0x0800, syn)
    yield "zmap-syn", ETH, eth(0x0800, ip4(6, tcp(37000, 80, 1, win=65535), ttl=255, ident=54321))
    yield "masscan-syn", ETH, eth(0x0800, ip4(6, tcp(61000, 8080, 7, win=1024), ttl=255, ident=0x1234))
    yield "nmap-syn", ETH, eth(0x0800, ip4(6, tcp(50000, 22, 9, opts=b"\x02\x04\x05\xb4"), ttl=44))
    linux = b"\x02\x04\x05\xb4\x04\x02\x08\x0a\0\0\0\x01\0\0\0\0\x01\x03\x03\x07"
    yield "linux-syn", ETH, eth(0x0800, ip4(6, tcp(1, 22, 3, win=64240, opts=linux)))
    yield "tcp-opt-past", ETH, eth(0x0800, ip4(6, tcp(1, 22, 3, opts=b"\x01\x01\x02\x04\x05\xb4\x08\x0a") + bytes(8)))
    yield "tcp-opt-zero", ETH, eth(0x0800, ip4(6, tcp(1, 22, 3, opts=b"\x03\x00\x00\x00")))
    yield "ip-options", ETH, eth(0x0800, ip4(17, udp(53, 5353, b"hello"), opts=b"\x94\x04\0\0\x01\x01\x01\x01"))
    yield "frag-first", ETH, eth(0x0800, ip4(17, udp(1, 2, bytes(8), 1400), frag=0x2000))
    yield "frag-later", ETH, eth(0x0800, ip4(17, bytes(16), frag=185))
    inner = ip4(17, udp(4444, 53), src=D4, dst=bytes([203, 0, 113, 80]))
    yield "icmp-unreach", ETH, eth(0x0800, ip4(1, icmp(3, 3, data=inner), src=bytes([203, 0, 113, 80])))
    yield "icmp-quote-cut", ETH, eth(0x0800, ip4(1, icmp(11, 0, data=inner[:12])))
    yield "icmp-quote-noports", ETH, eth(0x0800, ip4(1, icmp(3, 1, data=inner[:22])))
    yield "icmp-echo", ETH, eth(0x0800, ip4(1, icmp(8, 0, b"\x42\x42\0\x07")))
    in6 = ip6(6, tcp(5555, 443, 1))
    yield "icmp6-unreach", ETH, eth(0x86dd, ip6(58, icmp(1, 4, data=in6)))
    yield "icmp6-quote-cut", ETH, eth(0x86dd, ip6(58, icmp(3, 0, data=in6[:30])))
    frag6 = ip6(44, bytes([17, 0, 0, 1]) + b"\0\xab\xcd\xef" + udp(7, 9, length=2000))
    yield "icmp6-toobig-frag", ETH, eth(0x86dd, ip6(58, icmp(2, 0, b"\0\0\x05\0", frag6)))
    chain = bytes([60, 0]) + bytes(6) + bytes([51, 1]) + bytes(14) + bytes([43, 1]) + bytes(10) + bytes([6, 0]) + bytes(6)
    yield "ip6-ext-chain", ETH, eth(0x86dd, ip6(0, chain + tcp(1, 2323, 9)))
    yield "ip6-ext-deep", ETH, eth(0x86dd, ip6(60, b"".join(ext(60 if i < 8 else 17, 0) for i in range(9)) + udp(1, 2)))
    yield "ip6-frag-later", ETH, eth(0x86dd, ip6(44, bytes([17, 0, 0x05, 0xa8]) + b"\1\2\3\4" + bytes(8)))
    yield "vlan", ETH, eth(0x0800, syn, [(0x8100, 100)])
    yield "qinq", ETH, eth(0x0800, syn, [(0x88a8, 7), (0x8100, 4094)])
    yield "vlan-9100-x4", ETH, eth(0x86dd, ip6(17, udp(1, 2)), [(0x9100, 1), (0x88a8, 2), (0x8100, 3), (0x8100, 4)])
    yield "vlan-x5", ETH, eth(0x0800, syn, [(0x8100, i) for i in range(5)])
    yield "arp", ETH, eth(0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MACS[:6], bytes([198, 18, 0, 2]), MACS[:6], bytes([198, 18, 0, 1])))
    yield "llc", ETH, eth(38, bytes([0x42]) * 38)
    yield "bad-ihl", ETH, eth(0x0800, b"\x44" + syn[1:])
    yield "bad-totlen", ETH, eth(0x0800, syn[:2] + b"\x00\x13" + syn[4:])
    yield "tcp-doff4", ETH, eth(0x0800, syn[:32] + b"\x40" + syn[33:])
    yield "sll-v4", SLL, sll(0x0800, syn)
    yield "sll-v6", SLL, sll(0x86dd, ip6(17, udp(1, 161)))
    yield "sll-vlan", SLL, sll(0x8100, struct.pack("!HH", 42, 0x0800) + syn)
    yield "sll2-v4", SLL2, sll2(0x0800, syn)
    yield "sll2-v6", SLL2, sll2(0x86dd, ip6(6, tcp(9, 22, 1)))
    yield "raw-v4", RAW, syn
    yield "raw-v6", RAW, ip6(17, udp(1, 2))
    yield "null-v4", NULL, b"\x02\0\0\0" + syn
    yield "loop-v6", LOOP, b"\0\0\0\x1e" + ip6(17, udp(1, 2))
    yield "sctp", ETH, eth(0x0800, ip4(132, struct.pack("!HHII", 5060, 2905, 0, 0)))
    yield "unsupported", UNSUPPORTED, syn


def pkt_corpus():
    d = os.path.join(HERE, "corpus", "pkt")
    os.makedirs(d, exist_ok=True)
    for name, sel, frame in frames():
        with open(os.path.join(d, name), "wb") as f:
            f.write(bytes([sel]) + frame)


def classic(records, nsec=False, be=False, snaplen=65535, linktype=1):
    o = ">" if be else "<"
    b = struct.pack(o + "IHHiIII", 0xa1b23c4d if nsec else 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype)
    for i, data in enumerate(records):
        b += struct.pack(o + "IIII", 1700000000 + i, i * 1000, len(data), len(data) + 4) + data
    return b


def ng_block(o, btype, body):
    body += bytes(-len(body) % 4)
    n = len(body) + 12
    return struct.pack(o + "II", btype, n) + body + struct.pack(o + "I", n)


def pcapng(records, be=False):
    o = ">" if be else "<"
    b = ng_block(o, 0x0a0d0d0a, struct.pack(o + "IHHq", 0x1a2b3c4d, 1, 0, -1))
    b += ng_block(o, 1, struct.pack(o + "HHI", 1, 0, 0))
    b += ng_block(o, 1, struct.pack(o + "HHI", 101, 0, 65535) + struct.pack(o + "HH", 9, 1) + b"\x09\0\0\0" + struct.pack(o + "HH", 0, 0))
    for i, data in enumerate(records):
        ifid = i % 2
        payload = data[14:] if ifid else data
        b += ng_block(o, 6, struct.pack(o + "IIIII", ifid, 0, 1000 * i, len(payload), len(payload)) + payload)
        if i == 1:
            b += ng_block(o, 4, bytes(8))
            b += ng_block(o, 3, struct.pack(o + "I", len(data)) + data)
    return b


def pcapfile_corpus():
    d = os.path.join(HERE, "corpus", "pcapfile")
    os.makedirs(d, exist_ok=True)
    eth_frames = [f for _, sel, f in frames() if sel == ETH][:6]
    files = {
        "classic-us": classic(eth_frames),
        "classic-ns-be": classic(eth_frames, nsec=True, be=True),
        "classic-raw": classic([f[14:] for f in eth_frames], linktype=101),
        "classic-snap20": classic(eth_frames, snaplen=20),
        "pcapng-two-if": pcapng(eth_frames),
        "pcapng-be": pcapng(eth_frames, be=True),
    }
    files["classic-cut"] = files["classic-us"][:100]
    files["pcapng-cut"] = files["pcapng-two-if"][:150]
    huge = bytearray(files["classic-us"])
    struct.pack_into("<I", huge, 24 + 8, 0xffffffff)
    files["classic-huge-caplen"] = bytes(huge)
    kuz = struct.pack("<IHHiIII", 0xa1b2cd34, 2, 4, 0, 0, 65535, 1)
    for i, data in enumerate(eth_frames):
        kuz += struct.pack("<IIIIIHBB", 1700000000, i, len(data), len(data), 2, 0x0800, 0, 0) + data
    files["classic-kuznetzov"] = kuz
    for name, data in files.items():
        # mode byte: 0 in place, 1 streamed in pieces, 2 gzip-compressed by the harness
        for mode in (0, 1, 2):
            with open(os.path.join(d, "%s-m%d" % (name, mode)), "wb") as f:
                f.write(bytes([mode]) + data)
    # a gzip file as operators store it, read in place (mode 0)
    with open(os.path.join(d, "gzip-file-m0"), "wb") as f:
        f.write(bytes([0]) + gzip.compress(files["classic-us"], mtime=0))


if __name__ == "__main__":
    pkt_corpus()
    pcapfile_corpus()
