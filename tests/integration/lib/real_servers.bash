# shellcheck shell=bash
# Real login servers for the survey's tests (REFERENCE.md, "Testing against
# real things"): busybox-static's telnetd with busybox's own login applet,
# and dropbear, both with test accounts that exist only in private account
# files (netns.bash's kz_logins_*): no account is ever added to the machine.
# Sourced after netns.bash, after kz_ns_init.
#
#   kz_real_servers_start NS ADDR
#       adds ADDR/32 to NS's loopback and starts there:
#         busybox telnetd on ADDR:23 (login: busybox login, issue file empty,
#           host name "kztest", shell busybox ash)
#         dropbear on ADDR:22 (a fresh ed25519 host key in $KZ_TMP)
#       with the accounts below; waits until both accept. Pids in
#       KZ_TELNETD_PID and KZ_DROPBEAR_PID; dropbear's log in $KZ_TMP/dropbear.log.
#
# Accounts (user password):
#   KZ_REAL_WEAK_USER/PASS     admin admin          a pair of the usual lists
#   KZ_REAL_STRONG_USER/PASS   operator, 20 random characters
#   KZ_REAL_EMPTY_USER         guest, empty password (busybox login asks none)
# Needs: busybox-static, dropbear-bin, openssl.

KZ_REAL_WEAK_USER=admin
KZ_REAL_WEAK_PASS=admin
KZ_REAL_STRONG_USER=operator
KZ_REAL_EMPTY_USER=guest

kz_real_servers_start() {
	local ns="$1" addr="$2"
	for tool in busybox dropbear dropbearkey openssl; do
		command -v "$tool" >/dev/null || {
			kz_log "skipped: $tool is not installed (busybox-static, dropbear-bin)"
			exit 77
		}
	done
	# Read whole first: under pipefail an early grep -q exit is SIGPIPE.
	grep -qx telnetd <<<"$(busybox --list)" || {
		kz_log "skipped: this busybox has no telnetd (install busybox-static)"
		exit 77
	}
	KZ_REAL_STRONG_PASS=$(openssl rand -base64 15 | tr -d '\n')
	kz_logins_init
	kz_logins_add "$KZ_REAL_WEAK_USER" "$KZ_REAL_WEAK_PASS"
	kz_logins_add "$KZ_REAL_STRONG_USER" "$KZ_REAL_STRONG_PASS"
	kz_logins_add "$KZ_REAL_EMPTY_USER" ""
	ip -n "$ns" addr add "$addr/32" dev lo
	# busybox login, as on the devices: telnetd execs the path it is given
	# with that name, so the applet is reached through a link named login.
	ln -sf /bin/busybox "$KZ_TMP/bin/login"
	: >"$KZ_TMP/issue.net"
	kz_logins_argv
	kz_ns_spawn "$ns" "${KZ_LOGINS_ARGV[@]}" busybox telnetd -F -b "$addr:23" \
		-l "$KZ_TMP/bin/login" -f "$KZ_TMP/issue.net"
	KZ_TELNETD_PID=$KZ_PID
	dropbearkey -t ed25519 -f "$KZ_TMP/dropbear_ed25519" >/dev/null 2>&1 ||
		kz_die "dropbearkey"
	kz_ns_spawn "$ns" "${KZ_LOGINS_ARGV[@]}" dropbear -F -E -p "$addr:22" \
		-r "$KZ_TMP/dropbear_ed25519" -P "$KZ_TMP/dropbear.pid" 2>"$KZ_TMP/dropbear.log"
	KZ_DROPBEAR_PID=$KZ_PID
	kz_wait_port "$ns" "$addr" 23
	kz_wait_port "$ns" "$addr" 22
}
