/*
 * The transparency log's hashing (PROTOCOL.md section 5): commitments, the
 * RFC 9162 Merkle tree, and its inclusion and consistency proofs.
 *
 * Every subtree hash is asked of the caller's callback as a complete,
 * aligned subtree (level, index), because that is all a store keeps.  A
 * range [start, start + size) met below always has start a multiple of the
 * smallest power of two >= size, so it splits into one complete subtree of
 * the largest power of two below size and a shorter range of the same kind.
 */
#include <sodium.h>
#include <string.h>

#include "mp_merkle.h"

void
mp_log_commit(
    uint8_t c[MP_HASH_LEN], const uint8_t salt[MP_SALT_LEN], const uint8_t *event, size_t len)
{
	crypto_generichash(c, MP_HASH_LEN, event, len, salt, MP_SALT_LEN);
}

void
mp_merkle_leaf(uint8_t out[MP_HASH_LEN], const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;
	const uint8_t prefix = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void
mp_merkle_node(
    uint8_t out[MP_HASH_LEN], const uint8_t left[MP_HASH_LEN], const uint8_t right[MP_HASH_LEN])
{
	crypto_hash_sha256_state st;
	const uint8_t prefix = 0x01;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, left, MP_HASH_LEN);
	crypto_hash_sha256_update(&st, right, MP_HASH_LEN);
	crypto_hash_sha256_final(&st, out);
}

/* The largest power of two strictly below n (n >= 2): RFC 9162's k. */
static uint64_t
split(uint64_t n)
{
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

static int
is_pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* MTH of leaves [start, start + size), size >= 1, start aligned as above. */
static int
range_hash(uint64_t start, uint64_t size, mp_merkle_get_fn get, void *arg, uint8_t out[MP_HASH_LEN])
{
	uint8_t left[MP_HASH_LEN], right[MP_HASH_LEN];
	uint64_t k;
	unsigned level;

	if (is_pow2(size)) {
		level = (unsigned)__builtin_ctzll(size);
		return get(arg, level, start >> level, out);
	}
	k = split(size);
	level = (unsigned)__builtin_ctzll(k);
	if (get(arg, level, start >> level, left) != 0)
		return -1;
	if (range_hash(start + k, size - k, get, arg, right) != 0)
		return -1;
	mp_merkle_node(out, left, right);
	return 0;
}

int
mp_merkle_root(uint64_t n, mp_merkle_get_fn get, void *arg, uint8_t root[MP_HASH_LEN])
{
	if (n == 0) {
		crypto_hash_sha256(root, (const uint8_t *)"", 0);
		return 0;
	}
	return range_hash(0, n, get, arg, root);
}

/* Append the hash of [start, start + size) to the proof, if there is room. */
static int
append(uint64_t start, uint64_t size, mp_merkle_get_fn get, void *arg,
    uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], size_t *len)
{
	if (*len >= MP_PROOF_MAX)
		return -1;
	if (range_hash(start, size, get, arg, proof[*len]) != 0)
		return -1;
	(*len)++;
	return 0;
}

/* RFC 9162 PATH(m, D[start:start+size]); the deepest sibling comes first. */
static int
path(uint64_t m, uint64_t start, uint64_t size, mp_merkle_get_fn get, void *arg,
    uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], size_t *len)
{
	uint64_t k;

	if (size == 1)
		return 0;
	k = split(size);
	if (m < k) {
		if (path(m, start, k, get, arg, proof, len) != 0)
			return -1;
		return append(start + k, size - k, get, arg, proof, len);
	}
	if (path(m - k, start + k, size - k, get, arg, proof, len) != 0)
		return -1;
	return append(start, k, get, arg, proof, len);
}

int
mp_merkle_inclusion(uint64_t index, uint64_t n, mp_merkle_get_fn get, void *arg,
    uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], size_t *len)
{
	*len = 0;
	if (index >= n)
		return -1;
	if (path(index, 0, n, get, arg, proof, len) != 0) {
		*len = 0;
		return -1;
	}
	return 0;
}

/* RFC 9162 SUBPROOF(m, D[start:start+size], b). */
static int
subproof(uint64_t m, uint64_t start, uint64_t size, int b, mp_merkle_get_fn get, void *arg,
    uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], size_t *len)
{
	uint64_t k;

	if (m == size)
		return b ? 0 : append(start, size, get, arg, proof, len);
	k = split(size);
	if (m <= k) {
		if (subproof(m, start, k, b, get, arg, proof, len) != 0)
			return -1;
		return append(start + k, size - k, get, arg, proof, len);
	}
	if (subproof(m - k, start + k, size - k, 0, get, arg, proof, len) != 0)
		return -1;
	return append(start, k, get, arg, proof, len);
}

int
mp_merkle_consistency(uint64_t m, uint64_t n, mp_merkle_get_fn get, void *arg,
    uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], size_t *len)
{
	*len = 0;
	if (m == 0 || m > n)
		return -1;
	if (subproof(m, 0, n, 1, get, arg, proof, len) != 0) {
		*len = 0;
		return -1;
	}
	return 0;
}

int
mp_merkle_verify_inclusion(uint64_t index, uint64_t n, const uint8_t leaf[MP_HASH_LEN],
    const uint8_t (*proof)[MP_HASH_LEN], size_t len, const uint8_t root[MP_HASH_LEN])
{
	uint8_t r[MP_HASH_LEN];
	uint64_t fn, sn;
	size_t i;

	if (index >= n || len > MP_PROOF_MAX || (len > 0 && proof == NULL))
		return -1;
	fn = index;
	sn = n - 1;
	memcpy(r, leaf, MP_HASH_LEN);
	for (i = 0; i < len; i++) {
		/* More hashes than the path from leaf to root is long. */
		if (sn == 0)
			return -1;
		if ((fn & 1) != 0 || fn == sn) {
			mp_merkle_node(r, proof[i], r);
			/* The right edge of the tree: climb past levels with no sibling. */
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			mp_merkle_node(r, r, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, MP_HASH_LEN) != 0)
		return -1;
	return 0;
}

int
mp_merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root_m[MP_HASH_LEN],
    const uint8_t root_n[MP_HASH_LEN], const uint8_t (*proof)[MP_HASH_LEN], size_t len)
{
	uint8_t fr[MP_HASH_LEN], sr[MP_HASH_LEN];
	const uint8_t *c;
	uint64_t fn, sn;
	size_t i, total;
	int prepend;

	if (m == 0 || m > n || len > MP_PROOF_MAX || (len > 0 && proof == NULL))
		return -1;
	/* A tree is consistent with itself by the empty proof and only by it. */
	if (m == n)
		return (len == 0 && memcmp(root_m, root_n, MP_HASH_LEN) == 0) ? 0 : -1;
	if (len == 0)
		return -1;
	/* The old root is a node of the new tree, so the proof leaves it out. */
	prepend = is_pow2(m);
	total = len + (prepend ? 1 : 0);
	fn = m - 1;
	sn = n - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	c = prepend ? root_m : proof[0];
	memcpy(fr, c, MP_HASH_LEN);
	memcpy(sr, c, MP_HASH_LEN);
	for (i = 1; i < total; i++) {
		c = proof[prepend ? i - 1 : i];
		if (sn == 0)
			return -1;
		if ((fn & 1) != 0 || fn == sn) {
			mp_merkle_node(fr, c, fr);
			mp_merkle_node(sr, c, sr);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			mp_merkle_node(sr, sr, c);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, root_m, MP_HASH_LEN) != 0 || memcmp(sr, root_n, MP_HASH_LEN) != 0)
		return -1;
	return 0;
}

void
mp_merkle_acc_init(struct mp_merkle_acc *a)
{
	memset(a, 0, sizeof *a);
}

void
mp_merkle_acc_add(struct mp_merkle_acc *a, const uint8_t leaf[MP_HASH_LEN])
{
	uint8_t carry[MP_HASH_LEN];
	unsigned level;

	/* 2^64 - 1 leaves fill every slot; no log gets there, but never overrun. */
	if (a->n == UINT64_MAX)
		return;
	memcpy(carry, leaf, MP_HASH_LEN);
	/* Like adding one in binary: equal complete subtrees merge upward. */
	for (level = 0; (a->n >> level) & 1; level++)
		mp_merkle_node(carry, a->stack[level], carry);
	memcpy(a->stack[level], carry, MP_HASH_LEN);
	a->n++;
}

void
mp_merkle_acc_root(const struct mp_merkle_acc *a, uint8_t root[MP_HASH_LEN])
{
	uint8_t r[MP_HASH_LEN];
	unsigned level;
	int have = 0;

	if (a->n == 0) {
		crypto_hash_sha256(root, (const uint8_t *)"", 0);
		return;
	}
	/* The smallest subtree is the rightmost; each larger one is its left sibling. */
	for (level = 0; level < 64; level++) {
		if (((a->n >> level) & 1) == 0)
			continue;
		if (!have) {
			memcpy(r, a->stack[level], MP_HASH_LEN);
			have = 1;
		} else {
			mp_merkle_node(r, a->stack[level], r);
		}
	}
	memcpy(root, r, MP_HASH_LEN);
}
