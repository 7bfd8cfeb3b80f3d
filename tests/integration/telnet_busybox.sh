#!/bin/bash
# The telnet login check against a real busybox telnetd with busybox login
# (REFERENCE.md: real busybox-static telnetd is part of the accuracy set).
#
# Everything runs in new mount, network and PID namespaces: /etc/passwd and
# /etc/shadow are bind-mounted private copies (CONTRACT.md: no account is
# ever added to the machine), only loopback exists, and every process dies
# with the namespace's init when the test ends, pass or fail.
#
# Checks: a weak account behind three failures (busybox closes after three)
# → login-possible with the right pair; no listed pair → login-failed;
# telnetd running a shell with no login → no-auth.
# Needs root, util-linux unshare and Debian's busybox-static; exit 77 if not.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
tool=${KZ_BUILD_DIR:-build/dev}/kizuki-telnet-check
[ -x "$tool" ] || { echo "skip: $tool not built"; exit 77; }
bb=$(command -v busybox || true)
# The list is read whole first: with pipefail, `busybox --list | grep -q`
# fails whenever grep exits before busybox has written the rest (SIGPIPE).
applets=$([ -n "$bb" ] && "$bb" --list || true)
if ! grep -qx telnetd <<<"$applets" || ! grep -qx login <<<"$applets"; then
	echo "skip: busybox with telnetd and login (Debian busybox-static) not installed"
	exit 77
fi
command -v unshare >/dev/null || { echo "skip: no unshare"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir "$tmp/bin" "$tmp/home"
ln -s "$bb" "$tmp/bin/login"
ln -s "$bb" "$tmp/bin/sh"

# Private accounts: root with a password no list holds, admin/admin.
rootpw=$(head -c 18 /dev/urandom | base64)
cat >"$tmp/passwd" <<EOF
root:x:0:0:root:/root:/bin/false
admin:x:1000:1000:admin:$tmp/home:$tmp/bin/sh
EOF
cat >"$tmp/shadow" <<EOF
root:$("$bb" mkpasswd -m sha512 "$rootpw"):19000:0:99999:7:::
admin:$("$bb" mkpasswd -m sha512 admin):19000:0:99999:7:::
EOF
chmod 600 "$tmp/shadow"

cat >"$tmp/weak.txt" <<'EOF'
# user:password, the order the check tries them in
root:xc3511
root:vizxv
root:12345
admin:admin
support:support
EOF
cat >"$tmp/strong.txt" <<'EOF'
root:xc3511
admin:1234
EOF

cat >"$tmp/inner.sh" <<'EOF'
set -euo pipefail
tmp=$1 bb=$2 tool=$3
ip link set lo up
# The shell prompt shows the working directory: run from / so that a checkout
# path containing a word like "login" cannot make the prompt look like a
# login message (the shell-prompt rule refuses those words).
cd /
mount --bind "$tmp/passwd" /etc/passwd
mount --bind "$tmp/shadow" /etc/shadow
"$bb" telnetd -F -b 127.0.0.1 -p 2323 -l "$tmp/bin/login" &
"$bb" telnetd -F -b 127.0.0.1 -p 2324 -l "$tmp/bin/sh" &
for _ in $(seq 50); do
	"$bb" nc -z 127.0.0.1 2323 2>/dev/null && "$bb" nc -z 127.0.0.1 2324 2>/dev/null && break
	sleep 0.1
done
fail=0
expect() { # name, expected pattern, command...
	local name=$1 want=$2 got
	shift 2
	got=$("$@")
	echo "$name: $got"
	if ! grep -q -- "$want" <<<"$got"; then
		echo "FAIL: $name: expected $want"
		fail=1
	fi
}
expect weak 'status=login-possible pair=3 user=admin password_asked=1' \
	"$tool" 127.0.0.1 2323 "$tmp/weak.txt"
expect strong 'status=login-failed' "$tool" 127.0.0.1 2323 "$tmp/strong.txt"
expect no-auth 'status=no-auth' "$tool" 127.0.0.1 2324 "$tmp/strong.txt"
exit $fail
EOF

# PID namespace: the telnetds die with the inner shell, whatever happens.
unshare --mount --net --pid --fork --mount-proc --propagation private \
	bash "$tmp/inner.sh" "$tmp" "$bb" "$(realpath "$tool")"
