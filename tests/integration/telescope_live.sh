#!/bin/bash
# kizuki telescope on a live interface gives the same findings as on the
# file the packets came from. In a network namespace this test creates,
# the generator's `scanners` trace (Mirai, ZMap, masscan, unicornscan, nmap,
# generic scanners fast and slow) is replayed out of one end of a veth pair
# while `kizuki telescope -i` captures the other end (libpcap, TPACKET_V3,
# the darknet BPF filter), as root, dropping to nobody once the capture is
# open; SIGTERM ends it. The same pcap is then read with -r. Packet times
# differ (the replay runs as fast as the socket takes it), so intervals and
# observation ids differ; what must not: the findings (ids, labels), each
# finding's final packet count, the packets analysed, no kernel drops, a
# clean exit, an unprivileged process after the capture opened, and a store
# (--db) opened as root that still takes every record as nobody.
# Exit 77 when it cannot run here (not root, no namespaces).
set -euo pipefail

cannot() {
	echo "telescope_live: $1"
	[ "${KZ_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
}
[ "$(id -u)" -eq 0 ] || cannot "needs root for a network namespace"
command -v ip >/dev/null || cannot "no iproute2"
command -v python3 >/dev/null || cannot "no python3"
kz=${KZ_BIN:?}
gen=${KZ_BUILD_DIR:?}/kizuki-gen
src=${KZ_SOURCE_DIR:?}
id nobody >/dev/null 2>&1 || cannot "no user nobody to drop to"

ns=kz-tlive-$$
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

ip netns add "$ns" || cannot "cannot create a network namespace"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add kztl0 type veth peer name kztl1
ip -n "$ns" link set kztl0 up
ip -n "$ns" link set kztl1 up
mac=$(ip netns exec "$ns" cat /sys/class/net/kztl0/address)

"$gen" -q -p scanners -s 3 -o "$tmp/trace.pcap" -t "$tmp/truth.jsonl"
darknet=198.18.0.0/16

ip netns exec "$ns" "$kz" telescope -i kztl0 --darknet "$darknet" --sensor live-test \
	--events "$tmp/live.events" --stats "$tmp/live.stats" --db "$tmp/live.db" >/dev/null \
	2>"$tmp/live.err" &
tel=$!
pids+=("$tel")
for _ in $(seq 100); do
	# Running as nobody means the capture is open and privileges dropped.
	user=$(ps -o user= -p "$tel" 2>/dev/null || true)
	[ "$user" = nobody ] && grep -q "fingerprints:" "$tmp/live.err" && break
	sleep 0.1
done
[ "$(ps -o user= -p "$tel")" = nobody ] || { cat "$tmp/live.err"; fail "did not drop to nobody"; }

sent=$(ip netns exec "$ns" python3 "$src/tests/integration/telescope_live_send.py" kztl1 "$mac" \
	"$tmp/trace.pcap")
sleep 2
kill -TERM "$tel"
status=0
wait "$tel" || status=$?
[ "$status" -eq 0 ] || { cat "$tmp/live.err"; fail "exit status $status after SIGTERM"; }
grep "kernel:" "$tmp/live.err" || { cat "$tmp/live.err"; fail "no kernel counters in the summary"; }
grep -q "dropped 0," "$tmp/live.err" || { cat "$tmp/live.err"; fail "kernel drops"; }

"$kz" telescope -r "$tmp/trace.pcap" --darknet "$darknet" --sensor live-test \
	--events "$tmp/file.events" --stats "$tmp/file.stats" >/dev/null 2>"$tmp/file.err" ||
	{ cat "$tmp/file.err"; fail "reading the file failed"; }
echo "sent $sent frames"

# The store was written after the drop to nobody: all records are there.
python3 -c 'import sqlite3,sys; n=sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM hub_observations").fetchone()[0]; m=sum(1 for _ in open(sys.argv[2])); print(f"store: {n} records, events file: {m}"); sys.exit(n != m or n == 0)' \
	"$tmp/live.db" "$tmp/live.events" || fail "the store written as nobody lacks records"

python3 - "$tmp/live.events" "$tmp/file.events" "$tmp/live.err" "$tmp/file.err" <<'EOF'
import json, re, sys

def findings(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        f = r["extra.finding_id"]
        out[f] = (r["classification.identifier"], r.get("source.ip") or r.get("destination.ip"),
                  r.get("extra.packets"))  # the last record wins: final counts
    return out

live, file = findings(sys.argv[1]), findings(sys.argv[2])
analysed = [int(re.search(r"analysed (\d+)", open(p).read()).group(1)) for p in sys.argv[3:5]]
print(f"live: {len(live)} findings, {analysed[0]} packets analysed; "
      f"file: {len(file)} findings, {analysed[1]} packets analysed")
kinds = {}
for f, (ident, _, _) in file.items():
    kinds[ident] = kinds.get(ident, 0) + 1
print("findings by label:", dict(sorted(kinds.items())))
bad = []
if analysed[0] != analysed[1]:
    bad.append("packets analysed differ")
for f in sorted(set(live) | set(file)):
    if live.get(f) != file.get(f):
        bad.append(f"finding {f}: live {live.get(f)}, file {file.get(f)}")
for b in bad[:10]:
    print("FAIL:", b)
sys.exit(1 if bad or not file else 0)
EOF
echo PASS
