#!/bin/bash
# The hub benchmark of REFERENCE.md ("Benchmark definitions": hub), run
# outside CI. Builds the release preset, then on loopback:
#   1. ingest: 4 clients, 1,000 events per POST, 30 % duplicates, each reply
#      after the hub's commit -> events/s (target >= 100,000), RUNS times on
#      a new store each, with the median; and the hub's CPU time per event
#      (from /proc, the steadier figure on a shared machine);
#   2. query: an operator's findings page (100 rows) with 1 M findings
#      stored -> p99 (target < 50 ms);
#   3. concurrency: 100 clients for 30 s -> no error, no lost event;
#   4. where the time goes without HTTP (kizuki-bench-hub local).
# Prints the machine, the commands and the figures; docs/bench-hub.md keeps
# the last results. Usage: bench/hub.sh [SECONDS] [FINDINGS] [RUNS]
# (FINDINGS 0 skips parts 2-4).
set -eu
secs=${1:-20}
findings=${2:-1000000}
runs=${3:-3}
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j2 >/dev/null
bin=build/release/kizuki
bench=build/release/bench/kizuki-bench-hub
tmp=$(mktemp -d)
hub_pid=""
cleanup() {
	[ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "kizuki: $(git describe --always --dirty 2>/dev/null || echo unknown)"

"$bin" hub token --role sensor --name bench >"$tmp/sensor" 2>/dev/null
"$bin" hub token --role operator --name isp --asn 64512 >"$tmp/op" 2>/dev/null
"$bin" hub token --role admin --name root >"$tmp/admin" 2>/dev/null
tail -qn1 "$tmp/sensor" "$tmp/op" "$tmp/admin" >"$tmp/tokens"

start_hub() { # db
	"$bin" hub --db "$1" --listen 127.0.0.1:0 --tokens "$tmp/tokens" 2>"$tmp/hub.log" &
	hub_pid=$!
	for _ in $(seq 100); do
		grep -q "listening on port" "$tmp/hub.log" && break
		sleep 0.1
	done
	port=$(grep -o "listening on port [0-9]*" "$tmp/hub.log" | awk '{print $4}')
}
stop_hub() {
	kill "$hub_pid"
	wait "$hub_pid" || true
	hub_pid=""
}

cpu_ticks() { # pid: user + system clock ticks so far
	awk '{print $14 + $15}' "/proc/$1/stat"
}

echo
echo "== 1. ingest, $runs runs"
echo "command: $bench ingest http://127.0.0.1:PORT/api/v1/events TOKEN 4 1000 30 $secs"
: >"$tmp/rates"
for run in $(seq "$runs"); do
	rm -f "$tmp/ingest.db"*
	start_hub "$tmp/ingest.db"
	t0=$(cpu_ticks "$hub_pid")
	"$bench" ingest "http://127.0.0.1:$port/api/v1/events" "$(head -1 "$tmp/sensor")" 4 1000 30 \
		"$secs" 2>/dev/null | tee "$tmp/out"
	t1=$(cpu_ticks "$hub_pid")
	stop_hub
	events=$(awk '/events acknowledged/ {print $2}' "$tmp/out")
	rate=$(awk '/events acknowledged/ {print $7}' "$tmp/out")
	hub_us=$(awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$events" \
		'BEGIN {printf "%.1f", t / hz / n * 1e6}')
	echo "run $run: $rate events/s; hub CPU $hub_us us per event"
	echo "$rate $hub_us" >>"$tmp/rates"
done
sort -n "$tmp/rates" | awk '{r[NR] = $1; c[NR] = $2} END {m = int((NR + 1) / 2);
	printf "ingest: median of %d runs %s events/s (hub CPU %s us per event in that run)\n",
	NR, r[m], c[m]}'
sort -n -k2 "$tmp/rates" | awk '{c[NR] = $2} END {printf "ingest: hub CPU per event, median %s us\n", c[int((NR + 1) / 2)]}'
[ "$findings" = 0 ] && exit 0

echo
echo "== 2. operator's findings page with $findings findings stored"
echo "command: $bench fill DB $findings 16 && $bench query URL TOKEN 1000 limit=100"
"$bench" fill "$tmp/query.db" "$findings" 16
start_hub "$tmp/query.db"
"$bench" query "http://127.0.0.1:$port" "$(head -1 "$tmp/op")" 1000 "limit=100"
"$bench" query "http://127.0.0.1:$port" "$(head -1 "$tmp/op")" 200 "limit=100&state=new"
"$bench" query "http://127.0.0.1:$port" "$(head -1 "$tmp/op")" 200 "limit=100&state=remediated"
stop_hub

echo
echo "== 3. 100 concurrent clients for 30 s"
start_hub "$tmp/conc.db"
echo "command: $bench ingest URL TOKEN 100 100 30 30 1"
if "$bench" ingest "http://127.0.0.1:$port/api/v1/events" "$(head -1 "$tmp/sensor")" 100 100 30 30 1; then
	echo "concurrency: no error, every POST fully acknowledged"
else
	echo "concurrency: FAILED"
fi
stop_hub
rows=$(sqlite3 "$tmp/conc.db" "SELECT count(*) FROM hub_observations" 2>/dev/null || echo "?")
echo "concurrency: $rows observations stored"

echo
echo "== 4. without HTTP, one thread"
echo "command: $bench local DB 200000"
"$bench" local "$tmp/local.db" 200000
