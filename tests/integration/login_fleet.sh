#!/bin/bash
# Survey stage 2 against the device simulator: the first 512 devices of
# fleet-v1 (every behaviour of docs/devsim-spec.md, a /23 of the /20 fleet:
# the same devices, by the simulator's construction) in a network
# namespace, kizuki-logincheck in the same namespace, scored against the
# simulator's ground truth as the spec's section 9 says:
#   - precision 100 %: every login-possible record names a pair the device
#     accepts;
#   - recall >= 99.5 % of the weak devices;
#   - no accept-anything device reported as weak;
#   - 0 violations (the simulator counts data sent after a login and
#     credentials outside the list and the control pair);
#   - the status of every device as the spec expects, listed by behaviour
#     when one differs.
# The credential list is the spec's example list plus its 0xff pair
# (tests/data/devsim/creds-test.txt), short so that the slowest device
# (silent failures, every pair) finishes in about a minute.
#
# Needs root (a network namespace) and kizuki-devsim; exit 77 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/netns.bash
. "$here/lib/netns.bash"
kz_ns_init
tools=${KZ_TOOLS_DIR:-${KZ_BUILD_DIR:?}}
sim="$tools/kizuki-devsim"
check="$tools/kizuki-logincheck"
[ -x "$sim" ] || kz_die "no $sim"
[ -x "$check" ] || kz_die "no $check"
creds="$KZ_SOURCE_DIR/tests/data/devsim/creds-test.txt"
prefix=198.18.0.0/23

kz_ns_add ns fleet
kz_ns_anyip "$ns" "$prefix"
kz_ns_spawn "$ns" "$sim" --prefix "$prefix" --creds "$creds" --seed 1 \
	--truth "$KZ_TMP/truth.jsonl" --ready "$KZ_TMP/ready" --quiet
sim_pid=$KZ_PID
for _ in $(seq 100); do [ -e "$KZ_TMP/ready" ] && break; sleep 0.1; done
[ -e "$KZ_TMP/ready" ] || kz_die "the simulator did not start"

python3 -c "
import json, sys
for l in open('$KZ_TMP/truth.jsonl'):
    r = json.loads(l)
    print('%s:%d/telnet' % (r['address'], r['port']))" >"$KZ_TMP/targets.txt"
echo "$prefix" >"$KZ_TMP/scope.txt"

ip netns exec "$ns" "$check" --targets-file "$KZ_TMP/targets.txt" --scope "$KZ_TMP/scope.txt" \
	--allow-reserved --creds "$creds" --concurrency 1000 --run-id fleet-test \
	--out "$KZ_TMP/out.jsonl" 2>"$KZ_TMP/err.txt" || {
	cat "$KZ_TMP/err.txt"
	kz_die "kizuki-logincheck failed"
}
tail -n 2 "$KZ_TMP/err.txt"
kz_ns_stop "$sim_pid"

python3 - "$KZ_TMP/truth.jsonl" "$KZ_TMP/out.jsonl" <<'PY' || kz_die "scores"
import collections, json, sys
truth = {r['address']: r for r in map(json.loads, open(sys.argv[1]))}
recs = {}
for l in open(sys.argv[2]):
    r = json.loads(l)
    recs[r['source.ip']] = r

def rec_bytes(r, key):
    """A credential of a record as bytes: the hex form when the record has
    one (not valid UTF-8), else the UTF-8 text."""
    if key + '_hex' in r:
        return bytes.fromhex(r[key + '_hex'])
    v = r.get(key)
    return None if v is None else v.encode('utf-8')

def truth_bytes(d, key):
    if d.get(key + '_hex'):
        return bytes.fromhex(d[key + '_hex'])
    v = d.get(key)
    return None if v is None else v.encode('utf-8')

def accepted(d, r):
    a = d.get('accept')
    user, pw = rec_bytes(r, 'extra.user'), rec_bytes(r, 'extra.password')
    if a == 'user-password':
        return user == truth_bytes(d, 'user') and pw == truth_bytes(d, 'password')
    if a == 'password-only':
        return pw == truth_bytes(d, 'password')
    if a == 'user-only':
        return user == truth_bytes(d, 'user')
    return False

missing = [a for a in truth if a not in recs]
reported = [a for a, r in recs.items() if r['extra.status'] == 'login-possible']
correct = [a for a in reported if truth[a]['expected_status'] == 'login-possible' and
           accepted(truth[a], recs[a])]
positives = [a for a, d in truth.items() if d['expected_status'] == 'login-possible']
precision = 100.0 * len(correct) / len(reported) if reported else 100.0
recall = 100.0 * len(correct) / len(positives)
anyweak = [a for a in reported if truth[a]['behaviour'] == 'B16']
violations = sum(d['violations'] for d in truth.values())
by_b = collections.defaultdict(lambda: [0, 0])
wrong = []
for a, d in truth.items():
    got = recs.get(a, {}).get('extra.status')
    by_b[d['behaviour']][1] += 1
    if got == d['expected_status']:
        by_b[d['behaviour']][0] += 1
    else:
        wrong.append('%s %s %s: %s, expected %s (%s)' % (a, d['behaviour'], d['style'], got,
                     d['expected_status'], recs.get(a, {}).get('extra.reason')))
print('fleet: %d devices, %d weak; reported %d, correct %d: precision %.2f %%, recall %.2f %%; '
      '%d violations' % (len(truth), len(positives), len(reported), len(correct), precision,
                         recall, violations))
print('status accuracy by behaviour: ' + ', '.join(
    '%s %d/%d' % (b, ok, n) for b, (ok, n) in sorted(by_b.items())))
for w in wrong[:20]:
    print('  ' + w)
errors = []
if missing:
    errors.append('%d devices without a record' % len(missing))
if precision < 100.0:
    bad = [a for a in reported if a not in correct]
    for a in bad[:10]:
        d = truth[a]
        print('  wrong pair: %s %s %s: reported %r/%r, the device accepts %s %r/%r' % (
            a, d['behaviour'], d['style'], recs[a].get('extra.user'),
            recs[a].get('extra.password'), d['accept'], d.get('user'), d.get('password')))
    errors.append('precision below 100 %% (%d wrong pairs)' % len(bad))
if recall < 99.5:
    errors.append('recall below 99.5 %')
if anyweak:
    errors.append('accept-anything devices reported as weak: %s' % anyweak)
if violations:
    errors.append('%d violations' % violations)
if wrong:
    errors.append('%d devices with another status than the spec expects' % len(wrong))
if errors:
    print('FAIL: ' + '; '.join(errors))
    sys.exit(1)
PY
