#!/bin/bash
# The decoder against Wireshark's dissectors on the hand-built frames of the
# fuzz corpus (see decode_vs_tshark.py). Needs tshark (Debian package
# tshark); exit 77 without it, or fail when KZ_REQUIRE_ALL=1.
set -euo pipefail
if ! command -v tshark >/dev/null || ! command -v python3 >/dev/null; then
	echo "decode_vs_tshark: tshark or python3 not installed"
	[ "${KZ_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# tshark wants a writable home for its profile and warns as root: harmless.
HOME=$tmp python3 "${KZ_SOURCE_DIR:?}/tests/integration/decode_vs_tshark.py" \
	"${KZ_BUILD_DIR:?}/kizuki-capdump" "$KZ_SOURCE_DIR/tests/fuzz/corpus/pkt" "$tmp"
