#!/usr/bin/env python3
"""What the web dashboard needs from the hub, over real HTTP without a
browser (tests/integration/dashboard_api.sh): GET /api/v1/summary scoped by
role, each finding's "detail" from its latest observation, the CSRF token
handed back to a cookie session, sign-out that clears the cookie, and the
sign-in page from the web directory. Uses hubtest.py's Hub; records are
built with the id hash of docs/records.md."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, iso, survey_record, telescope_record  # noqa: E402


def check(cond, msg, detail=None):
    if not cond and detail is not None:
        print("got:", detail, flush=True)
    hubtest.check(cond, msg)


def cookie_of(resp):
    for k, v in resp.getheaders():
        if k.lower() == "set-cookie" and v.startswith("kz_session="):
            return v
    return None


def main():
    if not hubtest.KZ_BIN:
        sys.exit("KZ_BIN must name the kizuki binary")
    with tempfile.TemporaryDirectory(prefix="kz-dash-api-") as tmp:
        web = os.path.join(tmp, "web")
        os.mkdir(web)
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>dashboard</title>\n")
        hub = Hub(tmp, extra=["--web", web])
        try:
            run(hub, web)
        finally:
            hub.kill()
    print("PASS dashboard_api")


def run(hub, web):
    t = int(time.time()) - 3600
    # Stats range before any stats: null for every bin size.
    st, s, _ = hub.get("/api/v1/summary", "s1")
    check(st == 200 and s["findings"] is None and s["stats"] == {"5m": None, "1h": None, "1d": None},
          "summary for a sensor before stats: no findings part, no stats range")

    a1 = telescope_record("192.0.2.10", "tokyo-1", t - t % 60, t)
    a1.update({"source.asn": 64500, "extra.packets": 118, "extra.ports": [23, 2323],
               "extra.fingerprint_basis": "mirai: tcp.seq == ip.dst in 112 of 118 packets"})
    a2 = telescope_record("192.0.2.10", "tokyo-1", t - t % 60 + 60, t + 60)
    a2.update({"source.asn": 64500, "extra.packets": 240, "extra.ports": [23],
               "extra.fingerprint_basis": "mirai: tcp.seq == ip.dst in 231 of 240 packets"})
    b1 = telescope_record("198.51.100.7", "tokyo-1", t - t % 60, t, identifier="zmap")
    b1.update({"source.asn": 64501})
    s1 = survey_record("192.0.2.1", "r1", "login-possible", t)
    s1.update({"source.asn": 64500, "extra.user": "root", "extra.password": "xc3511",
               "extra.device": "busybox"})
    s2 = survey_record("198.51.100.1", "r1", "login-possible", t)
    s2.update({"source.asn": 64502})
    s3 = survey_record("198.51.100.1", "r2", "login-failed", t + 600)
    s3.update({"source.asn": 64502})
    st, r, _ = hub.post([a1, b1, s1, s2, s3])
    check(st == 200 and r["accepted"] == 5, "five records stored")
    st, r, _ = hub.post([a2])
    check(st == 200 and r["accepted"] == 1, "a later observation of the infected host")

    st, s, _ = hub.get("/api/v1/summary", "root")
    f = s["findings"]
    check(st == 200 and f["total"] == 4, "admin summary: four findings", f)
    check(f["by_kind"] == {"infected": {"active": 1}, "scanner": {"active": 1},
                           "survey": {"new": 1, "remediated": 1}},
          "admin summary: counts by kind and state", f["by_kind"])
    asns = {x["asn"]: x["counts"] for x in f["by_asn"]}
    check(asns == {64500: {"infected": {"active": 1}, "survey": {"new": 1}},
                   64501: {"scanner": {"active": 1}},
                   64502: {"survey": {"remediated": 1}}},
          "admin summary: counts by AS", f["by_asn"])
    check(len(f["by_country"]) == 1 and f["by_country"][0]["cc"] is None and
          sum(sum(v.values()) for v in f["by_country"][0]["counts"].values()) == 4,
          "admin summary: without --mmdb every finding is of unknown country")

    st, s, _ = hub.get("/api/v1/summary", "isp-b")
    f = s["findings"]
    check(st == 200 and f["total"] == 2 and
          f["by_kind"] == {"scanner": {"active": 1}, "survey": {"remediated": 1}},
          "operator summary: only its own ASes' findings", f)
    check(sorted(x["asn"] for x in f["by_asn"]) == [64501, 64502],
          "operator summary: only its own ASes listed")
    st, s, _ = hub.get("/api/v1/summary", "p-green")
    check(st == 200 and s["findings"] is None, "partner summary: no findings part")
    st, _, _ = hub.get("/api/v1/summary", None)
    check(st == 401, "summary without a token: 401")

    st, page, _ = hub.get("/api/v1/findings?kind=infected", "root")
    d = page["findings"][0]["detail"]
    check(d == {"packets": 240, "ports": [23], "sensor": "tokyo-1",
                "fingerprint_basis": "mirai: tcp.seq == ip.dst in 231 of 240 packets"},
          "a finding's detail is its latest observation's measurements", d)
    st, page, _ = hub.get("/api/v1/findings?kind=survey", "isp-a")
    d = page["findings"][0]["detail"]
    check(d.get("device") == "busybox" and "password" not in d and "user" not in d,
          "a survey finding's detail holds no credentials", d)

    # Stats range per bin size.
    base = t - t % 86400 + 3600
    body = "".join('{"sensor":"s","darknet_size":256,"interval_start":%d,"interval_len":60,'
                   '"proto":"tcp","port":23,"packets":5,"unique_sources":2}\n' % (base + k * 60)
                   for k in (0, 1, 125))
    st, r, _ = hub.post(body.encode(), path="/api/v1/stats")
    check(st == 200 and r["accepted"] == 3, "three stats lines stored")
    st, s, _ = hub.get("/api/v1/summary", "s1")
    want = {"5m": {"first": iso(base), "end": iso(base + 125 * 60 + 300)},
            "1h": {"first": iso(base), "end": iso(base + 3 * 3600)},
            "1d": {"first": iso(base - 3600), "end": iso(base - 3600 + 86400)}}
    check(s["stats"] == want, "summary: the range each bin size covers", [s["stats"], want])

    # Sessions: the cookie session gets its CSRF token back; sign-out
    # clears the cookie; a stale cookie on "/" gets the sign-in page.
    st, r, resp = hub.request("POST", "/api/v1/session", b'{"token":"%s"}' % hub.tok["isp-a"].encode())
    cookie = cookie_of(resp)
    check(st == 200 and cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie,
          "sign-in sets an HttpOnly SameSite cookie")
    sid = cookie.split(";")[0]
    st, me, _ = hub.request("GET", "/api/v1/session", headers={"Cookie": sid})
    check(st == 200 and me["csrf"] == r["csrf"] and me["asns"] == [64500],
          "GET /api/v1/session with the cookie returns who and the session's CSRF token")
    st, me, _ = hub.get("/api/v1/session", "isp-a")
    check(st == 200 and "csrf" not in me, "with a bearer token there is no CSRF token to return")
    st, body, _ = hub.request("GET", "/", headers={"Cookie": sid})
    check(st == 200 and b"dashboard" in body, "signed in, / is the web directory's index.html")
    st, _, resp = hub.request("DELETE", "/api/v1/session", headers={"Cookie": sid})
    gone = cookie_of(resp)
    check(st == 200 and gone and "Max-Age=0" in gone, "sign-out tells the browser to drop the cookie")
    st, body, _ = hub.request("GET", "/", headers={"Cookie": sid})
    check(st == 200 and b"Sign in" in body, "a stale cookie on / gets the sign-in page, not 401")
    st, _, _ = hub.request("GET", "/index.html", headers={"Cookie": sid})
    st2, _, _ = hub.request("GET", "/api/v1/findings", headers={"Cookie": sid})
    check(st == 200 and st2 == 401, "a stale cookie reads no data: 401")
    st, _, _ = hub.request("GET", "/", headers={"Authorization": "Bearer wrong"})
    check(st == 401, "a wrong bearer token on / is still 401")

    with open(os.path.join(web, "login.html"), "w") as f:
        f.write("<!doctype html><title>our sign-in</title>\n")
    st, body, _ = hub.request("GET", "/")
    check(st == 200 and b"our sign-in" in body, "anonymous / is the web directory's login.html")
    st, _, _ = hub.request("GET", "/login.html")
    st2, _, _ = hub.request("GET", "/index.html")
    check(st == 401, "anonymous: no other file of the web directory")
    check(st2 == 200, "anonymous /index.html is the sign-in page too")


if __name__ == "__main__":
    main()
