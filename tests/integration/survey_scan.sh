#!/bin/bash
# kizuki survey stage 1 (--no-login) on the real binary.
#
# Without the network: usage and scope errors, the deny set and
# --allow-reserved, overlapping ranges, a dry run without --no-login being
# stage 1's alone, and shards I/3 of one seed hitting every target exactly
# once (dry runs).
#
# In two network namespaces this test creates (tests/integration/lib/
# scan_netns.sh: a scanner and a target joined by a veth pair, every address
# of 198.18.0.0/16 and 2001:2::/64 local to the target, one listener on
# port 23): SYN mode and connect mode each find port 23 open on every
# address and report nothing for the closed port 2323; SYN mode over IPv6;
# three probes per target give one record per open port; and a capture on the veth during a scan with an exclude list shows that
# no packet went outside the scope or into the exclude list, and that each
# target got exactly one probe.
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root (network namespaces, raw sockets)"
	exit 77
fi
for tool in ip python3 tcpdump; do
	command -v "$tool" >/dev/null || {
		echo "skip: $tool is not installed"
		exit 77
	}
done

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/scan_netns.sh"

tmp=$(mktemp -d)
capture_pid=""
cleanup() {
	[ -n "$capture_pid" ] && kill "$capture_pid" 2>/dev/null && wait "$capture_pid" 2>/dev/null
	netns_teardown
	rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
pass() {
	echo "ok: $*"
}

# Runs kizuki survey with the given arguments; sets rc, and out/err files.
survey() {
	"$KZ_BIN" survey "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# --- Options and scope, no network -----------------------------------------

survey --no-login
if [ $rc -eq 2 ] && grep -q -- "--scope is required: the survey is default-deny" "$tmp/err"; then
	pass "no --scope: exit 2 and why"
else
	fail "no --scope: exit $rc"
	cat "$tmp/err" >&2
fi

printf '198.18.0.0/24\n10.0.0.0/33\n' >"$tmp/bad-cidr"
survey --scope "$tmp/bad-cidr" --no-login --allow-reserved --dry-run
if [ $rc -eq 1 ] && grep -q "bad-cidr:2: 10.0.0.0/33: prefix length above 32" "$tmp/err" &&
	[ ! -s "$tmp/out" ]; then
	pass "bad CIDR: file:line and why, nothing probed"
else
	fail "bad CIDR: exit $rc"
	cat "$tmp/err" >&2
fi

printf '198.18.0.0/24\n' >"$tmp/s24"
printf '198.18.0.0/25\n198.18.0.128/25\n' >"$tmp/ex24"
survey --scope "$tmp/s24" --exclude "$tmp/ex24" --no-login --allow-reserved --dry-run
if [ $rc -eq 1 ] && grep -q "nothing to scan: of 256 addresses in scope, 256 are excluded" "$tmp/err"; then
	pass "empty result: exit 1 and what removed the addresses"
else
	fail "empty result: exit $rc"
	cat "$tmp/err" >&2
fi

survey --scope "$tmp/s24" --no-login --dry-run --mode connect
if [ $rc -eq 1 ] && grep -q "198.18.0.0/24 is reserved: Benchmarking (RFC 2544)" "$tmp/err" &&
	[ ! -s "$tmp/out" ]; then
	pass "198.18.0.0/24 without --allow-reserved: refused as reserved"
else
	fail "reserved without --allow-reserved: exit $rc"
	cat "$tmp/err" >&2
fi

printf '10.0.0.0/8\n' >"$tmp/ten"
survey --scope "$tmp/ten" --no-login --allow-reserved --dry-run --mode connect
if [ $rc -eq 1 ] && grep -q "Private-Use" "$tmp/err" && [ ! -s "$tmp/out" ]; then
	pass "--allow-reserved does not re-enable 10.0.0.0/8"
else
	fail "10.0.0.0/8 with --allow-reserved: exit $rc"
	cat "$tmp/err" >&2
fi

printf '127.0.0.0/30\n' >"$tmp/lo"
survey --scope "$tmp/lo" --no-login --allow-reserved --dry-run --mode connect --ports 23
if [ $rc -eq 0 ] && [ "$(cut -f1 "$tmp/out" | sort | tr '\n' ' ')" = "127.0.0.0 127.0.0.1 127.0.0.2 127.0.0.3 " ]; then
	pass "--allow-reserved re-enables loopback named in the scope"
else
	fail "loopback with --allow-reserved: exit $rc"
	cat "$tmp/err" "$tmp/out" >&2
fi

# 0.0.0.0/0 does not name 198.18.0.0/15 or loopback: they stay out even with
# the flag. The dry run is cut after its first probe line.
printf '0.0.0.0/0\n' >"$tmp/all"
"$KZ_BIN" survey --scope "$tmp/all" --no-login --allow-reserved --dry-run --mode connect \
	--ports 23 2>"$tmp/err" | head -1 >"$tmp/out"
if grep -q "scope: 4294967296 addresses; 0 excluded, 0 opted out, 592709632 reserved; 3702257664 targets" "$tmp/err"; then
	pass "0.0.0.0/0: the deny set stays out, --allow-reserved or not"
else
	fail "0.0.0.0/0 with --allow-reserved"
	cat "$tmp/err" >&2
fi

printf '198.18.0.0/24\n198.18.0.128/25\n198.18.0.5\n' >"$tmp/overlap"
survey --scope "$tmp/overlap" --no-login --allow-reserved --dry-run --mode connect --ports 23
if [ $rc -eq 0 ] && grep -q "overlap:2: 198.18.0.128/25 overlaps 198.18.0.0/24 (line 1); merged" "$tmp/err" &&
	[ "$(wc -l <"$tmp/out")" -eq 256 ] && [ "$(cut -f1 "$tmp/out" | sort -u | wc -l)" -eq 256 ]; then
	pass "overlapping ranges merge with a warning: 256 targets, each once"
else
	fail "overlapping ranges: exit $rc, $(wc -l <"$tmp/out") lines"
	cat "$tmp/err" >&2
fi

# Without --no-login a dry run is still stage 1's alone (it finds no open
# port to log in to) and says so. Never a real run here: outside the test
# namespaces nothing may be sent to 198.18.0.0/24.
survey --scope "$tmp/s24" --allow-reserved --dry-run --mode connect --ports 23
if [ $rc -eq 0 ] && grep -q "dry run of stage 1 only" "$tmp/err" &&
	[ "$(wc -l <"$tmp/out")" -eq 256 ]; then
	pass "without --no-login: a dry run is stage 1's, and says so"
else
	fail "without --no-login, dry run: exit $rc"
	cat "$tmp/err" >&2
fi

survey --scope "$tmp/s24" --allow-reserved --no-login --shard 3/3 --dry-run
if [ $rc -eq 2 ] && grep -q "shards count from 0" "$tmp/err"; then
	pass "--shard 3/3 is a usage error"
else
	fail "--shard 3/3: exit $rc"
fi

# Shards 0/3, 1/3, 2/3 of one seed: every (address, port) of the scope once.
printf '198.18.0.0/20\n' >"$tmp/s20"
"$KZ_BIN" survey --scope "$tmp/s20" --allow-reserved --no-login --dry-run --mode connect \
	--ports 23,2323 --seed 99 2>/dev/null | cut -f1,2 | sort >"$tmp/whole"
: >"$tmp/parts"
for i in 0 1 2; do
	"$KZ_BIN" survey --scope "$tmp/s20" --allow-reserved --no-login --dry-run --mode connect \
		--ports 23,2323 --seed 99 --shard "$i/3" 2>/dev/null | cut -f1,2 >"$tmp/part$i"
	cat "$tmp/part$i" >>"$tmp/parts"
done
sort "$tmp/parts" -o "$tmp/parts"
if [ "$(wc -l <"$tmp/whole")" -eq 8192 ] && [ "$(sort -u "$tmp/whole" | wc -l)" -eq 8192 ] &&
	cmp -s "$tmp/whole" "$tmp/parts" && [ -s "$tmp/part0" ] && [ -s "$tmp/part1" ] &&
	[ -s "$tmp/part2" ]; then
	pass "shards 0/3, 1/3, 2/3 of one seed: all 8192 targets, each exactly once"
else
	fail "shards: $(wc -l <"$tmp/whole") whole, $(wc -l <"$tmp/parts") in parts"
fi
# Another seed: the same targets in another order.
"$KZ_BIN" survey --scope "$tmp/s20" --allow-reserved --no-login --dry-run --mode connect \
	--ports 23,2323 --seed 100 2>/dev/null | cut -f1,2 >"$tmp/other"
"$KZ_BIN" survey --scope "$tmp/s20" --allow-reserved --no-login --dry-run --mode connect \
	--ports 23,2323 --seed 99 2>/dev/null | cut -f1,2 >"$tmp/again"
"$KZ_BIN" survey --scope "$tmp/s20" --allow-reserved --no-login --dry-run --mode connect \
	--ports 23,2323 --seed 99 --shard 0/1 2>/dev/null | cut -f1,2 >"$tmp/again01"
if ! cmp -s "$tmp/again" "$tmp/other" && cmp -s "$tmp/again" "$tmp/again01" &&
	[ "$(sort "$tmp/other" | cmp - "$tmp/whole" && echo same)" = same ]; then
	pass "one seed gives one order, another seed another order of the same targets"
else
	fail "seed reproducibility"
fi

# --- In the namespaces --------------------------------------------------------

if ! netns_setup "$$"; then
	echo "skip: cannot create network namespaces here"
	exit 77
fi
if ! netns_listen 23; then
	fail "the listener in the target namespace did not start"
	exit 1
fi
in_scanner() {
	ip netns exec "$SCAN_NS" "$@"
}

# jcheck FILE PART EXPR: true when the first record whose extra.run_part is
# PART satisfies the Python expression EXPR over r (the record, a dict).
jcheck() {
	python3 - "$@" <<'PY'
import json, sys
path, part, expr = sys.argv[1:4]
recs = [json.loads(l) for l in open(path)]
r = next((x for x in recs if x.get("extra.run_part") == part), None)
sys.exit(0 if r is not None and eval("(" + expr + ")", {}, {"r": r}) else 1)
PY
}

# Checks a JSON Lines result file: header first, trailer last, and one open
# record on port 23 for each of the expected addresses, none on 2323.
check_results() {
	local file=$1 want=$2 what=$3 summary
	summary=$(python3 - "$file" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
first = recs[0].get("extra.run_part") if recs else None
last = recs[-1].get("extra.run_part") if recs else None
completed = recs[-1].get("extra.completed") if recs else None
open23 = [r["source.ip"] for r in recs if r.get("extra.status") == "open" and r.get("source.port") == 23]
on2323 = [r for r in recs if r.get("source.port") == 2323]
print(first, last, completed, len(open23), len(set(open23)), len(on2323))
PY
)
	read -r first last completed open23 distinct open2323 <<<"$summary"
	if [ "$first" = header ] && [ "$last" = trailer ] && [ "$completed" = True ] &&
		[ "$open23" -eq "$want" ] && [ "$distinct" -eq "$want" ] && [ "$open2323" -eq 0 ]; then
		pass "$what: port 23 open on all $want addresses, once each; 2323 (closed) never reported"
	else
		fail "$what: first '$first', last '$last' (completed $completed), $open23 open on 23 ($distinct distinct), $open2323 on 2323"
		tail -5 "$tmp/err" >&2
	fi
}

printf '198.18.0.0/16\n' >"$tmp/s16"
in_scanner "$KZ_BIN" survey --scope "$tmp/s16" --allow-reserved --no-login --ports 23,2323 \
	--mode syn -i "$SCAN_IF" --rate 50000 --cooldown 2 --authorization "integration test" \
	--out "$tmp/syn.jsonl" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "SYN scan of the /16: exit $rc"
check_results "$tmp/syn.jsonl" 65536 "SYN mode, 198.18.0.0/16"
if jcheck "$tmp/syn.jsonl" trailer 'r["extra.closed"] == 65536 and r["extra.sent"] == 131072' &&
	grep -q "now running as uid 65534" "$tmp/err" &&
	jcheck "$tmp/syn.jsonl" header \
		'r["extra.permutation"] == "cyclic-v1" and r["extra.authorization"] == "integration test"'; then
	pass "SYN mode: trailer counts 65536 closed of 131072 sent; header names the permutation and authority; privileges dropped"
else
	fail "SYN mode: trailer or header fields"
fi

# Three probes per target: three answers per port, one record per open port.
printf '198.18.8.0/22\n' >"$tmp/s22p"
in_scanner "$KZ_BIN" survey --scope "$tmp/s22p" --allow-reserved --no-login --ports 23,2323 \
	--probes 3 --rate 20000 --cooldown 1 --out "$tmp/probes.jsonl" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "SYN scan with --probes 3: exit $rc"
check_results "$tmp/probes.jsonl" 1024 "SYN mode, --probes 3"
if jcheck "$tmp/probes.jsonl" trailer 'r["extra.sent"] == 6144 and r["extra.open"] == 1024 and
	r["extra.closed"] == 1024 and r["extra.duplicates"] > 0 and
	r["extra.replies"] == r["extra.open"] + r["extra.closed"] + r["extra.duplicates"]'; then
	pass "--probes 3: 6144 SYNs sent, repeated answers counted once"
else
	fail "--probes 3: trailer $(tail -1 "$tmp/probes.jsonl")"
fi

printf '198.18.4.0/22\n' >"$tmp/s22"
in_scanner "$KZ_BIN" survey --scope "$tmp/s22" --allow-reserved --no-login --ports 23,2323 \
	--mode connect --rate 5000 --cooldown 2 --out "$tmp/connect.jsonl" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "connect scan: exit $rc"
check_results "$tmp/connect.jsonl" 1024 "connect mode, 198.18.4.0/22"

printf '2001:2::/120\n' >"$tmp/s6"
in_scanner "$KZ_BIN" survey --scope "$tmp/s6" --allow-reserved --no-login --ports 23,2323 \
	--mode syn --rate 20000 --cooldown 1 --out "$tmp/syn6.jsonl" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "IPv6 SYN scan: exit $rc"
check_results "$tmp/syn6.jsonl" 256 "SYN mode over IPv6, 2001:2::/120"

# A scan with an exclude list under a capture on the scanner's veth.
printf '198.18.16.0/21\n198.18.200.0/24\n' >"$tmp/scope-cap"
printf '198.18.17.0/24\n198.18.20.7\n198.18.200.128/26\n' >"$tmp/exclude-cap"
# (ip netns exec execs tcpdump: $! is tcpdump itself.)
ip netns exec "$SCAN_NS" tcpdump -i "$SCAN_IF" -nn -U -Z root -s 128 -w "$tmp/cap.pcap" \
	2>"$tmp/tcpdump.err" &
capture_pid=$!
for _ in $(seq 50); do
	grep -q "listening on" "$tmp/tcpdump.err" && break
	sleep 0.1
done
in_scanner "$KZ_BIN" survey --scope "$tmp/scope-cap" --exclude "$tmp/exclude-cap" --allow-reserved \
	--no-login --ports 23,2323 --rate 20000 --cooldown 1 --out "$tmp/cap.jsonl" 2>"$tmp/err"
rc=$?
# tcpdump may still be reading its ring: stop it once the file has stopped
# growing for a second (at most 10 s).
size=-1
for _ in $(seq 50); do
	now=$(stat -c %s "$tmp/cap.pcap" 2>/dev/null || echo 0)
	[ "$now" = "$size" ] && break
	size=$now
	sleep 1
done
kill -INT "$capture_pid" 2>/dev/null
wait "$capture_pid" 2>/dev/null
capture_pid=""
[ $rc -eq 0 ] || fail "scan under capture: exit $rc"
# Every IPv4 packet the scanner sent, and every IPv6 TCP packet, by
# destination; the allowed set is the scope minus the exclude list.
tcpdump -nn -r "$tmp/cap.pcap" "(ip and src host $SCAN_IP) or (ip6 and tcp)" 2>/dev/null |
	awk '{ d = $5; sub(/:$/, "", d); n = split(d, a, "."); print a[1] "." a[2] "." a[3] "." a[4], a[5], $7 }' \
		>"$tmp/sent"
syns=$(awk '$3 == "[S],"' "$tmp/sent" | wc -l)
bad=$(awk '
	function inside(ip,   a) {
		split(ip, a, ".")
		if (a[1] != 198 || a[2] != 18) return 0
		if (a[3] >= 16 && a[3] <= 23) {
			if (a[3] == 17) return 0
			if (a[3] == 20 && a[4] == 7) return 0
			return 1
		}
		if (a[3] == 200) return !(a[4] >= 128 && a[4] <= 191)
		return 0
	}
	!inside($1) { print }' "$tmp/sent" | wc -l)
# 2048 + 256 addresses, minus 256 + 1 + 64 excluded: 1983 addresses, 2 ports.
distinct_syns=$(awk '$3 == "[S]," { print $1, $2 }' "$tmp/sent" | sort -u | wc -l)
if [ "$syns" -eq 3966 ] && [ "$distinct_syns" -eq 3966 ] && [ "$bad" -eq 0 ]; then
	pass "capture: 3966 SYNs, one per target, none outside the scope or inside the exclude list"
else
	fail "capture: $syns SYNs ($distinct_syns distinct), $bad packets outside the allowed set"
	awk '
	function inside(ip,   a) {
		split(ip, a, ".")
		if (a[1] != 198 || a[2] != 18) return 0
		if (a[3] >= 16 && a[3] <= 23) return !(a[3] == 17 || (a[3] == 20 && a[4] == 7))
		if (a[3] == 200) return !(a[4] >= 128 && a[4] <= 191)
		return 0
	}
	!inside($1) { print }' "$tmp/sent" | head >&2
fi
check_results "$tmp/cap.jsonl" 1983 "SYN mode with an exclude list"

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
