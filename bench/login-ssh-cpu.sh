#!/bin/bash
# The SSH check's CPU cost per connection, measured on our side only
# (kizuki-logincheck's own getrusage), against real dropbear servers in a
# network namespace: every address of 198.18.8.0/24 is local there (AnyIP)
# and served by DROPBEARS dropbear processes (one per port 22..).
#
# Each service gets a one-pair list that fails, so each costs exactly one
# connection: identification, key exchange, "none", one password attempt,
# disconnect; then the control is never needed. The figure is
# CPU seconds / connections.
#
# usage: bench/login-ssh-cpu.sh [SERVICES] [CONCURRENCY]   (root; not run in CI)
# Prints the command, the machine and the figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
bin=${KZ_BUILD_DIR:-$src/build/release}/kizuki-logincheck
[ -x "$bin" ] || bin=$src/build/dev/kizuki-logincheck
services=${1:-500}
conc=${2:-20}
# shellcheck source=../tests/integration/lib/netns.bash
. "$src/tests/integration/lib/netns.bash"
# shellcheck source=../tests/integration/lib/real_servers.bash
. "$src/tests/integration/lib/real_servers.bash"
kz_ns_init
kz_ns_add ns sshcpu
kz_real_servers_start "$ns" 198.18.7.1
kz_ns_anyip "$ns" 198.18.8.0/24
kz_logins_argv
# dropbear takes at most 5 unauthenticated connections from one source
# address (MAX_UNAUTH_PER_IP), and ours all come from one: one server per 4
# in flight.
nsrv=$(((conc + 3) / 4))
for i in $(seq 0 $((nsrv - 1))); do
	kz_ns_spawn "$ns" "${KZ_LOGINS_ARGV[@]}" dropbear -F -E -p "$((2200 + i))" \
		-r "$KZ_TMP/dropbear_ed25519" -P "$KZ_TMP/db$i.pid" 2>/dev/null
done
for i in $(seq 0 $((nsrv - 1))); do kz_wait_port "$ns" 198.18.8.1 $((2200 + i)); done
echo "198.18.8.0/24" >"$KZ_TMP/scope.txt"
echo "admin:not-the-password" >"$KZ_TMP/creds.txt"
: >"$KZ_TMP/targets.txt"
for n in $(seq 0 $((services - 1))); do
	echo "198.18.8.$((n / nsrv % 254 + 1)):$((2200 + n % nsrv))/ssh" >>"$KZ_TMP/targets.txt"
done
sort -u -o "$KZ_TMP/targets.txt" "$KZ_TMP/targets.txt"
cmd=("$bin" --targets-file "$KZ_TMP/targets.txt" --scope "$KZ_TMP/scope.txt" --allow-reserved
	--creds "$KZ_TMP/creds.txt" --concurrency "$conc" --pace-ms 0 --out "$KZ_TMP/out.jsonl")
echo "command: ${cmd[*]}"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
ip netns exec "$ns" "${cmd[@]}" 2>"$KZ_TMP/err.txt" || { cat "$KZ_TMP/err.txt"; exit 1; }
cat "$KZ_TMP/err.txt"
python3 - "$KZ_TMP/err.txt" "$KZ_TMP/out.jsonl" <<'EOF'
import collections, json, re, sys
t = open(sys.argv[1]).read()
why = collections.Counter(json.loads(l).get("extra.reason") for l in open(sys.argv[2]))
for k, v in why.most_common():
    print("%6d  %s" % (v, k))
conns = int(re.search(r"(\d+) connections", t).group(1))
secs = float(re.search(r"services in ([\d.]+) s", t).group(1))
cpu = float(re.search(r"CPU ([\d.]+) s", t).group(1))
rss = int(re.search(r"peak RSS (\d+) KiB", t).group(1))
print("connections %d in %.1f s wall; our CPU %.2f s: %.2f ms per connection, "
      "%.0f connections per CPU-second; peak RSS %d KiB" % (conns, secs, cpu, 1000 * cpu / conns, conns / cpu, rss))
EOF
