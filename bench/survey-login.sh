#!/bin/bash
# bench/survey-login: the login benchmark of REFERENCE.md ("Benchmark
# definitions": login) and issue 5.
#
#   bench/survey-login.sh [--build DIR] [--cap SECONDS] [--sample N] [--seed N]
#                         [--out DIR] [--peers "hydra medusa ncrack"]
#
# A fleet-v1 fleet of 4,096 simulated devices (kizuki-devsim) per tool, all
# from the same seed, so every tool meets identical devices without one
# tool's connections disturbing another's (B27's cool-down, the counters):
#   198.18.0.0/20   kizuki       198.18.16.0/20  hydra
#   198.18.32.0/20  medusa       198.18.48.0/20  ncrack
# served in a namespace "sim"; the tools run in a namespace "cli" joined to
# it by a veth pair (198.19.255.1/30 - .2). Nothing leaves the namespaces.
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
	*) echo "usage: $0 [--build DIR] [--cap S] [--sample N] [--seed N] [--out DIR] [--peers LIST]" >&2; exit 2 ;;
	esac
done
KZ_TEST_NAME=survey-login
# shellcheck source=../tests/integration/lib/netns.bash
. "$src/tests/integration/lib/netns.bash"
kz_ns_init
sim_bin="$build/kizuki-devsim"
kz_bin="$build/kizuki"
[ -x "$sim_bin" ] || kz_die "no $sim_bin: build first (cmake --build --preset dev)"
creds="$here/data/creds-survey-login.txt"
out=${out:-$KZ_TMP/out}
mkdir -p "$out"
score="$here/survey_login_score.py"
npairs=$(grep -avc '^#' "$creds")

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
# TO BE FILLED when the survey's stage 2 (--targets-file) lands: this runs
# kizuki on the same sample and on the whole fleet. Until then it reports
# that the engine has not landed and the table shows the peers only.
kizuki_available() {
	[ -x "$kz_bin" ] || return 1
	echo 198.18.0.1 >"$out/probe-scope.txt"
	: >"$out/probe-targets.txt"
	! ip netns exec "$cli" "$kz_bin" survey --scope "$out/probe-scope.txt" --allow-reserved \
		--targets-file "$out/probe-targets.txt" --out /dev/null 2>&1 | grep -q 'not landed'

}

kizuki_run() { # name addresses-file: stage 2 on those addresses, port 23
	local name=$1 list=$2
	sed 's|$|:23/telnet|' "$list" >"$out/kizuki-$name.targets"
	echo "198.18.0.0/20" >"$out/kizuki-scope.txt"
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	ip netns exec "$cli" /usr/bin/time -f '%M' -o "$out/kizuki-$name.maxrss" \
		timeout -s INT -k 10 "$cap" "$kz_bin" survey --scope "$out/kizuki-scope.txt" \
		--allow-reserved --targets-file "$out/kizuki-$name.targets" --creds "$creds" \
		--concurrency "${KZ_CONCURRENCY:-10000}" --out "$out/kizuki-$name.jsonl" \
		>"$out/kizuki-$name.stdout" 2>"$out/kizuki-$name.stderr" || rc=$?
	t1=$(date +%s.%N)
	python3 -c "import json; json.dump({'format': 'kizuki', 'file': '$out/kizuki-$name.jsonl',
	    'wall': $t1 - $t0, 'capped': $rc in (124, 130, 137), 'offset': 0, 'rc': $rc},
	    open('$out/kizuki-$name.result.json', 'w'))"
}

# --- run ----------------------------------------------------------------------
pids=()
for tool in $peers; do
	command -v "$tool" >/dev/null || kz_die "$tool is not installed (apt-get install -y $tool)"
	run_peer "$tool" &
	pids+=($!)
done
kizuki=0
if kizuki_available; then
	kizuki_run sample "$out/sample.txt"
	# Until stage 2 lands the survey says so and exits 1.
	grep -q 'not landed\|not available' "$out/kizuki-sample.stderr" || kizuki=1
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
	echo "kizuki peak RSS: $(cat "$out/kizuki-fleet.maxrss") KiB (concurrency ${KZ_CONCURRENCY:-10000})"
	echo '{"kizuki": '"$(cat "$out/kizuki-fleet.result.json")"'}' >"$out/fleet.json"
	python3 "$score" score "$truth" "$out/all.txt" "$out/fleet.json"
else
	echo "kizuki: the survey's stage 2 (--targets-file) has not landed in $kz_bin; peers only"
fi
# The devices' own view: violations (data after a login, credentials not in
# the list) per tool, from the truth files rewritten at exit.
for tool in kizuki $peers; do kz_ns_stop "${simpid[$tool]}"; done
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
echo "== results in $out"
[ "$out" = "$KZ_TMP/out" ] && cp -r "$out" "/tmp/survey-login-$(date +%s)" && echo "(copied to /tmp)"
exit 0
