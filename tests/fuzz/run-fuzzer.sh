#!/bin/sh
# Fuzz one harness for a fixed time, starting from its seed corpus. New inputs
# go to a scratch directory so the checked-in corpus stays as reviewed.
set -eu
fuzzer=$1 corpus=$2 seconds=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 "$scratch" "$corpus"
