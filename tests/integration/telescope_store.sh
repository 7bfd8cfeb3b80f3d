#!/bin/bash
# kizuki telescope --db: the store receives the telescope's records and
# stats through the hub's ingest, as a POST to a hub would: every --events
# line becomes one observation (hub_observations, the record as written)
# of its finding (hub_findings: kind, identifier, address, first and last
# seen, count = its observations), every --stats line one row of
# hub_stats_intervals, and telescope_intervals holds the per-interval
# counters. Reading the same capture again changes nothing (every line a
# duplicate). A hub opens the file afterwards and serves the findings.
# Needs python3 (its sqlite3 module); no root, no network.
set -euo pipefail

kz=${KZ_BIN:?}
gen=${KZ_BUILD_DIR:?}/kizuki-gen
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
python3 -c 'import sqlite3' 2>/dev/null || { echo "SKIP: python3 without sqlite3"; exit 77; }
tmp=$(mktemp -d /tmp/kz-tele-store.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

"$gen" -q -p mixed -s 4 -o mixed.pcap -t mixed.truth
dn=198.18.0.0/16,2001:db8:ffff::/48
run() {
	"$kz" telescope -r mixed.pcap --darknet "$dn" --sensor store-test --db store.db "$@" \
		2>>summary.txt || { cat summary.txt; fail "kizuki telescope $* failed"; }
}
run --events ev1.jsonl --stats st1.jsonl
grep -q "store: [0-9]* lines new, 0 already stored, 0 refused" summary.txt ||
	{ cat summary.txt; fail "no store line in the summary, or refused lines"; }
python3 - store.db ev1.jsonl st1.jsonl <<'EOF'
import json, sqlite3, sys, datetime
db = sqlite3.connect(sys.argv[1])
app = db.execute("PRAGMA application_id").fetchone()[0]
assert app == 0x4b5a4b49, hex(app)
steps = [d for _, d in db.execute("SELECT version, description FROM kz_migrations")]
assert any("telescope" in d for d in steps), steps

def epoch(t):
    return int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())

obs = {r[0]: r[1:] for r in db.execute(
    "SELECT o.observation_id, o.record, f.finding_id, f.kind, f.identifier, f.ip "
    "FROM hub_observations o JOIN hub_findings f ON f.id = o.finding")}
lines = [l.rstrip("\n") for l in open(sys.argv[2])]
assert len(obs) == len(lines), (len(obs), len(lines))
kinds = {"infected-system": "infected", "scanner": "scanner", "ddos": "dos-victim",
         "other": "port-surge"}
per_finding = {}
for line in lines:
    r = json.loads(line)
    rec, fid, kind, ident, ip = obs[r["extra.observation_id"]]
    assert json.loads(rec) == r, "the stored record differs from the --events line"
    assert fid == r["extra.finding_id"] and ident == r["classification.identifier"]
    assert kind == kinds[r["classification.type"]], (kind, r["classification.type"])
    want_ip = r.get("source.ip") or r.get("destination.ip")
    assert ip == want_ip, (ip, want_ip)
    per_finding[fid] = per_finding.get(fid, 0) + 1
for fid, count in db.execute("SELECT finding_id, count FROM hub_findings"):
    assert per_finding.get(fid) == count, (fid, count, per_finding.get(fid))
stats = {(r[0], r[1], r[2]): r[3:] for r in db.execute(
    "SELECT interval_start, proto, port, packets, unique_sources, darknet_size, sensor "
    "FROM hub_stats_intervals")}
want = [json.loads(l) for l in open(sys.argv[3])]
assert len(stats) == len(want), (len(stats), len(want))
for w in want:
    s = stats[(epoch(w["interval_start"]), w["proto"], w["port"])]
    assert s == (w["packets"], w["unique_sources"], w["darknet_size"], "store-test"), (s, w)
ivs = db.execute("SELECT interval_start, analysed, sources_evicted FROM telescope_intervals "
                 "ORDER BY interval_start").fetchall()
starts = sorted({epoch(w["interval_start"]) for w in want})
assert ivs[0][0] == starts[0] and len(ivs) >= len(starts), (ivs[:3], starts[:3])
assert all(i[2] == 0 for i in ivs), "evictions with a budget far above the sources"
print(f"store: {len(obs)} observations of {len(per_finding)} findings, {len(stats)} stats "
      f"rows, {len(ivs)} intervals ({sum(i[1] for i in ivs)} packets analysed), as written")
EOF
count() {
	python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); print(d.execute("SELECT (SELECT COUNT(*) FROM hub_observations), (SELECT COUNT(*) FROM hub_findings), (SELECT SUM(count) FROM hub_findings), (SELECT COUNT(*) FROM hub_stats_intervals), (SELECT COUNT(*) FROM telescope_intervals)").fetchone())' store.db
}
before=$(count)
sleep 1 # a later time.observation: still the same observations
: >summary.txt
run
[ "$(count)" = "$before" ] || fail "reading the same capture again changed the store: $before -> $(count)"
grep -q "store: 0 lines new, [0-9]* already stored, 0 refused" summary.txt ||
	{ cat summary.txt; fail "the second run did not find every line already stored"; }
echo "the same capture read twice: the store unchanged ($before)"
echo PASS
