#!/bin/bash
# The dashboard of a real `kizuki demo` in a real browser: the demo runs a
# full round (telescope, survey of the simulated fleet in its namespaces,
# reports) and serves; then headless Debian Chromium, driven by
# playwright-core (tests/browser/demo.mjs), checks that the cards, the
# ports graph and table, the telescope, survey and sources tables show
# the numbers the hub's API gives, signs in as one operator and checks
# that no other operator's findings reach its page, and saves screenshots
# to $KZ_BUILD_DIR/artifacts/demo-*.png (demo-overview-laptop.png is the
# README's, copied to docs/img/demo-overview.png by hand when it changes).
# Then SIGINT stops the demo: exit 0, nothing left behind.
#
# Needs root, Debian's chromium, nodejs and npm, libmaxmind-db-writer-perl
# and `npm ci` run in tests/browser; exit 77 otherwise (1 with
# KZ_REQUIRE_ALL=1). About a minute and a half.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src="${KZ_SOURCE_DIR:-$(cd "$here/../.." && pwd)}"
browser="$src/tests/browser"
# shellcheck source=lib/demo.bash
. "$here/lib/demo.bash"
command -v node >/dev/null || demo_skip "node is missing (apt-get install nodejs npm)"
[ -x /usr/bin/chromium ] || demo_skip "Debian's chromium is missing (apt-get install chromium)"
[ -f "$browser/node_modules/playwright-core/package.json" ] ||
	demo_skip "playwright-core is not installed: (cd tests/browser && npm ci)"
demo_init demo_browser

out=$DEMO_TMP/out
demo_start "$out"
demo_wait_for "$out" "Serving the dashboard at" 300
url=$(sed -n 's/^Serving the dashboard at \(http:[^ ]*\)\/ until Ctrl-C.*/\1/p' "$out.stdout")
[ -n "$url" ] || demo_fail "no dashboard URL in the demo's output"

mkdir -p "$KZ_BUILD_DIR/artifacts"
rm -f "$KZ_BUILD_DIR"/artifacts/demo-*.png
KZ_HUB_URL="$url" KZ_DEMO_OUT="$out" KZ_ARTIFACTS="$KZ_BUILD_DIR/artifacts" \
	KZ_PROFILE_DIR="$DEMO_TMP/profile" timeout 300 node "$browser/demo.mjs"
rc=$?
[ $rc = 0 ] || { tail -n 20 "$out/logs/hub.log"; demo_fail "demo.mjs exited $rc"; }

kill -INT "$DEMO_PID"
wait "$DEMO_PID"
rc=$?
DEMO_PID=""
[ $rc = 0 ] || { cat "$out.stderr"; demo_fail "Ctrl-C while serving: exit $rc, expected 0"; }
demo_leftovers "$out"
