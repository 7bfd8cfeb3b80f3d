#!/bin/bash
# kizuki-gen against real things: every profile's trace is read by tcpdump,
# counted with BPF filters that encode REFERENCE.md's fingerprint rules, and
# checked packet by packet by gen_check.py (a pcap reader of its own, which
# shares no code with the generator) against the ground truth. Also: the same
# seed gives the same bytes, .gz holds the same pcap, nanosecond files read
# back, the steady profile is the surge profile minus the surge, the pfx2as
# table attributes every demo source, and bad options are refused.
#
# Needs tcpdump and python3 (Debian: tcpdump, python3). No root, no network:
# tcpdump always runs with -n, so it never looks an address up.
set -euo pipefail

gen=${KZ_BUILD_DIR:?}/kizuki-gen
check=${KZ_SOURCE_DIR:?}/tests/integration/gen_check.py
command -v tcpdump >/dev/null || { echo "SKIP: tcpdump not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[ -x "$gen" ] || { echo "FAIL: $gen not built"; exit 1; }

tmp=$(mktemp -d /tmp/kz-gen-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() { echo "FAIL: $*"; exit 1; }

# Sum of a JSON field over truth records selected by a jq-like Python test.
truth_sum() { # file expression
	python3 - "$1" "$2" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print(sum(r["packets"] for r in recs if r["record"] == "source" and eval(sys.argv[2], {}, {"r": r})))
EOF
}

truth_run() { # file field
	python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$1" "$2"
}

# Packets matching a BPF filter (tcpdump --count: reads, filters, counts).
count() { # file filter
	tcpdump -nr "$1" --count "$2" 2>/dev/null | awk '{print $1}'
}

# Packets tcpdump decodes and prints, one line each.
printed() { # file
	tcpdump -nr "$1" 2>/dev/null | wc -l
}

# BPF versions of the fingerprint rules (IPv4, 20-byte header, bare SYN).
syn='ip[0] = 0x45 and tcp[13] = 2'
f_zmap="$syn and ip[4:2] = 54321 and ip[8] > 128 and tcp[14:2] = 65535"
f_rawsock="$syn and ip[4:2] = 54321 and ip[8] > 128 and tcp[14:2] = 5840"
f_masscan="$syn and tcp[14:2] = 1024 and ip[8] > 128 and (ip[4:2] ^ ip[18:2] ^ tcp[2:2] ^ tcp[6:2]) = 0"
f_mirai="$syn and tcp[4:4] = ip[16:4] and ip[8] <= 64 and ip[8] > 32 and tcp[12] & 0xf0 = 0x50 and (tcp[2:2] = 23 or tcp[2:2] = 2323)"
f_nmap="$syn and tcp[14:2] = 1024 and tcp[12] & 0xf0 = 0x60 and tcp[20:4] = 0x020405b4 and ip[8] <= 59"

for profile in mixed scanners dos surge steady noise ipv6 demo; do
	echo "== profile $profile"
	"$gen" -q -p "$profile" -s 7 -o "$profile.pcap" -t "$profile.jsonl"
	total=$(truth_run "$profile.jsonl" packets)
	[ "$total" -gt 0 ] || fail "$profile: empty trace"
	n=$(count "$profile.pcap" "")
	[ "$n" -eq "$total" ] || fail "$profile: tcpdump reads $n packets, truth says $total"
	# Decoding and printing every packet is slow in tcpdump (tens of µs a
	# line), so it is done for the profiles that hold the unusual frames:
	# ARP, VLAN tags, fragments, truncated and malformed headers, ICMP
	# errors, IPv6.
	case $profile in
	dos | noise | ipv6)
		n=$(printed "$profile.pcap")
		[ "$n" -eq "$total" ] || fail "$profile: tcpdump prints $n packets, truth says $total"
		;;
	esac
	for rule in zmap masscan mirai nmap; do
		var=f_$rule
		got=$(count "$profile.pcap" "${!var}")
		want=$(truth_sum "$profile.jsonl" "r['kind'] == '$rule'")
		[ "$got" -eq "$want" ] || fail "$profile: $rule filter matches $got packets, truth has $want"
	done
	# The hard case: IP ID 54321 and TTL 255 like ZMap, but the raw-socket
	# tutorials' window 5840, so the ZMap filter above does not count it.
	got=$(count "$profile.pcap" "$f_rawsock")
	want=$(truth_sum "$profile.jsonl" "r['kind'] == 'raw-socket'")
	[ "$got" -eq "$want" ] || fail "$profile: $got raw-socket packets, truth has $want"
	python3 "$check" "$profile.pcap" "$profile.jsonl" || fail "$profile: gen_check.py disagrees"
done

echo "== the mixed profile holds every kind the telescope tests need"
python3 - mixed.jsonl <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
src = [r for r in recs if r["record"] == "source"]
kinds = {r["kind"] for r in src}
need = {"mirai", "zmap", "masscan", "unicornscan", "nmap", "scanner", "slow-scanner",
        "raw-socket", "udp-noise", "misconfig", "outside", "backscatter-victim",
        "icmp-router", "port-visitor", "surge-visitor", "ping-sweeper"}
assert need <= kinds, need - kinds
for tool in ("mirai", "zmap", "masscan", "unicornscan", "nmap"):
    assert any(r["expect"] == tool for r in src), tool
assert any(r["expect"] == "scanner" and r["kind"] == "raw-socket" for r in src)
assert any(r["kind"] == "slow-scanner" for r in src)
assert not any(r["kind"] == "slow-scanner" and r["qualifies_scanner"] for r in src)
assert any(r["kind"] == "scanner" and r["expect"] is None for r in src)  # too few hits
assert any(r["family"] == 6 and r["expect"] == "scanner" for r in src)
v = [r for r in recs if r["record"] == "victim"]
assert any(r["qualifies"] for r in v) and any(not r["qualifies"] for r in v)
assert not any(r["borderline"] for r in v), "a DoS victim sits on a threshold"
assert {r["response"] for r in v} >= {"syn-ack", "rst", "icmp-error", "echo-reply"}
assert any(r["record"] == "surge" for r in recs)
assert {r["kind"] for r in recs if r["record"] == "junk" and r["frames"]} >= {"arp", "truncated", "malformed-ip"}
assert json.loads(open(sys.argv[1]).readline())["outside_packets"] > 0
print("mixed profile: complete")
EOF

echo "== the same seed gives the same bytes; another seed does not"
mkdir a b
(cd a && "$gen" -q -p mixed -s 7 -o t.pcap -t t.jsonl)
(cd b && "$gen" -q -p mixed -s 7 -o t.pcap -t t.jsonl)
cmp a/t.pcap b/t.pcap || fail "pcap differs between two runs with one seed"
cmp a/t.jsonl b/t.jsonl || fail "truth differs between two runs with one seed"
cmp -s a/t.pcap mixed.pcap || fail "mixed.pcap is not the seed-7 trace"
"$gen" -q -p mixed -s 8 -o other.pcap
if cmp -s other.pcap mixed.pcap; then fail "seeds 7 and 8 give the same trace"; fi

echo "== gzip output is the same pcap; stdout too"
"$gen" -q -p mixed -s 7 -o t.pcap.gz -t gz.jsonl
gzip -t t.pcap.gz
gzip -dc t.pcap.gz | cmp - mixed.pcap || fail "the .gz does not decompress to the plain pcap"
"$gen" -q -p mixed -s 7 -o - | cmp - mixed.pcap || fail "stdout differs from the file"

echo "== nanosecond timestamps"
"$gen" -q -p scanners -s 7 --ns -o ns.pcap -t ns.jsonl
[ "$(od -An -tx1 -N4 ns.pcap | tr -d ' ')" = "4d3cb2a1" ] || fail "no nanosecond magic"
n=$(printed ns.pcap)
[ "$n" -eq "$(truth_run ns.jsonl packets)" ] || fail "tcpdump reads $n packets of the ns trace"
python3 "$check" ns.pcap ns.jsonl || fail "ns trace: gen_check.py disagrees"

echo "== steady is surge without the surge, packet for packet"
python3 - "$check" surge.pcap surge.jsonl steady.pcap <<'EOF'
import importlib.util, ipaddress, json, sys
spec = importlib.util.spec_from_file_location("gc", sys.argv[1])
gc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gc)
surge = {r["addr"] for r in map(json.loads, open(sys.argv[3]))
         if r["record"] == "source" and r["kind"] == "surge-visitor"}
def frames(path, drop):
    out = []
    for ts, d, _ in gc.read_pcap(path):
        if len(d) >= 34 and d[12:14] == b"\x08\x00" and str(ipaddress.ip_address(d[26:30])) in drop:
            continue
        out.append((ts, d))
    return out
a, b = frames(sys.argv[2], surge), frames(sys.argv[4], set())
assert surge and a == b, "steady differs from surge minus its surge sources"
print("steady == surge - %d surge sources" % len(surge))
EOF

echo "== bench: exactly --packets packets"
"$gen" -q -p bench -s 7 -n 200000 -o bench.pcap -t bench.jsonl
[ "$(count bench.pcap "")" -eq 200000 ] || fail "bench: not 200000 packets"
[ "$(truth_run bench.jsonl stopped_at_packet_cap)" = "True" ] || fail "bench: not marked as capped"
python3 "$check" bench.pcap bench.jsonl || fail "bench: gen_check.py disagrees"

echo "== a start time off the minute: the surge still starts on a minute"
"$gen" -q -p surge -s 7 --start @1700000030 -d 2h -o off.pcap -t off.jsonl
python3 "$check" off.pcap off.jsonl || fail "--start off the minute: gen_check.py disagrees"
python3 - off.jsonl <<'EOF2'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs[0]["start_ns"] == 1700000030 * 10**9
s = next(r for r in recs if r["record"] == "surge")
assert s["start_ns"] % (60 * 10**9) == 0 and s["interval_start_ns"] == s["start_ns"], s
EOF2

echo "== other darknets"
"$gen" -q -p scanners -s 7 --darknet 198.18.128.0/17 -o d17.pcap -t d17.jsonl
python3 "$check" d17.pcap d17.jsonl || fail "/17 darknet: gen_check.py disagrees"
[ "$(truth_run d17.jsonl darknet_size)" -eq 32768 ] || fail "/17: wrong darknet size"
"$gen" -q -p dos -s 7 --darknet 198.18.0.0/15 -o d15.pcap -t d15.jsonl
python3 "$check" d15.pcap d15.jsonl || fail "/15 darknet: gen_check.py disagrees"
for bad in 10.0.0.0/8 198.18.0.1/16 2001:db9::/32 198.18.0.0/16,198.18.1.0/24; do
	rc=0
	"$gen" -q --darknet "$bad" -o bad.pcap 2>err.txt || rc=$?
	[ "$rc" -eq 2 ] || fail "--darknet $bad: exit $rc, expected 2"
	grep -q "kizuki-gen: --darknet" err.txt || fail "--darknet $bad: no reason given"
done
rc=0; "$gen" -q -p nosuch -o bad.pcap 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "unknown profile: exit $rc"

echo "== pfx2as: CAIDA format, AS64496-AS64511, every demo source attributed"
"$gen" -p demo --pfx2as demo.pfx2as
python3 - demo.pfx2as demo.jsonl <<'EOF'
import ipaddress, json, sys
table = []
for line in open(sys.argv[1]):
    prefix, length, origin = line.rstrip("\n").split("\t")
    net = ipaddress.ip_network("%s/%s" % (prefix, length))
    table.append((net, [int(a) for a in origin.split("_")]))
asns = {a for _, o in table for a in o}
assert asns == set(range(64496, 64512)), asns
v4 = [n for n, _ in table if n.version == 4 and n.prefixlen == 20]
assert len(v4) == 16 and all(n.subnet_of(ipaddress.ip_network("198.19.0.0/16")) for n in v4)
def lookup(addr):
    a = ipaddress.ip_address(addr)
    best = max((n for n, _ in table if a.version == n.version and a in n),
               key=lambda n: n.prefixlen, default=None)
    return sorted(dict(table)[best]) if best else []
n = 0
for r in map(json.loads, open(sys.argv[2])):
    if r["record"] in ("source", "victim"):
        got = lookup(r["addr"])
        assert got, "%s has no origin AS" % r["addr"]
        assert got == sorted(r["asn"]), (r["addr"], got, r["asn"])
        n += 1
print("%d demo sources and victims attributed" % n)
EOF

echo "PASS"
