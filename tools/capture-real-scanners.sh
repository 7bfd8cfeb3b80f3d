#!/bin/bash
# Fires the real scanners Debian ships (zmap, masscan, nmap -sS) and hping3
# SYN/UDP floods with spoofed sources at a darknet inside network namespaces
# this script creates, and captures what reaches the darknet with tcpdump.
# The sender is the ground truth: OUTDIR/truth.jsonl names each sender's
# address and tool, so the telescope can be tested against real tools and not
# only against our own generator (REFERENCE.md, "Testing against real things").
#
# usage: tools/capture-real-scanners.sh OUTDIR
#
# Needs root and Debian's zmap, masscan, nmap, hping3, tcpdump, python3,
# iproute2. Uses only 198.18.0.0/15: nothing leaves the namespaces (the
# router namespace has no route out, and no interface outside them exists).
# Everything it creates is removed on exit, on failure too. About 30 s.
#
#   scanner ns                 router ns                  telescope ns
#   198.19.0.11 zmap           198.19.0.2 kzr0
#   198.19.0.12 masscan  kzs0 ─────────── kzr0      kzr2 ─────────── kzt0 198.19.2.1
#   198.19.0.13 nmap           198.19.2.2 kzr2      198.18.0.0/16 → 198.19.2.1
#   198.19.0.14 hping3         198.19.1.2 kzr1        (captured here, never answered)
#                                    │
#                              kzv0 198.19.1.1 victim ns (listens on tcp/80)
#
# Output, in OUTDIR: zmap.pcap, masscan.pcap, nmap.pcap, backscatter.pcap (one
# per phase, only packets to the darknet), darknet.pcap (the whole run), and
# truth.jsonl: a "capture" record, then one "sender" record per sender.
set -euo pipefail

out=${1:?usage: $0 OUTDIR}
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 77; }
for c in zmap masscan nmap hping3 tcpdump python3 ip; do
	command -v "$c" >/dev/null || { echo "$0: $c not installed (apt-get install -y zmap masscan nmap hping3 tcpdump)" >&2; exit 77; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Namespace names start with this tag; a caller may set it to find them.
tag=${KZ_CAPTURE_TAG:-kzcap$$}
S=$tag-scan R=$tag-rtr V=$tag-vic T=$tag-tel
DARKNET=198.18.0.0/16
ZMAP_SRC=198.19.0.11 MASSCAN_SRC=198.19.0.12 NMAP_SRC=198.19.0.13 HPING_SRC=198.19.0.14
ROUTER=198.19.0.2 ROUTER_OUT=198.19.2.2 VICTIM=198.19.1.1 TELESCOPE=198.19.2.1
pids=()
work=$(mktemp -d /tmp/kz-capture.XXXXXX)

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	for ns in "$S" "$R" "$V" "$T"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

log() { echo "capture-real-scanners: $*" >&2; }

# --- The namespaces -------------------------------------------------------
for ns in "$S" "$R" "$V" "$T"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
ip link add kzs0 netns "$S" type veth peer name kzr0 netns "$R"
ip link add kzv0 netns "$V" type veth peer name kzr1 netns "$R"
ip link add kzt0 netns "$T" type veth peer name kzr2 netns "$R"
for a in $ZMAP_SRC $MASSCAN_SRC $NMAP_SRC $HPING_SRC; do
	ip -n "$S" addr add "$a/24" dev kzs0
done
ip -n "$R" addr add $ROUTER/24 dev kzr0
ip -n "$R" addr add 198.19.1.2/24 dev kzr1
ip -n "$R" addr add $ROUTER_OUT/24 dev kzr2
ip -n "$V" addr add $VICTIM/24 dev kzv0
ip -n "$T" addr add $TELESCOPE/24 dev kzt0
for l in "$S kzs0" "$R kzr0" "$R kzr1" "$R kzr2" "$V kzv0" "$T kzt0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$S" route add $DARKNET via $ROUTER
ip -n "$S" route add 198.19.1.0/24 via $ROUTER
ip -n "$V" route add $DARKNET via 198.19.1.2
ip -n "$V" route add 198.19.0.0/24 via 198.19.1.2
ip -n "$R" route add $DARKNET via $TELESCOPE
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
# The telescope namespace does not forward: what reaches it stays there.
ip netns exec "$T" sysctl -qw net.ipv4.ip_forward=0
router_mac=$(ip -n "$R" -o link show kzr0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$router_mac" ] || { log "no MAC on the router's interface"; exit 1; }

# --- Capture ---------------------------------------------------------------
# tcpdump runs in the telescope namespace on its veth, keeps root (-Z root)
# so it can write into OUTDIR, flushes every packet (-U), and resolves
# nothing (-n).
start_capture() { # file
	local err=$work/$(basename "$1").err
	ip netns exec "$T" tcpdump -n -U -Z root -i kzt0 -w "$1" "dst net $DARKNET" 2>"$err" &
	cap_pid=$!
	pids+=($cap_pid)
	local i
	for i in $(seq 100); do
		grep -q "listening on" "$err" 2>/dev/null && return 0
		sleep 0.05
	done
	log "tcpdump did not start: $(cat "$err")"
	exit 1
}

stop_capture() {
	sleep 1 # let the last packets cross the router
	kill -INT "$cap_pid" 2>/dev/null || true
	wait "$cap_pid" 2>/dev/null || true
}

start_capture "$out/darknet.pcap"
all_pid=$cap_pid
t_start=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# --- zmap 2.1.1 --------------------------------------------------------------
# Debian's zmap refuses 198.18.0.0/15 through its default blacklist: give it
# an empty one of its own. 300 targets at 2,000 pps on port 23.
log "zmap"
: >"$work/zmap-blacklist.conf"
zmap_cmd="zmap -p 23 -i kzs0 -S $ZMAP_SRC -G $router_mac -r 2000 -n 300 -c 1 -b $work/zmap-blacklist.conf -o /dev/null $DARKNET"
start_capture "$out/zmap.pcap"
ip netns exec "$S" timeout 30 $zmap_cmd >"$work/zmap.log" 2>&1 || { log "zmap failed: $(tail -3 "$work/zmap.log")"; exit 1; }
stop_capture

# --- masscan 1.3.2 -----------------------------------------------------------
# 198.18.1.0/24 on two ports at 2,000 pps, with its own stack's address.
# masscan's receive thread blocks until some packet arrives on its interface
# and the program does not exit before it returns, so the router pings the
# scanner host meanwhile (the replies go back to the router, not to the
# darknet).
log "masscan"
masscan_cmd="masscan 198.18.1.0/24 -p23,2323 --rate 2000 -e kzs0 --adapter-ip $MASSCAN_SRC --router-mac $router_mac --wait 1"
start_capture "$out/masscan.pcap"
ip netns exec "$R" ping -q -i 0.2 -w 40 $ZMAP_SRC >/dev/null 2>&1 &
waker=$!
pids+=($waker)
ip netns exec "$S" timeout 30 $masscan_cmd >"$work/masscan.log" 2>&1 || { log "masscan failed: $(tail -c 300 "$work/masscan.log")"; exit 1; }
kill "$waker" 2>/dev/null || true
stop_capture

# --- nmap 7.93 -sS -------------------------------------------------------------
# 64 hosts, three ports, no host discovery, no retries: 192 SYNs.
log "nmap"
nmap_cmd="nmap -sS -Pn -n -p 22,23,80 --max-retries 0 --min-rate 500 --max-rtt-timeout 200ms --host-timeout 10s -e kzs0 -S $NMAP_SRC 198.18.2.0/26"
start_capture "$out/nmap.pcap"
ip netns exec "$S" timeout 40 $nmap_cmd >"$work/nmap.log" 2>&1 || { log "nmap failed: $(tail -3 "$work/nmap.log")"; exit 1; }
stop_capture

# --- hping3 floods with spoofed sources: backscatter -------------------------
# The attacker forges dark source addresses, so the victim's answers go to
# the darknet: SYN-ACKs from its open port 80, RST-ACKs from the closed port
# 81, ICMP port-unreachables for UDP to the closed port 9. Packets sent with
# TTL 1 die at the router, whose ICMP time-exceeded messages (quoting a
# packet to the victim) also go to the darknet: the router is the sender (with
# the address of its interface toward the darknet, as Linux picks it), the
# victim the quoted destination.
log "hping3"
ip netns exec "$V" python3 -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'$VICTIM'", 80))
s.listen(4096)
time.sleep(60)
' &
pids+=($!)
for i in $(seq 50); do
	ip netns exec "$V" ss -ltn 2>/dev/null | grep -q "$VICTIM:80" && break
	sleep 0.1
done
start_capture "$out/backscatter.pcap"
flood() { # block hping3-options...
	local block=$1 i
	shift
	local fl=()
	for i in $(seq 1 16); do
		ip netns exec "$S" timeout 10 hping3 -q "$@" -a "198.18.$block.$i" -c 4 -i u20000 $VICTIM >/dev/null 2>&1 &
		fl+=($!)
	done
	for i in "${fl[@]}"; do wait "$i" || true; done
}
flood 9 -S -p 80         # SYN flood on an open port: SYN-ACKs
flood 10 -S -p 81        # on a closed port: RST-ACKs
flood 11 --udp -p 9      # UDP to a closed port: ICMP port unreachable
flood 12 -S -p 80 -t 1   # expiring at the router: ICMP time exceeded
stop_capture
sleep 0.5
kill -INT "$all_pid" 2>/dev/null || true
wait "$all_pid" 2>/dev/null || true
t_end=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# --- Truth --------------------------------------------------------------------
count() { # pcap filter
	tcpdump -nr "$1" --count "$2" 2>/dev/null | awk '{print $1}'
}
# (masscan --version exits 1.)
ver_zmap=$( (zmap --version 2>&1 || true) | awk '{print $2; exit}')
ver_masscan=$( (masscan --version 2>&1 || true) | sed -n 's/.*Masscan version \([0-9.]*\).*/\1/p' | head -1)
ver_nmap=$( (nmap --version 2>&1 || true) | awk '/Nmap version/ {print $3; exit}')
ver_hping=$( (hping3 --version 2>&1 || true) | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -1)
{
	printf '{"record":"capture","generator":"capture-real-scanners","darknet":"%s","start":"%s","end":"%s","pcap":"darknet.pcap","packets":%s,"tools":{"zmap":"%s","masscan":"%s","nmap":"%s","hping3":"%s"}}\n' \
		"$DARKNET" "$t_start" "$t_end" "$(count "$out/darknet.pcap" "")" "$ver_zmap" "$ver_masscan" "$ver_nmap" "$ver_hping"
	sender() { # addr tool expect pcap role extra-json command
		printf '{"record":"sender","addr":"%s","tool":"%s","expect":%s,"pcap":"%s","packets":%s,"packets_all":%s,"role":"%s"%s,"command":"%s"}\n' \
			"$1" "$2" "$3" "$4" "$(count "$out/$4" "src host $1")" "$(count "$out/darknet.pcap" "src host $1")" "$5" "$6" "$7"
	}
	sender $ZMAP_SRC zmap '"zmap"' zmap.pcap scanner '' "$zmap_cmd"
	sender $MASSCAN_SRC masscan '"masscan"' masscan.pcap scanner '' "$masscan_cmd"
	sender $NMAP_SRC nmap '"nmap"' nmap.pcap scanner '' "$nmap_cmd"
	sender $VICTIM hping3-backscatter null backscatter.pcap victim \
		",\"victim\":\"$VICTIM\",\"responses\":[\"syn-ack\",\"rst\",\"icmp-port-unreachable\"]" \
		"hping3 -S -p 80 / -S -p 81 / --udp -p 9 -a 198.18.{9,10,11}.1-16 $VICTIM"
	sender $ROUTER_OUT hping3-backscatter null backscatter.pcap router \
		",\"victim\":\"$VICTIM\",\"responses\":[\"icmp-time-exceeded\"]" \
		"hping3 -S -p 80 -t 1 -a 198.18.12.1-16 $VICTIM"
} >"$out/truth.jsonl"
log "done: $(count "$out/darknet.pcap" "") packets in $out"
