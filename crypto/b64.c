/*
 * base64 encodings.  b64u (no padding), which every envelope, key and id
 * is written in, is coded here in constant time and a block of four
 * symbols at a time: no branch and no table look-up depends on a byte of
 * the data, only on its length.  b64 with padding (signed notes, HTTP
 * signature headers) goes through libsodium's constant-time codec.
 */
#include <limits.h>
#include <sodium.h>

#include "mp_b64.h"

/* -1 (all bits) when lo <= c <= hi, else 0; c, lo and hi in 0..255 (an arithmetic shift). */
#define IN_RANGE(c, lo, hi) ((((lo)-1 - (c)) & ((c) - (hi)-1)) >> 8)

/* The value 0..63 of a b64u symbol, or -1 for any other byte. */
static int
b64u_value(int c)
{
	return -1 + (IN_RANGE(c, 'A', 'Z') & (c - 'A' + 1)) +
	    (IN_RANGE(c, 'a', 'z') & (c - 'a' + 27)) + (IN_RANGE(c, '0', '9') & (c - '0' + 53)) +
	    (IN_RANGE(c, '-', '-') & 63) + (IN_RANGE(c, '_', '_') & 64);
}

/* *v the value of symbol c (0 for no symbol); the result is negative for no symbol. */
static int
symbol(unsigned *v, unsigned char c)
{
	int x = b64u_value(c);

	*v = (unsigned)x & 63;
	return x;
}

/* The b64u symbol of v, 0..63. */
static char
b64u_symbol(int v)
{
	int c = v + 'A';

	c += (25 - v) >> 8 & ('a' - 'A' - 26);
	c -= (51 - v) >> 8 & ('a' - 26 + 52 - '0');
	c -= (61 - v) >> 8 & ('9' + 1 - '-');
	c += (62 - v) >> 8 & ('_' - '-' - 1);
	return (char)c;
}

int
mp_b64u_encode(char *out, size_t outlen, const uint8_t *in, size_t inlen)
{
	size_t i, o = 0;
	unsigned w;

	if (inlen > SIZE_MAX / 4 - 1 || outlen < MP_B64U_LEN(inlen))
		return -1;
	for (i = 0; i + 3 <= inlen; i += 3) {
		w = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64u_symbol(w >> 18);
		out[o++] = b64u_symbol(w >> 12 & 63);
		out[o++] = b64u_symbol(w >> 6 & 63);
		out[o++] = b64u_symbol(w & 63);
	}
	if (inlen - i == 1) {
		out[o++] = b64u_symbol(in[i] >> 2);
		out[o++] = b64u_symbol((in[i] & 3) << 4);
	} else if (inlen - i == 2) {
		w = (unsigned)in[i] << 8 | in[i + 1];
		out[o++] = b64u_symbol(w >> 10);
		out[o++] = b64u_symbol(w >> 4 & 63);
		out[o++] = b64u_symbol((w & 15) << 2);
	}
	out[o] = '\0';
	return 0;
}

int
mp_b64_encode(char *out, size_t outlen, const uint8_t *in, size_t inlen)
{
	if (outlen < sodium_base64_encoded_len(inlen, sodium_base64_VARIANT_ORIGINAL))
		return -1;
	sodium_bin2base64(out, outlen, in, inlen, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int
mp_b64u_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *text, size_t textlen)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t i, o = 0, rest = textlen % 4;
	unsigned a, b, c, d;
	int bad = 0;

	/* One symbol more than a whole block carries no byte: no encoder writes it. */
	if (rest == 1 || textlen / 4 * 3 + (rest ? rest - 1 : 0) > outmax)
		return -1;
	for (i = 0; i + 4 <= textlen; i += 4) {
		bad |= symbol(&a, t[i]) | symbol(&b, t[i + 1]) | symbol(&c, t[i + 2]) |
		    symbol(&d, t[i + 3]);
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
		out[o++] = (uint8_t)(c << 6 | d);
	}
	/* A last symbol's unused bits are zero: one text for every byte string. */
	if (rest == 2) {
		bad |= symbol(&a, t[i]) | symbol(&b, t[i + 1]) | -(int)(b & 15);
		out[o++] = (uint8_t)(a << 2 | b >> 4);
	} else if (rest == 3) {
		bad |= symbol(&a, t[i]) | symbol(&b, t[i + 1]) | symbol(&c, t[i + 2]) |
		    -(int)(c & 3);
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	if (bad < 0)
		return -1;
	*outlen = o;
	return 0;
}

int
mp_b64u_decode_exact(uint8_t *out, size_t want, const char *text, size_t textlen)
{
	size_t got = 0;

	/* A longer text could only decode into more bytes than wanted. */
	if (textlen != MP_B64U_LEN(want) - 1)
		return -1;
	if (mp_b64u_decode(out, want, &got, text, textlen) != 0 || got != want)
		return -1;
	return 0;
}

int
mp_b64_decode_exact(uint8_t *out, size_t want, const char *text, size_t textlen)
{
	const char *end = NULL;
	size_t got = 0, i;

	if (textlen != MP_B64_LEN(want) - 1)
		return -1;
	/* libsodium 1.0.18 reads any byte from 0x80 up as '/': only ASCII is base64. */
	for (i = 0; i < textlen; i++)
		if ((unsigned char)text[i] >= 0x80)
			return -1;
	if (sodium_base642bin(
	        out, want, text, textlen, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != text + textlen || got != want)
		return -1;
	return 0;
}
