#!/usr/bin/env python3
"""Known answers for tests/unit/test_crypto.c, computed without the C code.

Python 3 standard library only.  Crockford base32, X25519 (RFC 7748) and
Ed25519 (RFC 8032) are written out here from the RFCs and checked against
the RFCs' own test vectors before anything is printed, so the answers do
not depend on libsodium or on crypto/*.c.

Regenerate:  python3 tests/unit/kat.py            prints the block;
             python3 tests/unit/kat.py --update   rewrites the block between
"BEGIN KAT" and "END KAT" in tests/unit/test_crypto.c in place.
The output is deterministic.
"""
import base64
import hashlib
import os
import sys

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


# -- PROTOCOL.md section 2: token text ---------------------------------------

def token_symbols(t):
    """27 symbol values: 128 bits and 2 zero bits as 26 symbols, then the check."""
    assert len(t) == 16
    n = int.from_bytes(t, "big") << 2  # 130 bits
    syms = [(n >> (5 * (25 - i))) & 31 for i in range(26)]
    syms.append(hashlib.blake2b(t, digest_size=32).digest()[0] & 31)
    return syms


def group(text):
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def token_text(t):
    return group("".join(ALPHABET[s] for s in token_symbols(t)))


def b2b(msg, size, key=b""):
    return hashlib.blake2b(msg, digest_size=size, key=key).digest()


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def b64(b):
    return base64.b64encode(b).decode()


# -- X25519, RFC 7748 section 5 -----------------------------------------------

P = 2**255 - 19


def x25519(k, u):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = int.from_bytes(k, "little")
    u = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    a24 = 121665
    for t in reversed(range(255)):
        kt = (k >> t) & 1
        swap ^= kt
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = kt
        A = (x2 + z2) % P
        AA = A * A % P
        B = (x2 - z2) % P
        BB = B * B % P
        E = (AA - BB) % P
        C = (x3 + z3) % P
        D = (x3 - z3) % P
        DA = D * A % P
        CB = C * B % P
        x3 = (DA + CB) ** 2 % P
        z3 = x1 * (DA - CB) ** 2 % P
        x2 = AA * BB % P
        z2 = E * (AA + a24 * E) % P
    if swap:
        x2, x3, z2, z3 = x3, x2, z3, z2
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def x25519_base(k):
    return x25519(k, (9).to_bytes(32, "little"))


# -- Ed25519, RFC 8032 section 6 ----------------------------------------------

Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(p1, p2):
    A = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P
    B = (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    C = 2 * p1[3] * p2[3] * D % P
    Dd = 2 * p1[2] * p2[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _recover_x(y, sign):
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        assert not sign
        return 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    assert (x * x - x2) % P == 0
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _compress(p):
    zinv = pow(p[2], P - 2, P)
    x, y = p[0] * zinv % P, p[1] * zinv % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_pk(seed):
    return _compress(_mul(_expand(seed)[0], G))


def ed25519_sign(seed, msg):
    a, prefix = _expand(seed)
    A = _compress(_mul(a, G))
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % Q
    R = _compress(_mul(r, G))
    k = int.from_bytes(hashlib.sha512(R + A + msg).digest(), "little") % Q
    s = (r + k * a) % Q
    return R + int.to_bytes(s, 32, "little")


def selftest():
    # RFC 7748 section 5.2 and 6.1.
    assert x25519(
        bytes.fromhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
        bytes.fromhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
    ).hex() == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
    assert x25519_base(
        bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    ).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    # RFC 8032 section 7.1, TEST 1 and TEST 2 (TEST 2 also matches OpenSSL).
    sk = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    assert ed25519_pk(sk).hex() == \
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert ed25519_sign(sk, b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    sk = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
    assert ed25519_sign(sk, bytes([0x72])).hex() == (
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
    # RFC 4648 section 10 and PROTOCOL.md's example digest (RFC 9530's body).
    assert b64(b"foobar") == "Zm9vYmFy"
    assert b64(hashlib.sha256(b'{"hello": "world"}').digest()) == \
        "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
    # The token text is the Crockford form of the 128 bits: cross-check with
    # the standard library's base32 (RFC 4648 alphabet, translated).
    t = bytes(range(16))
    rfc = base64.b32encode(t).decode().rstrip("=")
    trans = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)
    assert token_text(t).replace("-", "")[:26] == rfc.translate(trans)


# -- output -------------------------------------------------------------------

def c_bytes(name, b):
    body = ", ".join("0x%02x" % x for x in b)
    lines = []
    line = "\t"
    for item in body.split(", "):
        piece = item + ","
        if len(line) + len(piece) + 1 > 96:
            lines.append(line.rstrip())
            line = "\t"
        line += piece + " "
    lines.append(line.rstrip())
    return "static const uint8_t %s[%d] = {\n%s\n};" % (name, len(b), "\n".join(lines))


def c_str(name, s):
    esc = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return 'static const char %s[] = "%s";' % (name, esc)


def emit_token(out, label, t):
    text = token_text(t)
    syms = token_symbols(t)
    lookup = b2b(t, 32, key=b"meldpunt/v1/lookup")
    seed = b2b(t, 32, key=b"meldpunt/v1/reporter")
    rsk = hashlib.sha512(seed).digest()[:32]
    rpk = x25519_base(rsk)
    out.append(c_bytes("KAT_%s_T" % label, t))
    out.append(c_str("KAT_%s_TEXT" % label, text))
    out.append("#define KAT_%s_CHECK '%s' /* check symbol */" % (label, ALPHABET[syms[26]]))
    out.append(c_bytes("KAT_%s_LOOKUP" % label, lookup))
    out.append(c_bytes("KAT_%s_TAG" % label, b2b(lookup, 32, key=PEPPER)))
    if label == "SEQ":
        out.append(c_bytes("KAT_%s_SEED" % label, seed))
    else:
        out.append("/* reporter seed %s: %s */" % (label, seed.hex()))
    out.append(c_bytes("KAT_%s_REPORTER_SK" % label, rsk))
    out.append(c_bytes("KAT_%s_REPORTER_PK" % label, rpk))
    out.append(c_str("KAT_%s_REPORTER_KID" % label, b64u(b2b(rpk, 16))))
    return text


PEPPER = bytes(range(0xa0, 0xc0))


def main():
    selftest()
    out = ["/* BEGIN KAT: generated by tests/unit/kat.py; do not edit by hand. */"]

    # Tokens: 00..0f, ff*16 and one more.
    out.append(c_bytes("KAT_PEPPER", PEPPER))
    seq_text = emit_token(out, "SEQ", bytes(range(16)))
    emit_token(out, "FF", b"\xff" * 16)
    emit_token(out, "OTHER", hashlib.sha256(b"meldpunt kat token").digest()[:16])

    # Reading rules on a text that holds both 0s and 1s.
    assert "0" in seq_text and "1" in seq_text
    out.append(c_str("KAT_SEQ_LOWER", seq_text.lower()))
    out.append(c_str("KAT_SEQ_SPACES", seq_text.replace("-", " ")))
    out.append(c_str("KAT_SEQ_NODASH", seq_text.replace("-", "")))
    out.append(c_str("KAT_SEQ_PADDED", " " + seq_text.replace("-", "") + "  "))
    p = seq_text.replace("-", "")
    out.append(c_str("KAT_SEQ_ODD_DASHES", "-".join([p[:3], p[3:6], p[6:19], p[19:26], p[26:]])))
    ones = iter("IL" * 27)
    look = "".join(next(ones) if c == "1" else ("O" if c == "0" else c) for c in seq_text)
    assert "I" in look and "L" in look and "O" in look
    out.append(c_str("KAT_SEQ_LOOKALIKE", look))
    out.append(c_str("KAT_SEQ_LOOKALIKE_LOWER", look.lower()))

    # Rejects, all from the 00..0f token.
    plain = seq_text.replace("-", "")
    syms = token_symbols(bytes(range(16)))
    out.append(c_str("KAT_BAD_26", group(plain[:26])))
    out.append(c_str("KAT_BAD_28", group(plain + "0")))
    bad_check = plain[:26] + ALPHABET[(syms[26] + 1) % 32]
    out.append(c_str("KAT_BAD_CHECK", group(bad_check)))
    assert syms[25] & 3 == 0
    for bit in (1, 2):
        spare = plain[:25] + ALPHABET[syms[25] | bit] + plain[26]
        out.append(c_str("KAT_BAD_SPARE%d" % bit, group(spare)))
    out.append(c_str("KAT_BAD_U", group(plain[:5] + "U" + plain[6:])))
    out.append(c_str("KAT_BAD_STAR", group(plain[:5] + "*" + plain[6:])))

    # kid of a fixed box key.
    pk = bytes(range(0x20, 0x40))
    out.append(c_bytes("KAT_KID_PK", pk))
    out.append(c_str("KAT_KID", b64u(b2b(pk, 16))))

    # base64 and base64url.
    for i, raw in enumerate([b"", b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar",
                             b"\xfb\xff\xbf", b"\xfb\xff", bytes(range(256))[::7]]):
        out.append(c_bytes("KAT_B64_IN%d" % i, raw) if raw else
                   "static const uint8_t KAT_B64_IN%d[1] = {0};" % i)
        out.append("#define KAT_B64_IN%d_LEN %d" % (i, len(raw)))
        out.append(c_str("KAT_B64_STD%d" % i, b64(raw)))
        out.append(c_str("KAT_B64_URL%d" % i, b64u(raw)))
    out.append("#define KAT_B64_N 10")

    # Content-Digest.
    for label, body in (("HELLO", b'{"hello": "world"}'), ("EMPTY", b""),
                        ("STATUS", b'{"status":"closed"}')):
        out.append(c_str("KAT_BODY_%s" % label, body.decode()))
        out.append(c_str("KAT_DIGEST_%s" % label,
                         "sha-256=:%s:" % b64(hashlib.sha256(body).digest())))

    # Box keys from fixed seeds (crypto_box_seed_keypair): sk = SHA-512(seed)[:32].
    for i in range(4):
        seed = bytes([0x50 + i]) * 32
        sk = hashlib.sha512(seed).digest()[:32]
        pk = x25519_base(sk)
        out.append(c_bytes("KAT_BOX%d_SEED" % i, seed))
        out.append(c_bytes("KAT_BOX%d_PK" % i, pk))
        out.append(c_str("KAT_BOX%d_KID" % i, b64u(b2b(pk, 16))))

    # A request signed here and verified by the C code: PROTOCOL.md section 4's
    # example with a real key id.
    seed = bytes(range(0x60, 0x80))
    spk = ed25519_pk(seed)
    body = b'{"status":"closed"}'
    digest = "sha-256=:%s:" % b64(hashlib.sha256(body).digest())
    params = ('("@method" "@path" "@query" "content-digest");created=1732350000;'
              'nonce="q7ZxM1b0S2uD9kVf3mYw8g";keyid="%s";alg="ed25519"' % b64u(spk))
    base = "\n".join([
        '"@method": POST',
        '"@path": /api/v1/cases/3q2-7Gx0kQmHc1vZr9a8ZA/status',
        '"@query": ?',
        '"content-digest": %s' % digest,
        '"@signature-params": %s' % params,
    ])
    sig = ed25519_sign(seed, base.encode())
    out.append(c_bytes("KAT_SIGN_SEED", seed))
    out.append(c_bytes("KAT_SIGN_PK", spk))
    out.append(c_str("KAT_SIGN_KEYID", b64u(spk)))
    out.append(c_str("KAT_REQ_BODY", body.decode()))
    out.append(c_str("KAT_REQ_DIGEST", digest))
    out.append(c_str("KAT_REQ_SIG_INPUT", "sig1=" + params))
    out.append(c_str("KAT_REQ_SIG_B64", b64(sig)))
    out.append(c_str("KAT_REQ_SIGNATURE", "sig1=:%s:" % b64(sig)))
    out.append(c_str("KAT_REQ_BASE", base))

    # The same request without a body, signed here too.
    params = ('("@method" "@path" "@query");created=1732350000;'
              'nonce="AAAAAAAAAAAAAAAAAAAAAA";keyid="%s";alg="ed25519"' % b64u(spk))
    base = "\n".join([
        '"@method": GET',
        '"@path": /api/v1/cases',
        '"@query": ?status=open',
        '"@signature-params": %s' % params,
    ])
    sig = ed25519_sign(seed, base.encode())
    out.append(c_str("KAT_REQ2_SIG_INPUT", "sig1=" + params))
    out.append(c_str("KAT_REQ2_SIGNATURE", "sig1=:%s:" % b64(sig)))
    out.append(c_str("KAT_REQ2_BASE", base))

    out.append("/* END KAT */")
    block = "\n".join(out)
    if sys.argv[1:] == ["--update"]:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_crypto.c")
        with open(path) as f:
            src = f.read()
        begin = src.index("/* BEGIN KAT")
        end = src.index("/* END KAT */") + len("/* END KAT */")
        with open(path, "w") as f:
            f.write(src[:begin] + block + src[end:])
    else:
        print(block)


if __name__ == "__main__":
    main()
