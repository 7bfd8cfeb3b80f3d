#!/bin/bash
# kizuki hub over HTTP on loopback with a real store: the "lifecycle" scenario of
# tests/integration/hubtest.py (what it checks is written there).
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
command -v python3 >/dev/null || { echo "skip: python3 is missing"; exit 77; }
exec python3 "$(dirname "$0")/hubtest.py" lifecycle
