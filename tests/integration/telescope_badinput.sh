#!/bin/bash
# kizuki telescope on bad input and bad options: each gets one clear line
# on stderr ("kizuki telescope: what: why", with the file and offset for a
# damaged capture) and the contract's exit status (2 for usage errors, 1 for
# runtime failures), and what was read before a damaged record is still
# analysed and written. No root, no network.
set -euo pipefail

kz=${KZ_BIN:?}
gen=${KZ_BUILD_DIR:?}/kizuki-gen
tmp=$(mktemp -d /tmp/kz-tele-bad.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() { echo "FAIL: $*"; exit 1; }

# expect STATUS PATTERN -- command...: the status, and exactly one error
# line matching the pattern.
expect() {
	local want=$1 pattern=$2
	shift 3
	local status=0
	"$@" >out.txt 2>err.txt || status=$?
	[ "$status" -eq "$want" ] || { cat err.txt; fail "$* exited $status, not $want"; }
	grep -q -- "$pattern" err.txt || { cat err.txt; fail "$*: no line matching '$pattern'"; }
	[ "$(grep -c -- "$pattern" err.txt)" -eq 1 ] || { cat err.txt; fail "$*: repeated error"; }
	echo "ok ($status): $(grep -- "$pattern" err.txt)"
}

"$gen" -q -p scanners -o good.pcap -t good.truth
dn=198.18.0.0/16

expect 1 "^kizuki telescope: nosuch.pcap: No such file or directory$" -- \
	"$kz" telescope -r nosuch.pcap --darknet "$dn"
printf 'not a capture file at all, just text\n' >text.pcap
expect 1 "^kizuki telescope: text.pcap: .*" -- "$kz" telescope -r text.pcap --darknet "$dn"
expect 2 "^kizuki telescope: --darknet: 10.0.0.0/33: prefix length above 32" -- \
	"$kz" telescope -r good.pcap --darknet 198.18.0.0/16,10.0.0.0/33
expect 2 "^kizuki telescope: --darknet: 198.18.0.1/16: " -- \
	"$kz" telescope -r good.pcap --darknet 198.18.0.1/16
expect 2 "^kizuki telescope: --darknet: no prefix given" -- \
	"$kz" telescope -r good.pcap --darknet ,
expect 2 "^kizuki telescope: --darknet is required" -- "$kz" telescope -r good.pcap
expect 2 "^kizuki telescope: --interval 0: out of range 1..86400" -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --interval 0
expect 2 "^kizuki telescope: --interval 90000: out of range 1..86400" -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --interval 90000
expect 2 "^kizuki telescope: --interval 1m: not a number" -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --interval 1m
expect 2 "^kizuki telescope: --max-sources 0: out of range" -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --max-sources 0
expect 2 "^kizuki telescope: exactly one of -r FILE and -i IFACE" -- \
	"$kz" telescope -r good.pcap -i lo --darknet "$dn"
expect 2 "^kizuki telescope: --hub and --token-file go together" -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --hub http://127.0.0.1:1
expect 2 "^kizuki telescope: --spool and --spool-max need --hub" -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --spool sp
expect 1 "^kizuki telescope: --token-file " -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --hub http://127.0.0.1:1 --token-file nosuch
expect 1 "^kizuki telescope: --events: /nonexistent/dir/e.jsonl: No such file or directory" -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --events /nonexistent/dir/e.jsonl
expect 1 "^kizuki telescope: --db: /nonexistent/dir/x.db: " -- \
	"$kz" telescope -r good.pcap --darknet "$dn" --db /nonexistent/dir/x.db

# A capture cut in the middle of a record: the error names the file and
# the offset; the records before it are analysed and written.
size=$(stat -c %s good.pcap)
head -c $((size * 2 / 3)) good.pcap >cut.pcap
expect 1 "^kizuki telescope: cut.pcap: offset [0-9]*: .*" -- \
	"$kz" telescope -r cut.pcap --darknet "$dn" --events cut.events --stats cut.stats
[ -s cut.events ] || fail "nothing written from the records before the damage"
[ -s cut.stats ] || fail "no stats written from the records before the damage"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' cut.events ||
	fail "a half-written event line"
echo "cut file: $(wc -l <cut.events) events and $(wc -l <cut.stats) stats rows kept"

# A record whose length field is absurd (the 30th record's caplen).
python3 - good.pcap huge.pcap <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
pos = 24
for _ in range(29):
    pos += 16 + struct.unpack("<I", d[pos + 8:pos + 12])[0]
d[pos + 8:pos + 12] = struct.pack("<I", 0xffffffff)
open(sys.argv[2], "wb").write(d)
EOF
expect 1 "^kizuki telescope: huge.pcap: offset [0-9]*: record caplen 4294967295" -- \
	"$kz" telescope -r huge.pcap --darknet "$dn" --events huge.events
echo PASS
