#!/bin/bash
# The command line of CONTRACT.md: --help on every subcommand, --version,
# usage errors exit 2 with one line on stderr, unknown subcommands refused.
set -u
bin=${KZ_BIN:?}
fail=0
check() { # check WANT_STATUS DESCRIPTION -- command...
	local want=$1 what=$2
	shift 3
	local err out status
	err=$(mktemp)
	out=$("$@" 2>"$err")
	status=$?
	if [ "$status" -ne "$want" ]; then
		echo "FAIL: $what: exit $status, want $want: $(head -c 300 "$err")"
		fail=1
	elif [ "$want" -eq 2 ] && [ "$(wc -l <"$err")" -ne 1 ]; then
		echo "FAIL: $what: usage error is not one line:"; cat "$err"
		fail=1
	elif [ "$want" -eq 2 ] && ! grep -q '^kizuki' "$err"; then
		echo "FAIL: $what: usage error does not start with 'kizuki': $(cat "$err")"
		fail=1
	fi
	rm -f "$err"
	LAST_OUT=$out
}

check 0 "--version" -- "$bin" --version
[[ $LAST_OUT =~ ^kizuki\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "FAIL: --version prints '$LAST_OUT'"; fail=1; }
check 0 "--help" -- "$bin" --help
check 2 "no subcommand" -- "$bin"
check 2 "unknown subcommand" -- "$bin" frobnicate
for sub in telescope survey hub report anon demo; do
	check 0 "$sub --help" -- "$bin" $sub --help
	[[ $LAST_OUT == usage:* ]] || { echo "FAIL: $sub --help does not start with usage:"; fail=1; }
	check 2 "$sub with an unknown option" -- "$bin" $sub --no-such-option
	check 2 "$sub with a stray argument" -- "$bin" $sub stray-argument
done
check 0 "hub token --help" -- "$bin" hub token --help
check 2 "telescope without input" -- "$bin" telescope --darknet 198.18.0.0/16
check 2 "survey without --scope" -- "$bin" survey --no-login
check 2 "hub without --db" -- "$bin" hub
check 2 "anon without a key" -- "$bin" anon
check 2 "demo with a missing value" -- "$bin" demo --out
# The usage error names the option as it was typed, also inside a cluster.
says() { # says EXPECTED-SUBSTRING command...
	local want=$1 err
	shift
	err=$("$@" 2>&1 >/dev/null)
	[[ $err == *"$want"* ]] || { echo "FAIL: '$*' says '$err', want '$want'"; fail=1; }
}
says "--db needs a value" "$bin" hub --db
says "-r needs a value" "$bin" telescope -r
says "unknown option '-z'" "$bin" telescope -zr /dev/null
says "unknown option '--no-such-option'" "$bin" survey --no-such-option
exit $fail
