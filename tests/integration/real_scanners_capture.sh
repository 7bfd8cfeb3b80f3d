#!/bin/bash
# Runs tools/capture-real-scanners.sh (real zmap 2.1.1, masscan 1.3.2,
# nmap 7.93 -sS and hping3 floods in network namespaces) and checks what it
# captured: every pcap holds packets, the truth names each tool and sender,
# every real tool's packets satisfy REFERENCE.md's rule for that tool and no
# other, the backscatter comes from the victim (and its router, quoting
# packets to the victim), and kizuki-gen's packets for each tool have the
# same shape as the real tool's (window, options, DF, initial TTL, IP ID
# policy).
#
# Needs root and Debian's zmap masscan nmap hping3 tcpdump python3.
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
for c in zmap masscan nmap hping3 tcpdump python3 ip; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
src=${KZ_SOURCE_DIR:?}
gen=${KZ_BUILD_DIR:?}/kizuki-gen

tmp=$(mktemp -d /tmp/kz-realscan.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

# Our own tag, so that other tests capturing at the same time don't count.
export KZ_CAPTURE_TAG=kzcapt$$
capture_ns() { ip netns list | awk '{print $1}' | grep "^$KZ_CAPTURE_TAG-" | sort || true; }
before=$(capture_ns)
start=$(date +%s)
bash "$src/tools/capture-real-scanners.sh" "$tmp/cap"
took=$(($(date +%s) - start))
echo "capture took ${took} s"
[ "$took" -lt 60 ] || fail "the capture took ${took} s, more than a minute"
leaked=$(comm -13 <(echo "$before") <(capture_ns))
[ -z "$leaked" ] || fail "namespaces left behind: $leaked"

for f in zmap masscan nmap backscatter darknet; do
	n=$(tcpdump -nr "$tmp/cap/$f.pcap" --count 2>/dev/null | awk '{print $1}')
	[ "${n:-0}" -gt 0 ] || fail "$f.pcap is empty"
	echo "$f.pcap: $n packets"
done

"$gen" -q -p scanners -s 3 -o "$tmp/gen.pcap" -t "$tmp/gen.jsonl"

python3 - "$src/tests/integration/gen_check.py" "$tmp/cap" "$tmp/gen.pcap" "$tmp/gen.jsonl" <<'EOF'
import collections, importlib.util, ipaddress, json, sys
spec = importlib.util.spec_from_file_location("gc", sys.argv[1])
gc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gc)
cap, gen_pcap, gen_truth = sys.argv[2], sys.argv[3], sys.argv[4]

truth = [json.loads(l) for l in open(cap + "/truth.jsonl")]
head = truth[0]
assert head["record"] == "capture", head
for tool, version in (("zmap", "2.1.1"), ("masscan", "1.3.2"), ("nmap", "7.93")):
    assert head["tools"][tool] == version, (tool, head["tools"][tool])
senders = [r for r in truth if r["record"] == "sender"]
tools = {r["tool"] for r in senders}
assert {"zmap", "masscan", "nmap", "hping3-backscatter"} <= tools, tools
roles = {r["role"] for r in senders if r["tool"] == "hping3-backscatter"}
assert roles == {"victim", "router"}, roles
for r in senders:
    assert r["packets"] > 0, r
    assert r["packets_all"] == r["packets"], r

darknet = ipaddress.ip_network(head["darknet"])
bench = ipaddress.ip_network("198.18.0.0/15")

def packets(path):
    for ts, data, origlen in gc.read_pcap(path):
        kind, p = gc.parse(ts, data, origlen)
        assert kind == "ip", (path, kind, p)
        yield p

def name(b):
    return str(ipaddress.ip_address(bytes(b)))

def shape(p):
    # The IP ID policy; a random ID may hit 54321 or the hash by chance, so
    # each is only read where its tool's other fields are.
    t255 = gc.initial_ttl(p.ttl) == 255
    if t255 and p.win == 1024 and p.ipid == (p.dst ^ p.dport ^ p.seq) & 0xFFFF:
        idp = "masscan-hash"
    elif t255 and p.ipid == 54321:
        idp = "54321"
    else:
        idp = "random"
    ttl = "37-59" if p.ttl <= 59 and p.win == 1024 and p.opts else gc.initial_ttl(p.ttl)
    return (p.win, p.opts.hex(), p.df, ttl, idp)

real_shapes = collections.defaultdict(set)
by_sender = {r["addr"]: r for r in senders}
for r in senders:
    pk = [p for p in packets(cap + "/" + r["pcap"]) if name(p.srcb) == r["addr"]]
    assert len(pk) == r["packets"], (r["addr"], len(pk), r["packets"])
    for p in pk:
        assert ipaddress.ip_address(bytes(p.srcb)) in bench
        assert ipaddress.ip_address(p.dst) in darknet
        got = gc.rules(p)
        if r["role"] == "scanner":
            assert got == {r["tool"]}, (r["tool"], got, shape(p))
            real_shapes[r["tool"]].add(shape(p))
        elif r["role"] == "victim":
            assert not got
            assert (p.proto == 6 and (p.flags & 0x12 == 0x12 or p.flags & 0x04)) or \
                   (p.proto == 1 and p.icmp[0] == 3), (p.proto, p.flags, p.icmp)
        else:
            assert p.proto == 1 and p.icmp[0] == 11, p.icmp
            assert name(p.quoted_dst) == r["victim"], name(p.quoted_dst)
    if r["tool"] == "nmap":
        # One source port and one sequence number for the whole scan.
        assert len({p.sport for p in pk}) == 1 and len({p.seq for p in pk}) == 1
    if r["tool"] == "masscan":
        assert len({p.sport for p in pk}) == 1
    if r["tool"] == "zmap":
        assert all(32768 <= p.sport <= 61000 for p in pk)
    print("%-18s %-8s %4d packets: %s" % (r["tool"], r["role"], len(pk),
          sorted(real_shapes[r["tool"]]) if r["role"] == "scanner" else "backscatter"))

# kizuki-gen's packets for the same tools have the real tools' shapes.
gen_src = {r["addr"]: r["kind"] for r in map(json.loads, open(gen_truth)) if r["record"] == "source"}
gen_shapes = collections.defaultdict(set)
for p in packets(gen_pcap):
    kind = gen_src.get(name(p.srcb))
    if kind in real_shapes and p.fam == 4:
        gen_shapes[kind].add(shape(p))
for tool, shapes in real_shapes.items():
    assert gen_shapes[tool] == shapes, (tool, "generated", gen_shapes[tool], "real", shapes)
print("kizuki-gen's zmap, masscan and nmap packets have the real tools' shapes")
EOF
echo "PASS"
