#!/bin/bash
# kizuki telescope --db: the shared store holds exactly the records --events
# writes (each line in telescope_events.record, keyed by its observation id,
# with the finding id, kind, identifier, sensor and times beside it) and the
# rows --stats writes (telescope_stats, sketches as base64); reading the
# same capture again into the same store changes nothing; the file is a
# kizuki store (application id, schema version) that the migration log
# describes. Needs python3 (its sqlite3 module); no root, no network.
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
python3 - store.db ev1.jsonl st1.jsonl <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
app = db.execute("PRAGMA application_id").fetchone()[0]
assert app == 0x4b5a4b49, hex(app)
steps = db.execute("SELECT version, description FROM kz_migrations ORDER BY version").fetchall()
assert any("telescope" in d for _, d in steps), steps
rows = {r[0]: r for r in db.execute(
    "SELECT observation_id, finding_id, kind, identifier, sensor, interval_start, time_source, "
    "first, record FROM telescope_events")}
lines = [l.rstrip("\n") for l in open(sys.argv[2])]
assert len(rows) == len(lines), (len(rows), len(lines))
kinds = {"infected-system": "infected", "scanner": "scanner", "ddos": "dos", "other": "surge"}
for line in lines:
    r = json.loads(line)
    row = rows[r["extra.observation_id"]]
    assert row[8] == line, "the stored record differs from the --events line"
    assert row[1] == r["extra.finding_id"]
    assert row[2] == kinds[r["classification.type"]], (row[2], r["classification.type"])
    assert row[3] == r["classification.identifier"]
    assert row[4] == "store-test" and row[5] == r["extra.interval_start"]
    assert row[6] == r["time.source"]
firsts = db.execute("SELECT COUNT(DISTINCT finding_id), SUM(first) FROM telescope_events").fetchone()
assert firsts[0] == firsts[1], f"{firsts[0]} findings but {firsts[1]} first records"
stats = db.execute("SELECT sensor, interval_start, interval_len, proto, port, darknet_size, "
                   "packets, unique_sources, sources_hll FROM telescope_stats").fetchall()
want = [json.loads(l) for l in open(sys.argv[3])]
assert len(stats) == len(want), (len(stats), len(want))
got = {(s[1], s[3], s[4]): s for s in stats}
for w in want:
    s = got[(w["interval_start"], w["proto"], w["port"])]
    assert s[0] == w["sensor"] and s[2] == w["interval_len"] and s[5] == w["darknet_size"]
    assert s[6] == w["packets"] and s[7] == w["unique_sources"]
    assert s[8] == w.get("sources_hll"), "the stored sketch differs"
ivs = db.execute("SELECT interval_start, analysed, sources_active, sources_evicted "
                 "FROM telescope_intervals ORDER BY interval_start").fetchall()
starts = sorted({w["interval_start"] for w in want})
assert [i[0] for i in ivs][:1] == starts[:1] and len(ivs) >= len(starts), (ivs[:3], starts[:3])
assert all(i[3] == 0 for i in ivs), "evictions with a budget far above the sources"
print(f"store: {len(rows)} events ({firsts[0]} findings), {len(stats)} stats rows, "
      f"{len(ivs)} intervals ({sum(i[1] for i in ivs)} packets analysed), as written")
EOF
count() { python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); print(d.execute("SELECT (SELECT COUNT(*) FROM telescope_events), (SELECT COUNT(*) FROM telescope_stats), (SELECT group_concat(record) FROM (SELECT record FROM telescope_events ORDER BY observation_id))").fetchone())' store.db | md5sum; }
before=$(count)
sleep 1 # a later time.observation: the stored records must still not change
run
[ "$(count)" = "$before" ] || fail "reading the same capture again changed the store"
echo "the same capture read twice: the store unchanged"
echo PASS
