#!/bin/bash
# kizuki demo stopped on every way out, and nothing left behind:
#   1. SIGINT in the middle of the round (the survey running in its
#      namespace, the device simulator serving): exit 1, "interrupted by
#      SIGINT" on stderr, every namespace, veth and process removed;
#   2. SIGTERM (and then SIGINT) while serving the dashboard after a
#      round: the normal way to stop, exit 0, all removed;
#   3. a child that fails (a kizuki-devsim that exits 3, in a copy of the
#      build directory): the demo names it and its status, cleans up, and
#      exits 1.
# Root only (exit 77 otherwise); about 1.5 minutes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/demo.bash
. "$here/lib/demo.bash"
demo_init demo_interrupt

# 1. SIGINT mid-run.
out=$DEMO_TMP/int
demo_start "$out" --once
demo_wait_for "$out" "starting kizuki survey from namespace" 120
sleep 2
nss=$(demo_namespaces "$out")
[ -n "$nss" ] || demo_fail "1: the demo named no namespaces"
for ns in $nss; do
	ip netns list | grep -qw "$ns" || demo_fail "1: namespace $ns should exist mid-run"
done
pgrep -f -- "$out/world/fleet-truth.jsonl" >/dev/null || demo_fail "1: the simulator should run mid-run"
kill -INT "$DEMO_PID"
wait "$DEMO_PID"
rc=$?
DEMO_PID=""
[ $rc = 1 ] || { cat "$out.stderr"; demo_fail "1: exit status $rc after SIGINT, expected 1"; }
grep -q "interrupted by SIGINT" "$out.stderr" || demo_fail "1: stderr does not say it was interrupted"
demo_leftovers "$out"
demo_log "ok: SIGINT mid-run: exit 1, everything removed"

# 2. SIGTERM while serving.
out=$DEMO_TMP/serve
demo_start "$out"
demo_wait_for "$out" "Serving the dashboard at" 300
url=$(sed -n 's/^Serving the dashboard at \(http:[^ ]*\) until Ctrl-C.*/\1/p' "$out.stdout")
python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=5)" "$url" ||
	demo_fail "2: the dashboard at $url does not answer while serving"
kill -TERM "$DEMO_PID"
wait "$DEMO_PID"
rc=$?
DEMO_PID=""
[ $rc = 0 ] || { cat "$out.stderr"; demo_fail "2: exit status $rc when stopped while serving"; }
python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=5)" "$url" 2>/dev/null &&
	demo_fail "2: the hub still answers after the demo stopped"
demo_leftovers "$out"
demo_log "ok: SIGTERM while serving: exit 0, everything removed"

# 3. A child that fails. The demo finds its tools next to its own binary,
# so a copy of the binary sits with the real generator and uploader and a
# simulator that fails at once.
bin=$DEMO_TMP/bin
mkdir -p "$bin"
cp "$KZ_BIN" "$bin/kizuki"
ln -s "$KZ_BUILD_DIR/kizuki-gen" "$bin/kizuki-gen"
ln -s "$KZ_BUILD_DIR/kizuki-upload" "$bin/kizuki-upload"
printf '#!/bin/sh\necho "kizuki-devsim: simulated failure" >&2\nexit 3\n' >"$bin/kizuki-devsim"
chmod 755 "$bin/kizuki-devsim"
out=$DEMO_TMP/fail
DEMO_OUTS+=("$out")
"$bin/kizuki" demo --once --out "$out" >"$out.stdout" 2>"$out.stderr" &
DEMO_PID=$!
wait "$DEMO_PID"
rc=$?
DEMO_PID=""
[ $rc = 1 ] || { cat "$out.stdout" "$out.stderr"; demo_fail "3: exit status $rc with a failing child, expected 1"; }
grep -q "kizuki-devsim exited with status 3" "$out.stderr" ||
	{ cat "$out.stderr"; demo_fail "3: stderr does not say which child failed and how"; }
grep -q "simulated failure" "$out.stderr" || demo_fail "3: stderr does not show the child's log"
demo_leftovers "$out"
demo_log "ok: a failing child: named, exit 1, everything removed"
