#!/bin/bash
# The sensors' spooled upload against a real hub (tests/integration/hubtest.py
# "spool"): records posted while the hub is down wait on disk and arrive when
# it is up, none lost; past --spool-max the oldest are dropped, counted, and
# shown by the hub's /metrics.
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
: "${KZ_TOOLS_DIR:?KZ_TOOLS_DIR must name the directory of kizuki-upload}"
command -v python3 >/dev/null || { echo "skip: python3 is missing"; exit 77; }
exec python3 "$(dirname "$0")/hubtest.py" spool
