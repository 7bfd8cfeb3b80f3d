#!/usr/bin/env python3
"""Replays a classic pcap out of one end of the live test's veth pair
(AF_PACKET), as fast as the socket takes it, with each frame's destination
MAC set to the capturing interface's. Prints the number of frames sent.

usage: telescope_live_send.py IFACE DST_MAC FILE.pcap

The pcap is a kizuki-gen trace: its addresses are benchmarking and
documentation ranges, and the frames never leave the network namespace the
test creates."""
import socket
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, not Ethernet")
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(end + "I", data[pos + 8:pos + 12])[0]
        yield data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen


def main():
    iface, mac, path = sys.argv[1:4]
    dst = bytes.fromhex(mac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    n = 0
    for fr in frames(path):
        if len(fr) < 14:
            continue  # a runt cannot be sent as Ethernet
        s.send(dst + fr[6:])
        n += 1
    s.close()
    print(n)


if __name__ == "__main__":
    main()
