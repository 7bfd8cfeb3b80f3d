#!/bin/bash
# kizuki-devsim against docs/devsim-spec.md: serve the fleet-v1 fleet on a
# /20 in a namespace and check a sample of every behaviour's bytes against
# the spec's transcripts (tests/integration/lib/devsim_check.py), the
# fleet's composition against the spec's table, determinism (the same seed
# gives the same truth; device i does not depend on the fleet's size), and
# a clean exit on SIGTERM with the truth rewritten.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/netns.bash
. "$here/lib/netns.bash"
kz_ns_init
sim="${KZ_TOOLS_DIR:-${KZ_BUILD_DIR:?}}/kizuki-devsim"
[ -x "$sim" ] || kz_die "no $sim"
creds="$KZ_SOURCE_DIR/tests/data/devsim/creds-test.txt"
kz_ns_add ns devsim
kz_ns_anyip "$ns" 198.18.0.0/20

kz_ns_spawn "$ns" "$sim" --prefix 198.18.0.0/20 --creds "$creds" --seed 7 \
	--truth "$KZ_TMP/truth.jsonl" --ready "$KZ_TMP/ready" --quiet
sim_pid=$KZ_PID
for _ in $(seq 100); do [ -e "$KZ_TMP/ready" ] && break; sleep 0.1; done
[ -e "$KZ_TMP/ready" ] || kz_die "the simulator did not start"

# The fleet is the spec's table (section 8) exactly.
python3 - "$KZ_TMP/truth.jsonl" <<'PY' || kz_die "fleet composition"
import collections, json, sys
want = {'B01': 1316, 'B02': 300, 'B03': 250, 'B04': 200, 'B05': 100, 'B06': 40, 'B07': 60,
        'B08': 60, 'B09': 200, 'B10': 40, 'B11': 300, 'B12': 60, 'B13': 80, 'B14': 150,
        'B15': 80, 'B16': 80, 'B18': 80, 'B19': 60, 'B20': 60, 'B21': 100, 'B22': 60,
        'B23': 60, 'B24': 60, 'B25': 60, 'B26': 40, 'B27': 40, 'B28': 100, 'B29': 60}
rows = [json.loads(l) for l in open(sys.argv[1])]
got = collections.Counter(r['behaviour'] for r in rows)
assert dict(got) == want, got
assert len({r['address'] for r in rows}) == 4096
for b in want:
    sub = [r for r in rows if r['behaviour'] == b and r['credentials'] in ('weak', 'strong')]
    if sub and b not in ('B25', 'B26'):
        weak = sum(r['credentials'] == 'weak' for r in sub)
        assert abs(weak - 0.6 * len(sub)) <= 1, (b, weak, len(sub))
for r in rows:
    if r['credentials'] == 'weak':
        assert r['expected_status'] == 'login-possible' and r['pair'] is not None, r
    if r['credentials'] == 'strong':
        assert r['expected_status'] == 'login-failed' and r['pair'] is None, r
        assert len(r['password']) == 16, r
styles = collections.Counter(r['style'] for r in rows if r['behaviour'] == 'B01')
assert len(styles) == 15 and min(styles.values()) >= 87, styles
PY

ip netns exec "$ns" python3 "$here/lib/devsim_check.py" "$KZ_TMP/truth.jsonl" "$sim_pid" ||
	kz_die "transcripts"

kz_ns_stop "$sim_pid"
grep -q '"logins":1' "$KZ_TMP/truth.jsonl" || kz_die "the truth was not rewritten on SIGTERM"

# Determinism: the same seed gives the same fleet; a smaller prefix gives
# the same first devices.
run_truth() { # prefix seed out
	ip netns exec "$ns" "$sim" --prefix "$1" --seed "$2" --creds "$creds" --truth "$3" \
		--ready "$3.ready" --quiet &
	local pid=$!
	KZ_PIDS+=("$pid")
	for _ in $(seq 100); do [ -e "$3.ready" ] && break; sleep 0.1; done
	kz_ns_stop "$pid"
}
run_truth 198.18.0.0/20 7 "$KZ_TMP/again.jsonl"
run_truth 198.18.0.0/22 7 "$KZ_TMP/small.jsonl"
run_truth 198.18.0.0/20 8 "$KZ_TMP/other.jsonl"
strip() { sed 's/,"connections".*//' "$1"; }
[ "$(strip "$KZ_TMP/again.jsonl" | sha256sum)" = "$(strip "$KZ_TMP/truth.jsonl" | sha256sum)" ] ||
	kz_die "the same seed gave another fleet"
[ "$(strip "$KZ_TMP/small.jsonl")" = "$(strip "$KZ_TMP/truth.jsonl" | head -1024)" ] ||
	kz_die "device i changed with the fleet's size"
[ "$(strip "$KZ_TMP/other.jsonl" | sha256sum)" != "$(strip "$KZ_TMP/truth.jsonl" | sha256sum)" ] ||
	kz_die "another seed gave the same fleet"
kz_log "ok"
