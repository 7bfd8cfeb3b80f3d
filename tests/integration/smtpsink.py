#!/usr/bin/env python3
"""A tiny SMTP sink for tests, on loopback only: it speaks enough of
RFC 5321 (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for libcurl's
client, accepts every message and keeps it in memory (and, with a
directory, as one .eml file per message). Python 3.12 removed smtpd, and
Debian 12's aiosmtpd is an extra package; this needs only the standard
library.

    sink = SmtpSink()            # listens on 127.0.0.1, a free port
    sink.port, sink.messages     # [(mail_from, [rcpt...], bytes), ...]
    sink.close()
"""

import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        sink = self.server.sink
        mail_from, rcpts = None, []
        self.reply("220 kizuki-test-sink ESMTP")
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-kizuki-test-sink\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
                self.wfile.flush()
            elif verb == "HELO":
                self.reply("250 kizuki-test-sink")
            elif verb == "MAIL":
                mail_from, rcpts = cmd[10:].strip().split(" ")[0].strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(cmd[8:].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                if sink.refuse:
                    self.reply("554 refused by the test")
                    continue
                self.reply("354 end with <CRLF>.<CRLF>")
                data = []
                while True:
                    l = self.rfile.readline(1 << 20)
                    if not l or l == b".\r\n":
                        break
                    if l.startswith(b".."):
                        l = l[1:]  # dot-stuffing, RFC 5321 4.5.2
                    data.append(l)
                with sink.lock:
                    sink.messages.append((mail_from, list(rcpts), b"".join(data)))
                self.reply("250 OK queued")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.refuse = False
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.sink = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
