/*
 * mp_merkle - the transparency log's hashing (PROTOCOL.md section 5): salted
 * commitments to event bytes, the RFC 6962 / RFC 9162 Merkle tree over
 * them (SHA-256), and inclusion and consistency proofs.  Pure functions
 * over buffers, no I/O.
 *
 * A tree is read through a callback that returns the hash of a complete
 * subtree: level l, index i covers leaves [i * 2^l, (i + 1) * 2^l), and
 * level 0 is the leaf hash.  A store keeps exactly those hashes.
 */
#ifndef MP_MERKLE_H
#define MP_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MP_HASH_LEN 32
#define MP_SALT_LEN 32
#define MP_PROOF_MAX 64 /* hashes in any proof of a tree below 2^63 leaves */

/* C = BLAKE2b-256(key = salt, msg = event bytes). */
void mp_log_commit(
    uint8_t c[MP_HASH_LEN], const uint8_t salt[MP_SALT_LEN], const uint8_t *event, size_t len);

/* SHA-256(0x00 || data) and SHA-256(0x01 || left || right). */
void mp_merkle_leaf(uint8_t out[MP_HASH_LEN], const uint8_t *data, size_t len);
void mp_merkle_node(
    uint8_t out[MP_HASH_LEN], const uint8_t left[MP_HASH_LEN], const uint8_t right[MP_HASH_LEN]);

/* The hash of the complete subtree (level, index); 0, or -1 when it cannot be read. */
typedef int (*mp_merkle_get_fn)(
    void *arg, unsigned level, uint64_t index, uint8_t out[MP_HASH_LEN]);

/* The root of the first n leaves (n >= 1; n = 0 gives SHA-256 of nothing).  0 or -1. */
int mp_merkle_root(uint64_t n, mp_merkle_get_fn get, void *arg, uint8_t root[MP_HASH_LEN])
    __attribute__((warn_unused_result));

/* RFC 9162 2.1.3.1: the inclusion proof of leaf index in the tree of size n.  0 or -1. */
int mp_merkle_inclusion(uint64_t index, uint64_t n, mp_merkle_get_fn get, void *arg,
    uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], size_t *len) __attribute__((warn_unused_result));

/* RFC 9162 2.1.4.1: the consistency proof from size m to size n (0 < m <= n).  0 or -1. */
int mp_merkle_consistency(uint64_t m, uint64_t n, mp_merkle_get_fn get, void *arg,
    uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], size_t *len) __attribute__((warn_unused_result));

/* RFC 9162 2.1.3.2: 0 if the proof shows leaf hash `leaf` at index in the tree with root. */
int mp_merkle_verify_inclusion(uint64_t index, uint64_t n, const uint8_t leaf[MP_HASH_LEN],
    const uint8_t (*proof)[MP_HASH_LEN], size_t len, const uint8_t root[MP_HASH_LEN])
    __attribute__((warn_unused_result));

/* RFC 9162 2.1.4.2: 0 if the proof shows the tree (m, root_m) is a prefix of (n, root_n). */
int mp_merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root_m[MP_HASH_LEN],
    const uint8_t root_n[MP_HASH_LEN], const uint8_t (*proof)[MP_HASH_LEN], size_t len)
    __attribute__((warn_unused_result));

/*
 * A running root over leaf hashes added in order, in O(log n) memory: what
 * an auditor uses to recompute a root from every leaf it fetched.
 */
struct mp_merkle_acc {
	uint8_t stack[64][MP_HASH_LEN]; /* complete subtrees, one per set bit of n */
	uint64_t n;
};
void mp_merkle_acc_init(struct mp_merkle_acc *a);
void mp_merkle_acc_add(struct mp_merkle_acc *a, const uint8_t leaf[MP_HASH_LEN]);
/* The root of the leaves added so far. */
void mp_merkle_acc_root(const struct mp_merkle_acc *a, uint8_t root[MP_HASH_LEN]);

#endif
