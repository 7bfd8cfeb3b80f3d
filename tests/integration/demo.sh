#!/bin/bash
# kizuki demo --once, end to end, as the README's first command runs it:
# the real hub, telescope, survey, device simulator and reports, in network
# namespaces the demo makes. Checks, against the ground truths the demo's
# own generator and simulator wrote (not against numbers written here):
#   - exit 0; the summary names the dashboard URL, an admin and an operator
#     token (the browser test, demo_browser.sh, signs in with them);
#   - the summary's telescope numbers equal the hub's findings by kind and
#     the generator's truth (every labelled source, every qualifying DoS
#     victim, the surge's port);
#   - the summary's survey table equals the hub's survey findings per AS,
#     every login-possible finding is a device the simulator made weak, and
#     at least 95 % of the weak devices are found;
#   - every operator has a CSV and a JSON report holding only its own
#     findings, the CSV with CONTRACT.md's columns; the STIX bundle is valid
#     against tests/data/schemas (when python3-jsonschema is installed);
#   - the store holds telescope events, interval stats and survey records;
#   - no namespace, veth or process of the demo is left.
# Root only (exit 77 otherwise); about a minute.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/demo.bash
. "$here/lib/demo.bash"
demo_init demo

out=$DEMO_TMP/out
demo_start "$out" --once
wait "$DEMO_PID"
rc=$?
DEMO_PID=""
cat "$out.stdout"
[ -s "$out.stderr" ] && sed 's/^/stderr: /' "$out.stderr"
[ $rc = 0 ] || demo_fail "kizuki demo --once exited $rc"
grep -q 'everything the demo made is removed' "$out.stdout" || demo_fail "no closing line"
[ -n "$(demo_namespaces "$out")" ] || demo_fail "the demo named no namespaces: did it run the survey?"
demo_leftovers "$out"

python3 - "$out" "$here" <<'PY' || demo_fail "checks above"
import collections, csv, json, os, re, sqlite3, stat, sys

out, here = sys.argv[1], sys.argv[2]
summary = open(out + ".stdout").read()
fails = []
def check(cond, msg):
    print(("ok: " if cond else "FAIL: ") + msg)
    if not cond:
        fails.append(msg)

# --- the summary names what it must
def num(label):
    m = re.search(r"^\s*" + re.escape(label) + r"\s+(\d+)", summary, re.M)
    return int(m.group(1)) if m else None
url = re.search(r"^Dashboard: (http://127\.0\.0\.1:\d+)/$", summary, re.M)
admin = re.search(r"admin login \(token\):\s+(kz_\S+)", summary)
oper = re.search(r"operator login, AS64496 [^:]*:\s+(kz_\S+)", summary)
check(url and admin and oper, "the summary names the dashboard URL, an admin and an operator token")
check(open(os.path.join(out, "tokens/admin.token")).read().strip() == admin.group(1),
      "the admin token printed is tokens/admin.token")
for f in os.listdir(os.path.join(out, "tokens")):
    check(stat.S_IMODE(os.stat(os.path.join(out, "tokens", f)).st_mode) == 0o600,
          "tokens/%s is mode 0600" % f)

# --- the telescope: hub findings = summary = generator truth
db = sqlite3.connect(os.path.join(out, "hub.db"))
def hub_kind(kind):
    return db.execute("SELECT COUNT(*) FROM hub_findings WHERE kind = ?", (kind,)).fetchone()[0]
truth = [json.loads(l) for l in open(os.path.join(out, "world/darknet-truth.jsonl"))]
labels = collections.Counter(t["expect"] for t in truth if t["record"] == "source" and t.get("expect"))
victims = sum(1 for t in truth if t["record"] == "victim" and t["qualifies"])
surges = [t for t in truth if t["record"] == "surge"]
tools = sum(n for k, n in labels.items() if k != "mirai")
for label, kind, want in (("infected hosts (Mirai)", "infected", labels["mirai"]),
                          ("scanners", "scanner", tools), ("DoS victims", "dos-victim", victims),
                          ("port surges", "port-surge", len(surges))):
    check(want > 0, "the trace holds %s (%d)" % (kind, want))
    check(num(label) == hub_kind(kind) == want,
          "%s: summary %s, hub %d, generator truth %d" % (kind, num(label), hub_kind(kind), want))
for s in surges:
    check(re.search(r"port %d/tcp at" % s["port"], summary) is not None,
          "the summary names the surge on port %d" % s["port"])
stats = db.execute("SELECT COUNT(*) FROM hub_stats_intervals WHERE sensor = 'demo-telescope'").fetchone()[0]
check(stats > 0, "the hub holds the telescope's interval stats (%d lines)" % stats)
tele_obs = db.execute("SELECT COUNT(*) FROM hub_observations o JOIN hub_findings f ON o.finding = f.id "
                      "WHERE f.kind IN ('infected','scanner','dos-victim','port-surge')").fetchone()[0]
events = sum(1 for _ in open(os.path.join(out, "telescope-events.jsonl")))
check(tele_obs == events, "every telescope record reached the hub (%d of %d)" % (tele_obs, events))

# --- the survey: summary table = hub per AS; hub vs the simulator's truth
fleet = {(t["address"], t["port"]): t for t in map(json.loads, open(os.path.join(out, "world/fleet-truth.jsonl")))}
pfx = []
for line in open(os.path.join(out, "world/pfx2as")):
    p, l, a = line.split()
    if p.startswith("198.18."):
        pfx.append((p, int(l), int(a)))
def asn_of(ip):
    v = int.from_bytes(bytes(map(int, ip.split("."))), "big")
    for p, l, a in pfx:
        b = int.from_bytes(bytes(map(int, p.split("."))), "big")
        if v >> (32 - l) == b >> (32 - l):
            return a
rows = db.execute("SELECT f.finding_id, f.ip, f.port, f.status, a.asn FROM hub_findings f "
                  "JOIN hub_finding_asns a ON a.finding = f.id WHERE f.kind = 'survey'").fetchall()
check(len(rows) > 0, "the hub holds survey findings (%d)" % len(rows))
per = collections.defaultdict(lambda: [0, 0, 0])
for fid, ip, port, status, asn in rows:
    per[asn][0] += 1
    per[asn][1] += status == "login-possible"
    per[asn][2] += status == "no-auth"
    if asn_of(ip) != asn:
        check(False, "%s is attributed to AS%d, not AS%s" % (ip, asn, asn_of(ip)))
table = {int(m.group(1)): [int(m.group(2)), int(m.group(3)), int(m.group(4))] for m in
         re.finditer(r"^\s*AS(\d+)\s+.*?\s(\d+)\s+(\d+)\s+(\d+)$", summary, re.M)}
check(len(table) == 16, "the summary's survey table has the 16 operators")
check(all(table.get(a) == per[a] for a in range(64496, 64512)),
      "the summary's survey table equals the hub's findings per AS")
weak_truth = {k for k, t in fleet.items() if t["expected_status"] == "login-possible"}
found = {(ip, port) for _, ip, port, status, _ in rows if status == "login-possible"}
check(found <= weak_truth, "every login-possible finding is a device the simulator made weak "
      "(%d wrong)" % len(found - weak_truth))
check(len(found) >= 0.95 * len(weak_truth),
      "the survey found %d of the %d weak devices" % (len(found), len(weak_truth)))
services = sum(1 for l in open(os.path.join(out, "survey.jsonl"))
               if json.loads(l).get("extra.status"))
check(len(rows) == services, "every surveyed service is a finding in the hub (%d, %d)" % (len(rows), services))

# --- reports: one per operator, only its own findings
cols = ("timestamp,ip,protocol,port,hostname,tag,asn,geo,region,city,severity,device_vendor,"
        "device_type,device_model,banner,first_seen,last_seen,count,state,ticket").split(",")
for a in range(64496, 64512):
    path = os.path.join(out, "reports/AS%d" % a)
    check(os.path.exists(path + ".csv") and os.path.exists(path + ".json"),
          "AS%d has a CSV and a JSON report" % a)
    with open(path + ".csv", newline="") as f:
        r = list(csv.reader(f))
    check(r[0] == cols, "AS%d's CSV has CONTRACT.md's columns" % a)
    check(all(row[6] == str(a) for row in r[1:]), "AS%d's CSV holds only its own findings" % a)
    rep = json.load(open(path + ".json"))
    own = {fid for (fid,) in db.execute(
        "SELECT f.finding_id FROM hub_finding_asns a JOIN hub_findings f ON a.finding = f.id "
        "WHERE a.asn = ?", (a,))}
    got = {f["finding_id"] for f in rep["findings"]}
    check(got == own, "AS%d's JSON report holds exactly its %d findings" % (a, len(own)))
    check(len(r) - 1 == len(own), "AS%d's CSV has a line per finding" % a)

# --- STIX
bundle = json.load(open(os.path.join(out, "stix-bundle.json")))
check(bundle.get("type") == "bundle" and len(bundle.get("objects", [])) > 0, "the STIX bundle has objects")
check(not any("password" in json.dumps(o) for o in bundle["objects"]), "the STIX bundle holds no password")
try:
    sys.path.insert(0, here)
    import schemacheck
    # Objects of one type come from one piece of code: the first 50 of
    # each type (every type the bundle has) keep the check to seconds; the
    # whole 3,500-object bundle takes a minute and a half.
    seen = collections.Counter()
    sample = []
    for o in bundle["objects"]:
        seen[o["type"]] += 1
        if seen[o["type"]] <= 50:
            sample.append(o)
    errs = schemacheck.stix_errors(dict(bundle, objects=sample))
    check(not errs, "the STIX bundle is valid against tests/data/schemas: %d objects of its %d "
          "types (%s)" % (len(sample), len(seen), errs[:3]))
except ImportError:
    print("note: python3-jsonschema missing: the STIX bundle's schema is not checked")

# --- countries from the generated mmdb
geo = db.execute("SELECT COUNT(*) FROM hub_findings WHERE cc IS NOT NULL").fetchone()[0]
check(geo > 0, "findings carry a country from the demo's mmdb (%d)" % geo)
if fails:
    sys.exit(1)
PY
