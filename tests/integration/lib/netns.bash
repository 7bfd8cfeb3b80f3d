# shellcheck shell=bash
# Namespaces for kizuki's integration tests and benchmarks. Sourced, not run
# (tests are the files directly under tests/integration/).
#
# What it gives:
#   kz_ns_init              start: root check (exit 77), temp dir $KZ_TMP,
#                           the cleanup trap, a fingerprint of the host's
#                           account files
#   kz_ns_add VAR NAME      a network namespace (its name is prefixed with
#                           a per-run tag; the real name is put in VAR)
#   kz_ns_veth NS1 A1 NS2 A2
#                           a veth pair between two namespaces, A1/A2 as
#                           address/len; only the two namespaces are touched
#   kz_ns_anyip NS CIDR     an AnyIP route: every address of CIDR is local in NS
#   kz_ns_route NS CIDR VIA a route in NS to CIDR via VIA
#   kz_ns_spawn NS CMD...   run CMD in NS in the background; its pid is
#                           recorded for the cleanup and left in $KZ_PID
#   kz_ns_stop PID          SIGTERM, wait (up to 10 s), then SIGKILL
#   kz_logins_init          private passwd/shadow/group files (copies of the
#                           host's) in $KZ_TMP
#   kz_logins_add USER PASS [SHELL]
#                           add an account to the private files only
#   kz_logins_argv          set KZ_LOGINS_ARGV: the command prefix that runs a
#                           program in a new mount namespace where the private
#                           files are bind-mounted over /etc/passwd, /etc/shadow
#                           and /etc/group (and a UTS namespace with its own
#                           host name); give it to kz_ns_spawn
#   kz_logins_run CMD...    the same in the foreground
#   kz_wait_port NS ADDR PORT [SECONDS]
#                           wait until ADDR:PORT accepts a connection in NS
#
# Safety (CONTRACT.md "Safety rules", COMMON.md "Network safety"): nothing
# here changes the host's own interfaces or routes; every namespace, veth
# (deleted with its namespace) and process is removed by the EXIT trap, even
# on failure; and the cleanup fails the run if the host's /etc/passwd,
# /etc/shadow or /etc/group changed while it ran.

KZ_NS_TAG="kz$$"
KZ_NS_LIST=()
KZ_PIDS=()
KZ_TMP=""
KZ_ACCOUNTS_SUM=""

kz_log() { printf '%s: %s\n' "${KZ_TEST_NAME:-${0##*/}}" "$*" >&2; }
kz_die() {
	kz_log "FAIL: $*"
	exit 1
}

kz_accounts_sum() { cat /etc/passwd /etc/shadow /etc/group 2>/dev/null | sha256sum | cut -d' ' -f1; }

kz_ns_cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	# Background jobs of the script itself (subshells that wait on tools).
	for pid in $(jobs -p); do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${KZ_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${KZ_PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for ns in "${KZ_NS_LIST[@]}"; do
		# Processes started by others inside (a server's children) go too.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ -n "$KZ_ACCOUNTS_SUM" ] && [ "$(kz_accounts_sum)" != "$KZ_ACCOUNTS_SUM" ]; then
		kz_log "FAIL: the host's /etc/passwd, /etc/shadow or /etc/group changed"
		rc=1
	fi
	[ -n "$KZ_TMP" ] && rm -rf "$KZ_TMP"
	exit "$rc"
}

kz_ns_init() {
	if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
		kz_log "skipped: needs root, ip and unshare"
		exit 77
	fi
	if ! ip netns add "${KZ_NS_TAG}probe" 2>/dev/null; then
		kz_log "skipped: cannot create a network namespace here"
		exit 77
	fi
	ip netns del "${KZ_NS_TAG}probe"
	KZ_TMP=$(mktemp -d /tmp/kizuki-test.XXXXXX)
	KZ_ACCOUNTS_SUM=$(kz_accounts_sum)
	trap kz_ns_cleanup EXIT
	trap 'exit 130' INT TERM
}

# kz_ns_add VAR NAME: not in a command substitution, whose subshell would
# lose the record the cleanup needs.
kz_ns_add() {
	local _kz_name="${KZ_NS_TAG}$2"
	ip netns add "$_kz_name" || kz_die "ip netns add $_kz_name"
	KZ_NS_LIST+=("$_kz_name")
	ip -n "$_kz_name" link set lo up
	printf -v "$1" '%s' "$_kz_name"
}

# kz_ns_veth NS1 ADDR1/LEN NS2 ADDR2/LEN: the pair is created inside NS1,
# so the host's own link list never holds it.
kz_ns_veth() {
	local a="$1" aa="$2" b="$3" ba="$4"
	local va="v${KZ_NS_TAG}a${#KZ_NS_LIST[@]}" vb="v${KZ_NS_TAG}b${#KZ_NS_LIST[@]}"
	ip -n "$a" link add "$va" type veth peer name "$vb" netns "$b" || kz_die "veth $a-$b"
	ip -n "$a" addr add "$aa" dev "$va"
	ip -n "$b" addr add "$ba" dev "$vb"
	ip -n "$a" link set "$va" up
	ip -n "$b" link set "$vb" up
}

kz_ns_anyip() { ip -n "$1" route add local "$2" dev lo || kz_die "AnyIP route $2 in $1"; }
kz_ns_route() { ip -n "$1" route add "$2" via "$3" || kz_die "route $2 via $3 in $1"; }

kz_ns_spawn() {
	local ns="$1"
	shift
	ip netns exec "$ns" "$@" &
	KZ_PID=$!
	KZ_PIDS+=("$KZ_PID")
}

kz_ns_stop() {
	local pid="$1"
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

kz_wait_port() {
	local ns="$1" addr="$2" port="$3" secs="${4:-20}"
	for _ in $(seq $((secs * 10))); do
		if ip netns exec "$ns" python3 -c "import socket,sys; socket.create_connection(('$addr', $port), 1).close()" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	kz_die "$addr:$port did not accept within ${secs}s in $ns"
}

# --- private accounts ----------------------------------------------------

kz_logins_init() {
	# Minimal files, not copies of the host's: no host password hash is
	# ever copied, and root is locked.
	mkdir -p "$KZ_TMP/etc" "$KZ_TMP/bin"
	chmod 755 "$KZ_TMP"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
		>"$KZ_TMP/etc/passwd"
	printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$KZ_TMP/etc/shadow"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$KZ_TMP/etc/group"
	# A busybox ash login shell (argv[0] "-sh"), as on the devices; it must
	# be in /etc/shells for dropbear, so that file is private too.
	ln -sf /bin/busybox "$KZ_TMP/bin/sh"
	{ cat /etc/shells; echo "$KZ_TMP/bin/sh"; } >"$KZ_TMP/etc/shells"
	: >"$KZ_TMP/etc/motd"
	chmod 644 "$KZ_TMP/etc/passwd" "$KZ_TMP/etc/group" "$KZ_TMP/etc/shells" "$KZ_TMP/etc/motd"
	chmod 600 "$KZ_TMP/etc/shadow"
	KZ_LOGIN_UID=${KZ_LOGIN_UID:-61000}
}

# kz_logins_add USER PASSWORD [SHELL]: SHA-512 crypt in the private shadow;
# an empty PASSWORD leaves the password field empty (no password asked).
kz_logins_add() {
	local user="$1" pass="$2" shell="${3:-$KZ_TMP/bin/sh}" hash=""
	[ -n "$pass" ] && hash=$(openssl passwd -6 -salt "kz${KZ_LOGIN_UID}" "$pass")
	mkdir -p "$KZ_TMP/home/$user"
	printf '%s:x:%s:%s::%s:%s\n' "$user" "$KZ_LOGIN_UID" "$KZ_LOGIN_UID" "$KZ_TMP/home/$user" \
		"$shell" >>"$KZ_TMP/etc/passwd"
	# lastchg 19000 (2022): a 0 would force a password change at login.
	printf '%s:%s:19000:0:99999:7:::\n' "$user" "$hash" >>"$KZ_TMP/etc/shadow"
	printf '%s:x:%s:\n' "$user" "$KZ_LOGIN_UID" >>"$KZ_TMP/etc/group"
	chown "$KZ_LOGIN_UID:$KZ_LOGIN_UID" "$KZ_TMP/home/$user"
	KZ_LOGIN_UID=$((KZ_LOGIN_UID + 1))
}

# The command prefix that runs a program with the private account files:
# a new mount namespace where they are bind-mounted over /etc/passwd,
# /etc/shadow, /etc/group, /etc/shells and /etc/motd (the host's stay untouched: the mounts live and
# die with the namespace), and a new UTS namespace with the host name
# $KZ_LOGIN_HOSTNAME (default "kztest") for the login prompt. Use as
#   kz_ns_spawn NS "${KZ_LOGINS_ARGV[@]}" PROGRAM ARGS...
kz_logins_argv() {
	KZ_LOGINS_ARGV=(unshare --mount --uts --propagation private -- /bin/sh -c '
		hostname "$1" &&
		mount --bind "$0/passwd" /etc/passwd &&
		mount --bind "$0/shadow" /etc/shadow &&
		mount --bind "$0/group" /etc/group &&
		mount --bind "$0/shells" /etc/shells &&
		mount --bind "$0/motd" /etc/motd &&
		shift && exec "$@"' "$KZ_TMP/etc" "${KZ_LOGIN_HOSTNAME:-kztest}")
}

# kz_logins_run CMD...: run CMD in the foreground with the private files.
kz_logins_run() {
	kz_logins_argv
	"${KZ_LOGINS_ARGV[@]}" "$@"
}
