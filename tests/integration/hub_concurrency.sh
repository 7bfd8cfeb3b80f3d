#!/bin/bash
# kizuki hub under 100 concurrent clients for 10 s on loopback (the full 30 s
# run is bench/hub.sh): no error, every event acknowledged, none lost.
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
command -v python3 >/dev/null || { echo "skip: python3 is missing"; exit 77; }
exec python3 "$(dirname "$0")/hubtest.py" concurrency "${KZ_HUB_SECONDS:-10}" 100
