#!/usr/bin/env python3
"""Load and checks for tests/crash/test_crash.sh (Python standard library only).

  client.py submit PORT OUT CLIENTS TAG
      CLIENTS threads submit distinct reports to POST /api/v1/reports until
      the server goes away (or 60 s pass); OUT.ready appears once they
      run; OUT gets every report answered
      201 (the body sent, its token and receipt), every other answer by
      status, and how many requests got no answer at all.

  client.py check PORT MELDPUNT OUT STATE CYCLE
      After the restart: every report of OUT is stored and decrypts, as a
      caseworker (the CLI, MELDPUNT_KEY and MELDPUNT_PASSPHRASE from the
      environment), to exactly what was sent; its token opens it; the log
      holds one created leaf per stored case, hashing to the signed
      checkpoint, with every checkpoint handed out before the kill a prefix
      of it.  STATE (a JSON file) carries the earlier cycles' reports and
      counts.  Prints TAP lines; exit 0 even when a check fails (the lines
      say so), 2 when the check itself cannot run.
"""
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
DEADLINE = 60


def b64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ---- submit ----

# Texts that make the reports differ in length and in the bytes they need.
WORDS = ["huur", "woning", "sollicitatie", "portier", "buurman", "école", "Straße",
         "łódź", "güneş", "місто", "مدينة", "😀", "\"quoted\"", "back\\slash",
         "tab\there", "line\nbreak", "<b>tag</b>", "&amp;", "50%", "null"]


def codes(policy, name):
    return [c["code"] for c in policy[name]]


def make_report(rng, policy, tag, client, n):
    words = rng.choices(WORDS, k=rng.randint(1, 300))
    r = {"description": "%s client %d report %d: %s" % (tag, client, n, " ".join(words))}
    if rng.random() < 0.7:
        r["language"] = rng.choice(codes(policy, "languages"))
    if rng.random() < 0.5:
        r["role"] = rng.choice(codes(policy, "roles"))
        r["wish"] = rng.choice(codes(policy, "wishes"))
    if rng.random() < 0.5:
        r["grounds"] = rng.sample(codes(policy, "grounds"), rng.randint(1, 3))
        r["domain"] = rng.choice(codes(policy, "domains"))
        r["manifestation"] = rng.choice(codes(policy, "manifestations"))
    if rng.random() < 0.3:
        r["occurred_on"] = "20%02d-%02d-%02d" % (rng.randint(10, 24), rng.randint(1, 12),
                                                 rng.randint(1, 28))
        r["location"] = "Breestraat %d" % rng.randint(1, 200)
        r["incident_municipality"] = rng.choice(codes(policy, "municipalities"))
        r["residence_municipality"] = rng.choice(codes(policy, "municipalities"))
        r["counterparty"] = "Bedrijf %d B.V." % rng.randint(1, 999)
    if rng.random() < 0.4:
        r["contact"] = {"name": "Persoon %d-%d" % (client, n),
                        "email": "p%d.%d@example.org" % (client, n), "preferred": "email"}
    return r


class Load:
    def __init__(self, port, tag, policy):
        self.port, self.tag, self.policy = port, tag, policy
        self.lock = threading.Lock()
        self.ok, self.statuses = [], {}
        self.sent = self.unanswered = 0

    def run(self, client):
        rng = random.Random("%s-%d" % (self.tag, client))
        conn, n, end = None, 0, time.time() + DEADLINE
        while time.time() < end:
            body = make_report(rng, self.policy, self.tag, client, n)
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                    conn.connect()
            except OSError:
                return  # the server is gone: nothing was sent
            data = json.dumps(body).encode()
            with self.lock:
                self.sent += 1
            try:
                conn.request("POST", "/api/v1/reports", body=data,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                answer = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                # No answer: the report may or may not be stored.
                with self.lock:
                    self.unanswered += 1
                conn.close()
                conn = None
                continue
            with self.lock:
                if status == 201:
                    a = json.loads(answer)
                    self.ok.append({"body": body, "token": a["token"],
                                    "received": a["received"], "log": a.get("log")})
                else:
                    self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1


def submit(port, out, clients, tag):
    c = http.client.HTTPConnection(HOST, port, timeout=30)
    c.request("GET", "/api/v1/policy")
    policy = json.loads(c.getresponse().read())
    c.close()
    load = Load(port, tag, policy)
    threads = [threading.Thread(target=load.run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    open(out + ".ready", "w").close()
    for t in threads:
        t.join()
    with open(out + ".tmp", "w") as f:
        json.dump({"ok": load.ok, "statuses": load.statuses, "sent": load.sent,
                   "unanswered": load.unanswered}, f)
    os.rename(out + ".tmp", out)


# ---- check ----

def tap(ok, what, why=None):
    print("%s - %s" % ("ok" if ok else "not ok", what))
    if not ok and why:
        for line in str(why).splitlines()[:5]:
            print("#   " + line)
    sys.stdout.flush()
    return ok


def get(port, path):
    c = http.client.HTTPConnection(HOST, port, timeout=60)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def post(conn, path, obj):
    conn.request("POST", path, body=json.dumps(obj), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def cli(meldpunt, *args):
    p = subprocess.run([meldpunt] + list(args), capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("meldpunt %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                         p.stderr.decode(errors="replace")))
    return json.loads(p.stdout)


def all_cases(meldpunt):
    ids, after = [], None
    while True:
        d = cli(meldpunt, "cases", "--json", "--limit", "500", *(["--after", after] if after else []))
        ids += [c["id"] for c in d["cases"]]
        after = d["next"]
        if not after:
            return ids


def leaf_hash(c):
    return hashlib.sha256(b"\x00" + c).digest()


def node_hash(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def root(hashes):
    """RFC 9162 tree head of leaf hashes, folding complete subtrees from the left."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    stack = []  # (size, hash) of complete subtrees, largest first
    for h in hashes:
        size = 1
        while stack and stack[-1][0] == size:
            s, left = stack.pop()
            h, size = node_hash(left, h), size + s
        stack.append((size, h))
    h = stack.pop()[1]
    while stack:
        h = node_hash(stack.pop()[1], h)
    return h


def checkpoint(text):
    """(size, root) of a signed note's body: origin, size, base64 root."""
    lines = text.split("\n")
    return int(lines[1]), base64.b64decode(lines[2])


def check_one(meldpunt, port, r):
    """Why report r fails its checks, or None; and its case id."""
    log = r["log"]
    if log is None:
        return "the 201 answer has no log receipt", None
    event = json.loads(b64u(log["event"]))
    cid = event.get("case")
    if event.get("type") != "created" or event.get("seq") != 1:
        return "the receipt's event is not a created event: %r" % event, cid
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        st, body = post(conn, "/api/v1/followup", {"token": r["token"]})
    finally:
        conn.close()
    if st != 200:
        return "its token no longer opens it: %d %s" % (st, body[:200]), cid
    f = json.loads(body)
    if f.get("log", {}).get("index") != log["index"] or f["log"].get("event") != log["event"]:
        return "the follow-up's log entry differs from the receipt's", cid
    try:
        d = cli(meldpunt, "case", "show", "--json", "--", cid)  # an id may begin with "-"
    except (RuntimeError, ValueError) as e:
        return str(e), cid
    want = dict(r["body"], received=r["received"])
    got = d.get("report")
    if got != want:
        keys = sorted(k for k in set(want) | set(got or {}) if (got or {}).get(k) != want.get(k))
        return "case %s does not decrypt to what was sent (differs in %s)" % (cid, keys), cid
    return None, cid


def check(port, meldpunt, out, statefile, cycle):
    res = json.load(open(out))
    state = json.load(open(statefile)) if os.path.exists(statefile) else \
        {"cases": 0, "ids": [], "ok": 0, "lost": 0, "cycles": 0}
    ok = res["ok"]
    n = len(ok)
    p = "cycle %d: " % cycle
    other = sum(res["statuses"].values())
    tap(other == 0, p + "every answer before the kill was 201 (%d of %d sent, %d unanswered)" %
        (n, res["sent"], res["unanswered"]), "other answers: %r" % res["statuses"])

    ids = all_cases(meldpunt)
    stored = set(ids)
    tap(len(stored) == len(ids), p + "the case list holds no case twice")

    # Every report of this cycle: token, receipt, log entry, contents.
    problems, mine = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        for why, cid in ex.map(lambda r: check_one(meldpunt, port, r), ok):
            mine.append(cid)
            if why is None and cid not in stored:
                why = "case %s is not in the case list" % cid
            if why is not None:
                problems.append(why)
    lost = len(problems)
    tap(lost == 0, p + "each of the %d reports answered 201 is stored, opens with its token and "
        "decrypts to exactly what was sent" % n, "%d lost or changed; %s" % (lost, problems[:3]))
    earlier = [i for i in state["ids"] if i not in stored]
    tap(not earlier, p + "the %d reports of earlier cycles are all still stored" % len(state["ids"]),
        "missing: %s" % earlier[:5])
    grew = len(ids) - state["cases"]
    tap(n <= grew <= n + res["unanswered"], p + "stored cases grew by %d: the %d answered 201, "
        "plus at most the %d unanswered" % (grew, n, res["unanswered"]))

    # The log: one created leaf per case, hashing to the signed checkpoint.
    st, body = get(port, "/api/v1/log/checkpoint")
    size, head = checkpoint(body.decode())
    tap(size == len(ids), p + "the log holds %d leaves for %d stored cases" % (size, len(ids)))
    leaves = []
    while len(leaves) < size:
        st, body = get(port, "/api/v1/log/leaves?start=%d" % len(leaves))
        got = json.loads(body)["leaves"]
        if st != 200 or not got:
            break
        leaves += [b64u(c) for c in got]
    hashes = [leaf_hash(c) for c in leaves]
    tap(len(leaves) == size and root(hashes) == head,
        p + "the leaves hash to the signed checkpoint's root")
    bad = []
    for r in ok:
        lg = r["log"]
        if lg is None:
            continue
        mac = hashlib.blake2b(b64u(lg["event"]), digest_size=32, key=b64u(lg["salt"])).digest()
        if lg["index"] >= len(leaves) or leaves[lg["index"]] != mac:
            bad.append(lg["index"])
    indices = [r["log"]["index"] for r in ok if r["log"]]
    tap(not bad and len(set(indices)) == len(indices),
        p + "each report answered 201 has its own created leaf, BLAKE2b(salt, event)",
        "leaves that do not match: %s" % bad[:5])
    # A checkpoint handed out before the kill must still be a prefix of the log.
    heads = {}
    for r in ok:
        if r["log"]:
            s, h = checkpoint(r["log"]["checkpoint"])
            heads[s] = h
    sizes = sorted(heads)
    sample = sizes[-1:] + random.sample(sizes[:-1], min(4, max(0, len(sizes) - 1)))
    wrong = [s for s in sample if s > len(hashes) or root(hashes[:s]) != heads[s]]
    tap(not wrong, p + "the checkpoints handed out before the kill are prefixes of the log "
        "(%d of %d sizes checked)" % (len(sample), len(sizes)), "sizes: %s" % wrong)

    state["cases"] = len(ids)
    state["ids"] += [c for c in mine if c in stored]
    state["ok"] += n
    state["lost"] += lost
    state["cycles"] += 1
    with open(statefile + ".tmp", "w") as f:
        json.dump(state, f)
    os.rename(statefile + ".tmp", statefile)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "submit":
        submit(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 7 and sys.argv[1] == "check":
        check(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
