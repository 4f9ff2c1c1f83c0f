/*
 * C2SP signed notes and tlog checkpoints (PROTOCOL.md section 5).
 *
 * What a note may be follows golang.org/x/mod/sumdb/note, so that the
 * notes the server signs open there too and auditors' tools agree with
 * this code: UTF-8 without control characters other than newline, a blank
 * line before the signature block, at most 100 signature lines, and
 * signature lines by unknown keys ignored.  Where Go is lenient this code
 * is not: base64 must be canonical, the tree size must be canonical
 * decimal below 2^63, and every line by the verifier's key must verify.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_note.h"

#define SIG_PREFIX "\xe2\x80\x94 " /* U+2014 EM DASH, then a space */
#define SIG_PREFIX_LEN 4
#define SIGS_MAX 100
#define ALG_ED25519 0x01
#define KEYHASH_LEN 4
#define SIG_LEN crypto_sign_BYTES
#define SIZE_MAX_DIGITS 19 /* INT64_MAX has 19 digits */
#define TREE_SIZE_MAX ((uint64_t)INT64_MAX)

/* An origin this module writes or trusts: printable ASCII, no space, no '+'. */
static int
origin_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > MP_ORIGIN_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '+')
			return 0;
	return 1;
}

/* SHA-256(name || "\n" || 0x01 || pk)[0:4]. */
static void
key_hash(uint8_t out[KEYHASH_LEN], const char *name, size_t namelen, const uint8_t pk[32])
{
	crypto_hash_sha256_state st;
	uint8_t digest[crypto_hash_sha256_BYTES];
	const uint8_t alg = ALG_ED25519;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, namelen);
	crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
	crypto_hash_sha256_update(&st, &alg, 1);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, digest);
	memcpy(out, digest, KEYHASH_LEN);
}

/*
 * Decode one UTF-8 sequence at p[0..len) as Go's utf8.DecodeRune accepts it
 * (no overlong forms, no surrogates, nothing above U+10FFFF).  Its length,
 * or 0 when it is not valid.
 */
static size_t
utf8_next(const uint8_t *p, size_t len, uint32_t *cp)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		*cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		*cp = p[0] & 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		*cp = p[0] & 0x07;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	/* Only the second byte's range depends on the first. */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	return n;
}

/* Text a note may hold: valid UTF-8, no control character but newline. */
static int
text_ok(const uint8_t *p, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_next(p + i, len - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 && cp != '\n')
			return 0;
		i += n;
	}
	return 1;
}

/* Go's unicode.IsSpace, which a key name must not contain. */
static int
is_space(uint32_t cp)
{
	switch (cp) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xa0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x3000:
		return 1;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

/* A key name in a signature line, which text_ok has already seen. */
static int
name_ok(const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	if (len == 0)
		return 0;
	while (i < len) {
		if ((n = utf8_next((const uint8_t *)s + i, len - i, &cp)) == 0)
			return 0;
		if (cp == '+' || is_space(cp))
			return 0;
		i += n;
	}
	return 1;
}

int
mp_note_verifier_text(char *out, size_t outlen, const char *origin, const uint8_t pk[32])
{
	uint8_t kh[KEYHASH_LEN], key[1 + 32];
	char b64[MP_B64_LEN(sizeof key)];
	size_t olen;
	int n, rc = -1;

	if (out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	if (origin == NULL || pk == NULL)
		goto out;
	olen = strlen(origin);
	if (!origin_ok(origin, olen))
		goto out;
	key_hash(kh, origin, olen, pk);
	key[0] = ALG_ED25519;
	memcpy(key + 1, pk, 32);
	if (mp_b64_encode(b64, sizeof b64, key, sizeof key) != 0)
		goto out;
	n = snprintf(
	    out, outlen, "%s+%02x%02x%02x%02x+%s", origin, kh[0], kh[1], kh[2], kh[3], b64);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/*
 * libsodium 1.0.18's base64 decoder takes every byte from 0x80 up for '/',
 * so text is checked to be ASCII first: otherwise one signed value would
 * have many spellings, and a root line that is not base64 would pass.
 */
static int
ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

int
mp_note_verifier_parse(struct mp_verifier *v, const char *text)
{
	const char *plus, *hex, *key64, *end = NULL;
	uint8_t key[1 + 32], kh[KEYHASH_LEN], want[KEYHASH_LEN];
	size_t namelen, got = 0;
	int rc = -1;

	memset(v, 0, sizeof *v);
	/* <name>+<8 hex digits>+<base64>; the base64 may itself hold '+'. */
	if ((plus = strchr(text, '+')) == NULL)
		goto out;
	namelen = (size_t)(plus - text);
	if (!origin_ok(text, namelen))
		goto out;
	hex = plus + 1;
	/* Either case, as Go's note package reads it; decoding stops at the '+'. */
	if (sodium_hex2bin(
	        kh, sizeof kh, hex, strnlen(hex, 2 * KEYHASH_LEN + 1), NULL, &got, &end) != 0 ||
	    got != KEYHASH_LEN || end != hex + 2 * KEYHASH_LEN || *end != '+')
		goto out;
	key64 = hex + 2 * KEYHASH_LEN + 1;
	if (!ascii(key64, strlen(key64)) ||
	    mp_b64_decode_exact(key, sizeof key, key64, strlen(key64)) != 0)
		goto out;
	if (key[0] != ALG_ED25519)
		goto out;
	key_hash(want, text, namelen, key + 1);
	if (memcmp(kh, want, KEYHASH_LEN) != 0)
		goto out;
	memcpy(v->origin, text, namelen);
	v->origin[namelen] = '\0';
	memcpy(v->keyhash, kh, KEYHASH_LEN);
	memcpy(v->pk, key + 1, 32);
	rc = 0;
out:
	if (rc != 0)
		memset(v, 0, sizeof *v);
	return rc;
}

int
mp_checkpoint_sign(
    char **out, const char *origin, uint64_t size, const uint8_t root[32], const uint8_t sk[64])
{
	/* origin, 19 digits, 44 base64 characters and three newlines. */
	char body[MP_ORIGIN_MAX + SIZE_MAX_DIGITS + 44 + 3 + 1];
	char rootb64[MP_B64_LEN(32)], sigb64[MP_B64_LEN(KEYHASH_LEN + SIG_LEN)];
	uint8_t sig[KEYHASH_LEN + SIG_LEN];
	char *text = NULL;
	size_t olen, bodylen, textlen;
	int n, rc = -1;

	if (out == NULL)
		return -1;
	*out = NULL;
	if (origin == NULL || root == NULL || sk == NULL)
		goto out;
	olen = strlen(origin);
	if (!origin_ok(origin, olen) || size > TREE_SIZE_MAX)
		goto out;
	if (mp_b64_encode(rootb64, sizeof rootb64, root, 32) != 0)
		goto out;
	n = snprintf(
	    body, sizeof body, "%s\n%llu\n%s\n", origin, (unsigned long long)size, rootb64);
	if (n < 0 || (size_t)n >= sizeof body)
		goto out;
	bodylen = (size_t)n;
	/* libsodium's secret key is seed || public key. */
	key_hash(sig, origin, olen, sk + 32);
	if (crypto_sign_detached(sig + KEYHASH_LEN, NULL, (const uint8_t *)body, bodylen, sk) != 0)
		goto out;
	if (mp_b64_encode(sigb64, sizeof sigb64, sig, sizeof sig) != 0)
		goto out;
	textlen = bodylen + 1 + SIG_PREFIX_LEN + olen + 1 + strlen(sigb64) + 1;
	if ((text = malloc(textlen + 1)) == NULL)
		goto out;
	n = snprintf(text, textlen + 1, "%s\n" SIG_PREFIX "%s %s\n", body, origin, sigb64);
	if (n < 0 || (size_t)n != textlen)
		goto out;
	*out = text;
	text = NULL;
	rc = 0;
out:
	free(text);
	return rc;
}

/*
 * Decode standard base64 four characters at a time, so that a signature
 * of any length needs no buffer: the first keepmax bytes go to keep and
 * the decoded length to *total.  0, or -1 unless it is canonical.
 */
static int
b64_scan(const char *s, size_t len, uint8_t *keep, size_t keepmax, size_t *total)
{
	uint8_t group[3];
	size_t i, glen, j;

	*total = 0;
	if (len == 0 || len % 4 != 0 || !ascii(s, len))
		return -1;
	for (i = 0; i < len; i += 4) {
		glen = 3;
		/* Padding can only end the last group; elsewhere decoding fails. */
		if (i + 4 == len && s[i + 3] == '=')
			glen = s[i + 2] == '=' ? 1 : 2;
		if (mp_b64_decode_exact(group, glen, s + i, 4) != 0)
			return -1;
		for (j = 0; j < glen; j++, (*total)++)
			if (*total < keepmax)
				keep[*total] = group[j];
	}
	return 0;
}

/* Canonical decimal without leading zeros, at most TREE_SIZE_MAX. */
static int
parse_size(const char *s, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > SIZE_MAX_DIGITS || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	/* 19 digits fit in 64 bits, so only the range is left to check. */
	if (n > TREE_SIZE_MAX)
		return -1;
	*out = n;
	return 0;
}

int
mp_checkpoint_open(const char *text, size_t len, const struct mp_verifier *v, uint64_t *size,
    uint8_t root[32], char *why, size_t whylen)
{
	const char *body, *sigs, *end, *line, *eol, *sp, *sep, *msg;
	uint8_t sig[KEYHASH_LEN + SIG_LEN], r[32];
	size_t bodylen, olen, nsigs = 0, total;
	uint64_t n;
	int good = 0, rc = -1;

	msg = "missing argument";
	if (text == NULL || v == NULL || size == NULL || root == NULL)
		goto out;
	olen = strnlen(v->origin, sizeof v->origin);
	msg = "not UTF-8 text without control characters";
	if (!text_ok((const uint8_t *)text, len))
		goto out;
	/* The body holds no blank line, so the first one ends it. */
	msg = "no blank line before the signatures";
	if ((sep = memmem(text, len, "\n\n", 2)) == NULL)
		goto out;
	body = text;
	bodylen = (size_t)(sep - text) + 1;
	sigs = sep + 2;
	end = text + len;
	msg = "signature block empty or not ending in a newline";
	if (sigs == end || end[-1] != '\n')
		goto out;

	/* The last byte is a newline, so every line finds its end. */
	for (line = sigs; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		msg = "more than 100 signature lines";
		if (++nsigs > SIGS_MAX)
			goto out;
		msg = "signature line without its em dash prefix";
		if ((size_t)(eol - line) < SIG_PREFIX_LEN ||
		    memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
			goto out;
		line += SIG_PREFIX_LEN;
		msg = "signature line without a valid key name";
		if ((sp = memchr(line, ' ', (size_t)(eol - line))) == NULL ||
		    !name_ok(line, (size_t)(sp - line)))
			goto out;
		msg = "signature line without valid base64";
		if (b64_scan(sp + 1, (size_t)(eol - sp - 1), sig, sizeof sig, &total) != 0 ||
		    total < KEYHASH_LEN + 1)
			goto out;
		if ((size_t)(sp - line) != olen || memcmp(line, v->origin, olen) != 0 ||
		    memcmp(sig, v->keyhash, KEYHASH_LEN) != 0)
			continue; /* another signer's; C2SP says to ignore it */
		msg = "bad signature by the verifier's key";
		if (total != sizeof sig ||
		    crypto_sign_verify_detached(
		        sig + KEYHASH_LEN, (const uint8_t *)body, bodylen, v->pk) != 0)
			goto out;
		good = 1;
	}
	msg = "no signature by the verifier's key";
	if (!good)
		goto out;

	/* The signed body: origin, tree size, root hash, then extension lines. */
	line = body;
	eol = memchr(line, '\n', bodylen);
	msg = "origin line is not the verifier's origin";
	if ((size_t)(eol - line) != olen || memcmp(line, v->origin, olen) != 0)
		goto out;
	line = eol + 1;
	msg = "bad tree size line";
	if ((eol = memchr(line, '\n', (size_t)(body + bodylen - line))) == NULL ||
	    parse_size(line, (size_t)(eol - line), &n) != 0)
		goto out;
	line = eol + 1;
	msg = "bad root hash line";
	if ((eol = memchr(line, '\n', (size_t)(body + bodylen - line))) == NULL ||
	    !ascii(line, (size_t)(eol - line)) ||
	    mp_b64_decode_exact(r, sizeof r, line, (size_t)(eol - line)) != 0)
		goto out;
	*size = n;
	memcpy(root, r, sizeof r);
	msg = "";
	rc = 0;
out:
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return rc;
}
