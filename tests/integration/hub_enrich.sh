#!/bin/bash
# kizuki hub's enrichment from a real mmdb written with Debian's
# libmaxmind-db-writer-perl (country, region, city; IPv4 and IPv6) and the
# operators file (tests/integration/hubtest.py "mmdb").
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
command -v python3 >/dev/null || { echo "skip: python3 is missing"; exit 77; }
exec python3 "$(dirname "$0")/hubtest.py" mmdb
