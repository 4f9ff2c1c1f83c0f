#!/bin/sh
# The retention purge leaves no trace of the purged envelopes in the database
# FILE (docs/CASEWORK.md, Retention: "no page of the database file or its WAL
# still holds the deleted envelopes").
#
#	sh tests/api/test_purge_canary.sh BUILD_DIR
#
# SQLCipher encrypts every page, so a plain search of the file proves nothing:
# this script decrypts every page itself (SQLCipher 3: AES-256-CBC with the
# raw key from DIR/db.key, a per-page IV in the page's reserved bytes; page 1
# starts with the 16-byte salt) and searches the plaintext pages for canaries,
# the b64u nonces of a report's and a message's envelopes as GET
# /api/v1/cases/{id} shows them.  The search must find them before the purge
# (and an open case's after it), so it can fail.
#
# Needs python3 (standard library only), openssl (Ed25519 request signatures
# and AES), and the meldpunt binaries.  Prints "ok - " / "not ok - " lines;
# removes everything it made.

BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || {
	echo "not ok - test_purge_canary.sh: no build directory ${1:-build}"
	exit 1
}
for tool in python3 openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "not ok - test_purge_canary.sh needs $tool"
		exit 1
	fi
done
T=$(mktemp -d "${TMPDIR:-/tmp}/meldpunt-canary.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 - "$BUILD" "$T" <<'EOF'
import base64, datetime, hashlib, json, os, secrets, socket, subprocess, sys, time
import urllib.error, urllib.request

BUILD, T = sys.argv[1], sys.argv[2]
INST = os.path.join(T, "inst")
DB = os.path.join(INST, "meldpunt.db")
failed = 0
server = None


def ok(cond, name, *diag):
    global failed
    if cond:
        print("ok - canary: " + name)
    else:
        failed += 1
        print("not ok - canary: " + name)
        for d in diag:
            for line in str(d).splitlines()[:20]:
                print("# " + line[:300])
    sys.stdout.flush()
    return cond


def bail(name, *diag):
    ok(False, name, *diag)
    stop()
    sys.exit(1)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def run(*argv, inp=None):
    p = subprocess.run(list(argv), input=inp, capture_output=True)
    return p.returncode, p.stdout, p.stderr


# --- keys: Ed25519 for signing, X25519 for the box key (openssl) ---------------------------

def raw_pub(pem):
    rc, der, err = run("openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER")
    if rc != 0 or len(der) < 32:
        bail("openssl makes keys", err.decode(errors="replace"))
    return der[-32:]


SIGN_PEM = os.path.join(T, "sign.pem")
BOX_PEM = os.path.join(T, "box.pem")
for alg, pem in (("ed25519", SIGN_PEM), ("x25519", BOX_PEM)):
    rc, _, err = run("openssl", "genpkey", "-algorithm", alg, "-out", pem)
    if rc != 0:
        bail("openssl genpkey -algorithm " + alg, err.decode(errors="replace"))
SIGN_PK = raw_pub(SIGN_PEM)
BOX_PK = raw_pub(BOX_PEM)
KEYID = b64u(SIGN_PK)


def ed25519_sign(msg):
    path = os.path.join(T, "base.txt")
    with open(path, "wb") as f:
        f.write(msg)
    rc, sig, err = run("openssl", "pkeyutl", "-sign", "-inkey", SIGN_PEM, "-rawin", "-in", path)
    if rc != 0 or len(sig) != 64:
        bail("openssl signs a request (pkeyutl -rawin)", err.decode(errors="replace"))
    return sig


# --- the instance and the server ----------------------------------------------------------

s = socket.socket()
s.bind(("127.0.0.1", 0))
PORT = s.getsockname()[1]
s.close()
BASE = "http://127.0.0.1:%d" % PORT
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

rc, out, err = run(os.path.join(BUILD, "meldpunt"), "init", "--dir", INST, "--origin",
                   "canary.meldpunt.example/log", "--public-url", BASE)
if not ok(rc == 0, "meldpunt init"):
    bail("meldpunt init", err.decode(errors="replace"))
rc, out, err = run(os.path.join(BUILD, "meldpunt"), "key", "add", "--dir", INST, "--role",
                   "caseworker", "--name", "Canary", "--sign", b64u(SIGN_PK), "--box", b64u(BOX_PK))
if not ok(rc == 0, "meldpunt key add (an openssl Ed25519 key)"):
    bail("key add", err.decode(errors="replace"))


def http(method, target, body=None, signed=False):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + target, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if signed:
        path, q, query = target.partition("?")
        query = "?" + query if q else "?"
        nonce = b64u(secrets.token_bytes(16))
        comps = '("@method" "@path" "@query"%s)' % (' "content-digest"' if data is not None else "")
        params = '%s;created=%d;nonce="%s";keyid="%s";alg="ed25519"' % (
            comps, int(time.time()), nonce, KEYID)
        lines = ['"@method": ' + method, '"@path": ' + path, '"@query": ' + query]
        if data is not None:
            digest = "sha-256=:%s:" % base64.b64encode(hashlib.sha256(data).digest()).decode()
            req.add_header("Content-Digest", digest)
            lines.append('"content-digest": ' + digest)
        lines.append('"@signature-params": ' + params)
        sig = ed25519_sign("\n".join(lines).encode())
        req.add_header("Signature-Input", "sig1=" + params)
        req.add_header("Signature", "sig1=:%s:" % base64.b64encode(sig).decode())
    try:
        with OPENER.open(req, timeout=30) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def start():
    global server
    log = open(os.path.join(T, "server.log"), "ab")
    server = subprocess.Popen([os.path.join(BUILD, "meldpuntd"), "--dir", INST, "--listen",
                               "127.0.0.1:%d" % PORT], stdout=log, stderr=log)
    for _ in range(200):
        if server.poll() is not None:
            break
        try:
            with OPENER.open(BASE + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    return False


def stop():
    global server
    if server is None:
        return None
    server.terminate()
    try:
        rc = server.wait(5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        rc = -1
    server = None
    return rc


def server_log():
    try:
        return open(os.path.join(T, "server.log"), encoding="utf-8", errors="replace").read()
    except OSError:
        return ""


# --- decrypting the database file ----------------------------------------------------------

KEY = open(os.path.join(INST, "db.key"), "rb").read()
RESERVE = 48  # SQLCipher 3: 16-byte IV + 20-byte HMAC-SHA1, rounded up to the AES block


def aes_ecb_decrypt(data):
    if not data:
        return b""
    rc, out, err = run("openssl", "enc", "-d", "-aes-256-ecb", "-K", KEY.hex(), "-nopad",
                       inp=data)
    if rc != 0 or len(out) != len(data):
        bail("openssl enc -d -aes-256-ecb", err.decode(errors="replace"))
    return out


def decrypt_pages(pages, psize):
    """pages: [(page number, raw page bytes)] -> [plaintext of each page's encrypted area]."""
    spans, cts = [], []
    for pno, raw in pages:
        start = 16 if pno == 1 else 0
        iv = raw[psize - RESERVE:psize - RESERVE + 16]
        ct = raw[start:psize - RESERVE]
        spans.append((iv, ct))
        cts.append(ct)
    plain = aes_ecb_decrypt(b"".join(cts))
    out, off = [], 0
    for iv, ct in spans:
        d = plain[off:off + len(ct)]
        off += len(ct)
        prev = iv + ct[:-16]
        # CBC: P_i = D(C_i) xor C_(i-1), with C_(-1) = IV
        x = int.from_bytes(d, "big") ^ int.from_bytes(prev, "big")
        out.append(x.to_bytes(len(d), "big"))
    return out


def header_ok(p1, psize):
    # SQLite header bytes 16.. (page size, versions, reserved bytes, payload fractions)
    enc = psize.to_bytes(2, "big") if psize < 65536 else b"\x00\x01"
    return p1[0:2] == enc and p1[4] == RESERVE and p1[5:8] == b"\x40\x20\x20"


def scan():
    """Decrypt the database file and its -wal; (page size, plaintext pages, wal bytes)."""
    raw = open(DB, "rb").read()
    psize = None
    for ps in (1024, 4096, 2048, 8192, 16384, 32768, 65536):
        if len(raw) >= ps and len(raw) % ps == 0:
            p1 = decrypt_pages([(1, raw[:ps])], ps)[0]
            if header_ok(p1, ps):
                psize = ps
                break
    if psize is None:
        return None, [], 0
    pages = [(i + 1, raw[i * psize:(i + 1) * psize]) for i in range(len(raw) // psize)]
    plain = decrypt_pages(pages, psize)
    wal = DB + "-wal"
    walbytes = 0
    if os.path.exists(wal):
        w = open(wal, "rb").read()
        walbytes = len(w)
        frames, off = [], 32
        while off + 24 + psize <= len(w):
            pno = int.from_bytes(w[off:off + 4], "big")
            frames.append((pno, w[off + 24:off + 24 + psize]))
            off += 24 + psize
        plain += decrypt_pages(frames, psize)
    return psize, plain, walbytes


def months_ahead(n):
    os.environ["TZ"] = "Europe/Amsterdam"
    time.tzset()
    t = time.localtime()
    m0 = t.tm_mon - 1 + n
    day = datetime.date(t.tm_year + m0 // 12, m0 % 12 + 1, 1) + datetime.timedelta(days=t.tm_mday - 1)
    return day.isoformat()


def purge(day):
    rc, out, err = run(os.path.join(BUILD, "meldpunt"), "purge", "--dir", INST, "--today", day)
    ok(rc == 0, "meldpunt purge --dir DIR --today %s exits 0" % day,
       out.decode(errors="replace"), err.decode(errors="replace"))


# --- cases: A (closed, then purged), B (open) ------------------------------------------------

try:
    if not ok(start(), "meldpuntd starts"):
        bail("meldpuntd starts", server_log())

    def report(desc):
        st, ans = http("POST", "/api/v1/reports", {"description": desc})
        if st != 201:
            bail("POST /api/v1/reports -> 201", "%s %s" % (st, ans))
        st, lst = http("GET", "/api/v1/cases?limit=1", signed=True)
        if st != 200 or not lst.get("cases"):
            bail("GET /api/v1/cases (signed with an openssl key) -> 200", "%s %s" % (st, lst))
        return ans["token"], lst["cases"][0]["id"]

    tokA, idA = report("CANARY-PURGE-A: this report will be purged")
    st, _ = http("POST", "/api/v1/followup/messages",
                 {"token": tokA, "text": "CANARY-PURGE-A: the reporter writes"})
    ok(st == 201, "the reporter of A adds a message")
    tokB, idB = report("CANARY-PURGE-B: this report stays open")
    moves = [("intake", None), ("registration_only", None), ("closed", "registration_only")]
    for status, closure in moves:
        body = {"status": status}
        if closure:
            body["closure"] = closure
        st, ans = http("POST", "/api/v1/cases/%s/status" % idA, body, signed=True)
        if st != 200:
            bail("case A moves to %s" % status, "%s %s" % (st, ans))
    st, caseA = http("GET", "/api/v1/cases/" + idA, signed=True)
    ok(st == 200 and isinstance(caseA, dict) and caseA.get("status") == "closed",
       "case A is closed", "%s %s" % (st, caseA))
    st2, caseB = http("GET", "/api/v1/cases/" + idB, signed=True)
    try:
        canA = {"A's report nonce": caseA["report"]["nonce"],
                "A's report sealed key": caseA["report"]["recipients"][0]["sealed"],
                "A's message nonce": caseA["messages"][0]["envelope"]["nonce"]}
        canB = {"B's report nonce": caseB["report"]["nonce"]}
    except (KeyError, IndexError, TypeError) as e:
        bail("GET /api/v1/cases/{id} shows the envelopes", "%r" % e, caseA, caseB)
    ok(all(len(v) >= 32 for v in list(canA.values()) + list(canB.values())),
       "the canaries are the b64u nonces and a sealed key from GET /api/v1/cases/{id}")
    rc = stop()
    ok(rc == 0, "meldpuntd stops (SIGTERM, exit 0)", "exit %s" % rc)

    # --- before the purge: the scan works and finds the canaries ---------------------------
    raw = open(DB, "rb").read()
    ok(b"CREATE TABLE" not in raw and canA["A's report nonce"].encode() not in raw,
       "the raw database file shows neither schema nor canary (it is encrypted)")
    psize, plain, walbytes = scan()
    ok(psize is not None, "page 1 decrypts to an SQLite header (page size %s, %d reserved bytes)"
       % (psize, RESERVE), "the decryption does not work: is this SQLCipher 3 with a raw key?")
    text = b"\n".join(plain)
    ok(b"CREATE TABLE" in text, "the decrypted pages hold the schema (CREATE TABLE)")
    for label, c in list(canA.items()) + list(canB.items()):
        ok(c.encode() in text, "before the purge the decrypted database holds %s" % label)

    # --- 25 months on: A is gone from every page, B is still there --------------------------
    purge(months_ahead(25))
    psize, plain, walbytes = scan()
    text = b"\n".join(plain)
    ok(psize is not None and b"CREATE TABLE" in text,
       "after the purge the database still decrypts (header, schema)")
    ok(walbytes == 0, "after the purge no WAL frames are left (the WAL is checkpointed and "
       "truncated)", "%d bytes in %s-wal" % (walbytes, DB))
    for label, c in canA.items():
        ok(c.encode() not in text, "after the purge no page holds %s" % label)
    for label, c in canB.items():
        ok(c.encode() in text, "the open case's %s is still found (the scan still works)" % label)

    if ok(start(), "meldpuntd starts on the purged database"):
        st, f = http("POST", "/api/v1/followup", {"token": tokA})
        ok(st == 200 and isinstance(f, dict) and f.get("status") == "closed"
           and f.get("messages") == [], "A's token still answers: closed, no messages",
           "%s %s" % (st, f))
        st, f = http("POST", "/api/v1/followup", {"token": tokB})
        ok(st == 200 and isinstance(f, dict) and len(f.get("messages", [])) == 0
           and f.get("status") == "received", "B's token answers: received", "%s %s" % (st, f))
        ok(stop() == 0, "meldpuntd stops again")

    # --- 61 months on: B too ------------------------------------------------------------------
    purge(months_ahead(61))
    psize, plain, walbytes = scan()
    text = b"\n".join(plain)
    ok(psize is not None and b"CREATE TABLE" in text, "after the second purge the database "
       "still decrypts")
    for label, c in list(canA.items()) + list(canB.items()):
        ok(c.encode() not in text, "after the purge of open cases no page holds %s" % label)
    ok(walbytes == 0, "no WAL frames after the second purge", "%d bytes" % walbytes)
finally:
    stop()
sys.exit(1 if failed else 0)
EOF
