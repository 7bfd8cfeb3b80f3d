#!/bin/sh
# Format the C sources with clang-format 14, or check them (--check).
# usage: scripts/format.sh [--check] [CLANG_FORMAT]
set -eu
mode=fix
if [ "${1:-}" = "--check" ]; then mode=check; shift; fi
cf=${1:-$(command -v clang-format-14 || command -v clang-format)}
cd "$(dirname "$0")/.."
files=$(git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null | grep -v '^build/' || true)
[ -n "$files" ] || { echo "format: no sources"; exit 0; }
if [ "$mode" = check ]; then
	# shellcheck disable=SC2086
	"$cf" --dry-run --Werror $files
	echo "format: $(echo "$files" | wc -l) files clean"
else
	# shellcheck disable=SC2086
	"$cf" -i $files
fi
