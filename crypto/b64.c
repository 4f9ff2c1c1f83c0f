/* base64 encodings over libsodium's constant-time codecs. */
#include <sodium.h>
#include <string.h>

#include "mp_b64.h"

static int
encode(char *out, size_t outlen, const uint8_t *in, size_t inlen, int variant)
{
	if (outlen < sodium_base64_encoded_len(inlen, variant))
		return -1;
	sodium_bin2base64(out, outlen, in, inlen, variant);
	return 0;
}

int
mp_b64u_encode(char *out, size_t outlen, const uint8_t *in, size_t inlen)
{
	return encode(out, outlen, in, inlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
mp_b64_encode(char *out, size_t outlen, const uint8_t *in, size_t inlen)
{
	return encode(out, outlen, in, inlen, sodium_base64_VARIANT_ORIGINAL);
}

static int
decode(uint8_t *out, size_t outmax, size_t *outlen, const char *text, size_t textlen, int variant)
{
	const char *end = NULL;
	size_t i;

	/* libsodium 1.0.18 reads any byte from 0x80 up as '/': only ASCII is base64. */
	for (i = 0; i < textlen; i++)
		if ((unsigned char)text[i] >= 0x80)
			return -1;
	if (sodium_base642bin(out, outmax, text, textlen, NULL, outlen, &end, variant) != 0)
		return -1;
	if (end != text + textlen)
		return -1;
	return 0;
}

int
mp_b64u_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *text, size_t textlen)
{
	return decode(out, outmax, outlen, text, textlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
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
	size_t got = 0;

	if (textlen != MP_B64_LEN(want) - 1)
		return -1;
	if (decode(out, want, &got, text, textlen, sodium_base64_VARIANT_ORIGINAL) != 0 || got != want)
		return -1;
	return 0;
}
