#!/bin/bash
# kizuki telescope on real scanners: tools/capture-real-scanners.sh fires
# zmap 2.1.1, masscan 1.3.2, nmap 7.93 -sS and hping3 floods with spoofed
# dark sources in network namespaces and captures the darknet; the senders
# are the ground truth. Each real scanner must get its tool's label (and
# nothing else may be labelled); every packet of the hping3 victim and of
# its router (ICMP errors quoting packets to the victim) must be counted as
# backscatter. The real attack lasts a few seconds, below the RS-DoS
# thresholds, so on the capture as taken no DoS may be reported; the same
# packets with their times stretched 100-fold (each phase then lasts over
# a minute) must give exactly one victim, the hping3 target, attacked over
# TCP (its SYN-ACKs and RSTs) and ICMP (its port unreachables, and the
# router's time exceeded errors, which quote packets to the victim).
#
# Needs root and Debian's zmap masscan nmap hping3 tcpdump python3.
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
for c in zmap masscan nmap hping3 tcpdump python3 ip flock; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
kz=${KZ_BIN:?}
src=${KZ_SOURCE_DIR:?}

tmp=$(mktemp -d /tmp/kz-tele-real.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() { echo "FAIL: $*"; exit 1; }

# One capture at a time on this machine: two at once (ctest -j) load it
# enough for the victim's retransmissions to spill out of their phase. Other
# users of the script (real_scanners_capture.sh) do not take the lock, so
# also wait, up to two minutes, for their namespaces to go.
for _ in $(seq 240); do
	grep -q '^kzcap' <<<"$(ip netns list)" || break
	sleep 0.5
done
flock /tmp/kz-capture-real-scanners.lock bash "$src/tools/capture-real-scanners.sh" cap \
	>capture.log 2>&1 || { cat capture.log; fail "capture-real-scanners.sh failed"; }
dn=$(python3 -c 'import json; print(json.loads(open("cap/truth.jsonl").readline())["darknet"])')

"$kz" telescope -r cap/darknet.pcap --darknet "$dn" --sensor real --update-every 60 \
	--events events.jsonl --stats stats.jsonl 2>summary.txt ||
	{ cat summary.txt; fail "kizuki telescope failed"; }

# Stretch the backscatter capture's times 100-fold, from a fixed start
# (2024-06-03T00:00:00Z) so that one day-long interval holds it all.
python3 - cap/backscatter.pcap stretched.pcap <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
scale = 1000 if struct.unpack(end + "I", data[:4])[0] == 0xa1b2c3d4 else 1
out, pos, first = [data[:24]], 24, None
while pos + 16 <= len(data):
    sec, frac, cap, wire = struct.unpack(end + "IIII", data[pos:pos + 16])
    ns = (sec * 1_000_000_000 + frac * scale)
    first = ns if first is None else first
    ns = 1717372800 * 1_000_000_000 + (ns - first) * 100
    out.append(struct.pack(end + "IIII", ns // 1_000_000_000,
                           (ns % 1_000_000_000) // scale, cap, wire))
    out.append(data[pos + 16:pos + 16 + cap])
    pos += 16 + cap
open(sys.argv[2], "wb").write(b"".join(out))
EOF
"$kz" telescope -r stretched.pcap --darknet "$dn" --sensor real --interval 86400 \
	--events stretched.jsonl 2>stretched.txt ||
	{ cat stretched.txt; fail "kizuki telescope failed on the stretched capture"; }

python3 - cap/truth.jsonl events.jsonl summary.txt stretched.jsonl <<'EOF'
import json, re, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
events = [json.loads(l) for l in open(sys.argv[2])]
summary = open(sys.argv[3]).read()
stretched = [json.loads(l) for l in open(sys.argv[4])]
senders = [r for r in truth if r["record"] == "sender"]
fail = []
labels = {}
for e in events:
    if "source.ip" in e:
        labels.setdefault(e["source.ip"], set()).add(e["classification.identifier"])
for s in senders:
    got = labels.get(s["addr"], set())
    want = {s["expect"]} if s["expect"] else set()
    print(f"{s['tool']:20} {s['addr']:15} {s['role']:8} packets {s['packets_all']:4}  "
          f"expected {sorted(want) or '-'}  got {sorted(got) or '-'}")
    if got != want:
        fail.append(f"{s['addr']} ({s['tool']}): labelled {sorted(got)}, expected {sorted(want)}")
for ip in labels:
    if ip not in {s["addr"] for s in senders}:
        fail.append(f"{ip} labelled {labels[ip]} but sent nothing in the capture")
basis = {e["source.ip"]: e["extra.fingerprint_basis"] for e in events if "source.ip" in e}
for ip, b in sorted(basis.items()):
    print(f"  {ip}: {b}")
probes = sum(s["packets_all"] for s in senders if s["role"] == "scanner")
back = sum(s["packets_all"] for s in senders if s["role"] in ("victim", "router"))
m = re.search(r"probe (\d+), backscatter (\d+), other (\d+)", summary)
print(f"probes {m.group(1)} (scanners sent {probes}), backscatter {m.group(2)} "
      f"(victim and router sent {back}), other {m.group(3)}")
if (int(m.group(1)), int(m.group(2)), int(m.group(3))) != (probes, back, 0):
    fail.append("packet classes differ from what the senders sent")
if any(e["classification.identifier"] == "backscatter" for e in events):
    fail.append("a DoS reported for an attack of a few seconds (below the thresholds)")
victim = next(s["victim"] for s in senders if s["role"] == "victim")
dos = [e for e in stretched if e["classification.identifier"] == "backscatter"]
ips = {e["destination.ip"] for e in dos}
last = dos[-1] if dos else {}
print(f"stretched 100x: DoS victims {sorted(ips)}, last record {last.get('extra.packets')} "
      f"packets, max_ppm {last.get('extra.max_ppm')}, protocols {last.get('extra.protocols')}")
if ips != {victim}:
    fail.append(f"stretched capture: DoS victims {sorted(ips)}, expected {victim}")
# backscatter.pcap holds the attack phase only (a late SYN-ACK retransmission
# can fall outside it, into darknet.pcap alone): its own counts apply.
back_phase = sum(s["packets"] for s in senders if s["role"] in ("victim", "router"))
if ips == {victim} and (sorted(last["extra.protocols"]) != ["icmp", "tcp"] or
                        last["extra.packets"] != back_phase):
    fail.append(f"stretched capture: {last['extra.packets']} backscatter packets credited "
                f"to the victim, {back_phase} sent (the router's ICMP errors quote the victim)")
if any("source.ip" in e for e in stretched):
    fail.append("stretched capture: the victim or its router labelled as a scanner")
for f in fail:
    print("FAIL:", f)
sys.exit(1 if fail else 0)
EOF
echo PASS
