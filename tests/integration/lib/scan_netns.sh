# Sourced by survey tests and bench/survey-scan.sh: two network namespaces
# joined by a veth pair, a "scanner" and a "target", and nothing else.
#
#   scanner ns: $SCAN_IF 198.19.255.1/30, route 198.18.0.0/16 via 198.19.255.2
#               (and 2001:2::/64 via 2001:2:0:ff::2 over IPv6)
#   target ns:  $TARGET_IF 198.19.255.2/30, and an AnyIP route: every
#               address of 198.18.0.0/16 (and 2001:2::/64) is local, so one
#               listener bound to the wildcard answers for all of them.
#
# The host's own namespace, routes and interfaces are never touched. Every
# name carries the caller's PID so that parallel runs do not collide;
# netns_teardown removes everything (call it from a trap).

netns_setup() {
	NS_ID=${1:-$$}
	SCAN_NS=kzscan-$NS_ID
	TARGET_NS=kztarget-$NS_ID
	SCAN_IF=kzs$NS_ID
	TARGET_IF=kzt$NS_ID
	SCAN_IP=198.19.255.1
	TARGET_GW=198.19.255.2
	SCAN_IP6=2001:2:0:ff::1
	TARGET_GW6=2001:2:0:ff::2
	ip netns add "$SCAN_NS" || return 1
	ip netns add "$TARGET_NS" || return 1
	ip link add "$SCAN_IF" netns "$SCAN_NS" type veth peer name "$TARGET_IF" netns "$TARGET_NS" ||
		return 1
	ip -n "$SCAN_NS" link set lo up
	ip -n "$TARGET_NS" link set lo up
	# No duplicate address detection: the addresses are usable at once.
	ip netns exec "$SCAN_NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip netns exec "$TARGET_NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$SCAN_NS" addr add "$SCAN_IP/30" dev "$SCAN_IF"
	ip -n "$TARGET_NS" addr add "$TARGET_GW/30" dev "$TARGET_IF"
	ip -n "$SCAN_NS" addr add "$SCAN_IP6/64" dev "$SCAN_IF" nodad
	ip -n "$TARGET_NS" addr add "$TARGET_GW6/64" dev "$TARGET_IF" nodad
	ip -n "$SCAN_NS" link set "$SCAN_IF" up
	ip -n "$TARGET_NS" link set "$TARGET_IF" up
	ip -n "$TARGET_NS" route add local 198.18.0.0/16 dev lo
	ip -n "$TARGET_NS" -6 route add local 2001:2::/64 dev lo
	ip -n "$SCAN_NS" route add 198.18.0.0/16 via "$TARGET_GW"
	ip -n "$SCAN_NS" -6 route add 2001:2::/64 via "$TARGET_GW6"
	# The target answers a SYN flood from one source without backing off:
	# room for every half-open connection, no per-source rate limit on
	# RSTs for closed ports.
	ip netns exec "$TARGET_NS" sysctl -qw net.core.somaxconn=65535 \
		net.ipv4.tcp_max_syn_backlog=262144 net.ipv4.icmp_ratelimit=0 \
		net.ipv6.icmp.ratelimit=0 2>/dev/null
	# Learn the gateway's MAC the ordinary way, so that the scanner finds
	# it in its neighbour table: these pings stay on the veth.
	ip netns exec "$SCAN_NS" ping -c 1 -W 2 "$TARGET_GW" >/dev/null || return 1
	ip netns exec "$SCAN_NS" ping -6 -c 1 -W 2 "$TARGET_GW6" >/dev/null || return 1
	GATEWAY_MAC=$(ip -n "$TARGET_NS" -o link show "$TARGET_IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	SCAN_MAC=$(ip -n "$SCAN_NS" -o link show "$SCAN_IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	return 0
}

# A TCP listener in the target namespace on the wildcard address (IPv4 and
# IPv6), accepting and closing every connection. Sets LISTENER_PID.
netns_listen() {
	local port=$1
	ip netns exec "$TARGET_NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(65535)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.close()
' "$port" >"${LISTEN_LOG:-/dev/null}" 2>&1 &
	LISTENER_PID=$!
	# Wait until it is bound (at most 5 s).
	local i
	for i in $(seq 50); do
		ip netns exec "$TARGET_NS" ss -Htln "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

netns_teardown() {
	[ -n "${LISTENER_PID:-}" ] && kill "$LISTENER_PID" 2>/dev/null && wait "$LISTENER_PID" 2>/dev/null
	LISTENER_PID=""
	[ -n "${SCAN_NS:-}" ] && ip netns del "$SCAN_NS" 2>/dev/null
	[ -n "${TARGET_NS:-}" ] && ip netns del "$TARGET_NS" 2>/dev/null
	return 0
}
