/* Follow-up tokens: Crockford base32 text form and derivations (PROTOCOL.md section 2). */
#include <sodium.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_token.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static const char lookup_key[] = "meldpunt/v1/lookup";
static const char reporter_key[] = "meldpunt/v1/reporter";

void
mp_token_new(uint8_t t[MP_TOKEN_BYTES])
{
	randombytes_buf(t, MP_TOKEN_BYTES);
}

static uint8_t
check_symbol(const uint8_t t[MP_TOKEN_BYTES])
{
	uint8_t h[32];
	uint8_t c;

	crypto_generichash(h, sizeof h, t, MP_TOKEN_BYTES, NULL, 0);
	c = h[0] & 31;
	sodium_memzero(h, sizeof h);
	return c;
}

/* The 27 symbol values: 26 carry the 128 bits (the last 3 bits and 2 zero bits), then the check. */
static void
to_symbols(uint8_t sym[MP_TOKEN_SYMBOLS], const uint8_t t[MP_TOKEN_BYTES])
{
	unsigned acc = 0, bits = 0;
	size_t i, n = 0;

	for (i = 0; i < MP_TOKEN_BYTES; i++) {
		acc = (acc << 8) | t[i];
		bits += 8;
		while (bits >= 5) {
			sym[n++] = (acc >> (bits - 5)) & 31;
			bits -= 5;
		}
	}
	sym[n++] = (acc << (5 - bits)) & 31; /* 3 bits left, 2 spare zero bits */
	sym[n] = check_symbol(t);
	sodium_memzero(&acc, sizeof acc);
}

void
mp_token_format(char out[MP_TOKEN_TEXT_LEN + 1], const uint8_t t[MP_TOKEN_BYTES])
{
	uint8_t sym[MP_TOKEN_SYMBOLS];
	size_t i, o = 0;

	to_symbols(sym, t);
	for (i = 0; i < MP_TOKEN_SYMBOLS; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[sym[i]];
	}
	out[o] = '\0';
	sodium_memzero(sym, sizeof sym);
}

/* Symbol value of c after the reading rules, or -1. */
static int
symbol_value(char c)
{
	const char *p;

	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int)(p - alphabet) : -1;
}

int
mp_token_parse(uint8_t t[MP_TOKEN_BYTES], const char *text, size_t len)
{
	uint8_t sym[MP_TOKEN_SYMBOLS];
	unsigned acc = 0, bits = 0;
	size_t i, n = 0, o = 0;
	int v, rc = -1;

	for (i = 0; i < len; i++) {
		if (text[i] == '-' || text[i] == ' ')
			continue;
		if (n == MP_TOKEN_SYMBOLS || (v = symbol_value(text[i])) < 0)
			goto out;
		sym[n++] = (uint8_t)v;
	}
	if (n != MP_TOKEN_SYMBOLS)
		goto out;
	for (i = 0; i < MP_TOKEN_SYMBOLS - 1; i++) {
		acc = (acc << 5) | sym[i];
		bits += 5;
		if (bits >= 8 && o < MP_TOKEN_BYTES) {
			t[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= (1u << bits) - 1;
	}
	/* 26 symbols give 130 bits: 128 and 2 spare bits that must be zero. */
	if (o != MP_TOKEN_BYTES || bits != 2 || acc != 0)
		goto out;
	if (check_symbol(t) != sym[MP_TOKEN_SYMBOLS - 1])
		goto out;
	rc = 0;
out:
	if (rc != 0)
		sodium_memzero(t, MP_TOKEN_BYTES);
	sodium_memzero(sym, sizeof sym);
	sodium_memzero(&acc, sizeof acc);
	return rc;
}

void
mp_token_lookup(uint8_t lookup[32], const uint8_t t[MP_TOKEN_BYTES])
{
	crypto_generichash(
	    lookup, 32, t, MP_TOKEN_BYTES, (const uint8_t *)lookup_key, sizeof lookup_key - 1);
}

void
mp_token_tag(uint8_t tag[32], const uint8_t pepper[32], const uint8_t lookup[32])
{
	crypto_generichash(tag, 32, lookup, 32, pepper, 32);
}

int
mp_token_reporter_keypair(uint8_t pk[32], uint8_t sk[32], const uint8_t t[MP_TOKEN_BYTES])
{
	uint8_t seed[32];
	int rc;

	crypto_generichash(seed, sizeof seed, t, MP_TOKEN_BYTES, (const uint8_t *)reporter_key,
	    sizeof reporter_key - 1);
	rc = crypto_box_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof seed);
	return rc == 0 ? 0 : -1;
}

void
mp_kid(char out[MP_KID_TEXT_LEN + 1], const uint8_t box_pk[32])
{
	uint8_t h[MP_KID_BYTES];

	crypto_generichash(h, sizeof h, box_pk, 32, NULL, 0);
	if (mp_b64u_encode(out, MP_KID_TEXT_LEN + 1, h, sizeof h) != 0)
		out[0] = '\0';
}
