#!/bin/bash
# kizuki-devsim's fleet-v2 HTTP devices against docs/devsim-spec.md section
# 11, in a namespace:
#   - the fleet's HTTP composition is the spec's table (11.6), and its
#     telnet devices are fleet-v1's exactly (the same truth lines, with the
#     two fields fleet-v2 adds);
#   - kizuki-logincheck over every HTTP service of a /20 (1,024): every
#     status and every pair as the ground truth says, no violation (no
#     followed redirect, no credential outside the list and the control);
#   - one device of every behaviour and style answers the spec's bytes
#     (lib/devsim_http_check.py, an independent transcription; Digest
#     computed there with hashlib), with H08's delay, H09's refusals and
#     the 10 s idle close; the one redirect it follows is counted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/netns.bash
. "$here/lib/netns.bash"
kz_ns_init
sim="${KZ_TOOLS_DIR:-${KZ_BUILD_DIR:?}}/kizuki-devsim"
check="${KZ_TOOLS_DIR:-${KZ_BUILD_DIR:?}}/kizuki-logincheck"
[ -x "$sim" ] && [ -x "$check" ] || kz_die "no $sim or $check"
creds="$KZ_SOURCE_DIR/tests/data/devsim/creds-test.txt"
kz_ns_add ns devhttp
kz_ns_anyip "$ns" 198.18.16.0/20

start_sim() { # fleet truth
	rm -f "$2.ready"
	kz_ns_spawn "$ns" "$sim" --prefix 198.18.16.0/20 --fleet "$1" --creds "$creds" --seed 5 \
		--truth "$2" --ready "$2.ready" --quiet
	for _ in $(seq 100); do [ -e "$2.ready" ] && break; sleep 0.1; done
	[ -e "$2.ready" ] || kz_die "the simulator did not start"
}

# fleet-v1 of the same seed, for the telnet comparison.
start_sim fleet-v1 "$KZ_TMP/v1.jsonl"
kz_ns_stop "$KZ_PID"
start_sim fleet-v2 "$KZ_TMP/v2.jsonl"
sim_pid=$KZ_PID

python3 - "$KZ_TMP/v1.jsonl" "$KZ_TMP/v2.jsonl" "$KZ_TMP/targets.txt" <<'PY' || kz_die "fleet-v2 composition"
import collections, json, sys
v1 = [json.loads(l) for l in open(sys.argv[1])]
v2 = [json.loads(l) for l in open(sys.argv[2])]
tel = [r for r in v2 if r["protocol"] == "telnet"]
http = [r for r in v2 if r["protocol"] == "http"]
# Telnet: fleet-v1's devices exactly.
assert len(tel) == len(v1) == 4096
for a, b in zip(v1, tel):
    b = dict(b)
    assert b.pop("protocol") == "telnet" and b["fleet"] == "fleet-v2"
    b["fleet"] = "fleet-v1"
    assert a == b, (a, b)
want = {"H01": 300, "H02": 150, "H03": 60, "H04": 60, "H05": 80, "H06": 120, "H07": 100,
        "H08": 60, "H09": 94}
assert dict(collections.Counter(r["behaviour"] for r in http)) == want
for b in ("H01", "H02", "H03", "H08", "H09"):
    sub = [r for r in http if r["behaviour"] == b]
    weak = sum(r["credentials"] == "weak" for r in sub)
    assert abs(weak - 0.6 * len(sub)) <= 1, (b, weak)
ports = collections.Counter(r["port"] for r in http)
assert set(ports) == {80, 8080} and abs(ports[8080] - 256) <= 9, ports
styles = {"H01": {"W1", "W2", "W3"}, "H02": {"W4", "W5"}, "H03": {"W6"}, "H04": {"W3"},
          "H05": {None}, "H06": {"W2"}, "H07": {None}, "H08": {"W2"}, "H09": {"W1"}}
for r in http:
    assert r["style"] in styles[r["behaviour"]], r
    if r["credentials"] == "weak":
        assert r["expected_status"] == "login-possible" and r["pair"] is not None, r
# HTTP lines come right after their device's telnet line.
order = [(r["device"], r["protocol"]) for r in v2]
assert order == sorted(order, key=lambda x: (x[0], x[1] == "http")), "order"
with open(sys.argv[3], "w") as f:
    for r in http:
        f.write("%s:%d/http\n" % (r["address"], r["port"]))
PY

# The survey's HTTP check over every HTTP service.
echo "198.18.16.0/20" >"$KZ_TMP/scope.txt"
ip netns exec "$ns" "$check" --targets-file "$KZ_TMP/targets.txt" --scope "$KZ_TMP/scope.txt" \
	--allow-reserved --creds "$creds" --pace-ms 100 --run-id devhttp \
	--out "$KZ_TMP/out.jsonl" 2>"$KZ_TMP/err.txt" || { cat "$KZ_TMP/err.txt"; kz_die "logincheck"; }
kill -USR1 "$sim_pid"
sleep 1
python3 - "$KZ_TMP/v2.jsonl" "$KZ_TMP/out.jsonl" <<'PY' || kz_die "the survey's HTTP statuses"
import collections, json, sys
truth = {(r["address"], r["port"]): r for r in map(json.loads, open(sys.argv[1]))
         if r["protocol"] == "http"}
recs = {(r["source.ip"], r["source.port"]): r for r in map(json.loads, open(sys.argv[2]))}
bad = []
for k, t in truth.items():
    r = recs.get(k)
    if r is None:
        bad.append("%s: no record" % (k,))
        continue
    ok = r["extra.status"] == t["expected_status"]
    if ok and t["expected_status"] == "login-possible":
        pw = bytes.fromhex(t["password_hex"]).decode("utf-8", "replace") if "password_hex" in t \
            else t["password"]
        ok = r.get("extra.user") == t["user"] and r.get("extra.password") == pw
    if not ok:
        bad.append("%s %s %s: %s (%s), want %s" % (k, t["behaviour"], t["style"], r["extra.status"],
                                                   r.get("extra.reason"), t["expected_status"]))
    assert t["violations"] == 0, t
    if t["behaviour"] == "H07":
        assert "/login.htm (not followed)" in r.get("extra.login_detail", ""), r
    if t["credentials"] == "strong":
        assert t["attempts"] >= 6, t  # every listed http pair that can be sent
weak = sum(1 for r in recs.values() if r["classification.identifier"] == "weak-credentials")
print("devsim_http: %d services, %d weak, %d wrong" % (len(truth), weak, len(bad)))
if bad:
    print("\n".join(bad[:20]))
    sys.exit(1)
PY

ip netns exec "$ns" python3 "$here/lib/devsim_http_check.py" "$KZ_TMP/v2.jsonl" "$creds" ||
	kz_die "transcripts"
kz_ns_stop "$sim_pid"
python3 - "$KZ_TMP/v2.jsonl" <<'PY' || kz_die "counters"
import json, sys
http = [r for r in map(json.loads, open(sys.argv[1])) if r["protocol"] == "http"]
v = [r for r in http if r["violations"]]
# Only the checker's one followed redirect.
assert len(v) == 1 and v[0]["behaviour"] == "H07" and v[0]["violations"] == 1, v
assert any(r["cooldowns"] for r in http if r["behaviour"] == "H09")
PY
kz_log "ok"
