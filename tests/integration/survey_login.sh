#!/bin/bash
# `kizuki survey` with stage 2, on loopback against the small test devices
# (tests/integration/lib/login_devices.py):
#   - --targets-file: stage 2 alone; the run header and trailer carry stage
#     2's settings and counts; a target outside the scope is skipped with a
#     warning and never connected to; --redact-credentials;
#   - a connect-mode scan feeding stage 2 in the same process: every open
#     port gets its login record (telnet and SSH alike; a fake SSH server
#     that never completes the key exchange is an error with its reason),
#     and no closed port gets a record;
#   - stopping: Ctrl-C twice abandons the checks in flight, which are
#     written as interrupted timeouts; the trailer says the run did not
#     complete and the exit status is 1;
#   - usage: --targets-file needs --scope and cannot go with --no-login.
# Unprivileged where it can be (the survey drops to nobody when root);
# about a minute.
set -euo pipefail

bin=${KZ_BIN:-build/dev/kizuki}
src=${KZ_SOURCE_DIR:-.}
[ -x "$bin" ] || { echo "skip: $bin not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }

tmp=$(mktemp -d)
chmod 755 "$tmp" # the survey may run as nobody and must read its files
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

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sshport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/creds.txt" <<'EOF'
root:xc3511
root:vizxv
admin:admin
root:admin
EOF
python3 - "$port" "$sshport" >"$tmp/spec.json" <<'EOF'
import json, sys
p, sp = int(sys.argv[1]), int(sys.argv[2])
print(json.dumps([
    {"addr": "127.0.0.11", "port": p, "behaviour": "weak", "user": "admin", "password": "admin"},
    {"addr": "127.0.0.12", "port": p, "behaviour": "strong"},
    {"addr": "127.0.0.13", "port": p, "behaviour": "close-after-failure", "user": "root", "password": "admin"},
    {"addr": "127.0.0.14", "port": p, "behaviour": "tarpit"},
    {"addr": "127.0.0.15", "port": sp, "behaviour": "ssh"},
    {"addr": "127.0.0.200", "port": p, "behaviour": "counter"},
]))
EOF
chmod 644 "$tmp"/*
python3 "$src/tests/integration/lib/login_devices.py" "$tmp/spec.json" "$tmp/stats.json" \
	"$tmp/ready" &
pid=$!
for _ in $(seq 100); do [ -f "$tmp/ready" ] && break; sleep 0.1; done
[ -f "$tmp/ready" ] || fail "the test devices did not start"

echo "127.0.0.0/27" >"$tmp/scope.txt"
printf '127.0.0.11:%s/telnet\n127.0.0.12:%s/telnet\n127.0.0.13:%s/telnet\n127.0.0.200:%s/telnet\n' \
	"$port" "$port" "$port" "$port" >"$tmp/targets.txt"

# --- usage -----------------------------------------------------------------------
rc=0
"$bin" survey --targets-file "$tmp/targets.txt" 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "--targets-file without --scope: exit $rc, want 2"
rc=0
"$bin" survey --scope "$tmp/scope.txt" --targets-file "$tmp/targets.txt" --no-login \
	2>/dev/null || rc=$?
[ $rc = 2 ] || fail "--targets-file with --no-login: exit $rc, want 2"

# --- --targets-file -----------------------------------------------------------------
"$bin" survey --scope "$tmp/scope.txt" --allow-reserved --targets-file "$tmp/targets.txt" \
	--creds "$tmp/creds.txt" --out "$tmp/targets.jsonl" 2>"$tmp/targets.err" ||
	{ cat "$tmp/targets.err"; fail "survey --targets-file"; }
grep -q "127.0.0.200:$port/telnet is outside the scope: skipped" "$tmp/targets.err" ||
	fail "no warning for the target outside the scope"
"$bin" survey --scope "$tmp/scope.txt" --allow-reserved --targets-file "$tmp/targets.txt" \
	--creds "$tmp/creds.txt" --redact-credentials --out "$tmp/redacted.jsonl" 2>/dev/null ||
	fail "survey --redact-credentials"

# --- a connect-mode scan feeding stage 2 ----------------------------------------------
"$bin" survey --scope "$tmp/scope.txt" --allow-reserved --mode connect --rate 500 \
	--cooldown 2 --ports "$port/telnet,$sshport/ssh" --creds "$tmp/creds.txt" \
	--out "$tmp/scan.jsonl" 2>"$tmp/scan.err" || { cat "$tmp/scan.err"; fail "survey with a scan"; }

# --- stopping: two SIGINTs while the tarpit is checked ---------------------------------
printf '127.0.0.14:%s/telnet\n' "$port" >"$tmp/tarpit.txt"
"$bin" survey --scope "$tmp/scope.txt" --allow-reserved --targets-file "$tmp/tarpit.txt" \
	--creds "$tmp/creds.txt" --out "$tmp/stopped.jsonl" 2>"$tmp/stopped.err" &
spid=$!
sleep 2
kill -INT "$spid"
sleep 0.5
kill -INT "$spid"
src_rc=0
wait "$spid" || src_rc=$?
[ $src_rc = 1 ] || fail "a stopped survey exited $src_rc, want 1"

kill "$pid"
wait "$pid" || true
pid=""

python3 - "$tmp" "$port" "$sshport" <<'EOF'
import json, sys
tmp, port, sshport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
def load(name):
    return [json.loads(l) for l in open('%s/%s' % (tmp, name))]

# --targets-file
recs = load('targets.jsonl')
runs = [r for r in recs if r['classification.identifier'] == 'survey-run']
svc = {r['source.ip']: r for r in recs if r['classification.identifier'] != 'survey-run'}
check([r['extra.run_part'] for r in runs] == ['header', 'trailer'], 'targets: header/trailer')
check(recs[0]['extra.run_part'] == 'header' and recs[-1]['extra.run_part'] == 'trailer',
      'targets: header first, trailer last')
h, t = runs[0], runs[-1]
check(h['extra.mode'] == 'targets-file' and h['extra.login'] is True, 'targets: header mode')
check(h['extra.credential_pairs'] == 4 and h['extra.max_attempts'] == 0, 'targets: header list')
check(h['extra.targets'] == 3 and h['extra.targets_outside_scope'] == 1, 'targets: counts')
check('extra.addresses' not in h and 'extra.ports' not in h,
      'targets: a targets-file run must not claim the scope as coverage')
check(t['extra.completed'] is True and t['extra.services_checked'] == 3, 'targets: trailer')
check(t['extra.login_possible'] == 2 and t['extra.login_failed'] == 1, 'targets: trailer counts')
check(svc.get('127.0.0.11', {}).get('extra.password') == 'admin', 'targets: weak device')
check(svc.get('127.0.0.13', {}).get('extra.user') == 'root', 'targets: close-after-failure')
check(svc.get('127.0.0.12', {}).get('extra.status') == 'login-failed', 'targets: strong device')
check('127.0.0.200' not in svc, 'targets: a record for the target outside the scope')
for r in recs:
    check(r['extra.run_id'] == h['extra.run_id'], 'targets: one run id')

# redaction
red = [r for r in load('redacted.jsonl') if r.get('extra.status') == 'login-possible']
check(len(red) == 2, 'redacted: %d login-possible' % len(red))
for r in red:
    check('extra.user' not in r and 'extra.password' not in r, 'redacted: pair written')
idx = sorted(r.get('extra.credential_index') for r in red)
check(idx == [3, 4], 'redacted: indices %r' % idx)

# scan + stage 2
recs = load('scan.jsonl')
runs = [r for r in recs if r['classification.identifier'] == 'survey-run']
svc = {(r['source.ip'], r['source.port']): r for r in recs
       if r['classification.identifier'] != 'survey-run'}
t = runs[-1]
check(t['extra.open'] == 5, 'scan: %d open ports, want 5' % t['extra.open'])
want = {('127.0.0.11', port): 'login-possible', ('127.0.0.12', port): 'login-failed',
        ('127.0.0.13', port): 'login-possible', ('127.0.0.14', port): 'timeout',
        ('127.0.0.15', sshport): 'error'}
for k, st in want.items():
    check(svc.get(k, {}).get('extra.status') == st,
          'scan: %s:%d is %r, want %s' % (k[0], k[1], svc.get(k, {}).get('extra.status'), st))
check(len(svc) == len(want), 'scan: %d service records, want %d' % (len(svc), len(want)))
# The SSH plug-in checks the port too: a device that sends an SSH version
# line and no key exchange is an error, with the reason.
check(svc.get(('127.0.0.15', sshport), {}).get('extra.reason') == 'the SSH key exchange failed',
      'scan: reason %r' % svc.get(('127.0.0.15', sshport), {}).get('extra.reason'))
check(t['extra.services_checked'] == 5 and t['extra.services_unchecked'] == 0,
      'scan: trailer counts %r/%r' % (t.get('extra.services_checked'), t.get('extra.services_unchecked')))
check(t['extra.login_possible'] == 2 and t['extra.completed'] is True, 'scan: trailer')

# stopped
recs = load('stopped.jsonl')
svc = [r for r in recs if r['classification.identifier'] != 'survey-run']
check(len(svc) == 1 and svc[0].get('extra.interrupted') is True and
      svc[0]['extra.status'] == 'timeout', 'stopped: the check in flight %r' % svc)
check(recs[-1].get('extra.run_part') == 'trailer' and recs[-1]['extra.completed'] is False and
      recs[-1]['extra.services_interrupted'] == 1, 'stopped: trailer')

# nothing outside the scope, nothing after a shell prompt
stats = json.load(open(tmp + '/stats.json'))
check(stats['127.0.0.200:%d' % port]['connections'] == 0, 'a connection outside the scope')
for k, v in stats.items():
    check(v['violations'] == 0, '%s: %d bytes after a shell prompt' % (k, v['violations']))
if errors:
    print('\n'.join(errors))
    sys.exit(1)
print('survey_login: ok')
EOF
