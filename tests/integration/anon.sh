#!/bin/bash
# kizuki anon on the real binary: the Crypto-PAn reference vectors (IPv4 and
# IPv6, from the Crypto-PAn 1.0 sample key), line alignment with blanks and
# comments, the error line and exit statuses, usage errors, a whole /24 keeps
# its prefix, and the key is blanked from the process's argument list.
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"

tmp=$(mktemp -d)
sleeper=""
anon_pid=""
cleanup() {
	[ -n "$anon_pid" ] && kill "$anon_pid" 2>/dev/null
	[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
pass() {
	echo "ok: $*"
}

# The reference key, 21 34 23 141 ... 34 2 in decimal, as hex.
KEY=1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202

# 1. Every published vector, in order.
printf '%s\n' 128.11.68.132 129.118.74.4 130.132.252.244 141.223.7.43 24.5.0.80 ::1 \
	>"$tmp/in"
printf '%s\n' 135.242.180.132 134.136.186.123 133.68.164.234 141.167.8.160 100.9.15.210 \
	78ff:f001:9fc0:20df:8380:b1f1:704:ed >"$tmp/want"
"$KZ_BIN" anon --key-hex "$KEY" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/want" && [ ! -s "$tmp/err" ]; then
	pass "reference vectors (5 IPv4, 1 IPv6)"
else
	fail "reference vectors: exit $rc"
	diff "$tmp/want" "$tmp/out" >&2
	cat "$tmp/err" >&2
fi

# 2. Upper-case key digits are the same key; --key-hex=HEX works too.
"$KZ_BIN" anon --key-hex="${KEY^^}" <"$tmp/in" >"$tmp/out2" 2>/dev/null
cmp -s "$tmp/out2" "$tmp/want" && pass "upper-case key, --key-hex=HEX" || fail "upper-case key"

# 3. Blank and comment lines keep the line numbers aligned; comment text is
# never copied; IPv4-mapped IPv6 is IPv4; CRLF and blanks around are fine.
printf '128.11.68.132\n\n# secret 10.1.2.3\n  ::ffff:129.118.74.4 # router\t\n\t::1\r\n' >"$tmp/in3"
printf '135.242.180.132\n\n\n134.136.186.123\n78ff:f001:9fc0:20df:8380:b1f1:704:ed\n' \
	>"$tmp/want3"
"$KZ_BIN" anon --key-hex "$KEY" <"$tmp/in3" >"$tmp/out3" 2>"$tmp/err3"
rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/out3" "$tmp/want3" && ! grep -q secret "$tmp/out3"; then
	pass "blank and comment lines give empty lines; mapped IPv4; CRLF"
else
	fail "alignment: exit $rc"
	diff "$tmp/want3" "$tmp/out3" >&2
fi

# 4. A bad line: its error names the line, exit 1, earlier pseudonyms are out,
# nothing for the bad line or after it.
printf '128.11.68.132\n129.118.74.4\n1.2.3\n130.132.252.244\n' >"$tmp/in4"
"$KZ_BIN" anon --key-hex "$KEY" <"$tmp/in4" >"$tmp/out4" 2>"$tmp/err4"
rc=$?
printf '135.242.180.132\n134.136.186.123\n' >"$tmp/want4"
want_err='kizuki anon: <stdin>:3: 1.2.3: not an IPv4 address: fewer than four octets'
if [ $rc -eq 1 ] && cmp -s "$tmp/out4" "$tmp/want4" && [ "$(cat "$tmp/err4")" = "$want_err" ]; then
	pass "bad line: exit 1, '$want_err'"
else
	fail "bad line: exit $rc, stderr: $(cat "$tmp/err4")"
	diff "$tmp/want4" "$tmp/out4" >&2
fi

# 5. Other bad lines each give a reason with the line number.
expect_line_error() {
	local input=$1 want=$2
	printf '%b' "$input" | "$KZ_BIN" anon --key-hex "$KEY" >/dev/null 2>"$tmp/err5"
	local rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$want" "$tmp/err5"; then
		pass "bad input -> $(cat "$tmp/err5")"
	else
		fail "input '$input': exit $rc, stderr '$(cat "$tmp/err5")', wanted '$want'"
	fi
}
expect_line_error '10.0.0.1\n10.0.0.0/8\n' '<stdin>:2: 10.0.0.0/8: '
expect_line_error '2001:db8:::1\n' '<stdin>:1: 2001:db8:::1: '
expect_line_error '1.2.3.4 5.6.7.8\n' '<stdin>:1: 1.2.3.4 5.6.7.8: '
expect_line_error '1.2.3.4\n\0\n' '<stdin>:2: NUL byte'

# 6. Usage errors: exit 2, a reason, nothing on stdout.
expect_usage() {
	local want=$1
	shift
	"$KZ_BIN" anon "$@" </dev/null >"$tmp/out6" 2>"$tmp/err6"
	local rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$tmp/out6" ] && grep -qF -- "$want" "$tmp/err6"; then
		pass "usage error -> $(cat "$tmp/err6")"
	else
		fail "anon $*: exit $rc, stderr '$(cat "$tmp/err6")', wanted '$want'"
	fi
}
expect_usage "--key-hex is required"
expect_usage "63 hex digits" --key-hex "${KEY:1}"
expect_usage "66 hex digits" --key-hex "${KEY}00"
expect_usage "0 hex digits" --key-hex ""
expect_usage "character 5 is not a hex digit" --key-hex "1522g78d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202"
expect_usage "needs a value" --key-hex
expect_usage "unexpected argument" --key-hex "$KEY" extra
expect_usage "unknown option" --bogus

# 7. --help: exit 0, on stdout, and it says what happens to blank lines and
# to output before a bad line.
"$KZ_BIN" anon --help >"$tmp/help" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q 'blank' "$tmp/help" && grep -q 'already been' "$tmp/help"; then
	pass "--help"
else
	fail "--help: exit $rc"
fi

# 8. A whole /24 maps into one /24, one to one, and 100,000 lines come out
# as 100,000 lines in order (the same address gives the same pseudonym).
for i in $(seq 0 255); do echo "198.51.100.$i"; done >"$tmp/net"
"$KZ_BIN" anon --key-hex "$KEY" <"$tmp/net" >"$tmp/netout"
prefixes=$(cut -d. -f1-3 "$tmp/netout" | sort -u | wc -l)
distinct=$(sort -u "$tmp/netout" | wc -l)
if [ "$prefixes" -eq 1 ] && [ "$distinct" -eq 256 ]; then
	pass "198.51.100.0/24 -> $(head -1 "$tmp/netout" | cut -d. -f1-3).0/24, 256 distinct"
else
	fail "/24: $prefixes prefixes, $distinct distinct"
fi
for _ in $(seq 1 391); do cat "$tmp/net"; done | head -n 100000 >"$tmp/big"
"$KZ_BIN" anon --key-hex "$KEY" <"$tmp/big" >"$tmp/bigout"
lines=$(wc -l <"$tmp/bigout")
if [ "$lines" -eq 100000 ] && cmp -s <(head -n 256 "$tmp/bigout") "$tmp/netout" &&
	cmp -s <(sed -n '99841,100000p' "$tmp/bigout") <(head -n 160 "$tmp/netout"); then
	pass "100,000 lines in order"
else
	fail "100,000 lines: got $lines"
fi

# 9. The key does not stay in the process list: kizuki blanks it at start-up.
# A writer that never writes keeps kizuki waiting on stdin meanwhile.
mkfifo "$tmp/fifo"
sleep 30 >"$tmp/fifo" &
sleeper=$!
"$KZ_BIN" anon --key-hex "$KEY" <"$tmp/fifo" >/dev/null &
anon_pid=$!
blanked=no
for _ in $(seq 1 50); do
	if tr '\0' ' ' <"/proc/$anon_pid/cmdline" 2>/dev/null | grep -q 'anon --key-hex xxxxxxxx'; then
		blanked=yes
		break
	fi
	sleep 0.1
done
if [ $blanked = yes ] && ! tr '\0' ' ' <"/proc/$anon_pid/cmdline" | grep -q "$KEY"; then
	pass "key blanked in /proc/PID/cmdline"
else
	fail "key still visible in /proc/$anon_pid/cmdline"
fi
kill "$anon_pid" "$sleeper" 2>/dev/null
wait "$anon_pid" "$sleeper" 2>/dev/null
anon_pid=""
sleeper=""

if [ $failures -ne 0 ]; then
	echo "anon: $failures failure(s)" >&2
	exit 1
fi
echo "anon: all checks passed"
