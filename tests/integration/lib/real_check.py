"""Login exchanges with a real busybox telnetd (busybox login), recorded.

usage: real_check.py ADDR WEAK_USER WEAK_PASS STRONG_USER STRONG_PASS EMPTY_USER [OUTDIR]

Checks that a correct login gets a shell prompt and that wrong ones fail
the way docs/devsim-spec.md's busybox style (S01) says: the same option
bytes, "Password: " after the echoed user (also for an unknown user),
CR LF after the password, "Login incorrect" after a delay of about 3 s,
the prompt again without a leading line break, a close after the third
failure, no password asked for an account whose password is empty. With
OUTDIR, writes each exchange as busybox-telnetd-<case>.bin (the server's
bytes) and .txt (a timeline of both sides) there.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from telnet_client import Conn, data_of  # noqa: E402

ADDR, WU, WP, SU, SP, EU = sys.argv[1:7]
OUT = sys.argv[7] if len(sys.argv) > 7 else None
S01_OPEN = b"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03"
PROMPT = b"kztest login: "
# busybox ash's line editing asks the terminal for the cursor position
# (ESC [ 6 n, a Device Status Report) right after printing its prompt.
DSR = b"\x1b[6n"


def shell_end(out):
    return out.endswith(b"$ ") or out.endswith(b"$ " + DSR)
failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg)


def record(name, c):
    if not OUT:
        return
    with open(os.path.join(OUT, 'busybox-telnetd-%s.bin' % name), 'wb') as f:
        f.write(bytes(c.raw))
    with open(os.path.join(OUT, 'busybox-telnetd-%s.txt' % name), 'w') as f:
        f.write('# real busybox telnetd + busybox login (%s), recorded by '
                'tests/integration/real_login_servers.sh\n' % busybox_version())
        f.write('# S = server bytes with arrival time (s); C = client bytes, in order\n')
        for t, d in c.events:
            f.write('S %8.3f %r\n' % (t, d))
        f.write('C          %r\n' % bytes(c.sent))
        f.write('closed by server: %s\n' % c.closed)


def busybox_version():
    import subprocess
    out = subprocess.run(['busybox'], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else 'busybox'


def opening(name):
    c = Conn(ADDR, 23)
    c.read_for(5, until=PROMPT)
    if not bytes(c.raw).startswith(S01_OPEN):
        fail('%s: opening %r, spec S01 %r' % (name, bytes(c.raw[:12]), S01_OPEN))
    if not c.raw.endswith(PROMPT):
        fail('%s: no login prompt: %r' % (name, bytes(c.raw)))
    return c


def after(c, line, until, seconds=6):
    mark = len(c.raw)
    c.line(line)
    c.read_for(seconds, until=until)
    return bytes(c.raw[mark:])


def attempt(c, user, password, expect_fail=True):
    out = after(c, user, b"Password: ")
    if out != user.encode() + b"\r\nPassword: ":
        fail('after user %r: %r' % (user, out))
    mark = len(c.events)
    out = after(c, password, PROMPT if expect_fail else DSR)
    times = [t for t, _ in c.events[mark:]]
    return out, times


# 1. the weak account logs in; a shell prompt, nothing sent afterwards
c = opening('login-ok')
out, _ = attempt(c, WU, WP, expect_fail=False)
if not out.startswith(b"\r\n") or not shell_end(out) or b"Login incorrect" in out:
    fail('correct login: %r' % out)
c.read_for(1)
record('login-ok', c)
c.close()

# 2. a wrong password, then an unknown user: the same failure, S01's bytes
c = opening('login-failed')
for user, pw in ((WU, 'xc3511'), ('nosuchuser', 'vizxv')):
    out, times = attempt(c, user, pw)
    if out != b"\r\nLogin incorrect\r\n" + PROMPT:
        fail('wrong pair %s/%s: %r' % (user, pw, out))
    if len(times) >= 2 and times[1] - times[0] < 2.5:
        fail('failure delay %.2f s, busybox login waits 3 s' % (times[1] - times[0]))
# the third failure ends the session
mark = len(c.raw)
c.line(SU)
c.read_for(3, until=b"Password: ")
c.line('admin')
c.read_for(8)
if not c.closed or bytes(c.raw[mark:]) != SU.encode() + b"\r\nPassword: \r\nLogin incorrect\r\n":
    fail('third failure: %r, closed=%s' % (bytes(c.raw[mark:]), c.closed))
record('three-failures', c)
c.close()

# 3. an account with an empty password: no password asked (devsim B26)
c = opening('empty-password')
out = after(c, EU, DSR)
if not out.startswith(EU.encode() + b"\r\n") or b"Password" in out or not shell_end(out):
    fail('empty password account: %r' % out)
c.read_for(1)
record('empty-password', c)
c.close()

# 4. the strong account with list passwords
c = opening('strong')
for pw in ('admin', '1234'):
    out, _ = attempt(c, SU, pw)
    if out != b"\r\nLogin incorrect\r\n" + PROMPT:
        fail('strong account with %r: %r' % (pw, out))
c.close()

# 5. the control-pair shape of the prober fails too
c = opening('control')
out, _ = attempt(c, 'qwertyuiop', 'Wr0ngPassw0rd1')
if out != b"\r\nLogin incorrect\r\n" + PROMPT:
    fail('control pair: %r' % out)
if data_of(bytes(c.raw)).count(b"\xff"):
    fail('data stream holds 0xff')
c.close()

print('%d passed, %d failed' % (5 - min(5, len(failures)), len(failures)))
sys.exit(1 if failures else 0)
