#!/bin/bash
# kizuki hub's access matrix over HTTP (tests/integration/hubtest.py
# "access"). As root it runs in a network namespace of its own with
# 198.18.0.1 on the namespace's lo, so that /metrics is also asked from an
# address that is not loopback; otherwise that one check is skipped.
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
command -v python3 >/dev/null || { echo "skip: python3 is missing"; exit 77; }
ns=""
cleanup() {
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
script="$(dirname "$0")/hubtest.py"
if [ "$(id -u)" = 0 ] && ip netns add "kzhub$$" 2>/dev/null; then
	ns="kzhub$$"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 198.18.0.1/32 dev lo
	ip netns exec "$ns" env KZ_TEST_NONLOOP=198.18.0.1 python3 "$script" access
	exit $?
fi
python3 "$script" access
