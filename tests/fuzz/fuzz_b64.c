/*
 * The base64 decoders: b64u without padding (ids, kids, keys, sealed keys,
 * proofs' hashes, events) and b64 with padding (signatures, checkpoints).
 * The first byte is the length an exact decoder wants (0 to 95), the rest
 * the text.  Never a byte read or written outside the buffers (each is
 * exactly as long as it says); the decoders are strict, so what decodes
 * encodes back to the very same text; the exact decoders agree with the
 * general one; and the b64u codec (meldpunt's own) accepts, refuses and
 * decodes exactly as libsodium's.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp_b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* bytes encodes to exactly text[0..len) (b64u when url, else b64). */
static void
same_text(const uint8_t *bytes, size_t n, const char *text, size_t len, int url)
{
	size_t cap = url ? MP_B64U_LEN(n) : MP_B64_LEN(n);
	char *again = malloc(cap);

	if (again == NULL)
		return;
	if ((url ? mp_b64u_encode(again, cap, bytes, n) : mp_b64_encode(again, cap, bytes, n)) !=
	        0 ||
	    strlen(again) != len || memcmp(again, text, len) != 0)
		__builtin_trap();
	/* One byte short of room is refused. */
	if ((url ? mp_b64u_encode(again, cap - 1, bytes, n)
	         : mp_b64_encode(again, cap - 1, bytes, n)) == 0)
		__builtin_trap();
	free(again);
}

static void
exact(const char *text, size_t len, size_t want, int url)
{
	uint8_t *out = malloc(want ? want : 1);
	int r;

	if (out == NULL)
		return;
	r = url ? mp_b64u_decode_exact(out, want, text, len)
	        : mp_b64_decode_exact(out, want, text, len);
	if (r == 0)
		same_text(out, want, text, len, url);
	free(out);
}

/* The b64u decoder and encoder against libsodium's (bytes from 0x80 up refused first). */
static void
as_libsodium(const char *text, size_t len)
{
	size_t max = len * 3 / 4 + 1, got = 0, rgot = 0, i;
	uint8_t *out = malloc(max), *ref = malloc(max);
	char *enc = malloc(MP_B64U_LEN(len)), *renc = malloc(MP_B64U_LEN(len));
	const char *end = NULL;
	int rc, rrc;

	if (out == NULL || ref == NULL || enc == NULL || renc == NULL)
		goto out;
	rc = mp_b64u_decode(out, max, &got, text, len);
	for (i = 0; i < len && (unsigned char)text[i] < 0x80; i++)
		;
	rrc = i < len ||
	        sodium_base642bin(ref, max, text, len, NULL, &rgot, &end,
	            sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	        end != text + len
	    ? -1
	    : 0;
	if (rc != rrc || (rc == 0 && (got != rgot || memcmp(out, ref, got) != 0)))
		__builtin_trap();
	/* The text's bytes as data: encoded alike. */
	sodium_bin2base64(renc, MP_B64U_LEN(len), (const uint8_t *)text, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (mp_b64u_encode(enc, MP_B64U_LEN(len), (const uint8_t *)text, len) != 0 ||
	    strcmp(enc, renc) != 0)
		__builtin_trap();
out:
	free(out);
	free(ref);
	free(enc);
	free(renc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t want, len, max, got = 0;
	uint8_t *out, *ex;
	char *text;

	if (size == 0)
		return 0;
	want = data[0] % 96;
	len = size - 1;
	/* A copy of exactly len bytes, no NUL after it: the decoders take a length. */
	if ((text = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(text, data + 1, len);
	exact(text, len, want, 1);
	exact(text, len, want, 0);
	/* The general decoder into a buffer of exactly the bytes len symbols can hold. */
	max = len * 3 / 4;
	if ((out = malloc(max ? max : 1)) != NULL) {
		if (mp_b64u_decode(out, max, &got, text, len) == 0) {
			if (got > max)
				__builtin_trap();
			same_text(out, got, text, len, 1);
			/* The exact decoder takes it for exactly its length. */
			if ((ex = malloc(got ? got : 1)) != NULL) {
				if (mp_b64u_decode_exact(ex, got, text, len) != 0 ||
				    memcmp(ex, out, got) != 0)
					__builtin_trap();
				free(ex);
			}
		}
		free(out);
	}
	as_libsodium(text, len);
	free(text);
	return 0;
}
