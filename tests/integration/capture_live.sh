#!/bin/bash
# The live capture back end against the truth: in a network namespace this
# test creates, known frames go out of one end of a veth pair; kizuki-capdump
# captures them on the other end through libpcap (TPACKET_V3) with the
# darknet BPF filter; its decoded lines must equal those of the same frames
# read from the file the sender wrote, and those of tcpdump's own capture.
# Also: a capture with nothing to read stops promptly on SIGTERM, and the
# kernel's drop counters are reported. Exit 77 when it cannot run here.
set -euo pipefail

cannot() { # why: skip (77), or fail where every test must run (CI)
	echo "capture_live: $1"
	[ "${KZ_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
}
[ "$(id -u)" -eq 0 ] || cannot "needs root for a network namespace"
command -v ip >/dev/null || cannot "no iproute2"
command -v python3 >/dev/null || cannot "no python3"
build=${KZ_BUILD_DIR:?}
src=${KZ_SOURCE_DIR:?}
capdump=$build/kizuki-capdump
[ -x "$capdump" ] || { echo "capture_live: $capdump not built"; exit 1; }

ns=kz-cap-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" || cannot "cannot create a network namespace"
# No IPv6 on the test links, so the kernel sends no neighbour discovery of
# its own (the filter would drop it anyway).
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add kzcap0 type veth peer name kzcap1
ip -n "$ns" link set kzcap0 up
ip -n "$ns" link set kzcap1 up
mac=$(ip netns exec "$ns" cat /sys/class/net/kzcap0/address)
darknet=198.18.0.0/15,2001:db8::/32
expected=14

wait_for() { # file pattern: until the pattern appears, 10 s at most
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "capture_live: timed out waiting for '$2' in $1"; cat "$1"; return 1
}

# 1. Live capture of the known frames, with tcpdump alongside when there.
ip netns exec "$ns" "$capdump" -i kzcap0 --darknet "$darknet" -c "$expected" -t 30 --no-ts \
	>"$tmp/live.txt" 2>"$tmp/live.err" &
capdump_pid=$!
pids+=("$capdump_pid")
have_tcpdump=0
if command -v tcpdump >/dev/null; then
	have_tcpdump=1
	ip netns exec "$ns" tcpdump -Z root -U -i kzcap0 -c "$expected" -w "$tmp/tcpdump.pcap" \
		'ip dst net 198.18.0.0/15 or ip6 dst net 2001:db8::/32 or vlan' 2>"$tmp/tcpdump.err" &
	tcpdump_pid=$!
	pids+=("$tcpdump_pid")
	wait_for "$tmp/tcpdump.err" "listening on"
fi
wait_for "$tmp/live.err" "listening on"
ip netns exec "$ns" python3 "$src/tests/integration/capture_live_send.py" kzcap1 "$mac" "$tmp/sent.pcap"
status=0
wait "$capdump_pid" || status=$?
[ "$status" -eq 0 ] || { echo "capture_live: capdump exited $status"; cat "$tmp/live.err"; exit 1; }

"$capdump" -r "$tmp/sent.pcap" --no-ts >"$tmp/want.txt" 2>/dev/null
[ "$(wc -l <"$tmp/want.txt")" -eq "$expected" ] || { echo "capture_live: sent file"; cat "$tmp/want.txt"; exit 1; }
if ! diff -u "$tmp/want.txt" "$tmp/live.txt"; then
	echo "capture_live: the live capture differs from the frames sent"
	cat "$tmp/live.err"
	exit 1
fi
grep -q "kernel: received [0-9]*, dropped 0," "$tmp/live.err" || {
	echo "capture_live: no kernel counters, or drops"; cat "$tmp/live.err"; exit 1; }
grep -q "ok $expected\$" "$tmp/live.err" || { echo "capture_live: counters"; cat "$tmp/live.err"; exit 1; }
echo "capture_live: $expected frames captured live equal the frames sent"

if [ "$have_tcpdump" = 1 ]; then
	# tcpdump exits after -c frames; give it 10 s.
	for _ in $(seq 100); do kill -0 "$tcpdump_pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$tcpdump_pid" 2>/dev/null && { echo "capture_live: tcpdump still running"; cat "$tmp/tcpdump.err"; exit 1; }
	"$capdump" -r "$tmp/tcpdump.pcap" --no-ts >"$tmp/ref.txt" 2>"$tmp/ref.err" || true
	if ! diff -u "$tmp/want.txt" "$tmp/ref.txt"; then
		echo "capture_live: tcpdump's capture, read by our reader, differs"
		exit 1
	fi
	echo "capture_live: tcpdump's capture of the same frames reads the same"
fi

# 2. Kernel drops are counted and reported: a capture with a small ring
# that is stopped (SIGSTOP) while a burst arrives must report drops.
ip netns exec "$ns" "$capdump" -i kzcap0 --darknet "$darknet" -B 256 >/dev/null 2>"$tmp/drop.err" &
dropper=$!
pids+=("$dropper")
wait_for "$tmp/drop.err" "listening on"
kill -STOP "$dropper"
ip netns exec "$ns" python3 "$src/tests/integration/capture_live_send.py" --flood 30000 kzcap1 "$mac"
kill -CONT "$dropper"
sleep 0.5
kill -TERM "$dropper"
wait "$dropper" || true
line=$(grep "kernel: received" "$tmp/drop.err") || { cat "$tmp/drop.err"; exit 1; }
dropped=$(echo "$line" | sed -n 's/.*dropped \([0-9]*\),.*/\1/p')
[ "${dropped:-0}" -gt 0 ] || { echo "capture_live: no kernel drops reported after a burst: $line"; exit 1; }
echo "capture_live: a stalled capture reports kernel drops: $line"

# 3. A live capture with nothing to read stops on SIGTERM within a second.
ip netns exec "$ns" "$capdump" -i kzcap0 --darknet "$darknet" >"$tmp/idle.txt" 2>"$tmp/idle.err" &
idle=$!
pids+=("$idle")
wait_for "$tmp/idle.err" "listening on"
start=$(date +%s%N)
kill -TERM "$idle"
status=0
wait "$idle" || status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$status" -eq 0 ] || { echo "capture_live: idle capture exited $status"; cat "$tmp/idle.err"; exit 1; }
[ "$ms" -lt 1000 ] || { echo "capture_live: SIGTERM took $ms ms"; exit 1; }
grep -q "kernel: received 0, dropped 0" "$tmp/idle.err" || { cat "$tmp/idle.err"; exit 1; }
echo "capture_live: an idle capture stopped $ms ms after SIGTERM"
