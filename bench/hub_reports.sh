#!/bin/bash
# Issue 6's report benchmark, run outside CI: every operator's report for
# 1 M findings in < 10 s. Builds the release preset, fills a store with
# FINDINGS survey findings (banners, devices, credentials: the records of
# kizuki-bench-hub, stored through the ingest library) spread over
# OPERATORS ASes with an operators table, then times writing every
# operator's CSV, JSON and X-ARF report to files (three runs each, the
# first on a cold page cache for the store as far as the machine allows).
# Prints the machine, the commands and the figures (wall and CPU time: on
# a shared machine only the CPU time says what the code costs);
# docs/bench-hub-reports.md keeps the last results.
#
# usage: bench/hub_reports.sh [FINDINGS] [OPERATORS] [DB]
#   DB: keep the filled store there and reuse it on the next run (filling
#   1 M findings takes a minute or two).
set -eu
findings=${1:-1000000}
ops=${2:-1000}
keep=${3:-}
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j2 >/dev/null
fill=build/release/bench/kizuki-bench-hub
bench=build/release/bench/kizuki-bench-hub_reports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=${keep:-$tmp/hub.db}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "kizuki: $(git describe --always --dirty 2>/dev/null || echo unknown)"
if [ ! -f "$db" ]; then
	echo "+ $fill fill $db $findings $ops"
	"$fill" fill "$db" "$findings" "$ops"
	# The operators file's copy, as the hub keeps it (kizuki-bench-hub
	# attributes finding i to AS 64512 + i % OPERATORS).
	{
		echo "BEGIN;"
		for ((i = 0; i < ops; i++)); do
			echo "INSERT OR REPLACE INTO hub_operators VALUES ($((64512 + i)), 'ISP $i', 'abuse@isp-$i.example', NULL);"
		done
		echo "COMMIT;"
	} | sqlite3 "$db"
fi
echo "store: $(du -h "$db" | cut -f1), $(sqlite3 "$db" 'SELECT count(*) FROM hub_findings') findings, $(sqlite3 "$db" 'SELECT count(*) FROM hub_operators') operators"
for run in 1 2 3; do
	echo "+ $bench $db $tmp/out csv json xarf   (run $run, load $(cut -d' ' -f1-3 /proc/loadavg))"
	"$bench" "$db" "$tmp/out" csv json xarf
	rm -rf "$tmp/out"
done
