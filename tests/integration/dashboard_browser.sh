#!/bin/bash
# The web dashboard in a real browser: a real hub on a random loopback port
# with a real SQLite store in a temporary directory, loaded through its API
# with telescope and survey records and interval stats for three networks
# (pfx2as and a generated mmdb), then headless Debian Chromium driven by
# playwright-core (tests/browser/dashboard.mjs) checks the numbers shown,
# signs in as each role, and saves screenshots to $KZ_BUILD_DIR/artifacts/.
#
# Needs Debian's chromium, nodejs and npm, libmaxmind-db-writer-perl, and
# `npm ci` run in tests/browser (scripts/do test does it). Without them it
# exits 77, or fails when KZ_REQUIRE_ALL=1.
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
: "${KZ_BUILD_DIR:?KZ_BUILD_DIR must name the build directory}"
src="${KZ_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
browser="$src/tests/browser"

skip() {
	echo "skip: $*"
	[ "${KZ_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
}
command -v node >/dev/null || skip "node is missing (apt-get install nodejs npm)"
[ -x /usr/bin/chromium ] || skip "Debian's chromium is missing (apt-get install chromium)"
[ -f "$browser/node_modules/playwright-core/package.json" ] ||
	skip "playwright-core is not installed: (cd tests/browser && npm ci)"
perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
	skip "libmaxmind-db-writer-perl is missing"

tmp=$(mktemp -d /tmp/kz-dash.XXXXXX)
hub_pid=""
cleanup() {
	if [ -n "$hub_pid" ]; then
		kill "$hub_pid" 2>/dev/null
		wait "$hub_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	[ -f "$tmp/hub.log" ] && tail -n 20 "$tmp/hub.log"
	exit 1
}

# Tokens: the first line of each file is the token, the second the line
# for the tokens file.
: >"$tmp/tokens"
for spec in "admin ops" "sensor tokyo-1" "operator isp-a 64496" "operator isp-b 64497"; do
	set -- $spec
	extra=()
	[ $# -ge 3 ] && extra=(--asn "$3")
	"$KZ_BIN" hub token --role "$1" --name "$2" "${extra[@]}" >"$tmp/tok-$2" ||
		fail "kizuki hub token --role $1"
	sed -n 2p "$tmp/tok-$2" >>"$tmp/tokens"
done
printf '192.0.2.0\t24\t64496\n198.51.100.0\t24\t64497\n203.0.113.0\t24\t64498\n' >"$tmp/pfx2as"
printf '64496\tISP A\tabuse@isp-a.example\n64497\tISP B\tabuse@isp-b.example\n64498\tISP C\tabuse@isp-c.example\n' \
	>"$tmp/operators"
perl "$src/tools/make_mmdb.pl" "$tmp/geo.mmdb" 192.0.2.0/24=JP 198.51.100.0/24=US 203.0.113.0/24=DE ||
	fail "make_mmdb.pl"

"$KZ_BIN" hub --db "$tmp/hub.db" --listen 127.0.0.1:0 --tokens "$tmp/tokens" \
	--pfx2as "$tmp/pfx2as" --operators "$tmp/operators" --mmdb "$tmp/geo.mmdb" \
	--web "$src/src/hub/web" 2>"$tmp/hub.log" &
hub_pid=$!
port=""
for _ in $(seq 1 300); do
	port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$tmp/hub.log" | head -n 1)
	[ -n "$port" ] && break
	kill -0 "$hub_pid" 2>/dev/null || fail "the hub exited"
	sleep 0.1
done
[ -n "$port" ] || fail "the hub did not say which port it listens on"

mkdir -p "$KZ_BUILD_DIR/artifacts"
rm -f "$KZ_BUILD_DIR"/artifacts/dashboard-*.png
KZ_HUB_URL="http://127.0.0.1:$port" KZ_TOKEN_DIR="$tmp" KZ_ARTIFACTS="$KZ_BUILD_DIR/artifacts" \
	KZ_PROFILE_DIR="$tmp/profile" timeout 300 node "$browser/dashboard.mjs"
rc=$?
[ $rc = 0 ] || fail "dashboard.mjs exited $rc"
