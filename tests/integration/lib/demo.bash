# shellcheck shell=bash
# What the demo tests share (tests/integration/demo*.sh). Sourced, not run.
#
#   demo_init NAME      skip (exit 77; 1 with KZ_REQUIRE_ALL=1) unless root,
#                       iproute2, namespaces, python3, the tools and the
#                       Perl mmdb writer are here; makes $DEMO_TMP and the
#                       EXIT trap that stops the demo and removes the temp dir
#   demo_start OUT ARGS...
#                       kizuki demo --out OUT ARGS in the background, stdout
#                       in OUT.stdout, stderr in OUT.stderr; $DEMO_PID
#   demo_wait_for OUT TEXT SECONDS
#                       until TEXT appears in OUT.stdout (fails if the demo ends)
#   demo_namespaces OUT the namespaces the demo said it made (from its stdout)
#   demo_leftovers OUT  fails unless every namespace, veth and process of
#                       that demo is gone
#
# The demo removes what it made itself; the trap here is only the safety
# net for a demo that hangs or a test that fails half-way: it stops the
# demo by its pid (SIGTERM, then SIGKILL) and deletes the namespaces the
# demo named, if any are left.

DEMO_TMP=""
DEMO_PID=""
DEMO_OUTS=()

demo_log() { printf '%s: %s\n' "${DEMO_NAME:-demo}" "$*" >&2; }
demo_fail() {
	demo_log "FAIL: $*"
	exit 1
}
demo_skip() {
	demo_log "skipped: $*"
	[ "${KZ_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
}

demo_cleanup() {
	local rc=$? out ns pid
	trap - EXIT INT TERM
	if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
		kill -TERM "$DEMO_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DEMO_PID" 2>/dev/null
		wait "$DEMO_PID" 2>/dev/null
	fi
	for out in "${DEMO_OUTS[@]}"; do
		for ns in $(demo_namespaces "$out"); do
			ip netns list 2>/dev/null | grep -qw "$ns" || continue
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
			ip netns del "$ns" 2>/dev/null
		done
		# Children of a demo that was killed outright: found by the output
		# directory every one of them has on its command line.
		for pid in $(pgrep -f -- "$out/" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	[ -n "$DEMO_TMP" ] && rm -rf "$DEMO_TMP"
	exit "$rc"
}

demo_init() {
	DEMO_NAME=$1
	: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
	: "${KZ_BUILD_DIR:?KZ_BUILD_DIR must name the build directory}"
	[ "$(id -u)" = 0 ] || demo_skip "needs root (network namespaces)"
	command -v ip >/dev/null || demo_skip "needs iproute2's ip"
	command -v python3 >/dev/null || demo_skip "needs python3"
	command -v pgrep >/dev/null || demo_skip "needs pgrep (procps)"
	local t
	for t in kizuki-gen kizuki-devsim kizuki-upload; do
		[ -x "$KZ_BUILD_DIR/$t" ] || demo_skip "no $KZ_BUILD_DIR/$t"
	done
	perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
		demo_skip "libmaxmind-db-writer-perl is missing"
	ip netns add "kzdtest$$" 2>/dev/null || demo_skip "cannot create a network namespace here"
	ip netns del "kzdtest$$"
	DEMO_TMP=$(mktemp -d /tmp/kz-demo-test.XXXXXX)
	trap demo_cleanup EXIT
	trap 'exit 130' INT TERM
}

demo_start() {
	local out=$1
	shift
	DEMO_OUTS+=("$out")
	"$KZ_BIN" demo --out "$out" "$@" >"$out.stdout" 2>"$out.stderr" &
	DEMO_PID=$!
}

demo_wait_for() {
	local out=$1 text=$2 secs=$3
	for _ in $(seq $((secs * 10))); do
		grep -qF -- "$text" "$out.stdout" 2>/dev/null && return 0
		if ! kill -0 "$DEMO_PID" 2>/dev/null; then
			cat "$out.stdout" "$out.stderr" >&2
			demo_fail "the demo ended before printing '$text'"
		fi
		sleep 0.1
	done
	cat "$out.stdout" "$out.stderr" >&2
	demo_fail "no '$text' from the demo within ${secs}s"
}

demo_namespaces() {
	sed -n 's/.*network namespaces \(kzd[0-9]*f\) (fleet) and \(kzd[0-9]*s\) .*/\1 \2/p' \
		"$1.stdout" 2>/dev/null | tr ' ' '\n' | sort -u
}

demo_leftovers() {
	local out=$1 ns left=""
	for ns in $(demo_namespaces "$out"); do
		ip netns list | grep -qw "$ns" && left="$left namespace $ns;"
		# The veth pair was named after the namespaces; it must be gone
		# from the host as well (it never was there).
		ip -o link show 2>/dev/null | grep -q "$ns" && left="$left interface $ns;"
	done
	local procs
	procs=$(pgrep -af -- "$out/" 2>/dev/null | grep -v "pgrep" || true)
	[ -n "$procs" ] && left="$left processes: $procs"
	[ -z "$left" ] || demo_fail "left behind:$left"
}
