/*
 * emit DIR: a random log of NLEAVES commitments, signed checkpoints of some
 * of its sizes under a fresh Ed25519 key, and proofs in the JSON the HTTP
 * API serves, written to DIR for the Go verifier to check.  Also writes
 * spoiled copies that it must reject.  Prints one line per check to make:
 *
 *	inc I N         DIR/inc_I_N.json against DIR/cp_N and DIR/leaf_I
 *	cons M N        DIR/cons_M_N.json against DIR/cp_M and DIR/cp_N
 *
 * Everything here goes through the library's own functions (mp_merkle.h,
 * mp_note.h, mp_b64.h); whether Go agrees is the point of the test.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_merkle.h"
#include "mp_note.h"

#define NLEAVES 40
#define LEVELS 7 /* 2^6 > NLEAVES */
#define ORIGIN "meldpunt.test/log"

static uint8_t tree[LEVELS][NLEAVES][MP_HASH_LEN];
static uint8_t commit[NLEAVES][MP_HASH_LEN];
static uint64_t tree_n;
static const char *dir;

static int
get(void *arg, unsigned level, uint64_t index, uint8_t out[MP_HASH_LEN])
{
	(void)arg;
	/* Only complete subtrees exist, as in a store. */
	if (level >= LEVELS || index >= (tree_n >> level))
		return -1;
	memcpy(out, tree[level][index], MP_HASH_LEN);
	return 0;
}

static FILE *
create(const char *name)
{
	char path[4096];
	FILE *f;
	int n;

	n = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof path)
		return NULL;
	if ((f = fopen(path, "w")) == NULL)
		fprintf(stderr, "emit: %s: %s\n", path, strerror(errno));
	return f;
}

static int
put(const char *name, const char *text)
{
	FILE *f = create(name);
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fputs(text, f) != EOF)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int
b64u(char out[MP_B64U_LEN(MP_HASH_LEN)], const uint8_t h[MP_HASH_LEN])
{
	return mp_b64u_encode(out, MP_B64U_LEN(MP_HASH_LEN), h, MP_HASH_LEN);
}

/* {"...": ..., "hashes": [...]} with head as the first members. */
static int
put_proof(const char *name, const char *head, uint8_t (*p)[MP_HASH_LEN], size_t len)
{
	char h[MP_B64U_LEN(MP_HASH_LEN)];
	FILE *f = create(name);
	size_t i;
	int rc = -1;

	if (f == NULL)
		return -1;
	fprintf(f, "{%s,\"hashes\":[", head);
	for (i = 0; i < len; i++) {
		if (b64u(h, p[i]) != 0)
			goto out;
		fprintf(f, "%s\"%s\"", i ? "," : "", h);
	}
	fputs("]}\n", f);
	rc = 0;
out:
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int
put_checkpoint(const char *name, uint64_t n, const uint8_t root[MP_HASH_LEN], const uint8_t sk[64])
{
	char *text = NULL;
	int rc = -1;

	if (mp_checkpoint_sign(&text, ORIGIN, n, root, sk) != 0)
		goto out;
	rc = put(name, text);
out:
	free(text);
	return rc;
}

static int
inclusion(uint64_t i, uint64_t n, const char *prefix, int spoil)
{
	uint8_t p[MP_PROOF_MAX + 1][MP_HASH_LEN];
	char name[64], head[160], leaf[MP_B64U_LEN(MP_HASH_LEN)];
	size_t len;

	tree_n = n;
	if (mp_merkle_inclusion(i, n, get, NULL, p, &len) != 0 || b64u(leaf, commit[i]) != 0)
		return -1;
	snprintf(name, sizeof name, "%s_%llu_%llu.json", prefix, (unsigned long long)i,
	    (unsigned long long)n);
	switch (spoil) {
	case 'f': /* one bit of the last hash */
		p[len - 1][7] ^= 0x10;
		break;
	case 't': /* the last hash left out */
		len--;
		break;
	case 'x': /* one hash too many */
		memcpy(p[len], p[0], MP_HASH_LEN);
		len++;
		break;
	case 'i': /* another index for the same leaf and hashes */
		i++;
		break;
	}
	snprintf(head, sizeof head, "\"index\":%llu,\"size\":%llu,\"leaf\":\"%s\"",
	    (unsigned long long)i, (unsigned long long)n, leaf);
	return put_proof(name, head, p, len);
}

static int
consistency(uint64_t m, uint64_t n, const char *prefix, int spoil)
{
	uint8_t p[MP_PROOF_MAX + 1][MP_HASH_LEN];
	char name[64], head[64];
	size_t len;

	tree_n = n;
	if (mp_merkle_consistency(m, n, get, NULL, p, &len) != 0)
		return -1;
	if (spoil == 'f')
		p[0][31] ^= 0x01;
	else if (spoil == 'x')
		memcpy(p[len++], p[0], MP_HASH_LEN);
	snprintf(head, sizeof head, "\"from\":%llu,\"to\":%llu", (unsigned long long)m,
	    (unsigned long long)n);
	snprintf(name, sizeof name, "%s_%llu_%llu.json", prefix, (unsigned long long)m,
	    (unsigned long long)n);
	return put_proof(name, head, p, len);
}

int
main(int argc, char **argv)
{
	static const uint64_t inc_sizes[] = { 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 32, 33, 40 };
	static const uint64_t cons_sizes[] = { 1, 2, 3, 8, 13, 32, 33, 40 };
	uint8_t pk[32], sk[64], pk2[32], sk2[64], salt[MP_SALT_LEN], root[MP_HASH_LEN];
	char event[160], name[64], text[512], leaf[MP_B64U_LEN(MP_HASH_LEN)];
	uint64_t i, n, l;
	size_t s;
	int len, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: emit DIR\n");
		return 2;
	}
	dir = argv[1];
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);

	/* Leaves: commitments to event bytes of the protocol's shape, salted. */
	for (i = 0; i < NLEAVES; i++) {
		len = snprintf(event, sizeof event,
		    "{\"v\":1,\"case\":\"c%08x\",\"seq\":%llu,\"type\":\"created\","
		    "\"month\":\"2026-%02u\"}",
		    randombytes_random(), (unsigned long long)i, 1 + randombytes_uniform(12));
		randombytes_buf(salt, sizeof salt);
		mp_log_commit(commit[i], salt, (const uint8_t *)event, (size_t)len);
		mp_merkle_leaf(tree[0][i], commit[i], MP_HASH_LEN);
		if (b64u(leaf, commit[i]) != 0)
			goto out;
		snprintf(name, sizeof name, "leaf_%llu", (unsigned long long)i);
		if (put(name, leaf) != 0)
			goto out;
	}
	for (l = 1; l < LEVELS; l++)
		for (i = 0; i < ((uint64_t)NLEAVES >> l); i++)
			mp_merkle_node(tree[l][i], tree[l - 1][2 * i], tree[l - 1][2 * i + 1]);

	if (mp_note_verifier_text(text, sizeof text, ORIGIN, pk) != 0 || put("vkey", text) != 0)
		goto out;
	/* Checkpoints of every size 1..NLEAVES. */
	for (n = 1; n <= NLEAVES; n++) {
		tree_n = n;
		if (mp_merkle_root(n, get, NULL, root) != 0)
			goto out;
		snprintf(name, sizeof name, "cp_%llu", (unsigned long long)n);
		if (put_checkpoint(name, n, root, sk) != 0)
			goto out;
		/* Spoiled: by another key; a signed but wrong root. */
		snprintf(name, sizeof name, "cp_otherkey_%llu", (unsigned long long)n);
		if (put_checkpoint(name, n, root, sk2) != 0)
			goto out;
		root[0] ^= 0x01;
		snprintf(name, sizeof name, "cp_wrongroot_%llu", (unsigned long long)n);
		if (put_checkpoint(name, n, root, sk) != 0)
			goto out;
	}

	for (s = 0; s < sizeof inc_sizes / sizeof inc_sizes[0]; s++) {
		n = inc_sizes[s];
		for (i = 0; i < n; i++) {
			if (inclusion(i, n, "inc", 0) != 0)
				goto out;
			printf("inc %llu %llu\n", (unsigned long long)i, (unsigned long long)n);
		}
	}
	for (s = 0; s < sizeof cons_sizes / sizeof cons_sizes[0]; s++) {
		n = cons_sizes[s];
		for (i = 1; i <= n; i++) {
			if (consistency(i, n, "cons", 0) != 0)
				goto out;
			printf("cons %llu %llu\n", (unsigned long long)i, (unsigned long long)n);
		}
	}
	/* Spoiled proofs the test names by hand. */
	if (inclusion(5, 13, "inc_flip", 'f') != 0 || inclusion(5, 13, "inc_trunc", 't') != 0 ||
	    inclusion(5, 13, "inc_extra", 'x') != 0 || inclusion(5, 13, "inc_index", 'i') != 0 ||
	    consistency(6, 13, "cons_flip", 'f') != 0 || consistency(6, 13, "cons_extra", 'x') != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(sk2, sizeof sk2);
	if (rc != 0)
		fprintf(stderr, "emit: failed\n");
	return rc;
}
