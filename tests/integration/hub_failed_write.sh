#!/bin/bash
# kizuki hub: a body whose write fails is refused whole (503) while the
# bodies committed in the same group are stored (hubtest.py failed-write).
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
command -v python3 >/dev/null || { echo "skip: python3 is missing"; exit 77; }
exec python3 "$(dirname "$0")/hubtest.py" failed-write
