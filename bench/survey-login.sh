#!/bin/bash
# bench/survey-login: the login benchmark of REFERENCE.md ("Benchmark
# definitions": login) and issue 5.
#
#   bench/survey-login.sh [--build DIR] [--cap SECONDS] [--sample N] [--seed N]
#                         [--out DIR] [--peers "hydra medusa ncrack"] [--creds FILE]
#
# A fleet-v1 fleet of 4,096 simulated devices (kizuki-devsim) per tool, all
# from the same seed, so every tool meets identical devices without one
# tool's connections disturbing another's (B27's cool-down, the counters):
#   198.18.0.0/20   kizuki       198.18.16.0/20  hydra
#   198.18.32.0/20  medusa       198.18.48.0/20  ncrack
# served in a namespace "sim"; the tools run in a namespace "cli" joined to
# it by a veth pair (198.19.255.1/30 - .2). Nothing leaves the namespaces.
# kizuki's memory run has a fleet of its own, 198.18.64.0/18 (16,384
# devices, two simulators), so that 10,000 connections are open at once.
#
# Peers run on a sample of >= 64 devices covering every behaviour, with the
# same credential list (bench/data/creds-survey-login.txt) and a time cap
# per tool (default 20 minutes); what a tool had not finished at the cap
# counts as not found. They run at the same time (each on its own fleet
# copy): on 2 vCPUs they are idle most of the time, waiting on the devices.
# Printed: precision, recall, accepts-any devices reported as weak, wall
# time, devices per hour, per tool on the sample; the full fleet's floor
# (its slowest device alone); kizuki's full-fleet time and its peak RSS
# with 10,000 concurrent connections.
#
# Needs root (namespaces), hydra, medusa, ncrack (Debian packages of those
# names), python3, and a build with kizuki-devsim.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build="$src/build/dev"
cap=1200
nsample=64
seed=1
out=""
peers="hydra medusa ncrack"
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--cap) cap=$2; shift 2 ;;
	--sample) nsample=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--peers) peers=$2; shift 2 ;;
	--creds) creds=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--cap S] [--sample N] [--seed N] [--out DIR] [--peers LIST] [--creds FILE]" >&2; exit 2 ;;
	esac
done
KZ_TEST_NAME=survey-login
# shellcheck source=../tests/integration/lib/netns.bash
. "$src/tests/integration/lib/netns.bash"
kz_ns_init
sim_bin="$build/kizuki-devsim"
kz_bin="$build/kizuki"
[ -x "$sim_bin" ] || kz_die "no $sim_bin: build first (cmake --build --preset dev)"
creds=${creds:-$here/data/creds-survey-login.txt}
out=${out:-$KZ_TMP/out}
mkdir -p "$out"
score="$here/survey_login_score.py"
# Distinct telnet pairs: what a strong device is asked (repeats merge, and
# a pair may be for other protocols only).
npairs=$(python3 - "$creds" <<'PY'
import sys
seen = set()
for raw in open(sys.argv[1], 'rb'):
    line = raw.rstrip(b'\r\n')
    if not line.strip() or line.lstrip().startswith(b'#'):
        continue
    fields, cur, i = [], b'', 0
    while i < len(line):
        if line[i:i + 1] == b'\\' and line[i + 1:i + 2] in (b':', b'\\'):
            cur += line[i + 1:i + 2]; i += 2; continue
        if line[i:i + 1] == b':':
            fields.append(cur); cur = b''; i += 1; continue
        cur += line[i:i + 1]; i += 1
    fields.append(cur)
    if len(fields) > 2 and fields[2] and b'telnet' not in fields[2].split(b','):
        continue
    seen.add((fields[0], fields[1] if len(fields) > 1 else b''))
print(len(seen))
PY
)

echo "== bench/survey-login: $(date -u +%FT%TZ), $(nproc) CPUs, $(uname -r)"
echo "== $0 --cap $cap --sample $nsample --seed $seed; $npairs pairs ($creds)"
for t in hydra medusa ncrack; do
	command -v "$t" >/dev/null && echo "== $t: $(dpkg-query -W -f '${Version}' "$t" 2>/dev/null)"
done

kz_ns_add sim sim
kz_ns_add cli cli
kz_ns_veth "$sim" 198.19.255.1/30 "$cli" 198.19.255.2/30
kz_ns_route "$cli" 198.18.0.0/18 198.19.255.1

declare -A prefix=([kizuki]=198.18.0.0/20 [hydra]=198.18.16.0/20 [medusa]=198.18.32.0/20 [ncrack]=198.18.48.0/20)
declare -A offset=([kizuki]=0 [hydra]=4096 [medusa]=8192 [ncrack]=12288)
declare -A simpid
for tool in kizuki $peers; do
	kz_ns_anyip "$sim" "${prefix[$tool]}"
	kz_ns_spawn "$sim" "$sim_bin" --prefix "${prefix[$tool]}" --seed "$seed" --creds "$creds" \
		--truth "$out/truth-$tool.jsonl" --ready "$out/ready-$tool" --max-conns 12000 --quiet
	simpid[$tool]=$KZ_PID
done
for tool in kizuki $peers; do
	for _ in $(seq 200); do [ -e "$out/ready-$tool" ] && break; sleep 0.1; done
	[ -e "$out/ready-$tool" ] || kz_die "devsim for $tool did not start"
done
truth="$out/truth-kizuki.jsonl"
python3 "$score" sample "$truth" "$nsample" "$out/sample.txt"

# The same sample on each tool's fleet copy.
shift_addrs() { # offset < addresses
	python3 -c "
import ipaddress, sys
for l in sys.stdin:
    print(ipaddress.ip_address(int(ipaddress.ip_address(l.strip())) + $1))"
}

# Credential files in each tool's format, from the one list.
grep -av '^#' "$creds" >"$out/pairs.txt"                        # hydra -C user:pass
sed 's/^/:/' "$out/pairs.txt" >"$out/combo.txt"                # medusa -C host:user:pass
# ncrack has no pair file: --pairwise over a user and a password file. It
# skips empty lines, which would shift the pairs, so the one password-only
# pair (empty user) is left out for ncrack alone.
grep -av '^:' "$out/pairs.txt" | cut -d: -f1 >"$out/ncrack-users.txt"
grep -av '^:' "$out/pairs.txt" | cut -d: -f2- >"$out/ncrack-passwords.txt"

run_capped() { # tool outfile cmd...: runs in cli with the cap; writes wall time
	local tool=$1 outfile=$2
	shift 2
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	# In $out: hydra leaves hydra.restore in its working directory.
	(cd "$out" && HOME="$KZ_TMP" ip netns exec "$cli" timeout -s INT -k 10 "$cap" "$@" \
		>"$out/$tool.stdout" 2>"$out/$tool.stderr" </dev/null) || rc=$?
	t1=$(date +%s.%N)
	python3 -c "import json; json.dump({'format': '$tool', 'file': '$outfile', 'wall': $t1 - $t0,
	    'capped': $rc in (124, 130, 137), 'offset': ${offset[$tool]}, 'rc': $rc},
	    open('$out/$tool.result.json', 'w'))"
}

run_peer() {
	local tool=$1
	shift_addrs "${offset[$tool]}" <"$out/sample.txt" >"$out/hosts-$tool.txt"
	case $tool in
	hydra)
		# -t 4 per target (REFERENCE.md's figure was taken so), -f: stop a
		# host at its first find; -T 64 targets' tasks overall.
		run_capped hydra "$out/hydra.out" hydra -I -C "$out/pairs.txt" -M "$out/hosts-hydra.txt" \
			-t 4 -T 64 -f -o "$out/hydra.out" telnet ;;
	medusa)
		run_capped medusa "$out/medusa.out" medusa -b -H "$out/hosts-medusa.txt" \
			-C "$out/combo.txt" -M telnet -t 4 -T 16 -f -O "$out/medusa.out" ;;
	ncrack)
		run_capped ncrack "$out/ncrack.out" ncrack -U "$out/ncrack-users.txt" \
			-P "$out/ncrack-passwords.txt" --pairwise -f -p 23 -iL "$out/hosts-ncrack.txt" \
			-oN "$out/ncrack.out" ;;
	esac
}

# --- kizuki -----------------------------------------------------------------
# kizuki's stage 2 on the same sample and on the whole fleet: `kizuki survey
# --targets-file` once the survey command runs stage 2, else
# kizuki-logincheck (the same engine, plug-in, list and records, without
# the scan and the run records).
kz_check="$build/kizuki-logincheck"
kizuki_cmd=()
kizuki_available() {
	# An empty targets file: refused either way, touching no device.
	echo 198.18.0.1 >"$out/probe-scope.txt"
	: >"$out/probe-targets.txt"
	local said=""
	[ -x "$kz_bin" ] && said=$(ip netns exec "$cli" timeout 5 "$kz_bin" survey \
		--scope "$out/probe-scope.txt" --allow-reserved --targets-file "$out/probe-targets.txt" \
		--out /dev/null 2>&1 || true)
	if [ -x "$kz_bin" ] && ! grep -q 'not landed\|not available' <<<"$said"; then
		kizuki_cmd=("$kz_bin" survey)
	elif [ -x "$kz_check" ]; then
		kizuki_cmd=("$kz_check")
	else
		return 1
	fi
	echo "== kizuki: ${kizuki_cmd[*]}"
}

kizuki_run() { # name addresses-file: stage 2 on those addresses, port 23
	local name=$1 list=$2
	sed 's|$|:23/telnet|' "$list" >"$out/kizuki-$name.targets"
	echo "198.18.0.0/20" >"$out/kizuki-scope.txt"
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	ip netns exec "$cli" /usr/bin/time -f '%M' -o "$out/kizuki-$name.maxrss" \
		timeout -s INT -k 10 "$cap" "${kizuki_cmd[@]}" --scope "$out/kizuki-scope.txt" \
		--allow-reserved --targets-file "$out/kizuki-$name.targets" --creds "$creds" \
		--concurrency "${KZ_CONCURRENCY:-10000}" --out "$out/kizuki-$name.jsonl" \
		>"$out/kizuki-$name.stdout" 2>"$out/kizuki-$name.stderr" || rc=$?
	t1=$(date +%s.%N)
	python3 -c "import json; json.dump({'format': 'kizuki', 'file': '$out/kizuki-$name.jsonl',
	    'wall': $t1 - $t0, 'capped': $rc in (124, 130, 137), 'offset': 0, 'rc': $rc},
	    open('$out/kizuki-$name.result.json', 'w'))"
}

# Memory with 10,000 connections at once: a fleet of its own, 16,384
# devices on 198.18.64.0/18 served by two simulators (one per /19, so that
# each one's listeners and connections fit the descriptor limit: 8,192 +
# 6,000), with --concurrency 10000, for 90 s, then two SIGINTs (stop, then
# abandon). The established connections are counted from the kernel at
# 60 s; the peak RSS and the peak in flight are kizuki's own summary lines.
kizuki_memory() {
	local simps=() half
	kz_ns_route "$cli" 198.18.64.0/18 198.19.255.1
	for half in 198.18.64.0/19 198.18.96.0/19; do
		kz_ns_anyip "$sim" "$half"
		kz_ns_spawn "$sim" "$sim_bin" --prefix "$half" --seed "$seed" --creds "$creds" \
			--truth "$out/truth-mem-${half%%/*}.jsonl" --ready "$out/ready-mem-${half%%/*}" \
			--max-conns 6000 --quiet
		simps+=("$KZ_PID")
	done
	for half in 198.18.64.0 198.18.96.0; do
		for _ in $(seq 300); do [ -e "$out/ready-mem-$half" ] && break; sleep 0.1; done
		[ -e "$out/ready-mem-$half" ] || kz_die "devsim for the memory run did not start"
	done
	# Interleaved, as stage 1's random order would hand them over: the
	# first 10,000 must not all land on one simulator.
	paste -d'\n' <(cut -d'"' -f4 "$out/truth-mem-198.18.64.0.jsonl") \
		<(cut -d'"' -f4 "$out/truth-mem-198.18.96.0.jsonl") |
		sed 's|$|:23/telnet|' >"$out/kizuki-mem.targets"
	echo "198.18.64.0/18" >"$out/kizuki-mem-scope.txt"
	ip netns exec "$cli" /usr/bin/time -f '%M' -o "$out/kizuki-mem.maxrss" \
		"${kizuki_cmd[@]}" --scope "$out/kizuki-mem-scope.txt" --allow-reserved \
		--targets-file "$out/kizuki-mem.targets" --creds "$creds" --concurrency 10000 \
		--out "$out/kizuki-mem.jsonl" >/dev/null 2>"$out/kizuki-mem.stderr" &
	local p=$!
	sleep 60
	echo "established connections at 60 s: $(ip netns exec "$cli" ss -Htn state established | wc -l)"
	sleep 30
	# The signals go to kizuki itself: /usr/bin/time, its parent, ignores
	# SIGINT while it waits.
	local k
	k=$(ps --ppid "$p" -o pid= | tr -d ' ')
	kill -INT "${k:-$p}" 2>/dev/null || true
	sleep 1
	kill -INT "${k:-$p}" 2>/dev/null || true
	wait "$p" || true
	grep -E 'services|peak|at most' "$out/kizuki-mem.stderr" || true
	echo "kizuki peak RSS with --concurrency 10000: $(tail -n 1 "$out/kizuki-mem.maxrss") KiB"
	for p in "${simps[@]}"; do kz_ns_stop "$p"; done
}

# --- run ----------------------------------------------------------------------
if [ "${KZ_MEMORY_ONLY:-0}" = 1 ]; then
	# Only the memory run (KZ_MEMORY_ONLY=1), e.g. to re-measure it.
	kizuki_available || kz_die "no kizuki stage 2 to measure"
	echo "== kizuki with 10,000 connections at once (16,384 devices, 90 s)"
	kizuki_memory
	for tool in kizuki $peers; do kz_ns_stop "${simpid[$tool]}"; done
	exit 0
fi
pids=()
for tool in $peers; do
	command -v "$tool" >/dev/null || kz_die "$tool is not installed (apt-get install -y $tool)"
	run_peer "$tool" &
	pids+=($!)
done
kizuki=0
if kizuki_available; then
	kizuki_run sample "$out/sample.txt"
	kizuki=1
fi
for p in "${pids[@]}"; do wait "$p"; done

python3 - "$out" $peers $([ $kizuki = 1 ] && echo kizuki-sample) <<'PY'
import json, sys
out = sys.argv[1]
res = {}
for t in sys.argv[2:]:
    res[t] = json.load(open('%s/%s.result.json' % (out, t)))
json.dump(res, open(out + '/results.json', 'w'))
PY
echo "== the sample ($nsample+ devices, every behaviour), same list, cap ${cap}s per tool"
python3 "$score" score "$truth" "$out/sample.txt" "$out/results.json"

echo "== the full fleet (4,096 devices)"
python3 "$score" floor "$truth" "$npairs"
if [ $kizuki = 1 ]; then
	cut -d'"' -f4 "$truth" >"$out/all.txt"
	kizuki_run fleet "$out/all.txt"
	python3 -c "import json; r = json.load(open('$out/kizuki-fleet.result.json'))
print('kizuki full fleet: %.0f s wall%s' % (r['wall'], ' (capped)' if r['capped'] else ''))"
	echo "kizuki peak RSS: $(tail -n 1 "$out/kizuki-fleet.maxrss") KiB (concurrency ${KZ_CONCURRENCY:-10000})"
	echo '{"kizuki": '"$(cat "$out/kizuki-fleet.result.json")"'}' >"$out/fleet.json"
	python3 "$score" score "$truth" "$out/all.txt" "$out/fleet.json"
	grep -E 'services|peak|at most' "$out/kizuki-fleet.stderr" || true
else
	echo "kizuki: neither stage 2 in $kz_bin nor $kz_check; peers only"
fi
# The devices' own view: violations (data after a login, credentials not in
# the list) per tool, from the truth files rewritten at exit. Taken before
# the memory run, which touches every fleet copy.
for tool in kizuki $peers; do kill -USR1 "${simpid[$tool]}"; done
sleep 1
for tool in $peers $([ $kizuki = 1 ] && echo kizuki); do
	python3 - "$out/truth-$tool.jsonl" "$out/hosts-$tool.txt" "$tool" <<'PY' 2>/dev/null || true
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
try:
    hosts = {l.strip() for l in open(sys.argv[2])}
except OSError:
    hosts = {r['address'] for r in rows}
sub = [r for r in rows if r['address'] in hosts]
print('%s (device side): %d connections, %d credential checks, %d logins, %d violations' % (
    sys.argv[3], sum(r['connections'] for r in sub), sum(r['attempts'] for r in sub),
    sum(r['logins'] for r in sub), sum(r['violations'] for r in sub)))
PY
done
if [ $kizuki = 1 ] && [ "${KZ_MEMORY:-1}" = 1 ]; then
	echo "== kizuki with 10,000 connections at once (16,384 devices, 90 s)"
	kizuki_memory
fi
for tool in kizuki $peers; do kz_ns_stop "${simpid[$tool]}"; done
echo "== results in $out"
[ "$out" = "$KZ_TMP/out" ] && cp -r "$out" "/tmp/survey-login-$(date +%s)" && echo "(copied to /tmp)"
exit 0
