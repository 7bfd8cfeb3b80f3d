#!/usr/bin/env python3
"""Small HTTP servers for the SSH/HTTP login test (login_ssh_http.sh).

usage: http_devices.py SPEC.json STATS.json READY_FILE

SPEC is a list of {"addr", "port", "role", and per role "location"}. Roles:

  accept-any  401 with a Basic challenge when a request has no
              Authorization field, 200 with an admin page for any
              Authorization at all (the device that must be reported
              accepts-any, never weak credentials)
  redirect    302 to "location" for every request
  not-http    an SSH identification string, then silence (another
              protocol on the HTTP port)
  counter     accepts and closes at once: counts connections (the
              listeners a redirect points at, which must see nothing)

Every server counts connections and requests, and records each request's
first line and whether it carried Authorization; on SIGTERM the counts go
to STATS as {"addr:port": {...}}.
"""
import asyncio
import json
import signal
import sys

stats = {}


async def read_head(reader):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = await reader.read(4096)
        if not chunk:
            break
        data += chunk
    return data


def make_handler(dev):
    key = "%s:%d" % (dev["addr"], dev["port"])
    st = stats.setdefault(key, {"role": dev["role"], "connections": 0, "requests": []})

    async def handle(reader, writer):
        st["connections"] += 1
        try:
            role = dev["role"]
            if role == "counter":
                return
            if role == "not-http":
                writer.write(b"SSH-2.0-OpenSSH_8.4p1 Debian-5\r\n")
                await writer.drain()
                await asyncio.sleep(3)
                return
            head = await read_head(reader)
            if not head:
                return
            lines = head.split(b"\r\n")
            auth = any(l.lower().startswith(b"authorization:") for l in lines[1:])
            st["requests"].append({"line": lines[0].decode("latin-1"), "auth": auth})
            if role == "redirect":
                body = b""
                writer.write(b"HTTP/1.1 302 Found\r\nLocation: " + dev["location"].encode() +
                             b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            elif auth:
                body = b"<html><title>Router admin</title>menu</html>"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                             str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            else:
                body = b"<html>401 Unauthorized</html>"
                writer.write(b"HTTP/1.1 401 Unauthorized\r\n"
                             b"WWW-Authenticate: Basic realm=\"Router\"\r\n"
                             b"Content-Length: " + str(len(body)).encode() +
                             b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return handle


async def main(spec_path, stats_path, ready_path):
    spec = json.load(open(spec_path))
    servers = []
    for dev in spec:
        servers.append(await asyncio.start_server(make_handler(dev), dev["addr"], dev["port"]))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    open(ready_path, "w").close()
    await stop.wait()
    for s in servers:
        s.close()
    with open(stats_path, "w") as f:
        json.dump(stats, f)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
