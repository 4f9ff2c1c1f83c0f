#!/usr/bin/python3
"""The summary of make scan (tests/scan/run.sh): summary.py OUT_DIR.

Reads what run.sh left in OUT_DIR (checks.txt, traffic.txt, wapiti/report.json,
sqlmap/*.txt and their results CSVs, meldpuntd.stderr, integrity.txt) and
prints the findings by tool and severity, the requests made and the time.
A line starting with CONFIRMED marks an injection sqlmap confirmed.
"""
import collections
import csv
import glob
import json
import os
import re
import subprocess
import sys

OUT = sys.argv[1]
# wapiti 3.0.4's levels: 1 low, 2 medium, 3 high (4 critical in later versions).
LEVELS = {1: "low", 2: "medium", 3: "high", 4: "critical"}


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    m = re.search(r"(\d+\.\d+[\w.#-]*)", out)
    return m.group(1) if m else "?"


def traffic():
    per = collections.defaultdict(collections.Counter)
    signed = collections.Counter()
    for line in read(os.path.join(OUT, "traffic.txt")).splitlines():
        f = line.split()
        if len(f) < 4:
            continue
        per[f[0]][f[3]] += 1
        if len(f) > 4:
            signed[f[0]] += 1
    return per, signed


def statuses(counter):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(counter.items()))


def wapiti_findings():
    """(severity, kind, category, method path, parameter, info) of every entry."""
    out = []
    path = os.path.join(OUT, "wapiti", "report.json")
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, ValueError):
        return None, out
    for kind in ("vulnerabilities", "anomalies", "additionals"):
        for cat, items in sorted(rep.get(kind, {}).items()):
            for it in items:
                out.append((LEVELS.get(it.get("level"), str(it.get("level"))), kind, cat,
                            "%s %s" % (it.get("method", ""), it.get("path", "")),
                            it.get("parameter", ""), it.get("info", "")))
    return rep.get("infos", {}), out


SQLMAP_PATTERNS = [
    ("candidate", re.compile(r"parameter '([^']+)' (?:appears|is) to be '([^']+)' injectable")),
    ("rejected", re.compile(r"false positive or unexploitable injection point detected")),
    ("confirmed", re.compile(r"sqlmap identified the following injection point")),
    ("xss", re.compile(r"heuristic \(XSS\) test shows that (.+?) might be vulnerable")),
    ("fi", re.compile(r"heuristic \(FI\) test shows that (.+?) might be vulnerable")),
    ("dbms", re.compile(r"heuristic \(parsing\) test showed that the back-end DBMS could be '([^']+)'")),
    ("waf", re.compile(r"(WAF/IPS|protection mechanism) .*detected", re.I)),
    ("clean", re.compile(r"all tested parameters do not appear to be injectable")),
    ("tested", re.compile(r"testing for SQL injection on (?:(.+?) )?parameter '([^']+)'")),
    ("ignored", re.compile(r"(?:ignoring|skipping) (.*parameter '[^']+')")),
    ("critical", re.compile(r"\[CRITICAL\] (.+)")),
]


def sqlmap_target(name):
    text = read(os.path.join(OUT, "sqlmap", name + ".txt"))
    found = collections.defaultdict(list)
    for line in text.splitlines():
        for key, rx in SQLMAP_PATTERNS:
            m = rx.search(line)
            if m:
                found[key].append(m.groups() or (line,))
    codes = re.findall(r"^(\d{3}) \(([^)]*)\) - (\d+) times", text, re.M)
    rows = []
    for f in glob.glob(os.path.join(OUT, "sqlmap", name, "results-*.csv")):
        with open(f, newline="") as fh:
            rows += list(csv.DictReader(fh))
    return found, codes, rows


def main():
    per, signed = traffic()
    total = sum(sum(c.values()) for c in per.values())
    secs = read(os.path.join(OUT, "seconds.txt")).strip() or "?"
    print("== meldpunt web scan: %s requests through the scan proxy in %s s" % (total, secs))
    print("   sqlmap %s, wapiti %s" % (version(["sqlmap", "--version"]),
                                        version(["wapiti", "--version"])))

    print("\n== checks")
    sys.stdout.write(read(os.path.join(OUT, "checks.txt")))
    print("   " + (read(os.path.join(OUT, "limits.txt")).strip() or "rate limits: ?"))
    integ = read(os.path.join(OUT, "integrity.txt"))
    rows = dict(re.findall(r"^(cases|items|log)\|(\d+)$", integ, re.M))
    if rows:
        print("   rows after the scan: %s cases, %s items, %s log entries" % (
            rows.get("cases"), rows.get("items"), rows.get("log")))
    for line in read(os.path.join(OUT, "growth.txt")).splitlines():
        print("   after the message runs, " + line)
    err = [l for l in read(os.path.join(OUT, "meldpuntd.stderr")).splitlines() if l.strip()]
    print("   meldpuntd stderr: %d lines%s" % (len(err), ":" if err else ""))
    for line, n in collections.Counter(err).most_common(10):
        print("     %5d x %s" % (n, line[:150]))
    bad = [(t, s, n) for t, c in per.items() for s, n in c.items()
           if s.startswith("5") or s == "no-answer"]
    for t, s, n in sorted(bad):
        print("   %s: %d answers %s" % (t, n, s))
    refused = sum(c["proxy-refused"] for c in per.values())
    if refused:
        print("   %d requests for other hosts (a scanner's own look-ups), refused by the scan proxy"
              % refused)

    print("\n== wapiti")
    wst = read(os.path.join(OUT, "wapiti", "status.txt")).split()
    if not wst:
        print("   not run")
    else:
        infos, items = wapiti_findings()
        print("   exit %s after %s s; %d requests (%s)" % (
            wst[1], wst[2], sum(per["wapiti"].values()), statuses(per["wapiti"])))
        if infos is None:
            print("   no report (see wapiti/console.txt)")
        else:
            sev = collections.Counter((i[0], i[1]) for i in items)
            print("   findings by severity: " + (", ".join(
                "%s %s %d" % (k[1], k[0], v) for k, v in sorted(sev.items())) or "none"))
            groups = collections.Counter((i[0], i[1], i[2], i[3], i[4], i[5][:140]) for i in items)
            for (lvl, kind, cat, where, param, info), n in sorted(groups.items()):
                print("   [%s %s] %s: %s%s%s" % (
                    {"vulnerabilities": "vulnerability", "anomalies": "anomaly",
                     "additionals": "additional"}[kind], lvl, cat, where,
                    " (%s)" % param if param else "", " x%d" % n if n > 1 else ""))
                print("       %s" % info.replace("\n", " "))

    print("\n== sqlmap (level and risk as run.sh says; one line a target)")
    for line in read(os.path.join(OUT, "sqlmap", "status.txt")).splitlines():
        f = line.split()
        name, rc, secs, level = (f + ["?"])[:4]
        found, codes, rows = sqlmap_target(name)
        params = sorted({"%s %s" % (p[0] or "HTTP header", p[1]) for p in found["tested"]})
        verdict = ("CONFIRMED injection" if found["confirmed"] else
                   "no injection" if found["clean"] else
                   "cut at the time limit" if rc == "124" else "unfinished (exit %s)" % rc)
        print("   %-26s %-20s level %s, %5s s, %6d requests: %s" % (
            name, verdict, level, secs, sum(per[name].values()), statuses(per[name])))
        print("       parameters: %s" % (", ".join(params) or "none"))
        for g in sorted(set(found["ignored"])):
            print("       not tested: %s" % g[0])
        for r in rows:
            print("       candidate %s %s (%s): %s" % (r.get("Place"), r.get("Parameter"),
                                                      r.get("Technique(s)"), r.get("Note(s)")))
        for key, label in (("xss", "XSS heuristic"), ("fi", "file inclusion heuristic"),
                           ("dbms", "DBMS guess"), ("waf", "protection"),
                           ("critical", "critical")):
            for g in sorted(set(found[key])):
                print("       %s: %s" % (label, " ".join(g)[:160]))
        if found["confirmed"]:
            print("CONFIRMED %s: see sqlmap/%s.txt" % (name, name))


main()
