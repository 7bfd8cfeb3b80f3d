"""A tiny raw-socket telnet client for the integration tests.

It is not a prober: it sends exactly the bytes a test gives it and records
exactly what the server sends, with arrival times, so that a test can
compare the device's bytes with a transcript of docs/devsim-spec.md or a
real server's. Option replies follow the spec's section 2 (DO to WILL ECHO
and WILL SGA, WILL NAWS + 80x24 to DO NAWS, refuse the rest) when
negotiate=True.
"""
import socket
import time

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240


class Conn:
    def __init__(self, addr, port=23, negotiate=True, timeout=15.0):
        self.s = socket.create_connection((addr, port), timeout=timeout)
        self.raw = bytearray()      # every byte received
        self.events = []            # (seconds since connect, bytes) per recv
        self.t0 = time.monotonic()
        self.negotiate = negotiate
        self.sent = bytearray()
        self.closed = False
        self.closed_at = None       # seconds since connect when the close was seen
        self._pos = 0               # raw bytes already scanned for commands
        self._answered = set()

    def _answer(self):
        """Answer the options received so far (once per request)."""
        out = bytearray()
        b = self.raw
        i = self._pos
        while i + 2 < len(b) + 0 and i < len(b):
            if b[i] != IAC:
                i += 1
                continue
            if i + 1 >= len(b):
                break
            v = b[i + 1]
            if v == IAC:
                i += 2
                continue
            if v in (WILL, WONT, DO, DONT):
                if i + 2 >= len(b):
                    break
                o = b[i + 2]
                key = (v, o, i)
                if key not in self._answered:
                    self._answered.add(key)
                    if v == WILL:
                        out += bytes([IAC, DO if o in (1, 3) else DONT, o])
                    elif v == DO:
                        if o == 31:
                            out += bytes([IAC, WILL, 31, IAC, SB, 31, 0, 80, 0, 24, IAC, SE])
                        else:
                            out += bytes([IAC, WONT, o])
                    elif v == WONT and o in (1, 3):
                        out += bytes([IAC, DONT, o])
                i += 3
                continue
            if v == SB:
                j = b.find(bytes([IAC, SE]), i + 2)
                if j < 0:
                    break
                i = j + 2
                continue
            i += 2
        self._pos = i
        if out:
            self.send(bytes(out))

    def read_for(self, seconds, until=None):
        """Read for up to `seconds`; stop early when `until` (bytes) has
        appeared at the end of the data received so far."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0 or self.closed:
                return
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return
            except ConnectionResetError:
                self.closed = True
                self.closed_at = time.monotonic() - self.t0
                return
            if not d:
                self.closed = True
                self.closed_at = time.monotonic() - self.t0
                return
            self.events.append((time.monotonic() - self.t0, d))
            self.raw += d
            if self.negotiate:
                self._answer()
            if until is not None and self.raw.endswith(until):
                return

    def send(self, data):
        self.sent += data
        self.s.sendall(data)

    def line(self, text):
        if isinstance(text, str):
            text = text.encode('latin-1')
        self.send(text.replace(b'\xff', b'\xff\xff') + b'\r\n')

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def data_of(raw):
    """The data stream of telnet bytes: commands removed, IAC IAC -> 0xff."""
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c != IAC:
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(raw):
            break
        v = raw[i + 1]
        if v == IAC:
            out.append(IAC)
            i += 2
        elif v in (WILL, WONT, DO, DONT):
            i += 3
        elif v == SB:
            j = raw.find(bytes([IAC, SE]), i + 2)
            i = len(raw) if j < 0 else j + 2
        else:
            i += 2
    return bytes(out)
