#!/bin/bash
# What the web dashboard needs from the hub, without a browser
# (tests/integration/dashboard_api.py).
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
command -v python3 >/dev/null || { echo "skip: python3 is missing"; exit 77; }
exec python3 "$(dirname "$0")/dashboard_api.py"
