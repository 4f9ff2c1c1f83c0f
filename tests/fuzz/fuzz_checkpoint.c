/*
 * Signed checkpoints, verifier keys and proofs of the transparency log.
 *
 * Each input is used four ways:
 *   1. opened as a signed checkpoint, as is;
 *   2. its text up to the first blank line, signed with this harness's key,
 *      opened again, so that the body parser sees inputs a fuzzer could
 *      never sign; whatever opens with exactly three body lines must be
 *      what mp_checkpoint_sign writes for its size and root;
 *   3. parsed as verifier key text (up to its first NUL); whatever parses
 *      must come back equal from mp_note_verifier_text;
 *   4. read as index and size (8 bytes each, little-endian) and hashes,
 *      and given to both proof verifiers, which must not accept a proof
 *      longer than MP_PROOF_MAX nor sizes out of range.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_merkle.h"
#include "mp_note.h"

#define ORIGIN "meldpunt.example/log"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pk[32], sk[64];
static struct mp_verifier verifier;

static void
setup(void)
{
	static int done;
	uint8_t seed[32];
	char text[512];
	size_t i;

	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	/* kat_log.py's seed, so that its checkpoints in the seed corpus open. */
	for (i = 0; i < sizeof seed; i++)
		seed[i] = (uint8_t)(0x70 + i);
	crypto_sign_seed_keypair(pk, sk, seed);
	if (mp_note_verifier_text(text, sizeof text, ORIGIN, pk) != 0 ||
	    mp_note_verifier_parse(&verifier, text) != 0)
		abort();
	done = 1;
}

/* body (which ends in a newline) as a note signed by the harness key, or NULL. */
static char *
sign_body(const char *body, size_t bodylen, size_t *outlen)
{
	uint8_t sig[4 + 64];
	char b64[MP_B64_LEN(sizeof sig)], *out;
	size_t b64len, len;

	memcpy(sig, verifier.keyhash, 4);
	crypto_sign_detached(sig + 4, NULL, (const uint8_t *)body, bodylen, sk);
	if (mp_b64_encode(b64, sizeof b64, sig, sizeof sig) != 0)
		abort();
	b64len = strlen(b64);
	len = bodylen + 1 + 4 + strlen(ORIGIN) + 1 + b64len + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	memcpy(out, body, bodylen);
	memcpy(out + bodylen, "\n\xe2\x80\x94 " ORIGIN " ", 6 + strlen(ORIGIN));
	memcpy(out + bodylen + 6 + strlen(ORIGIN), b64, b64len);
	out[len - 1] = '\n';
	*outlen = len;
	return out;
}

static void
fuzz_signed_body(const uint8_t *data, size_t size)
{
	const uint8_t *blank;
	char *note = NULL, *again = NULL, why[128];
	uint8_t root[32];
	uint64_t treesize;
	size_t bodylen, notelen, lines = 0, i;

	blank = memmem(data, size, "\n\n", 2);
	bodylen = blank != NULL ? (size_t)(blank - data) + 1 : size;
	if (bodylen == 0 || data[bodylen - 1] != '\n')
		return;
	if ((note = sign_body((const char *)data, bodylen, &notelen)) == NULL)
		return;
	if (mp_checkpoint_open(note, notelen, &verifier, &treesize, root, why, sizeof why) == 0) {
		for (i = 0; i < bodylen; i++)
			lines += data[i] == '\n';
		if (lines == 3) {
			if (mp_checkpoint_sign(&again, ORIGIN, treesize, root, sk) != 0 ||
			    strlen(again) != notelen || memcmp(again, note, notelen) != 0)
				__builtin_trap();
		}
	}
	free(again);
	free(note);
}

static void
fuzz_verifier(const uint8_t *data, size_t size)
{
	struct mp_verifier v, v2;
	char *text, again[512];

	if ((text = malloc(size + 1)) == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mp_note_verifier_parse(&v, text) == 0) {
		if (mp_note_verifier_text(again, sizeof again, v.origin, v.pk) != 0 ||
		    mp_note_verifier_parse(&v2, again) != 0 || memcmp(&v, &v2, sizeof v) != 0)
			__builtin_trap();
	}
	free(text);
}

static uint64_t
le64(const uint8_t *p)
{
	uint64_t x = 0;
	int i;

	for (i = 7; i >= 0; i--)
		x = (x << 8) | p[i];
	return x;
}

/*
 * index and size, then the leaf hash (or the old root), the proof, and the
 * root, so that a real proof in the seeds verifies.
 */
static void
fuzz_proofs(const uint8_t *data, size_t size)
{
	uint8_t(*proof)[MP_HASH_LEN] = NULL, a[MP_HASH_LEN], b[MP_HASH_LEN];
	uint64_t index, n;
	size_t hashes, len, i;
	int inc, cons;

	if (size < 16 + 2 * MP_HASH_LEN)
		return;
	index = le64(data);
	n = le64(data + 8);
	hashes = (size - 16) / MP_HASH_LEN;
	memcpy(a, data + 16, MP_HASH_LEN);
	memcpy(b, data + 16 + (hashes - 1) * MP_HASH_LEN, MP_HASH_LEN);
	len = hashes - 2;
	if (len > MP_PROOF_MAX + 1)
		len = MP_PROOF_MAX + 1;
	/* Exactly len hashes on the heap, so that reading one more is caught. */
	if (len > 0 && (proof = malloc(len * MP_HASH_LEN)) == NULL)
		return;
	for (i = 0; i < len; i++)
		memcpy(proof[i], data + 16 + (i + 1) * MP_HASH_LEN, MP_HASH_LEN);
	inc = mp_merkle_verify_inclusion(index, n, a, (const uint8_t(*)[MP_HASH_LEN])proof, len, b);
	cons = mp_merkle_verify_consistency(
	    index, n, a, b, (const uint8_t(*)[MP_HASH_LEN])proof, len);
	if (inc == 0 && (index >= n || len > MP_PROOF_MAX))
		__builtin_trap();
	if (cons == 0 && (index == 0 || index > n || len > MP_PROOF_MAX))
		__builtin_trap();
	free(proof);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t root[32];
	uint64_t treesize;
	char why[128];
	char *copy;

	setup();
	/* A copy of exactly size bytes, so that reading past the end is caught. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (mp_checkpoint_open(copy, size, &verifier, &treesize, root, why, sizeof why) == 0 &&
	    treesize > (uint64_t)INT64_MAX)
		__builtin_trap();
	free(copy);
	fuzz_signed_body(data, size);
	fuzz_verifier(data, size);
	fuzz_proofs(data, size);
	return 0;
}
