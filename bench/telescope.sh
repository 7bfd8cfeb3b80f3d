#!/bin/bash
# The telescope benchmark (REFERENCE.md, "Benchmark definitions"): kizuki
# telescope's full analysis of the generator's pinned bench trace (30 M
# packets) against a bare libpcap pcap_next_ex counting loop and against
# tcpdump -r FILE -w /dev/null with the darknet filter; median of 5 runs
# each, warm page cache, one process per run. Also the peak RSS at 3 M and
# at 30 M packets (the memory must follow the per-source budget, not the
# trace's length) and kizuki's CPU time per packet with 1 and 2 threads.
#
# usage: bench/telescope.sh [BUILD_DIR [WORK_DIR]]
#   BUILD_DIR: a release build (default build/release:
#              cmake --preset release && cmake --build --preset release -j2)
#   WORK_DIR:  where the traces go (default /tmp; 2.7 GB), kept for reruns
# Prints the machine, the commands and the figures; BENCH_RUNS=N changes
# the number of runs. The figures go into docs/bench-telescope.md by hand.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/release}
work=${2:-/tmp}
runs=${BENCH_RUNS:-5}
kz=$build/kizuki
gen=$build/kizuki-gen
pcapnext=$build/bench/kizuki-bench-pcapnext
darknet=198.18.0.0/16
filter="dst net $darknet"
for x in "$kz" "$gen" "$pcapnext"; do
	[ -x "$x" ] || { echo "bench: $x not built (cmake --preset release && cmake --build --preset release)"; exit 1; }
done
command -v tcpdump >/dev/null || { echo "bench: tcpdump not installed"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time (Debian: time) not installed"; exit 1; }

big=$work/kz-bench-30m.pcap
small=$work/kz-bench-3m.pcap
out=$(mktemp -d "$work/kz-bench-out.XXXXXX")
trap 'rm -rf "$out"' EXIT

# The pinned traces: profile bench, seed 1 (kizuki-gen's defaults).
[ -s "$big" ] || "$gen" -q -p bench -o "$big"
[ -s "$small" ] || "$gen" -q -p bench -n 3000000 -o "$small"
packets=30000000

# How many cores this process can have at once right now: the same shell
# busy loop run once, then twice in parallel; on two free cores the pair
# takes as long as one (2.0x), on one core twice as long (1.0x). A shared
# machine (or an oversubscribed host) shows less than 2.
spin() { local i=0; while [ $i -lt 300000 ]; do i=$((i + 1)); done; }
parallelism() {
	local t0 t1 t2
	t0=$(date +%s%N)
	spin
	t1=$(date +%s%N)
	spin &
	spin &
	wait
	t2=$(date +%s%N)
	awk -v a="$((t1 - t0))" -v b="$((t2 - t1))" 'BEGIN {printf "%.2fx", 2 * a / b}'
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GB"
echo "kernel: $(uname -r); libpcap: $(tcpdump --version 2>&1 | grep -i libpcap | head -1)"
echo "trace: $big ($(du -h "$big" | cut -f1), $packets packets, profile bench seed 1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); cores available at once: $(parallelism) (2.00x: two free cores)"

warm() { cat "$1" >/dev/null; cat "$1" >/dev/null; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# run NAME COMMAND...: one timed process; appends "wall user sys maxrss_kb".
run() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" >/dev/null 2>"$out/err" ||
		{ cat "$out/err"; echo "bench: $name failed"; exit 1; }
	cat "$out/time" >>"$out/$name"
	grep -o 'CPU time: .*' "$out/err" >>"$out/$name.split" || true
}

kz_cmd=("$kz" telescope -r "$big" --darknet "$darknet" --sensor bench
	--events "$out/events.jsonl" --stats "$out/stats.jsonl")
echo
echo "commands (each run $runs times, interleaved, after warming the page cache):"
echo "  ${kz_cmd[*]}"
echo "  $pcapnext $big"
echo "  tcpdump -r $big -w /dev/null '$filter'"

# Each kizuki run writes new output files, as a sensor writing a file per
# run does: overwriting the previous run's 250 MB of events would time the
# file system, not the analysis (truncating them took 90 ms at the start,
# and ext4 flushes a truncated-then-rewritten file when it is closed: 100
# ms more at the end).
fresh() { rm -f "$out/events.jsonl" "$out/stats.jsonl"; }

warm "$big"
for i in $(seq "$runs"); do
	fresh
	run kizuki "${kz_cmd[@]}"
	run pcapnext "$pcapnext" "$big"
	run tcpdump tcpdump -r "$big" -w /dev/null "$filter"
	fresh
	run kizuki1 "${kz_cmd[@]}" --threads 1
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); cores available at once: $(parallelism)"

wall() { awk '{print $1}' "$out/$1" | median; }
cpu() { awk '{print $2 + $3}' "$out/$1" | median; }
rss() { awk '{print $4}' "$out/$1" | sort -g | tail -1; }
mpps() { awk -v p="$packets" -v s="$1" 'BEGIN {printf "%.2f", p / s / 1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b / a}'; }

kw=$(wall kizuki) pw=$(wall pcapnext) tw=$(wall tcpdump) k1=$(wall kizuki1)
echo
printf "%-40s %8s %8s %10s %10s\n" "median of $runs (wall clock)" "s" "Mpps" "CPU s" "ns/pkt CPU"
for n in kizuki kizuki1 pcapnext tcpdump; do
	label=$n
	case $n in
	kizuki) label="kizuki telescope (2 threads)" ;;
	kizuki1) label="kizuki telescope --threads 1" ;;
	pcapnext) label="libpcap pcap_next_ex, count" ;;
	tcpdump) label="tcpdump -w /dev/null, darknet filter" ;;
	esac
	w=$(wall $n) c=$(cpu $n)
	printf "%-40s %8.2f %8s %10.2f %10.1f\n" "$label" "$w" "$(mpps "$w")" "$c" \
		"$(awk -v c="$c" -v p="$packets" 'BEGIN {print c / p * 1e9}')"
done
echo
echo "kizuki vs pcap_next_ex: $(ratio "$kw" "$pw")x (needs >= 1.0); with --threads 1: $(ratio "$k1" "$pw")x"
echo "kizuki vs tcpdump:      $(ratio "$kw" "$tw")x (needs >= 1.5); with --threads 1: $(ratio "$k1" "$tw")x"
# The split of the 2-thread runs' CPU time between their threads (from
# the summaries; the median of each), and the wall time that bounds on two
# cores that nothing else uses: at least the analysis thread's time and at
# least half the total (reading and writing share the other core). The
# peers are single-threaded: on a free core their wall time is their CPU
# time. A bound, not a measurement: the script says so.
if [ -s "$out/kizuki.split" ]; then
	r=$(awk '{print $6}' "$out/kizuki.split" | median)
	a=$(awk '{print $9}' "$out/kizuki.split" | median)
	w=$(awk '{print $12}' "$out/kizuki.split" | median)
	echo "kizuki (2 threads), median CPU time per thread: reading and decoding $r s, analysis $a s, writing $w s"
	awk -v r="$r" -v a="$a" -v w="$w" -v pw="$(cpu pcapnext)" -v tw="$(cpu tcpdump)" 'BEGIN {
		lb = (r + a + w) / 2; if (a > lb) lb = a
		printf "bound on two free cores: kizuki >= %.2f s; the peers take their CPU time: at best %.2fx pcap_next_ex, %.2fx tcpdump\n", lb, pw / lb, tw / lb }'
fi

# Memory: the same analysis of 3 M packets against 30 M.
warm "$small"
for i in 1 2 3; do
	run small "$kz" telescope -r "$small" --darknet "$darknet" --sensor bench \
		--events "$out/events3.jsonl" --stats "$out/stats3.jsonl"
done
r3=$(rss small) r30=$(rss kizuki)
echo
echo "peak RSS: $r3 KB at 3 M packets, $r30 KB at 30 M: $(ratio "$r3" "$r30")x (needs <= 1.2)"
echo "records: $(wc -l <"$out/events.jsonl") events, $(wc -l <"$out/stats.jsonl") stats rows"
