#!/bin/bash
# Real login servers in a namespace (REFERENCE.md "Testing against real
# things"; CONTRACT.md "Safety rules"): busybox-static's telnetd with
# busybox login, and dropbear, with test accounts that exist only in a
# private passwd/shadow bind-mounted in a mount namespace. Proves that both
# are up and that right and wrong logins behave as the survey expects
# (lib/real_check.py for telnet; dbclient via sshpass for SSH, judged from
# dropbear's own log, without running any command), and that the host's
# account files are unchanged (netns.bash's cleanup fails the run if not).
# The engine's tests reuse lib/real_servers.bash to start the same servers.
#
# KZ_RECORD_TRANSCRIPTS=DIR writes the telnet exchanges there
# (tests/data/transcripts/ holds the ones recorded so).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/netns.bash
. "$here/lib/netns.bash"
# shellcheck source=lib/real_servers.bash
. "$here/lib/real_servers.bash"
kz_ns_init
command -v sshpass >/dev/null && command -v dbclient >/dev/null || {
	kz_log "skipped: needs sshpass and dbclient (dropbear-bin)"
	exit 77
}
addr=198.18.1.1
kz_ns_add ns real
kz_real_servers_start "$ns" "$addr"

ip netns exec "$ns" python3 "$here/lib/real_check.py" "$addr" \
	"$KZ_REAL_WEAK_USER" "$KZ_REAL_WEAK_PASS" "$KZ_REAL_STRONG_USER" "$KZ_REAL_STRONG_PASS" \
	"$KZ_REAL_EMPTY_USER" ${KZ_RECORD_TRANSCRIPTS:+"$KZ_RECORD_TRANSCRIPTS"} ||
	kz_die "busybox telnetd logins"

# SSH: -N asks for no shell and no command; the login is judged from
# dropbear's log. A known_hosts file, if any, goes to the temp dir.
ssh_try() { # user password
	HOME="$KZ_TMP" ip netns exec "$ns" timeout 10 sshpass -p "$2" \
		dbclient -y -y -N -p 22 "$1@$addr" </dev/null >/dev/null 2>&1 || true
}
ssh_try "$KZ_REAL_WEAK_USER" "$KZ_REAL_WEAK_PASS"
grep -q "Password auth succeeded for '$KZ_REAL_WEAK_USER'" "$KZ_TMP/dropbear.log" ||
	kz_die "dropbear: the weak account did not log in: $(tail -5 "$KZ_TMP/dropbear.log")"
ssh_try "$KZ_REAL_STRONG_USER" admin
grep -q "Bad password attempt for '$KZ_REAL_STRONG_USER'" "$KZ_TMP/dropbear.log" ||
	kz_die "dropbear: no failed attempt logged for the strong account"
if grep -q "Password auth succeeded for '$KZ_REAL_STRONG_USER'" "$KZ_TMP/dropbear.log"; then
	kz_die "dropbear: a wrong password logged in"
fi
# The banner a prober sees first on port 22.
banner=$(ip netns exec "$ns" python3 -c "
import socket; s = socket.create_connection(('$addr', 22), 5)
print(s.recv(256).decode('latin-1').split('\\r\\n')[0])")
case "$banner" in
SSH-2.0-dropbear*) ;;
*) kz_die "dropbear banner: $banner" ;;
esac
# The accounts never reached the host.
for u in "$KZ_REAL_WEAK_USER" "$KZ_REAL_STRONG_USER" "$KZ_REAL_EMPTY_USER"; do
	if grep -q "^$u:" /etc/passwd; then kz_die "$u is in the host's /etc/passwd"; fi
done
kz_log "ok ($banner)"
