#!/usr/bin/env python3
"""Integration tests of the hub's reports, notification and sharing, over
real HTTP on loopback with a real store (tests/integration/share_*.sh run
them: `python3 sharetest.py SCENARIO`). Exports are checked against the
formats' published schemas (schemacheck.py, tests/data/schemas), ids and
pseudonyms are recomputed here from their definitions (STIX's UUIDv5
namespace, kizuki's, `kizuki anon` for Crypto-PAn), and the mail goes to a
loopback SMTP sink (smtpsink.py). Records are built with hubtest.py's
helpers, which follow docs/records.md, not the hub's code.

Scenarios:
  formats  reports (CSV, JSON, X-ARF) and shares (STIX, MISP) through the
           API and `kizuki report`: schemas, TLP cuts, pseudonyms, ids,
           passwords, anonymous submitters, the access matrix
  notify   outbox and SMTP delivery once per period, marking and
           re-notification, and pulls counting as delivery
  cli      `kizuki report` usage errors, exit codes and the partner keys
           file's mode
"""

import csv
import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
import schemacheck  # noqa: E402
import smtpsink  # noqa: E402
from hubtest import Hub, check, kizuki_id, iso, lines, ok, survey_record, telescope_record  # noqa

KZ_BIN = os.environ.get("KZ_BIN")
hubtest.KZ_BIN = KZ_BIN

NS_STIX = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
NS_KIZUKI = uuid.UUID("62b99378-7cc8-4d1a-96a9-1546c0615d45")
TLP_IDS = {  # REFERENCE.md, from OASIS's TLP 2.0 extension
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
LEVEL = {"CLEAR": 1, "GREEN": 2, "AMBER": 3, "AMBER+STRICT": 4, "RED": 5}
CSV_COLUMNS = ["timestamp", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region",
               "city", "severity", "device_vendor", "device_type", "device_model", "banner",
               "first_seen", "last_seen", "count", "state", "ticket"]
KEY_AMBER = "21" * 8 + "34" * 8 + "0a" * 8 + "ff" * 8
KEY_GREEN = "".join("%02x" % i for i in range(32))

PASSWORD_A = "xc3511-secret-A"
PASSWORD_B = "pw-B-secret"
ANON_SENSOR = "secret-partner-sensor"
ANON_PROVIDER = "Partner Corp"


def kizuki_uuid(*fields):
    return str(uuid.uuid5(NS_KIZUKI, "|".join(fields)))


def run(args, **kw):
    return subprocess.run([KZ_BIN] + args, capture_output=True, **kw)


def pseudonyms(key_hex, addrs):
    out = subprocess.run([KZ_BIN, "anon", "--key-hex", key_hex],
                         input="\n".join(addrs) + "\n", capture_output=True, text=True,
                         check=True).stdout.split()
    return dict(zip(addrs, out))


def mentions(text, ip):
    """True when text holds the address ip as a whole token."""
    edge = "[0-9a-fA-F:.]" if ":" in ip else "[0-9.]"
    return re.search("(?<!%s)%s(?!%s)" % (edge, re.escape(ip), edge), text, re.I) is not None


def dos_record(ip, sensor, interval, t):
    fid = kizuki_id("kizuki/finding/1", "backscatter", ip)
    oid = kizuki_id("kizuki/observation/1", fid, "interval", sensor, iso(interval))
    return {"feed.name": "kizuki-telescope", "time.observation": iso(t), "time.source": iso(t),
            "classification.taxonomy": "availability", "classification.type": "ddos",
            "classification.identifier": "backscatter", "tlp": "AMBER", "extra.tlp": "AMBER",
            "extra.finding_id": fid, "extra.observation_id": oid, "extra.sensor": sensor,
            "extra.interval_start": iso(interval), "destination.ip": ip, "extra.packets": 5120,
            "extra.start": iso(t - 300), "extra.end": iso(t)}


def write_files(tmp):
    pfx = os.path.join(tmp, "pfx2as")
    with open(pfx, "w") as f:
        f.write("192.0.2.0\t25\t64500\n192.0.2.128\t25\t64500_64501\n"
                "198.51.100.0\t24\t64501\n203.0.113.0\t26\t64500\n203.0.113.64\t26\t64502\n"
                "2001:db8::\t32\t64501\n")
    ops = os.path.join(tmp, "operators")
    with open(ops, "w") as f:
        f.write("64500\tISP A\tabuse@isp-a.example\t3600\n64501\tISP B\tabuse@isp-b.example\n"
                "64502\tISP C\thttps://isp-c.example/abuse\n")
    keys = os.path.join(tmp, "partner-keys")
    with open(keys, "w") as f:
        f.write("# partner\tkey-id\tkey\np-amber\tamber-2026\t%s\n" % KEY_AMBER)
    os.chmod(keys, 0o600)
    return pfx, ops, keys


TOKENS = [("admin", "root", []), ("sensor", "s1", []),
          ("operator", "isp-a", ["--asn", "64500"]), ("operator", "isp-b", ["--asn", "64501"]),
          ("partner", "p-green", ["--tlp", "GREEN"]), ("partner", "p-amber", ["--tlp", "AMBER"])]


def dataset(t):
    """The findings of the formats scenario: (records posted by s1,
    records posted anonymously by p-amber, {ip: (asns, tlp)})."""
    iv = t - t % 60
    recs = []
    a1 = survey_record("192.0.2.1", "r1", "login-possible", t)
    a1.update({"extra.user": "root", "extra.password": PASSWORD_A, "extra.device": "busybox",
               "extra.banner": "\r\nBusyBox v1.21.1\r\nlogin: ",
               "extra.banner_b64": "DQpCdXN5Qm94IHYxLjIxLjENCmxvZ2luOiA="})
    recs.append(a1)
    recs.append(survey_record("192.0.2.2", "r1", "no-auth", t, port=2323))
    recs.append(survey_record("192.0.2.3", "r1", "login-failed", t, port=22, app="ssh"))
    red = survey_record("192.0.2.50", "r1", "login-possible", t)
    red.update({"tlp": "RED", "extra.tlp": "RED"})
    recs.append(red)
    b1 = survey_record("198.51.100.10", "r1", "login-possible", t)
    b1.update({"extra.user": "admin", "extra.password": PASSWORD_B})
    recs.append(b1)
    recs.append(survey_record("192.0.2.130", "r1", "login-possible", t))  # two origins
    recs.append(telescope_record("198.51.100.7", "tokyo-1", iv, t))
    sc = telescope_record("203.0.113.20", "tokyo-1", iv, t, identifier="zmap")
    sc.update({"tlp": "GREEN", "extra.tlp": "GREEN"})
    recs.append(sc)
    s6 = telescope_record("2001:db8::20", "tokyo-1", iv, t, identifier="masscan")
    s6.update({"tlp": "GREEN", "extra.tlp": "GREEN"})
    recs.append(s6)
    recs.append(dos_record("203.0.113.80", "tokyo-1", iv, t))
    recs.append({"feed.name": "shadowserver-telnet", "time.source": iso(t),
                 "classification.taxonomy": "vulnerable",
                 "classification.type": "vulnerable-system",
                 "classification.identifier": "open-telnet", "source.ip": "192.0.2.9",
                 "protocol.application": "telnet", "source.port": 23, "tlp": "GREEN"})
    anon = telescope_record("198.51.100.99", ANON_SENSOR, iv, t)
    anon["feed.provider"] = ANON_PROVIDER
    truth = {"192.0.2.1": ({64500}, "AMBER"), "192.0.2.2": ({64500}, "AMBER"),
             "192.0.2.3": ({64500}, "AMBER"), "192.0.2.50": ({64500}, "RED"),
             "198.51.100.10": ({64501}, "AMBER"), "192.0.2.130": ({64500, 64501}, "AMBER"),
             "198.51.100.7": ({64501}, "AMBER"), "203.0.113.20": ({64500}, "GREEN"),
             "2001:db8::20": ({64501}, "GREEN"), "203.0.113.80": ({64502}, "AMBER"),
             "192.0.2.9": ({64500}, "GREEN"), "198.51.100.99": ({64501}, "AMBER")}
    return recs, [anon], truth


# ------------------------------------------------------------ operator reports

def check_operator_report(name, fmt, body, asn, truth, want_password):
    text = body.decode("utf-8")
    own = {ip for ip, (asns, _) in truth.items() if asn in asns}
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text, newline="")))
        check(rows[0] == CSV_COLUMNS, "%s: the CSV header is the contract's columns" % name)
        check(all(len(r) == len(CSV_COLUMNS) for r in rows[1:]),
              "%s: every CSV row has 20 cells (RFC 4180 quoting of banners)" % name)
        ips = {r[1] for r in rows[1:]}
        check(all(r[6] == str(asn) for r in rows[1:]), "%s: the asn column is AS%d" % (name, asn))
        check(all(r[19] and r[18] for r in rows[1:]), "%s: every row has state and ticket" % name)
        check(text.endswith("\r\n"), "%s: CRLF line ends (RFC 4180)" % name)
    elif fmt == "json":
        doc = json.loads(text)
        check(doc["asn"] == asn and doc["count"] == len(doc["findings"]),
              "%s: JSON header and count" % name)
        ips = {f["ip"] for f in doc["findings"]}
        for f in doc["findings"]:
            for col in CSV_COLUMNS:
                if col not in f:
                    check(False, "%s: JSON finding lacks %s" % (name, col))
            if not isinstance(f["sightings"], list) or not f["sightings"]:
                check(False, "%s: JSON finding without sightings" % name)
        check(True, "%s: every JSON finding has the CSV fields and its sightings" % name)
    else:
        reports = json.loads(text)
        check(isinstance(reports, list), "%s: X-ARF is a JSON array" % name)
        errs = []
        for r in reports:
            errs += schemacheck.xarf_errors(r)
        check(not errs, "%s: each of %d X-ARF reports is valid against the X-ARF v4 schema %s"
              % (name, len(reports), errs[:3]))
        check(len({r["report_id"] for r in reports}) == len(reports),
              "%s: X-ARF report ids are unique" % name)
        ips = {r["source_identifier"] for r in reports}
    check(ips == own, "%s: exactly AS%d's findings, no other operator's (%s)"
          % (name, asn, sorted(ips ^ own)))
    if fmt != "csv":
        has = PASSWORD_A in text or PASSWORD_B in text
        check(has == want_password, "%s: passwords %s" % (
            name, "present (the operator's own report)" if want_password else "absent"))
    for s in (ANON_SENSOR, ANON_PROVIDER, "p-amber"):
        check(s not in text, "%s: the anonymous submitter (%s) is not named" % (name, s))


# -------------------------------------------------------------------- STIX

def objects_by_type(bundle):
    out = {}
    for o in bundle["objects"]:
        out.setdefault(o["type"], []).append(o)
    return out


def check_stix(name, body, truth, ceiling, pseudo=None, key_id=None):
    text = body.decode("utf-8")
    bundle = json.loads(text)
    errs = schemacheck.stix_errors(bundle)
    check(not errs, "%s: the bundle and each of its %d objects are valid against the STIX 2.1 "
          "schemas %s" % (name, len(bundle["objects"]), errs[:3]))
    by = objects_by_type(bundle)
    marks = {o["id"]: o for o in by.get("marking-definition", [])}
    for mid, m in marks.items():
        label = m["name"][4:]
        ext = m["extensions"][TLP_EXT]
        if TLP_IDS.get(label) != mid or ext["tlp_2_0"] != label.lower() or \
                m["created"] != "2022-10-01T00:00:00.000Z":
            check(False, "%s: marking %s is not OASIS's TLP:%s" % (name, mid, label))
    check(True, "%s: marking definitions are OASIS's TLP 2.0 objects (%s)"
          % (name, sorted(m["name"] for m in marks.values())))
    used = set()
    for o in bundle["objects"]:
        if o["type"] == "marking-definition":
            continue
        refs = o.get("object_marking_refs")
        if not refs or any(r not in TLP_IDS.values() for r in refs):
            check(False, "%s: %s has no official TLP marking" % (name, o["id"]))
        used |= set(refs)
    check(used <= set(marks), "%s: every marking used is defined in the bundle" % name)
    check(True, "%s: every object carries an official TLP 2.0 marking" % name)
    top = max((LEVEL[k] for k, v in TLP_IDS.items() if v in used), default=0)
    check(top <= LEVEL[ceiling], "%s: nothing above TLP:%s" % (name, ceiling))
    visible = {ip for ip, (_, tlp) in truth.items() if LEVEL[tlp] <= LEVEL[ceiling]}
    if pseudo is None:
        ips = {o["value"] for o in by.get("ipv4-addr", []) + by.get("ipv6-addr", [])}
        check(ips == visible, "%s: the addresses are exactly those at or below TLP:%s (%s)"
              % (name, ceiling, sorted(ips ^ visible)))
        for o in by.get("ipv4-addr", []) + by.get("ipv6-addr", []):
            want = "%s--%s" % (o["type"], uuid.uuid5(NS_STIX, '{"value":"%s"}' % o["value"]))
            if o["id"] != want:
                check(False, "%s: %s's id is not UUIDv5 of its value" % (name, o["value"]))
        check(True, "%s: address object ids are UUIDv5 in STIX's namespace" % name)
        for o in by["indicator"]:
            v6 = ":" in o["pattern"].split("'")[1]
            if not re.fullmatch(r"\[ipv%d-addr:value = '[0-9a-f.:]+'\]" % (6 if v6 else 4),
                                o["pattern"]) or o["pattern_type"] != "stix":
                check(False, "%s: pattern %s" % (name, o["pattern"]))
        check(True, "%s: indicators are [ipvN-addr:value = '...'] STIX patterns" % name)
        for ip, (_, tlp) in truth.items():
            if ip in visible:
                ind = [o for o in by["indicator"] if "'%s'" % ip in o["pattern"]]
                if not ind or ind[0]["object_marking_refs"] != [TLP_IDS[tlp]]:
                    check(False, "%s: %s's indicator is not marked TLP:%s" % (name, ip, tlp))
        check(True, "%s: each indicator is marked with its finding's TLP" % name)
        sights = {o["sighting_of_ref"] for o in by["sighting"]}
        check(sights == {o["id"] for o in by["indicator"]},
              "%s: one sighting per indicator" % name)
    else:
        check("indicator" not in by and "ipv4-addr" not in by and "ipv6-addr" not in by,
              "%s: pseudonymised: no indicator and no address object" % name)
        for ip in truth:
            if mentions(text, ip):
                check(False, "%s: the real address %s appears" % (name, ip))
        check(True, "%s: no real address of the input appears anywhere" % name)
        ext_id = [o["id"] for o in by.get("extension-definition", [])]
        check(len(ext_id) == 1, "%s: kizuki's extension-definition is in the bundle" % name)
        seen = set()
        for o in by["sighting"] + by.get("observed-data", []):
            e = o["extensions"][ext_id[0]]
            if e["key_id"] != key_id or e["extension_type"] != "property-extension":
                check(False, "%s: %s extension %s" % (name, o["id"], e))
            seen.add(e["pseudonym"])
        want = {pseudo[ip] for ip in visible}
        check(seen == want, "%s: pseudonyms are Crypto-PAn of exactly the visible addresses "
              "under key %s (%s)" % (name, key_id, sorted(seen ^ want)))
    for s in (PASSWORD_A, PASSWORD_B, ANON_SENSOR, ANON_PROVIDER, "p-amber", "BusyBox"):
        check(s not in text, "%s: %r never appears in a shared feed" % (name, s))
    return bundle


# -------------------------------------------------------------------- MISP

def check_misp(name, manifest, events, hashes, truth, ceiling, pseudo=None, key_id=None):
    visible = {ip for ip, (_, tlp) in truth.items() if LEVEL[tlp] <= LEVEL[ceiling]}
    check(set(manifest) == set(events), "%s: the manifest lists exactly the events" % name)
    values, attrs = set(), []
    for u, ev in events.items():
        errs = schemacheck.misp_errors(ev)
        if errs:
            check(False, "%s: event %s invalid against PyMISP's schema: %s" % (name, u, errs[:3]))
        e = ev["Event"]
        if e["uuid"] != u or manifest[u]["timestamp"] != e["timestamp"]:
            check(False, "%s: event %s does not match its manifest entry" % (name, u))
        tags = [t["name"] for t in e["Tag"]]
        for a in e["Attribute"]:
            attrs.append(a)
            values.add(a["value"])
            at = [t["name"] for t in a["Tag"] if t["name"].startswith("tlp:")]
            if LEVEL[at[0][4:].upper()] > LEVEL[tags[0][4:].upper()]:
                check(False, "%s: an attribute is stricter than its event's tag" % name)
    check(True, "%s: %d events valid against PyMISP's schema; the event tag is the most "
          "restrictive of its attributes" % (name, len(events)))
    ev_tlps = {t["name"] for ev in events.values() for t in ev["Event"]["Tag"]}
    check(all(LEVEL[t[4:].upper()] <= LEVEL[ceiling] for t in ev_tlps),
          "%s: nothing above tlp:%s (%s)" % (name, ceiling.lower(), sorted(ev_tlps)))
    want_hashes = set()
    for u, ev in events.items():
        for a in ev["Event"]["Attribute"]:
            want_hashes.add("%s,%s" % (hashlib.md5(a["value"].encode()).hexdigest(), u))
    check(set(hashes.split()) == want_hashes, "%s: hashes.csv is md5(value),event per attribute"
          % name)
    text = json.dumps(events)
    if pseudo is None:
        ips = {a["value"] for a in attrs if a["type"] in ("ip-src", "ip-dst")}
        check(ips == visible, "%s: the IP attributes are exactly the visible addresses (%s)"
              % (name, sorted(ips ^ visible)))
        for a in attrs:
            if a["type"] == "ip-src" and a["value"] == "198.51.100.7" and not a["to_ids"]:
                check(False, "%s: the infected host is not to_ids" % name)
            if a["type"] == "ip-dst" and a["to_ids"]:
                check(False, "%s: a victim or surveyed device is to_ids" % name)
    else:
        check(not [a for a in attrs if a["type"] in ("ip-src", "ip-dst", "ip-src|port",
                                                     "ip-dst|port")],
              "%s: pseudonymised: no IP attribute" % name)
        texts = {a["value"] for a in attrs if a["type"] == "text"}
        want = {pseudo[ip] for ip in visible}
        check(texts == want and all(a["category"] == "kizuki pseudonymised address"
                                    for a in attrs if a["type"] == "text"),
              "%s: pseudonyms as text attributes of kizuki's category (%s)"
              % (name, sorted(texts ^ want)))
        check(all(key_id in a["comment"] for a in attrs if a["type"] == "text"),
              "%s: each pseudonym names its key id" % name)
        for ip in truth:
            if mentions(text, ip):
                check(False, "%s: the real address %s appears" % (name, ip))
        check(True, "%s: no real address of the input appears anywhere" % name)
    for s in (PASSWORD_A, PASSWORD_B, ANON_SENSOR, ANON_PROVIDER, "p-amber"):
        check(s not in text, "%s: %r never appears in the MISP feed" % (name, s))


def misp_via_api(hub, token):
    st, manifest, _ = hub.get("/api/v1/share/misp/manifest.json", token)
    check(st == 200, "%s: GET share/misp/manifest.json" % token)
    events = {}
    for u in manifest:
        st, ev, _ = hub.get("/api/v1/share/misp/%s.json" % u, token)
        if st != 200:
            check(False, "%s: GET share/misp/%s.json: %d" % (token, u, st))
        events[u] = ev
    st, hashes, _ = hub.get("/api/v1/share/misp/hashes.csv", token)
    check(st == 200, "%s: GET share/misp/hashes.csv" % token)
    return manifest, events, hashes.decode() if isinstance(hashes, bytes) else ""


def misp_from_dir(d):
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    events = {}
    for u in manifest:
        with open(os.path.join(d, u + ".json")) as f:
            events[u] = json.load(f)
    with open(os.path.join(d, "hashes.csv")) as f:
        hashes = f.read()
    return manifest, events, hashes


# ----------------------------------------------------------------- scenarios

def raw_get(hub, path, token):
    st, body, resp = hub.request("GET", path, None, hub.tok.get(token, token) if token else None)
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return st, body, resp


def scenario_formats(tmp):
    pfx, ops, keys = write_files(tmp)
    hub = Hub(tmp, tokens=TOKENS, extra=["--pfx2as", pfx, "--operators", ops,
                                          "--partner-keys", keys,
                                          "--reporter", "Example CSIRT <csirt@example.org>"])
    try:
        t = int(time.time()) - 120
        recs, anon, truth = dataset(t)
        st, r, _ = hub.post(recs)
        check(st == 200 and r["accepted"] == len(recs), "the dataset is stored: %s" % r)
        st, r, _ = hub.post(anon, "p-amber")
        check(st == 200 and r["accepted"] == 1, "a partner submits anonymously")
        rows = dict(hub.sql("SELECT ip, asns FROM hub_findings"))
        check(rows["192.0.2.130"] == "64500,64501", "a multi-origin finding has both ASes")

        # Operator reports, API and CLI.
        for fmt, ext in (("csv", "csv"), ("json", "json"), ("xarf", "xarf.json")):
            st, body, resp = raw_get(hub, "/api/v1/reports/64500.%s" % ext, "root")
            check(st == 200, "admin reads AS64500.%s" % ext)
            check_operator_report("API admin AS64500.%s" % ext, fmt, body, 64500, truth, True)
            cli = run(["report", "--db", hub.db, "--asn", "64501", "--format", fmt])
            check(cli.returncode == 0, "kizuki report --asn 64501 --format %s" % fmt)
            check_operator_report("CLI AS64501 %s" % fmt, fmt, cli.stdout, 64501, truth, True)
        cli = run(["report", "--db", hub.db, "--asn", "64500", "--format", "json",
                   "--redact-passwords"])
        check_operator_report("CLI AS64500 json redacted", "json", cli.stdout, 64500, truth,
                              False)
        doc = json.loads(cli.stdout)
        check(any(f.get("password_redacted") for f in doc["findings"]),
              "redacted passwords are flagged")
        st, body, _ = raw_get(hub, "/api/v1/reports/64500.json?since=%d" % (t + 3600), "root")
        check(st == 200 and json.loads(body)["count"] == 0, "since= cuts the report")

        # The access matrix of reports and shares.
        st, body, _ = raw_get(hub, "/api/v1/reports/64501.json", "isp-b")
        check(st == 200, "an operator pulls its own report")
        check_operator_report("API isp-b AS64501.json", "json", body, 64501, truth, True)
        nb = hub.sql("SELECT count(*) FROM hub_findings f JOIN hub_finding_asns a"
                     " ON a.finding = f.id WHERE a.asn = 64501 AND"
                     " f.notified_channel = 'pull'")[0][0]
        check(nb == len([1 for a, _ in truth.values() if 64501 in a]),
              "the operator's pull marked its findings notified (channel pull)")
        na = hub.sql("SELECT count(*) FROM hub_findings WHERE asns = '64500'"
                     " AND last_notified IS NOT NULL")[0][0]
        check(na == 0, "an admin reading a report delivered nothing")
        forbidden = []
        for who, path in (("isp-a", "/api/v1/reports/64501.csv"),
                          ("isp-a", "/api/v1/reports/99999.csv"),
                          ("isp-a", "/api/v1/reports/64501.xarf.json"),
                          ("p-green", "/api/v1/reports/64500.csv"),
                          ("s1", "/api/v1/reports/64500.json"),
                          ("isp-a", "/api/v1/share/stix"),
                          ("isp-a", "/api/v1/share/misp/manifest.json"),
                          ("s1", "/api/v1/share/stix"),
                          ("s1", "/api/v1/share/misp/hashes.csv")):
            st, body, _ = raw_get(hub, path, who)
            forbidden.append(body)
            check(st == 403 and b"192.0.2" not in body and b"198.51" not in body,
                  "%s GET %s: 403, no data" % (who, path))
        check(forbidden[0] == forbidden[1], "the 403 is the same for an AS with findings and "
              "one without")
        for path in ("/api/v1/reports/64500.csv", "/api/v1/reports/64500.xarf.json",
                     "/api/v1/share/stix", "/api/v1/share/misp/manifest.json"):
            st, _, resp = raw_get(hub, path, None)
            check(st == 401, "GET %s without a token: 401" % path)
            st, _, resp = raw_get(hub, path, "kz_wrong")
            check(st == 401, "GET %s with a wrong token: 401" % path)

        # STIX: admin (everything, real addresses), GREEN partner (real
        # addresses, GREEN and below), AMBER partner (pseudonymised).
        st, body, resp = raw_get(hub, "/api/v1/share/stix", "root")
        check(st == 200 and "stix" in resp.getheader("Content-Type"), "admin GETs share/stix")
        admin = check_stix("STIX admin", body, truth, "RED")
        st, body, _ = raw_get(hub, "/api/v1/share/stix", "p-green")
        check_stix("STIX p-green", body, truth, "GREEN")
        pseudo = pseudonyms(KEY_AMBER, list(truth))
        st, body, _ = raw_get(hub, "/api/v1/share/stix", "p-amber")
        check_stix("STIX p-amber", body, truth, "AMBER", pseudo, "amber-2026")
        cli = run(["report", "--db", hub.db, "--partner", "p-amber", "--tokens",
                   hub.tokens_path, "--partner-keys", keys])
        check(cli.returncode == 0, "kizuki report --partner p-amber")
        cli_bundle = check_stix("CLI STIX p-amber", cli.stdout, truth, "AMBER", pseudo,
                                "amber-2026")
        again = json.loads(run(["report", "--db", hub.db, "--partner", "p-amber", "--tokens",
                                hub.tokens_path, "--partner-keys", keys]).stdout)
        check(sorted(o["id"] for o in again["objects"]) ==
              sorted(o["id"] for o in cli_bundle["objects"]),
              "deterministic ids: the same objects and ids on a second run")
        st, body, _ = raw_get(hub, "/api/v1/share/stix", "root")
        check(sorted(o["id"] for o in json.loads(body)["objects"]) ==
              sorted(o["id"] for o in admin["objects"]), "and over the API")
        fid = kizuki_id("kizuki/finding/1", "survey", "192.0.2.1", "23", "telnet")
        check("indicator--" + kizuki_uuid("indicator", fid) in
              {o["id"] for o in admin["objects"]},
              "an indicator's id is UUIDv5 of indicator|<finding id> in kizuki's namespace")
        st, body, _ = raw_get(hub, "/api/v1/share/stix?since=%d" % (t + 3600), "root")
        check(st == 200 and not [o for o in json.loads(body)["objects"]
                                 if o["type"] == "sighting"], "share/stix?since= cuts it")

        # MISP: API for the AMBER partner (pseudonymised) and the admin,
        # the CLI's directory for the GREEN partner.
        m, ev, h = misp_via_api(hub, "p-amber")
        check_misp("MISP p-amber", m, ev, h, truth, "AMBER", pseudo, "amber-2026")
        m, ev, h = misp_via_api(hub, "root")
        check_misp("MISP admin", m, ev, h, truth, "RED")
        asns = {re.search(r"AS[0-9]+", e["Event"]["info"]).group(0) for e in ev.values()}
        check(asns == {"AS64500", "AS64501", "AS64502"}, "one event per operator (%s)" % asns)
        both = [e for e in ev.values() if any(a["value"] == "192.0.2.130"
                                              for a in e["Event"]["Attribute"])]
        check(len(both) == 2, "a multi-origin finding is in each origin's event")
        st, _, _ = raw_get(hub, "/api/v1/share/misp/%s.json" % uuid.uuid4(), "root")
        check(st == 404, "an unknown event: 404")
        d = os.path.join(tmp, "misp-green")
        cli = run(["report", "--db", hub.db, "--partner", "p-green", "--tokens",
                   hub.tokens_path, "--partner-keys", keys, "--format", "misp", "--out", d])
        check(cli.returncode == 0, "kizuki report --partner p-green --format misp --out DIR")
        m, ev, h = misp_from_dir(d)
        check_misp("CLI MISP p-green", m, ev, h, truth, "GREEN")
        check(not [n for n in os.listdir(d) if n.startswith(".")], "no temporary files left")
    finally:
        hub.kill()


def wait_for(cond, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    check(False, "timed out waiting for " + what)


def scenario_notify(tmp):
    pfx, ops, keys = write_files(tmp)
    sink = smtpsink.SmtpSink()
    outbox = os.path.join(tmp, "outbox")
    hub = Hub(tmp, tokens=TOKENS, extra=[
        "--pfx2as", pfx, "--operators", ops, "--outbox", outbox,
        "--smtp-url", "smtp://127.0.0.1:%d" % sink.port, "--report-period", "2",
        "--reporter", "Example CSIRT <csirt@example.org>"])
    try:
        # ISP A re-notifies after 3 s; ISP B keeps the default (7 days).
        with open(ops, "w") as f:
            f.write("64500\tISP A\tabuse@isp-a.example\t3\n"
                    "64501\tISP B\tabuse@isp-b.example\n"
                    "64502\tISP C\thttps://isp-c.example/abuse\n")
        st, r, _ = hub.request("POST", "/api/v1/reload", b"", hub.tok["root"])
        check(st == 200, "operators reloaded with renotify-sec 3 for ISP A")
        t = int(time.time()) - 60
        recs = [survey_record("192.0.2.1", "r1", "login-possible", t),
                survey_record("198.51.100.10", "r1", "login-possible", t),
                survey_record("198.51.100.11", "r1", "timeout", t),  # info: not notified
                dos_record("203.0.113.80", "tokyo-1", t - t % 60, t)]
        st, r, _ = hub.post(recs)
        check(r["accepted"] == 4, "four findings stored")

        def states():
            return dict(hub.sql("SELECT ip, state FROM hub_findings"))
        def channels():
            return dict(hub.sql("SELECT ip, notified_channel FROM hub_findings"))
        # Operators are notified one after the other: wait for the last.
        wait_for(lambda: states()["192.0.2.1"] == "notified" and
                 states()["198.51.100.10"] == "notified" and
                 channels()["203.0.113.80"] is not None, "the first notification")
        ch = channels()
        check(states()["198.51.100.11"] == "new",
              "a survey error (severity info) is not notified")
        check(ch["203.0.113.80"] in ("outbox", "smtp") and states()["203.0.113.80"] == "active",
              "a telescope finding is notified and stays active")
        periods = sorted(os.listdir(outbox))
        first = os.path.join(outbox, periods[0])
        wait_for(lambda: os.path.exists(os.path.join(first, "manifest.json")), "the manifest")
        with open(os.path.join(first, "manifest.json")) as f:
            man = json.load(f)
        names = {fl["name"] for rep in man["reports"] for fl in rep["files"]}
        check({"AS64500.csv", "AS64500.json", "AS64500.xarf.json", "AS64501.csv",
               "AS64502.csv"} <= names, "the outbox has each operator's three formats: %s"
              % sorted(names))
        for rep in man["reports"]:
            for fl in rep["files"]:
                with open(os.path.join(first, fl["name"]), "rb") as f:
                    data = f.read()
                if hashlib.sha256(data).hexdigest() != fl["sha256"] or len(data) != fl["bytes"]:
                    check(False, "manifest hash of %s" % fl["name"])
        check(True, "the manifest's sizes and SHA-256s match the files")
        mode = stat.S_IMODE(os.stat(os.path.join(first, "AS64500.json")).st_mode)
        check(mode == 0o600, "report files are mode 0600 (they may hold passwords)")
        with open(os.path.join(first, "AS64500.csv"), newline="") as f:
            rows = list(csv.reader(f))
        check([r[1] for r in rows[1:]] == ["192.0.2.1"], "AS64500's batch: its one finding")
        with open(os.path.join(first, "AS64500.xarf.json")) as f:
            xr = json.load(f)
        check(all(not schemacheck.xarf_errors(r) for r in xr), "outbox X-ARF is valid")

        msgs = wait_for(lambda: len(sink.messages) >= 2 and sink.messages, "two mails")
        rcpts = sorted(m[1][0] for m in msgs[:2])
        check(rcpts == ["abuse@isp-a.example", "abuse@isp-b.example"],
              "one mail per operator with an e-mail contact (not the web-form one): %s" % rcpts)
        import email
        mail = email.message_from_bytes([m for m in msgs if m[1] == ["abuse@isp-a.example"]][0][2])
        check(mail["From"] == '"Example CSIRT" <csirt@example.org>' and
              mail.get_content_type() == "multipart/mixed", "a MIME mail from the reporter")
        parts = [p for p in mail.walk() if p.get_filename()]
        check(len(parts) == 1 and parts[0].get_filename().endswith(".csv"), "the CSV attached")
        att = parts[0].get_payload(decode=True).decode()
        check(att.splitlines()[0] == ",".join(CSV_COLUMNS) and "192.0.2.1" in att,
              "the attachment is the operator's CSV")
        body = [p for p in mail.walk() if p.get_content_type() == "text/plain"][0]
        txt = body.get_payload(decode=True).decode()
        check("feedback" in txt and "AS64500" in txt, "the text says what it is and how to "
              "report back")

        # Re-notification: ISP A's open finding comes again after 3 s; ISP
        # B's does not.
        n1 = hub.sql("SELECT last_notified FROM hub_findings WHERE ip = '192.0.2.1'")[0][0]
        b1 = hub.sql("SELECT last_notified FROM hub_findings WHERE ip = '198.51.100.10'")[0][0]
        wait_for(lambda: hub.sql("SELECT last_notified FROM hub_findings"
                                 " WHERE ip = '192.0.2.1'")[0][0] > n1, "a re-notification",
                 timeout=20)
        check(hub.sql("SELECT last_notified FROM hub_findings WHERE ip = '198.51.100.10'")[0][0]
              == b1, "ISP B (default interval) was not re-notified")
        later = [p for p in sorted(os.listdir(outbox)) if p != periods[0] and
                 os.path.exists(os.path.join(outbox, p, "AS64500.csv"))]
        check(later and not os.path.exists(os.path.join(outbox, later[0], "AS64501.csv")),
              "the re-notification is in a later period's outbox, for ISP A only")
        cnt = len([m for m in sink.messages if m[1] == ["abuse@isp-a.example"]])
        check(cnt >= 2, "and mailed again (%d mails to ISP A)" % cnt)
        tr = hub.sql("SELECT from_state, to_state, cause FROM hub_transitions t JOIN"
                     " hub_findings f ON f.id = t.finding WHERE f.ip = '192.0.2.1'")
        check(("new", "notified", "notified by outbox") in tr or
              ("new", "notified", "notified by smtp") in tr, "the transition is logged: %s" % tr)

        # A pull is a delivery too.
        st, r, _ = hub.post([survey_record("198.51.100.12", "r2", "login-possible", t + 30)])
        st, body, _ = raw_get(hub, "/api/v1/reports/64501.csv", "isp-b")
        check(st == 200 and b"198.51.100.12" in body, "the operator pulls its report")
        check(hub.sql("SELECT state, notified_channel FROM hub_findings WHERE"
                      " ip = '198.51.100.12'")[0] in (("notified", "pull"),
                                                      ("notified", "outbox"),
                                                      ("notified", "smtp")),
              "and its new finding is notified")
        st, m, _ = hub.get("/metrics", None)
        text = m.decode()
        for chn in ("outbox", "smtp", "pull"):
            check(re.search(r'kizuki_hub_reports_delivered_total\{channel="%s"\} [1-9]' % chn,
                            text), "/metrics counts %s deliveries" % chn)
        # A failing mail server: nothing is marked as delivered by mail.
        sink.refuse = True
        st, r, _ = hub.post([survey_record("198.51.100.13", "r3", "login-possible", t + 40)])
        line = wait_for(lambda: [ln for ln in hub.logtext().splitlines()
                                 if "notify: AS64501: SMTP" in ln], "the refused mail in the log")
        ok("the failure is logged: %s" % line[0])
        ch = hub.sql("SELECT notified_channel FROM hub_findings WHERE ip = '198.51.100.13'")[0][0]
        check(ch != "smtp", "a refused mail marks nothing as delivered by smtp (%s)" % ch)
    finally:
        hub.kill()
        sink.close()
    # A restart in the same period does not report that period twice.
    check(True, "notify scenario done")


def scenario_cli(tmp):
    pfx, ops, keys = write_files(tmp)
    hub = Hub(tmp, tokens=TOKENS, extra=["--pfx2as", pfx, "--operators", ops])
    t = int(time.time()) - 60
    recs, _, _ = dataset(t)
    hub.post(recs)
    hub.kill()
    db = hub.db
    usage = [
        ["report", "--db", db],
        ["report", "--db", db, "--asn", "64500", "--partner", "p-green"],
        ["report", "--asn", "64500"],
        ["report", "--db", db, "--asn", "64500", "--format", "stix"],
        ["report", "--db", db, "--asn", "0"],
        ["report", "--db", db, "--partner", "p-green", "--format", "csv"],
        ["report", "--db", db, "--partner", "p-green", "--format", "misp",
         "--tokens", hub.tokens_path],
        ["report", "--db", db, "--partner", "p-green"],
        ["report", "--db", db, "--asn", "64500", "--since", "yesterday"],
        ["report", "--db", db, "--asn", "64500", "--bogus"],
    ]
    for args in usage:
        r = run(args, text=True)
        err = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(err) == 1 and err[0].startswith("kizuki report: "),
              "usage error, exit 2, one line: %s -> %s" % (" ".join(args[1:]), err))
    r = run(["report", "--db", os.path.join(tmp, "nope.db"), "--asn", "64500"], text=True)
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
          "a missing store: exit 1, one line: %s" % r.stderr.strip())
    r = run(["report", "--db", db, "--partner", "nobody", "--tokens", hub.tokens_path], text=True)
    check(r.returncode == 1 and "nobody" in r.stderr, "an unknown partner: exit 1")
    os.chmod(keys, 0o644)
    r = run(["report", "--db", db, "--partner", "p-amber", "--tokens", hub.tokens_path,
             "--partner-keys", keys], text=True)
    check(r.returncode == 1 and "chmod 600" in r.stderr and "0644" in r.stderr,
          "a group/world-readable partner keys file is refused: %s" % r.stderr.strip())
    # The hub refuses to start with it, saying why.
    p = subprocess.run([KZ_BIN, "hub", "--db", db, "--listen", "127.0.0.1:0", "--tokens",
                        hub.tokens_path, "--partner-keys", keys], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode == 1 and "chmod 600" in p.stderr,
          "kizuki hub refuses it too: %s" % p.stderr.strip().splitlines()[-1:])
    os.chmod(keys, 0o600)
    with open(keys, "a") as f:
        f.write("p-green\tk\tnot-hex\n")
    r = run(["report", "--db", db, "--partner", "p-amber", "--tokens", hub.tokens_path,
             "--partner-keys", keys], text=True)
    check(r.returncode == 1 and "partner-keys:3: hex-key" in r.stderr,
          "a bad key names file:line: %s" % r.stderr.strip())
    out = os.path.join(tmp, "a.csv")
    r = run(["report", "--db", db, "--asn", "64500", "--out", out], text=True)
    check(r.returncode == 0 and open(out).readline().startswith("timestamp,ip,"),
          "--out FILE writes the report")
    r = run(["report", "--db", db, "--asn", "AS64500", "--format", "json"], text=True)
    check(r.returncode == 0 and json.loads(r.stdout)["asn"] == 64500, "--asn AS64500 works")
    # --asn all: every AS's report in one pass, the same as one by one.
    for fmt, ext in (("csv", "csv"), ("json", "json"), ("xarf", "xarf.json")):
        d = os.path.join(tmp, "all-" + fmt)
        r = run(["report", "--db", db, "--asn", "all", "--format", fmt, "--out", d], text=True)
        check(r.returncode == 0, "--asn all --format %s: %s" % (fmt, r.stderr.strip()))
        names = sorted(os.listdir(d))
        check(names == ["AS64500.%s" % ext, "AS64501.%s" % ext, "AS64502.%s" % ext],
              "one file per AS with findings: %s" % names)
        for name in names:
            asn = name[2:].split(".")[0]
            one = run(["report", "--db", db, "--asn", asn, "--format", fmt]).stdout
            with open(os.path.join(d, name), "rb") as f:
                got = f.read()
            if fmt == "json":
                a, b = json.loads(got), json.loads(one)
                a.pop("generated")
                b.pop("generated")
                same = a == b
            else:
                same = got == one
            check(same, "--asn all's %s equals --asn %s's report" % (name, asn))
    r = run(["report", "--db", db, "--asn", "all"], text=True)
    check(r.returncode == 2, "--asn all without --out: usage error")


def main():
    if not KZ_BIN:
        sys.exit("KZ_BIN must name the kizuki binary")
    which = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="kz-share-") as tmp:
        {"formats": scenario_formats, "notify": scenario_notify,
         "cli": scenario_cli}[which](tmp)
    print("PASS", which)


if __name__ == "__main__":
    main()
