#!/bin/bash
# Survey stage 2 end to end on loopback: kizuki-logincheck (the login
# engine, the telnet plug-in, the credential list, the records) against
# small telnet devices (tests/integration/lib/login_devices.py), one per
# behaviour of docs/devsim-spec.md that the engine must get right, each on
# its own 127.0.0.x address.
#
# Checks: every device's status and pair; close-after-failure and cool-down
# devices are reconnected (the device counts the connections); tarpits and
# a 3 MiB flood (cut at the byte cap) do not stall the others (all finish under the concurrency
# given); accept-anything is never weak-credentials; nothing is sent after
# a shell prompt (the devices count violations); a listener outside the
# scope sees no connection even when the target is handed to the engine;
# --redact-credentials writes the 1-based index and no pair; every record
# passes the hub's validator.
#
# Runs unprivileged (loopback only); about a minute.
set -euo pipefail

bin=${KZ_BUILD_DIR:-build/dev}/kizuki-logincheck
src=${KZ_SOURCE_DIR:-.}
[ -x "$bin" ] || { echo "skip: $bin not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A free port, the same on every address (each device has its own address).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$tmp/creds.txt" <<'EOF'
# index: 1..6
root:xc3511
root:vizxv
admin:admin
root:admin
:1234
support:support
EOF

# addr-suffix behaviour user password
cat >"$tmp/devices.txt" <<'EOF'
11 weak admin admin
12 strong - -
13 close-after-failure root admin
14 accepts-any - -
15 no-auth - -
16 ssh - -
17 tarpit - -
18 drip - -
19 http - -
20 silent-failure root vizxv
21 reprompt-same-user root admin
22 empty-password root -
23 cooldown root admin
24 password-only - 1234
25 big-banner root vizxv
26 flood - -
200 counter - -
EOF
python3 - "$tmp/devices.txt" "$port" >"$tmp/spec.json" <<'EOF'
import json, sys
devs = []
for line in open(sys.argv[1]):
    n, b, u, p = line.split()
    d = {"addr": "127.0.0.%s" % n, "port": int(sys.argv[2]), "behaviour": b}
    if u != "-": d["user"] = u
    if p != "-": d["password"] = p
    devs.append(d)
print(json.dumps(devs))
EOF
awk -v p="$port" '{print "127.0.0." $1 ":" p "/telnet"}' "$tmp/devices.txt" >"$tmp/targets.txt"
# The scope: 127.0.0.0/25. 127.0.0.200 is outside it.
echo "127.0.0.0/25" >"$tmp/scope.txt"

python3 "$src/tests/integration/lib/login_devices.py" "$tmp/spec.json" "$tmp/stats.json" \
	"$tmp/ready" &
pid=$!
for _ in $(seq 100); do [ -f "$tmp/ready" ] && break; sleep 0.1; done
[ -f "$tmp/ready" ] || fail "the test devices did not start"

# Concurrency 8 for 17 targets: tarpits hold slots for their 15 s, and the
# rest must still get through. --submit-all hands 127.0.0.200 to the engine.
"$bin" --targets-file "$tmp/targets.txt" --scope "$tmp/scope.txt" --allow-reserved \
	--creds "$tmp/creds.txt" --concurrency 8 --submit-all --run-id itest \
	--out "$tmp/out.jsonl" 2>"$tmp/err.txt" || { cat "$tmp/err.txt"; fail "logincheck failed"; }
cat "$tmp/err.txt"

# The redaction run: one weak device.
echo "127.0.0.11:$port/telnet" >"$tmp/one.txt"
"$bin" --targets-file "$tmp/one.txt" --scope "$tmp/scope.txt" --allow-reserved \
	--creds "$tmp/creds.txt" --redact-credentials --run-id itest2 \
	--out "$tmp/redacted.jsonl" 2>/dev/null || fail "logincheck --redact-credentials failed"

kill "$pid"
wait "$pid" || true
pid=""
[ -f "$tmp/stats.json" ] || fail "the test devices wrote no statistics"

python3 - "$tmp" "$port" <<'EOF'
import json, sys
tmp, port = sys.argv[1], int(sys.argv[2])
recs = {}
for line in open(tmp + "/out.jsonl"):
    r = json.loads(line)
    recs[r["source.ip"]] = r
stats = json.load(open(tmp + "/stats.json"))
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

expect = {
    11: ("login-possible", "admin", "admin"),
    12: ("login-failed", None, None),
    13: ("login-possible", "root", "admin"),
    14: ("accepts-any", None, None),
    15: ("no-auth", None, None),
    16: ("not-telnet", None, None),
    17: ("timeout", None, None),
    18: ("no-login-prompt", None, None),
    19: ("not-telnet", None, None),
    20: ("login-possible", "root", "vizxv"),
    21: ("login-possible", "root", "admin"),
    22: ("login-possible", "root", "xc3511"),
    23: ("login-possible", "root", "admin"),
    24: ("login-possible", "", "1234"),
    25: ("login-possible", "root", "vizxv"),
    26: ("no-login-prompt", None, None),
}
for n, (status, user, pw) in expect.items():
    ip = "127.0.0.%d" % n
    r = recs.get(ip)
    if r is None:
        errors.append("%s: no record" % ip)
        continue
    check(r["extra.status"] == status, "%s: status %s, want %s (%s)" % (ip, r["extra.status"], status, r.get("extra.reason")))
    check(r.get("extra.user") == user and r.get("extra.password") == pw,
          "%s: pair %r/%r, want %r/%r" % (ip, r.get("extra.user"), r.get("extra.password"), user, pw))
    for k in ("feed.name", "time.source", "time.observation", "extra.scanner_ip", "extra.run_id",
              "extra.finding_id", "extra.observation_id", "classification.identifier", "tlp"):
        check(k in r, "%s: no %s" % (ip, k))
    check(r["source.port"] == port and r["protocol.application"] == "telnet", "%s: service fields" % ip)
    check(r["extra.scanner_ip"] == "127.0.0.1", "%s: scanner_ip %s" % (ip, r["extra.scanner_ip"]))
# accept-anything is never weak credentials.
check(recs["127.0.0.14"]["classification.identifier"] == "accepts-any", "accepts-any identifier")
# B26: no password was asked.
check(recs.get("127.0.0.22", {}).get("extra.password_asked") is False, "empty-password: password_asked")
# B10: the banner is capped at 4 KiB and says it was cut.
check(recs.get("127.0.0.25", {}).get("extra.banner_truncated") is True, "big banner: banner_truncated")
# Nothing outside the scope: no record, no connection.
check("127.0.0.200" not in recs, "a record for the out-of-scope target")
check(stats["127.0.0.200:%d" % port]["connections"] == 0, "the out-of-scope listener saw a connection")
# Reconnects: one connection per pair on close-after-failure devices.
c13 = stats["127.0.0.13:%d" % port]
check(c13["connections"] >= 5, "close-after-failure: %d connections" % c13["connections"])
check(stats["127.0.0.23:%d" % port]["connections"] >= 5, "cool-down: too few connections")
# No device received a data byte after showing a shell prompt.
for k, v in stats.items():
    check(v["violations"] == 0, "%s (%s): %d bytes sent after a shell prompt" % (k, v["behaviour"], v["violations"]))
# The redacted run: the index of admin:admin among pair lines, no pair.
red = [json.loads(l) for l in open(tmp + "/redacted.jsonl")]
check(len(red) == 1, "redacted: %d records" % len(red))
if red:
    check(red[0]["extra.status"] == "login-possible", "redacted: status")
    check(red[0].get("extra.credential_index") == 3, "redacted: index %r" % red[0].get("extra.credential_index"))
    check("extra.user" not in red[0] and "extra.password" not in red[0], "redacted: the pair is written")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print("login_engine: %d records checked" % len(recs))
EOF
