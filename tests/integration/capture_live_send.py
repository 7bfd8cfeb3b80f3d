#!/usr/bin/env python3
"""Sends known frames out of one end of the test's veth pair (AF_PACKET) and
writes the ones addressed to the darknet into a classic pcap, the ground
truth the live capture is compared with.

usage: capture_live_send.py IFACE DST_MAC SENT_PCAP
       capture_live_send.py --flood N IFACE DST_MAC    (N SYNs to 198.18.0.0/15, unlogged)

Destinations are only 198.18.0.0/15 and 2001:db8::/32 (the darknet of the
test) plus 192.0.2.99 and an ARP request, which the darknet filter must
drop; sources are documentation addresses. The frames never leave the
network namespace the test creates."""
import socket
import struct
import sys
import time

S4 = socket.inet_aton("192.0.2.7")
VICTIM = socket.inet_aton("203.0.113.80")
S6 = socket.inet_pton(socket.AF_INET6, "2001:db8:ffff::1")
D6 = socket.inet_pton(socket.AF_INET6, "2001:db8::42")


def d4(s):
    return socket.inet_aton(s)


def ip4(proto, payload, dst, src=S4, ttl=64, ident=1, frag=0, opts=b""):
    ihl = 20 + len(opts)
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, 0, ihl + len(payload), ident, frag,
                       ttl, proto, 0, src, dst) + opts + payload


def ip6(nh, payload, src=S6, dst=D6, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim, src, dst) + payload


def tcp(sport, dport, seq, flags=2, win=1024, opts=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (20 + len(opts)) // 4 << 4, flags,
                       win, 0, 0) + opts


def udp(sport, dport, data=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def icmp(t, c, rest=b"\0\0\0\0", data=b""):
    return struct.pack("!BBH", t, c, 0) + rest + data


def flood(n, iface, dst_mac):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src_mac = bytes([2, 0, 0, 0, 0x5e, 1])
    for i in range(n):
        dst = bytes([198, 18, (i >> 8) & 0xff, i & 0xff])
        fr = dst_mac + src_mac + b"\x08\x00" + ip4(6, tcp(40000, 23, i), dst)
        s.send(fr + bytes(60 - len(fr)))
    s.close()


def main():
    if sys.argv[1] == "--flood":
        flood(int(sys.argv[2]), sys.argv[3], bytes.fromhex(sys.argv[4].replace(":", "")))
        return
    iface, dst_mac, out = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), sys.argv[3]
    src_mac = bytes([2, 0, 0, 0, 0x5e, 1])

    def eth(ethertype, payload, tags=()):
        b = dst_mac + src_mac
        for tpid, vid in tags:
            b += struct.pack("!HH", tpid, vid)
        frame = b + struct.pack("!H", ethertype) + payload
        return frame + bytes(max(0, 60 - len(frame)))

    quoted = ip4(17, udp(4444, 53), src=d4("198.18.0.10"), dst=VICTIM, ttl=1)
    q6 = ip6(6, tcp(5555, 443, 1), src=D6, dst=socket.inet_pton(socket.AF_INET6, "2001:db8:1::80"))
    darknet = [
        eth(0x0800, ip4(6, tcp(40000, 23, int.from_bytes(d4("198.18.0.5"), "big"), win=5840),
                        d4("198.18.0.5"))),
        eth(0x0800, ip4(6, tcp(37000, 80, 12345, win=65535), d4("198.18.1.1"), ttl=255, ident=54321)),
        eth(0x0800, ip4(6, tcp(61000, 8080, 777, win=1024), d4("198.19.2.2"), ttl=255, ident=0x4242)),
        eth(0x0800, ip4(6, tcp(50000, 22, 9, opts=b"\x02\x04\x05\xb4"), d4("198.18.3.3"), ttl=44)),
        eth(0x0800, ip4(17, udp(5353, 53, b"\x12\x34" + bytes(10)), d4("198.19.0.7"))),
        eth(0x0800, ip4(1, icmp(8, 0, b"\x42\x42\0\x07"), d4("198.18.0.9"))),
        eth(0x0800, ip4(1, icmp(3, 3, data=quoted), d4("198.18.0.10"), src=VICTIM)),
        eth(0x0800, ip4(17, bytes(16), d4("198.18.0.11"), frag=185)),
        eth(0x0800, ip4(17, udp(1, 2), d4("198.18.0.12"), opts=b"\x94\x04\0\0")),
        eth(0x86dd, ip6(6, tcp(40001, 23, 1, win=14600))),
        eth(0x86dd, ip6(0, bytes([60, 0, 1, 4, 0, 0, 0, 0]) + bytes([17, 0, 1, 4, 0, 0, 0, 0]) + udp(7, 7))),
        eth(0x86dd, ip6(58, icmp(1, 4, data=q6), src=socket.inet_pton(socket.AF_INET6, "2001:db8:1::80"))),
        eth(0x0800, ip4(6, tcp(40002, 2323, 5, win=4096), d4("198.18.4.4")), [(0x8100, 100)]),
        eth(0x0800, ip4(6, tcp(40003, 23, 6, win=4096), d4("198.18.4.5")), [(0x88a8, 7), (0x8100, 100)]),
    ]
    other = [
        eth(0x0800, ip4(6, tcp(40000, 23, 1), d4("192.0.2.99"))),
        eth(0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src_mac, S4, bytes(6),
                                d4("198.18.0.1"))),
    ]
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(darknet):
            f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    # the frames the filter must drop go first, so that a capture that
    # stops after the darknet count would have seen them
    for fr in other + darknet:
        s.send(fr)
        time.sleep(0.01)
    s.close()


if __name__ == "__main__":
    main()
