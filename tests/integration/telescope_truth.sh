#!/bin/bash
# kizuki telescope against the generator's ground truth: every test profile
# (mixed, scanners, dos, surge, steady, noise, ipv6) with two seeds, read
# with -r; telescope_truth.py prints precision and recall per label and
# asserts them (>= 99 % for fingerprinted sources and scanners), every DoS
# victim above the thresholds found and none below, the surge found in its
# interval and no surge anywhere else (none on the steady profile), the
# tracked port's unique sources per minute, and the frames outside the
# darknet and skipped. The mixed trace is also read with two threads and
# with a gzip file: the same records. Needs python3; no root, no network.
set -euo pipefail

kz=${KZ_BIN:?}
gen=${KZ_BUILD_DIR:?}/kizuki-gen
check=${KZ_SOURCE_DIR:?}/tests/integration/telescope_truth.py
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[ -x "$gen" ] || { echo "FAIL: $gen not built"; exit 1; }

tmp=$(mktemp -d /tmp/kz-tele-truth.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() { echo "FAIL: $*"; exit 1; }

darknet_of() { # truth file
	python3 -c 'import json,sys; print(",".join(json.loads(open(sys.argv[1]).readline())["darknet"]))' "$1"
}

# Records without the one field that depends on the wall clock.
strip_obs() { # events file
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); r.pop("time.observation", None); print(json.dumps(r, sort_keys=True))' "$1"
}

status=0
for seed in 1 2; do
	for p in mixed scanners dos surge steady noise ipv6; do
		"$gen" -q -p "$p" -s "$seed" -o "$p.pcap" -t "$p.truth"
		dn=$(darknet_of "$p.truth")
		"$kz" telescope -r "$p.pcap" --darknet "$dn" --sensor truth-test --threads 1 \
			--events "$p.events" --stats "$p.stats" 2>"$p.summary" ||
			{ cat "$p.summary"; fail "$p seed $seed: kizuki telescope failed"; }
		python3 "$check" "$p.truth" "$p.events" "$p.stats" "$p.summary" "$p/seed$seed" ||
			status=1
	done
done
[ "$status" -eq 0 ] || fail "the telescope disagrees with the ground truth (above)"

# The last mixed trace again, with two threads and gzip-compressed: the
# same records, byte for byte apart from time.observation.
gzip -1 -c mixed.pcap >mixed.pcap.gz
dn=$(darknet_of mixed.truth)
"$kz" telescope -r mixed.pcap.gz --darknet "$dn" --sensor truth-test --threads 2 \
	--events mixed2.events --stats mixed2.stats 2>mixed2.summary ||
	fail "two threads over gzip failed"
cmp <(strip_obs mixed.events) <(strip_obs mixed2.events) ||
	fail "two threads over gzip gave other records than one thread"
cmp mixed.stats mixed2.stats || fail "two threads gave other stats"
echo "two threads over gzip: $(wc -l <mixed2.events) identical records"
echo "PASS"
