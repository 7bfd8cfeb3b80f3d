#!/bin/bash
# The "formats" scenario of tests/integration/sharetest.py (what it checks is
# written there), on loopback with a real store. Needs python3 with
# jsonschema (Debian: python3-jsonschema).
set -u
: "${KZ_BIN:?KZ_BIN must name the kizuki binary}"
py=""
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null; then
		py=$p
		break
	fi
done
[ -n "$py" ] || { echo "skip: python3 with jsonschema is missing (apt-get install python3-jsonschema)"; exit 77; }
exec "$py" "$(dirname "$0")/sharetest.py" formats
