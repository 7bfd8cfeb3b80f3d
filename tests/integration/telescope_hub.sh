#!/bin/bash
# kizuki telescope --hub: the records and stats reach a real kizuki hub on
# loopback through the spool, and nothing is lost while the hub is down.
#  1. The hub is not running: the telescope reads a trace, keeps everything
#     in its spool, says so, and exits 0.
#  2. The hub is started; the telescope reads the same trace again with the
#     same spool: the left-over segments and the new ones are posted.
#  3. The hub's store then holds one observation per record line and one
#     stats row per stats line (the second copies were duplicates), and its
#     API lists the telescope's findings.
# Needs python3; only 127.0.0.1.
set -euo pipefail

kz=${KZ_BIN:?}
gen=${KZ_BUILD_DIR:?}/kizuki-gen
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
tmp=$(mktemp -d /tmp/kz-tele-hub.XXXXXX)
hub_pid=
cleanup() {
	[ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$kz" hub token --role sensor --name tele-sensor >sensor.out 2>/dev/null
"$kz" hub token --role admin --name admin >admin.out 2>/dev/null
head -1 sensor.out >sensor.token
head -1 admin.out >admin.token
{ sed -n 2p sensor.out; sed -n 2p admin.out; } >tokens.tsv

"$gen" -q -p mixed -s 5 -o mixed.pcap -t mixed.truth
dn=198.18.0.0/16,2001:db8:ffff::/48
tele() { # label, extra args
	local label=$1
	shift
	"$kz" telescope -r mixed.pcap --darknet "$dn" --sensor hub-test \
		--hub "http://127.0.0.1:$port" --token-file sensor.token --spool spool "$@" \
		2>"$label.err" || { cat "$label.err"; fail "$label: kizuki telescope failed"; }
	grep "hub:" "$label.err"
}

# 1. No hub: everything stays in the spool.
tele down --events ev.jsonl --stats st.jsonl
grep -q "hub: 0 records sent, 0 refused by the hub, [1-9][0-9]* bytes left in the spool" down.err ||
	fail "with the hub down, the spool should keep everything"

# 2. The hub comes up; the same trace again, with the same spool.
"$kz" hub --db hub.db --listen "127.0.0.1:$port" --tokens tokens.tsv 2>hub.err &
hub_pid=$!
# Up to 60 s: under the sanitizer build on a loaded machine the hub can
# take several seconds to open its store and listen.
up=
for _ in $(seq 600); do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
		"$port" 2>/dev/null && { up=1; break; }
	kill -0 "$hub_pid" 2>/dev/null || { cat hub.err; fail "the hub exited"; }
	sleep 0.1
done
[ -n "$up" ] || { cat hub.err; fail "the hub did not listen within 60 s"; }
tele up
grep -q "hub: [1-9][0-9]* records sent, 0 refused by the hub, 0 bytes left in the spool" up.err ||
	{ cat up.err hub.err; fail "with the hub up, the spool should be sent in full"; }

# 3. What the hub holds.
findings=$(python3 - "$port" <<'EOF'
import json, sys, urllib.request
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/api/v1/findings?limit=1000",
                             headers={"Authorization": "Bearer " + open("admin.token").read().strip()})
print(len(json.load(urllib.request.urlopen(req))["findings"]))
EOF
)
kill "$hub_pid"
wait "$hub_pid" || true
hub_pid=
python3 - hub.db ev.jsonl st.jsonl "$findings" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
events = [json.loads(l) for l in open(sys.argv[2])]
stats = [json.loads(l) for l in open(sys.argv[3])]
obs = {r[0] for r in db.execute("SELECT observation_id FROM hub_observations")}
want = {e["extra.observation_id"] for e in events}
rows = db.execute("SELECT COUNT(*) FROM hub_stats_intervals WHERE sensor = 'hub-test'").fetchone()[0]
fids = {e["extra.finding_id"] for e in events}
print(f"hub: {len(obs)} observations for {len(events)} records, {rows} stats rows for "
      f"{len(stats)} lines, {sys.argv[4]} findings listed by the API for {len(fids)}")
assert obs == want, f"{len(want - obs)} records missing, {len(obs - want)} unexpected"
assert rows == len(stats)
assert int(sys.argv[4]) == len(fids)
EOF
echo PASS
