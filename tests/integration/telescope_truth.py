#!/usr/bin/env python3
"""Compares kizuki telescope's output on a kizuki-gen trace with the trace's
ground truth (docs/generator.md) and prints precision and recall per label.

usage: telescope_truth.py TRUTH EVENTS STATS SUMMARY PROFILE

Asserts (exit 1 with the reasons on failure):
- fingerprinted sources (mirai, zmap, masscan, unicornscan, nmap) and
  scanners: precision and recall >= 99 % against the truth's `expect`, each
  source judged by the strongest label written for it (labels only rise);
- every victim that meets the RS-DoS thresholds is reported, none that
  does not;
- a surge is reported for the surge port in the surge's interval, and no
  other surge anywhere (so none at all on the steady profile);
- the per-minute unique sources on the tracked port equal the truth's
  series (the sketches are exact at these sizes, allow 2 %);
- frames outside the darknet and frames that are not usable IP are
  counted as the truth says.
Only the standard library is used.
"""
import json
import re
import sys

LABELS = ["mirai", "zmap", "masscan", "unicornscan", "nmap", "scanner"]
RANK = {"scanner": 1, "nmap": 2, "unicornscan": 3, "masscan": 4, "zmap": 5, "mirai": 6}
MIN = 0.99


def lines(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def minute(ts):
    return ts[:16] + ":00Z" if len(ts) >= 16 else ts


def main():
    truth_path, events_path, stats_path, summary_path, profile = sys.argv[1:6]
    failures = []
    run, sources, victims, surge, series, junk = None, {}, {}, None, None, 0
    for r in lines(truth_path):
        kind = r["record"]
        if kind == "run":
            run = r
        elif kind == "source":
            sources[r["addr"]] = r
        elif kind == "victim":
            victims[r["addr"]] = r
        elif kind == "surge":
            surge = r
        elif kind == "port-series":
            series = r
        elif kind == "junk":
            junk += r["frames"]

    labels, dos, surges, changed = {}, {}, [], 0
    for e in lines(events_path):
        ident = e["classification.identifier"]
        if ident == "backscatter":
            dos.setdefault(e["destination.ip"], []).append(e)
        elif ident == "port-surge":
            surges.append(e)
        else:
            ip = e["source.ip"]
            old = labels.get(ip)
            if old and old != ident:
                changed += 1
            if not old or RANK[ident] > RANK[old]:
                labels[ip] = ident

    print(f"{profile}: {len(sources)} sources in the truth, {len(labels)} labelled, "
          f"{changed} label raises")
    for label in LABELS:
        want = {a for a, s in sources.items() if s["expect"] == label}
        got = {a for a, l in labels.items() if l == label}
        tp, fp, fn = len(want & got), len(got - want), len(want - got)
        if not want and not got:
            continue
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"  {label:12} expected {len(want):5}  tp {tp:5}  fp {fp:4}  fn {fn:4}  "
              f"precision {precision:.4f}  recall {recall:.4f}")
        for a in sorted(got - want)[:3]:
            s = sources.get(a, {})
            print(f"    false positive {a}: truth {s.get('kind')} expect {s.get('expect')}")
        for a in sorted(want - got)[:3]:
            print(f"    missed {a}: {sources[a]['kind']}, labelled {labels.get(a)}")
        if precision < MIN or recall < MIN:
            failures.append(f"{label}: precision {precision:.4f} recall {recall:.4f}")
    unexpected = [a for a in labels if a not in sources]
    if unexpected:
        failures.append(f"labels for addresses the trace does not have: {unexpected[:3]}")

    qual = {a for a, v in victims.items() if v["qualifies"]}
    print(f"  DoS victims: {len(victims)} in the truth, {len(qual)} above the thresholds, "
          f"{len(dos)} reported")
    for a in sorted(qual - set(dos)):
        failures.append(f"DoS victim {a} above the thresholds was not reported")
    for a in sorted(set(dos) - qual):
        failures.append(f"DoS victim {a} reported but below the thresholds (or unknown)")
    for a, evs in dos.items():
        v = victims.get(a)
        if v and evs[-1]["extra.packets"] > v["packets"]:
            failures.append(f"DoS victim {a}: {evs[-1]['extra.packets']} packets reported, "
                            f"{v['packets']} sent")

    print(f"  surges: truth {'port ' + str(surge['port']) if surge else 'none'}, "
          f"reported {[(s['destination.port'], s['extra.interval_start']) for s in surges]}")
    if surge:
        hit = [s for s in surges if s["destination.port"] == surge["port"]
               and s["protocol.transport"] == surge["proto"]
               and s["extra.interval_start"] == minute(surge["interval_start"])]
        if not hit:
            failures.append(f"the surge on {surge['port']} at {surge['interval_start']} "
                            "was not reported in its interval")
        others = [s for s in surges if s not in hit]
        if others:
            failures.append(f"surges reported that are not in the truth: "
                            f"{[(s['destination.port'], s['extra.interval_start']) for s in others]}")
    elif surges:
        failures.append(f"{len(surges)} surge alarms where the truth has none")

    if series:
        got_series = {}
        for r in lines(stats_path):
            if r["proto"] == series["proto"] and r["port"] == series["port"]:
                got_series[r["interval_start"]] = r["unique_sources"]
        start = series["start"][:19]
        import datetime
        t0 = datetime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%S")
        bad = 0
        for i, n in enumerate(series["sources"]):
            key = (t0 + datetime.timedelta(seconds=60 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            g = got_series.get(key, 0)
            if abs(g - n) > max(1, 0.02 * n):
                bad += 1
                if bad <= 3:
                    print(f"    {key}: {g} unique sources on {series['port']}, truth {n}")
        print(f"  port {series['port']} unique sources per minute: {len(series['sources'])} "
              f"bins, {bad} off")
        if bad:
            failures.append(f"{bad} minutes of the port series differ from the truth")

    with open(summary_path, encoding="utf-8") as f:
        summary = f.read()
    m = re.search(r"outside the darknet (\d+)", summary)
    outside = int(m.group(1)) if m else -1
    m = re.search(r"skipped (\d+)", summary)
    skipped = int(m.group(1)) if m else 0
    print(f"  outside the darknet {outside} (truth {run['outside_packets']}), "
          f"skipped {skipped} (truth junk {junk})")
    if outside != run["outside_packets"]:
        failures.append(f"outside the darknet: {outside}, truth {run['outside_packets']}")
    if skipped != junk:
        failures.append(f"frames skipped: {skipped}, truth junk frames {junk}")

    for f in failures:
        print(f"FAIL {profile}: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
