#!/bin/bash
# Benchmark "survey scan" (REFERENCE.md): the /16 198.18.0.0/16 in a network
# namespace, at 100, 200 and 400 kpps asked, with the same probe count and
# cooldown for kizuki, ZMap and masscan. For each run: hosts found / 65,536
# (recall), the tool's wall time, and the rate it really sent at, taken from
# the timestamps of a capture of its SYNs on the veth. Prints a table with
# the ratios of kizuki to ZMap and to masscan.
#
# usage (as root): bench/survey-scan.sh
#   env: KZ_BIN (default build/release/kizuki), RATES ("100000 200000 400000"),
#        TOOLS ("kizuki zmap masscan"), PROBES (1), COOLDOWN (8 seconds),
#        RPS (0; 1 spreads each veth's
#        receive processing over every CPU), OUT (a directory to keep the
#        raw results in; default a temporary one, removed)
#
# The namespaces (tests/integration/lib/scan_netns.sh): a scanner and a target
# joined by a veth pair; every address of 198.18.0.0/16 is local to the
# target (an AnyIP route) and one listener on port 23 answers for all of
# them. Nothing leaves the two namespaces. Needs zmap, masscan, tcpdump,
# python3 (scripts/do deps).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
KZ_BIN=${KZ_BIN:-$root/build/release/kizuki}
RATES=${RATES:-"100000 200000 400000"}
TOOLS=${TOOLS:-"kizuki zmap masscan"}
PROBES=${PROBES:-1}
COOLDOWN=${COOLDOWN:-8}
RPS=${RPS:-0}
TOTAL=65536

if [ "$(id -u)" -ne 0 ]; then
	echo "survey-scan: needs root (namespaces, raw sockets)" >&2
	exit 1
fi
for tool in zmap masscan tcpdump python3 ip; do
	command -v "$tool" >/dev/null || {
		echo "survey-scan: $tool is not installed (scripts/do deps)" >&2
		exit 1
	}
done
[ -x "$KZ_BIN" ] || {
	echo "survey-scan: no kizuki binary at $KZ_BIN (cmake --preset release && cmake --build --preset release, or set KZ_BIN)" >&2
	exit 1
}

. "$root/tests/integration/lib/scan_netns.sh"
keep=${OUT:-}
work=${OUT:-$(mktemp -d)}
mkdir -p "$work"
capture_pid=""
cleanup() {
	[ -n "$capture_pid" ] && kill "$capture_pid" 2>/dev/null && wait "$capture_pid" 2>/dev/null
	netns_teardown
	[ -z "$keep" ] && rm -rf "$work"
}
trap cleanup EXIT

netns_setup "$$" || {
	echo "survey-scan: cannot set up the namespaces" >&2
	exit 1
}
netns_listen 23 || {
	echo "survey-scan: the listener did not start" >&2
	exit 1
}
if [ "$RPS" = 1 ]; then
	mask=$(printf '%x' $(((1 << $(nproc)) - 1)))
	ip netns exec "$TARGET_NS" sh -c "echo $mask > /sys/class/net/$TARGET_IF/queues/rx-0/rps_cpus"
	ip netns exec "$SCAN_NS" sh -c "echo $mask > /sys/class/net/$SCAN_IF/queues/rx-0/rps_cpus"
fi

printf '198.18.0.0/16\n' >"$work/scope"
: >"$work/empty-blocklist" # Debian's zmap refuses 198.18.0.0/15 by its default blocklist

now() { date +%s.%N; }

# Starts a capture of the scanner's SYNs on its veth.
capture_start() {
	: >"$1.err"
	ip netns exec "$SCAN_NS" tcpdump -i "$SCAN_IF" -nn -U -Z root -s 64 -B 262144 \
		-w "$1" "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and src host $SCAN_IP" \
		2>"$1.err" &
	capture_pid=$!
	local i
	for i in $(seq 50); do
		grep -q "listening on" "$1.err" && return 0
		sleep 0.1
	done
	return 1
}

# Stops the capture once its file has not grown for a second: tcpdump may
# still be reading its ring when the tool exits.
capture_stop() {
	local size=-1 now i
	for i in $(seq 30); do
		now=$(stat -c %s "$1" 2>/dev/null || echo 0)
		[ "$now" = "$size" ] && break
		size=$now
		sleep 1
	done
	kill -INT "$capture_pid" 2>/dev/null
	wait "$capture_pid" 2>/dev/null
	capture_pid=""
}

# "SYNs first last" from a capture.
capture_summary() {
	tcpdump -tt -nn -r "$1" 2>/dev/null | awk 'NR == 1 { f = $1 } { l = $1; n++ }
		END { printf "%d %s %s\n", n, (n ? f : 0), (n ? l : 0) }'
}

# One run: tool, rate. Prints "found wall syns rate capdrops".
run_one() {
	local tool=$1 rate=$2 dir="$work/$1-$2"
	rm -rf "$dir"
	mkdir -p "$dir"
	capture_start "$dir/syn.pcap" || echo "survey-scan: capture did not start" >&2
	local t0 t1 found
	t0=$(now)
	case $tool in
	kizuki)
		ip netns exec "$SCAN_NS" "$KZ_BIN" survey --scope "$work/scope" --allow-reserved \
			--no-login --ports 23 --mode syn -i "$SCAN_IF" --rate "$rate" \
			--probes "$PROBES" --cooldown "$COOLDOWN" --out "$dir/out.jsonl" \
			2>"$dir/stderr"
		t1=$(now)
		found=$(python3 -c 'import json, sys
print(len({r["source.ip"] for r in map(json.loads, open(sys.argv[1]))
           if r.get("extra.status") == "open"}))' "$dir/out.jsonl")
		;;
	zmap)
		ip netns exec "$SCAN_NS" zmap -q -p 23 -i "$SCAN_IF" -S "$SCAN_IP" -G "$GATEWAY_MAC" \
			-r "$rate" -P "$PROBES" -c "$COOLDOWN" -w "$work/scope" \
			-b "$work/empty-blocklist" -f saddr -o "$dir/out.txt" 2>"$dir/stderr"
		t1=$(now)
		found=$(grep -E '^198\.18\.' "$dir/out.txt" | sort -u | wc -l)
		;;
	masscan)
		# --retries counts extra probes: PROBES - 1.
		ip netns exec "$SCAN_NS" masscan 198.18.0.0/16 -p23 --rate "$rate" \
			--interface "$SCAN_IF" --adapter-ip "$SCAN_IP" --adapter-mac "$SCAN_MAC" \
			--router-mac "$GATEWAY_MAC" --retries $((PROBES - 1)) --wait "$COOLDOWN" \
			-oL "$dir/out.txt" >"$dir/stdout" 2>"$dir/stderr"
		t1=$(now)
		found=$(awk '$1 == "open" { print $4 }' "$dir/out.txt" | sort -u | wc -l)
		;;
	esac
	capture_stop "$dir/syn.pcap"
	local syns first last
	read -r syns first last < <(capture_summary "$dir/syn.pcap")
	local drops
	drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$dir/syn.pcap.err")
	awk -v f="$found" -v a="$t0" -v b="$t1" -v n="$syns" -v x="$first" -v y="$last" -v d="${drops:-?}" \
		'BEGIN { r = (n > 1 && y > x) ? (n - 1) / (y - x) : 0;
		         printf "%d %.2f %d %.0f %s\n", f, b - a, n, r, d }'
}

echo "== survey-scan: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPU ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tools: $("$KZ_BIN" --version), $(zmap --version 2>&1 | head -1), $(masscan --version 2>&1 | sed -n 's/^Masscan version \([^ ]*\).*/masscan \1/p')"
echo "setup: 198.18.0.0/16 x port 23, probes $PROBES, cooldown $COOLDOWN s, RPS $RPS; rate sent = SYNs captured on the scanner's veth / (last - first timestamp)"
echo
printf '| asked | tool | found | recall | wall s | SYNs captured | sent pps | capture drops |\n'
printf '|---|---|---|---|---|---|---|---|\n'
declare -A F W
for rate in $RATES; do
	for tool in $TOOLS; do
		read -r found wall syns sent drops < <(run_one "$tool" "$rate")
		F[$tool-$rate]=$found
		W[$tool-$rate]=$wall
		awk -v r="$rate" -v t="$tool" -v f="$found" -v w="$wall" -v s="$syns" -v p="$sent" -v d="$drops" -v n="$TOTAL" \
			'BEGIN { printf "| %d k | %s | %d | %.3f %% | %.2f | %d | %.0f | %s |\n", r / 1000, t, f, 100 * f / n, w, s, p, d }'
	done
done
echo
printf '| asked | recall kizuki / ZMap | time kizuki / ZMap | recall kizuki / masscan | time kizuki / masscan |\n'
printf '|---|---|---|---|---|\n'
for rate in $RATES; do
	awk -v r="$rate" -v fk="${F[kizuki-$rate]:-0}" -v fz="${F[zmap-$rate]:-0}" -v fm="${F[masscan-$rate]:-0}" \
		-v wk="${W[kizuki-$rate]:-0}" -v wz="${W[zmap-$rate]:-0}" -v wm="${W[masscan-$rate]:-0}" \
		'function q(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "n/a" }
		 BEGIN { printf "| %d k | %s | %s | %s | %s |\n", r / 1000, q(fk, fz), q(wk, wz), q(fk, fm), q(wk, wm) }'
done
