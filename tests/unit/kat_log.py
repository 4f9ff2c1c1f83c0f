#!/usr/bin/env python3
"""Known answers for tests/unit/test_log.c, computed without the C code.

Python 3 standard library only, plus the RFC 8032 Ed25519 and the output
helpers of kat.py next to this file (checked there against the RFCs'
vectors).  The Merkle tree here is RFC 9162's recursive definition written
out directly: MTH, PATH and PROOF/SUBPROOF of section 2.1, checked first
against the roots of the eight-leaf tree that RFC 6962 implementations use
in their tests.  The signed notes follow C2SP signed-note and tlog-checkpoint.

Regenerate:  python3 tests/unit/kat_log.py            prints the block;
             python3 tests/unit/kat_log.py --update   rewrites the block between
"BEGIN KAT" and "END KAT" in tests/unit/test_log.c in place.
The output is deterministic.
"""
import hashlib
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kat import b64, b64u, c_bytes, c_str, ed25519_pk, ed25519_sign, selftest  # noqa: E402


def sha256(b):
    return hashlib.sha256(b).digest()


def commit(salt, event):
    return hashlib.blake2b(event, digest_size=32, key=salt).digest()


# -- RFC 9162 section 2.1 -----------------------------------------------------

def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 0:
        return sha256(b"")
    if len(d) == 1:
        return sha256(b"\x00" + d[0])
    k = split(len(d))
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    if m == len(d):
        return [] if b else [mth(d)]
    k = split(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m, d):
    return subproof(m, d, True)


REF_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
REF_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def tree_selftest():
    selftest()
    d = [bytes.fromhex(x) for x in REF_LEAVES]
    for n in range(1, 9):
        assert mth(d[:n]).hex() == REF_ROOTS[n - 1], n
    assert mth([]).hex() == \
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # RFC 9162 2.1.5's example tree of seven leaves: the shapes of its proofs.
    d = d[:7]
    assert len(path(0, d)) == 3 and len(path(3, d)) == 3 and len(path(6, d)) == 2
    assert proof(3, d) == [mth([d[2]]), mth([d[3]]), mth(d[:2]), mth(d[4:])]
    assert proof(4, d) == [mth(d[4:])]
    assert proof(6, d) == [mth(d[4:6]), mth([d[6]]), mth(d[:4])]


# -- C2SP signed-note / tlog-checkpoint ---------------------------------------

SIG_PREFIX = "\u2014 "


def key_hash(name, pk):
    return sha256(name.encode() + b"\n" + b"\x01" + pk)[:4]


def verifier_text(name, pk):
    return "%s+%s+%s" % (name, key_hash(name, pk).hex(), b64(b"\x01" + pk))


def sig_line(name, seed, body):
    pk = ed25519_pk(seed)
    return SIG_PREFIX + name + " " + b64(key_hash(name, pk) + ed25519_sign(seed, body.encode())) + "\n"


def checkpoint_body(origin, size, root, ext=()):
    return "%s\n%d\n%s\n" % (origin, size, b64(root)) + "".join(e + "\n" for e in ext)


# -- output -------------------------------------------------------------------

def c_hashes(name, hashes):
    rows = []
    for h in hashes:
        b = ["0x%02x" % x for x in h]
        rows.append("\t{%s,\n\t    %s,\n\t    %s},"
                    % (", ".join(b[:11]), ", ".join(b[11:22]), ", ".join(b[22:])))
    if not rows:
        return "static const uint8_t %s[1][32] = {{0}};" % name
    return "static const uint8_t %s[%d][32] = {\n%s\n};" % (name, len(hashes), "\n".join(rows))


def c_text(name, s):
    """A C string that may hold UTF-8: non-ASCII bytes as octal escapes."""
    out = []
    for ch in s.encode():
        if ch == 0x0a:
            out.append("\\n")
        elif ch in (0x22, 0x5c):
            out.append("\\" + chr(ch))
        elif ch < 0x20 or ch >= 0x7f:
            out.append("\\%03o" % ch)
        else:
            out.append(chr(ch))
    return 'static const char %s[] = "%s";' % (name, "".join(out))


ORIGIN = "meldpunt.example/log"
SEED = bytes(range(0x70, 0x90))
WITNESS = "witness.example/w1"
WITNESS_SEED = bytes(range(0x90, 0xb0))
N_LEAVES = 20


def event(i):
    return ('{"v":1,"case":"kat-%d","seq":%d,"type":"created","month":"2026-11"}'
            % (i, i)).encode()


def salt(i):
    return bytes([i]) * 32


def main():
    tree_selftest()
    out = ["/* BEGIN KAT: generated by tests/unit/kat_log.py; do not edit by hand. */"]

    # Commitments: one spelled out, and the leaves of the test tree.
    s0 = bytes(range(32))
    e0 = event(0)
    out.append(c_bytes("KAT_COMMIT_SALT", s0))
    out.append(c_str("KAT_COMMIT_EVENT", e0.decode()))
    out.append(c_bytes("KAT_COMMIT", commit(s0, e0)))
    out.append(c_bytes("KAT_COMMIT_EMPTY", commit(s0, b"")))

    # The test tree: leaf i is the commitment to event(i) with salt(i).
    d = [commit(salt(i), event(i)) for i in range(N_LEAVES)]
    out.append("#define KAT_N_LEAVES %d" % N_LEAVES)
    out.append(c_hashes("KAT_LEAVES", d))
    out.append(c_hashes("KAT_LEAF_HASHES", [sha256(b"\x00" + x) for x in d]))
    out.append("/* KAT_ROOTS[n]: the root of the first n leaves, n = 0..%d. */" % N_LEAVES)
    out.append(c_hashes("KAT_ROOTS", [mth(d[:n]) for n in range(N_LEAVES + 1)]))

    # The eight-leaf reference tree, leaves as hex.
    out.append("static const char *const KAT_REF_LEAVES[8] = {\n%s\n};"
               % "\n".join('\t"%s",' % x for x in REF_LEAVES))
    out.append(c_hashes("KAT_REF_ROOTS", [bytes.fromhex(x) for x in REF_ROOTS]))

    # A few proofs spelled out.
    for (m, n) in ((0, 1), (5, 13), (12, 13), (16, 20), (7, 8)):
        p = path(m, d[:n])
        out.append("#define KAT_INC_%d_%d_LEN %d" % (m, n, len(p)))
        out.append(c_hashes("KAT_INC_%d_%d" % (m, n), p))
    for (m, n) in ((3, 7), (4, 8), (6, 13), (1, 20), (8, 20), (13, 13)):
        p = proof(m, d[:n])
        out.append("#define KAT_CONS_%d_%d_LEN %d" % (m, n, len(p)))
        out.append(c_hashes("KAT_CONS_%d_%d" % (m, n), p))

    # Signed checkpoints.
    pk = ed25519_pk(SEED)
    wpk = ed25519_pk(WITNESS_SEED)
    out.append(c_str("KAT_ORIGIN", ORIGIN))
    out.append(c_bytes("KAT_SEED", SEED))
    out.append(c_bytes("KAT_PK", pk))
    out.append(c_bytes("KAT_KEYHASH", key_hash(ORIGIN, pk)))
    out.append(c_str("KAT_VKEY", verifier_text(ORIGIN, pk)))
    out.append(c_str("KAT_WITNESS", WITNESS))
    out.append(c_bytes("KAT_WITNESS_SEED", WITNESS_SEED))
    out.append(c_str("KAT_WITNESS_VKEY", verifier_text(WITNESS, wpk)))

    body = checkpoint_body(ORIGIN, 13, mth(d[:13]))
    out.append(c_text("KAT_CHECKPOINT", body + "\n" + sig_line(ORIGIN, SEED, body)))
    # The same tree co-signed: the witness line first, then the log's.
    out.append(c_text("KAT_CHECKPOINT_COSIGNED", body + "\n" + sig_line(WITNESS, WITNESS_SEED, body)
                      + sig_line(ORIGIN, SEED, body)))
    # An extension line after the three checkpoint lines.
    ext = checkpoint_body(ORIGIN, 13, mth(d[:13]), ["meldpunt extension line"])
    out.append(c_text("KAT_CHECKPOINT_EXT", ext + "\n" + sig_line(ORIGIN, SEED, ext)))
    # The empty tree.
    body0 = checkpoint_body(ORIGIN, 0, mth([]))
    out.append(c_text("KAT_CHECKPOINT_EMPTY", body0 + "\n" + sig_line(ORIGIN, SEED, body0)))
    # Leading zero in the size, but a good signature over it.
    bodyz = "%s\n013\n%s\n" % (ORIGIN, b64(mth(d[:13])))
    out.append(c_text("KAT_CHECKPOINT_ZERO", bodyz + "\n" + sig_line(ORIGIN, SEED, bodyz)))
    # Another origin, signed by the same key under that name.
    bodyo = checkpoint_body("other.example/log", 13, mth(d[:13]))
    out.append(c_text("KAT_CHECKPOINT_OTHER_ORIGIN",
                      bodyo + "\n" + sig_line(ORIGIN, SEED, bodyo)))
    # A root one byte short of 32, and a size of 2^63.
    bodys = "%s\n13\n%s\n" % (ORIGIN, b64(mth(d[:13])[:31]))
    out.append(c_text("KAT_CHECKPOINT_SHORT_ROOT", bodys + "\n" + sig_line(ORIGIN, SEED, bodys)))
    bodyb = "%s\n%d\n%s\n" % (ORIGIN, 2**63, b64(mth(d[:13])))
    out.append(c_text("KAT_CHECKPOINT_BIG", bodyb + "\n" + sig_line(ORIGIN, SEED, bodyb)))
    bodym = "%s\n%d\n%s\n" % (ORIGIN, 2**63 - 1, b64(mth(d[:13])))
    out.append(c_text("KAT_CHECKPOINT_MAX", bodym + "\n" + sig_line(ORIGIN, SEED, bodym)))

    # Proof hashes as the HTTP API writes them.
    out.append(c_str("KAT_B64U_ROOT13", b64u(mth(d[:13]))))

    out.append("/* END KAT */")
    block = "\n".join(out)
    if sys.argv[1:] == ["--update"]:
        path_c = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_log.c")
        with open(path_c) as f:
            src = f.read()
        begin = src.index("/* BEGIN KAT")
        end = src.index("/* END KAT */") + len("/* END KAT */")
        with open(path_c, "w") as f:
            f.write(src[:begin] + block + src[end:])
    else:
        print(block)


if __name__ == "__main__":
    main()
