#!/usr/bin/env python3
"""Small telnet devices for the login engine's integration tests.

Each device listens on its own loopback address and port and replays one
behaviour of docs/devsim-spec.md with the bytes of style S01 (busybox
telnetd + login) or S13 (password-only). Timings are shortened where the
spec allows a range (the failure delay is 1 s, inside its envelope), so a
test of every behaviour runs in about a minute.

usage: login_devices.py SPEC.json STATS.json READY_FILE

SPEC is a list of devices: {"addr", "port", "behaviour", and for weak
devices "user"/"password"}. On SIGTERM the server writes STATS: per
"addr:port", the connections accepted, the credential lines received, the
pairs tried, and the violations (data bytes received after a shell prompt
was shown, which the prober must never send).

Behaviours: weak, strong (S01, three failures then close), close-after-
failure (B11), silent-failure (B12: no answer after a wrong password),
reprompt-same-user (B25), empty-password (B26), cooldown (B27: refuses
connections for 1.5 s after each close), password-only (S13), accepts-any
(B16), no-auth (B18), tarpit (B19), drip (B20), ssh (B21), http (B22),
big-banner (B10, 100 KiB), flood (sends 3 MiB without a prompt), counter
(accepts and closes: counts connection attempts, for the scope test).
"""
import asyncio
import json
import os
import signal
import socket
import sys

OPEN_S01 = bytes.fromhex("fffd01fffd1ffffb01fffb03")
SHELL = b"\r\n\r\nBusyBox v1.19.4 (2014-03-12 10:30:17 CST) built-in shell (ash)\r\n" \
        b"Enter 'help' for a list of built-in commands.\r\n\r\n~ # "
USER_PROMPT = b"\r\n(none) login: "
FAIL_DELAY = 1.0

stats = {}


class Closed(Exception):
    pass


class Conn:
    """A connection with a terminal line discipline over telnet."""

    def __init__(self, reader, writer, st):
        self.r, self.w, self.st = reader, writer, st
        self.buf = bytearray()
        self.logged_in = False
        self.pending_cr = False

    async def send(self, data):
        self.w.write(data)
        await self.w.drain()

    async def _fill(self):
        data = await self.r.read(4096)
        if not data:
            raise Closed()
        i = 0
        while i < len(data):
            b = data[i]
            if b == 0xFF and i + 1 < len(data):
                cmd = data[i + 1]
                if cmd == 0xFF:
                    self._data(0xFF)
                    i += 2
                elif cmd in (0xFB, 0xFC, 0xFD, 0xFE):
                    i += 3
                elif cmd == 0xFA:
                    end = data.find(b"\xff\xf0", i)
                    i = len(data) if end < 0 else end + 2
                else:
                    i += 2
                continue
            self._data(b)
            i += 1

    def _data(self, b):
        if self.logged_in:
            self.st["violations"] += 1
        self.buf.append(b)

    async def line(self):
        """One line, without its end: CR LF, CR NUL, CR or LF."""
        while True:
            if self.pending_cr and self.buf:
                # The LF or NUL of a CR that ended the previous line.
                if self.buf[0] in (0x0A, 0x00):
                    del self.buf[0]
                self.pending_cr = False
            for j, b in enumerate(self.buf):
                if b in (0x0D, 0x0A):
                    line = bytes(self.buf[:j])
                    k = j + 1
                    if b == 0x0D:
                        if k < len(self.buf):
                            if self.buf[k] in (0x0A, 0x00):
                                k += 1
                        else:
                            self.pending_cr = True
                    del self.buf[:k]
                    return line
            await self._fill()

    async def shell(self):
        await self.send(SHELL)
        self.logged_in = True
        while True:
            await self._fill()


async def login_loop(c, dev, failures_per_conn=3, close_after=None, silent=False,
                     reprompt_same_user=False):
    await c.send(OPEN_S01 + USER_PROMPT)
    failures = 0
    user = None
    while True:
        if user is None or not reprompt_same_user:
            u = await c.line()
            if u == b"":
                await c.send(USER_PROMPT)
                continue
            user = u
            c.st["lines"] += 1
            await c.send(u + b"\r\n")
            if dev["behaviour"] == "empty-password" and u.decode("latin-1") == dev["user"]:
                await asyncio.sleep(0.2)
                await c.shell()
            await asyncio.sleep(0.05)
        await c.send(b"Password: ")
        p = await c.line()
        c.st["lines"] += 1
        c.st["pairs"].append([user.decode("latin-1"), p.decode("latin-1")])
        await c.send(b"\r\n")
        ok = dev["behaviour"] == "accepts-any" or (
            user.decode("latin-1") == dev.get("user") and p.decode("latin-1") == dev.get("password"))
        if ok:
            await asyncio.sleep(0.2)
            await c.shell()
        failures += 1
        if silent:
            await asyncio.sleep(60)
            raise Closed()
        await asyncio.sleep(FAIL_DELAY)
        await c.send(b"Login incorrect\r\n")
        if close_after and failures >= close_after:
            raise Closed()
        if failures >= failures_per_conn:
            raise Closed()
        if reprompt_same_user:
            continue
        await c.send(b"(none) login: ")


async def password_only(c, dev):
    await c.send(b"\r\nPassword: ")
    failures = 0
    while True:
        p = await c.line()
        c.st["lines"] += 1
        c.st["pairs"].append(["", p.decode("latin-1")])
        if p.decode("latin-1") == dev.get("password"):
            await asyncio.sleep(0.2)
            await c.send(b"\r\n\r\nras> ")
            c.logged_in = True
            while True:
                await c._fill()
        failures += 1
        if failures >= 3:
            raise Closed()
        await asyncio.sleep(FAIL_DELAY)
        await c.send(b"\r\nPassword: ")


async def serve(dev, reader, writer):
    key = "%s:%d" % (dev["addr"], dev["port"])
    st = stats[key]
    st["connections"] += 1
    c = Conn(reader, writer, st)
    b = dev["behaviour"]
    try:
        if b in ("weak", "strong", "accepts-any", "empty-password"):
            await login_loop(c, dev)
        elif b in ("close-after-failure", "cooldown"):
            await login_loop(c, dev, close_after=1)
        elif b == "silent-failure":
            await login_loop(c, dev, silent=True)
        elif b == "reprompt-same-user":
            await login_loop(c, dev, reprompt_same_user=True)
        elif b == "password-only":
            await password_only(c, dev)
        elif b == "no-auth":
            await c.send(bytes.fromhex("fffb01fffb03fffd1f"))
            await asyncio.sleep(0.05)
            await c.send(b"\r\n\r\nBusyBox v1.36.1 () built-in shell (ash)\r\n\r\nroot@OpenWrt:/# ")
            c.logged_in = True
            while True:
                await c._fill()
        elif b == "tarpit":
            while True:
                await c._fill()
        elif b == "drip":
            text = b"Please wait..."
            i = 0
            while True:
                await c.send(text[i % len(text):i % len(text) + 1])
                i += 1
                await asyncio.sleep(2)
        elif b == "ssh":
            await c.send(b"SSH-2.0-dropbear_2020.81\r\n")
            await asyncio.sleep(10)
        elif b == "http":
            await c.line()
            await c.send(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n"
                         b"Connection: close\r\n\r\n<html><body>400 Bad Request</body></html>")
        elif b == "big-banner":
            line = b"x" * 76 + b"\r\n"
            await c.send(OPEN_S01 + line * (100 * 1024 // 78))
            dev2 = dict(dev, behaviour="weak")
            await login_loop_after_banner(c, dev2)
        elif b == "flood":
            chunk = b"A" * 65536
            for _ in range(48):
                await c.send(chunk)
            await asyncio.sleep(30)
        elif b == "counter":
            pass
    except (Closed, ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass
        if b == "cooldown":
            await cool_down(dev)


async def login_loop_after_banner(c, dev):
    # The banner was sent with the opening; the rest is the S01 login.
    c.w.write(USER_PROMPT)
    await c.w.drain()
    failures = 0
    while True:
        u = await c.line()
        if u == b"":
            await c.send(USER_PROMPT)
            continue
        c.st["lines"] += 1
        await c.send(u + b"\r\nPassword: ")
        p = await c.line()
        c.st["lines"] += 1
        c.st["pairs"].append([u.decode("latin-1"), p.decode("latin-1")])
        await c.send(b"\r\n")
        if u.decode("latin-1") == dev.get("user") and p.decode("latin-1") == dev.get("password"):
            await c.shell()
        failures += 1
        await asyncio.sleep(FAIL_DELAY)
        await c.send(b"Login incorrect\r\n")
        if failures >= 3:
            raise Closed()
        await c.send(b"(none) login: ")


servers = {}


def make_listener(dev):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((dev["addr"], dev["port"]))
    s.listen(64)
    s.setblocking(False)
    return s


async def start(dev):
    srv = await asyncio.start_server(lambda r, w: serve(dev, r, w), sock=make_listener(dev))
    servers["%s:%d" % (dev["addr"], dev["port"])] = srv


async def cool_down(dev):
    """B27: refuse connections (RST) for 1.5 s after a close."""
    key = "%s:%d" % (dev["addr"], dev["port"])
    srv = servers.get(key)
    if srv is None:
        return
    servers[key] = None
    srv.close()
    await srv.wait_closed()
    await asyncio.sleep(1.5)
    await start(dev)


async def main():
    spec_path, stats_path, ready = sys.argv[1:4]
    with open(spec_path) as f:
        devices = json.load(f)
    for dev in devices:
        stats["%s:%d" % (dev["addr"], dev["port"])] = {
            "behaviour": dev["behaviour"], "connections": 0, "lines": 0, "pairs": [],
            "violations": 0}
        await start(dev)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    with open(ready, "w") as f:
        f.write("ready\n")
    await stop.wait()
    with open(stats_path, "w") as f:
        json.dump(stats, f, indent=1)
    # Leave without cancelling the devices' tasks one by one (asyncio
    # would report each cancelled sleep).
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
