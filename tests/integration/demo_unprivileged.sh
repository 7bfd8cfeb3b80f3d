#!/bin/bash
# kizuki demo without root: it cannot make network namespaces, says so
# plainly on stderr, and runs what it can — the telescope, the hub and the
# reports — instead of pretending: exit 0, a summary with the telescope's
# numbers and "Survey: not run", every operator's report and the STIX
# bundle written, nothing left running.
# Run as root, which then drops to nobody with setpriv (so it also runs
# where the test runner is root); exit 77 without root or setpriv.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/demo.bash
. "$here/lib/demo.bash"
command -v setpriv >/dev/null || demo_skip "needs setpriv (util-linux)"
demo_init demo_unprivileged
# nobody must reach the binary and its tools; a build under /root may not.
setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$KZ_BIN" ||
	demo_skip "nobody cannot run $KZ_BIN"
chmod 755 "$DEMO_TMP"
mkdir "$DEMO_TMP/out"
chown 65534:65534 "$DEMO_TMP/out"
out=$DEMO_TMP/out/demo
DEMO_OUTS+=("$out")
(cd "$DEMO_TMP/out" && setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$KZ_BIN" demo --once --out "$out" >"$out.stdout" 2>"$out.stderr") &
DEMO_PID=$!
wait "$DEMO_PID"
rc=$?
DEMO_PID=""
cat "$out.stdout" "$out.stderr"
[ $rc = 0 ] || demo_fail "kizuki demo --once as nobody exited $rc"
grep -q "not root: no network namespaces can be made here" "$out.stderr" ||
	demo_fail "the demo does not say plainly that it cannot make namespaces"
grep -q "^Survey: not run" "$out.stdout" || demo_fail "the summary does not say the survey did not run"
grep -q "network namespaces kzd" "$out.stdout" && demo_fail "the demo claims namespaces"
grep -qE "^  infected hosts \(Mirai\)\s+[1-9]" "$out.stdout" || demo_fail "no infected hosts in the summary"
for a in $(seq 64496 64511); do
	[ -s "$out/reports/AS$a.csv" ] && [ -s "$out/reports/AS$a.json" ] || demo_fail "no report for AS$a"
done
python3 -c "import json,sys; b=json.load(open(sys.argv[1])); sys.exit(0 if b['type']=='bundle' and b['objects'] else 1)" \
	"$out/stix-bundle.json" || demo_fail "no STIX bundle"
[ -e "$out/survey.jsonl" ] && demo_fail "a survey ran without root"
demo_leftovers "$out"
demo_log "ok: without root: said so, telescope + hub + reports, nothing left"
