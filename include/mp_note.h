/*
 * mp_note - C2SP signed notes with Ed25519 keys, and the C2SP
 * tlog-checkpoint they carry (PROTOCOL.md section 5):
 *
 *   <origin>\n<tree size>\n<b64 root hash>\n\n— <origin> <b64(key hash || signature)>\n
 *
 * key hash = SHA-256(<origin> || "\n" || 0x01 || pk)[0:4]; the verifier key
 * text is <origin>+<8 hex key hash>+<b64(0x01 || pk)>, the form that
 * golang.org/x/mod/sumdb/note reads.  Pure functions, no I/O.
 */
#ifndef MP_NOTE_H
#define MP_NOTE_H

#include <stddef.h>
#include <stdint.h>

#define MP_ORIGIN_MAX 255

struct mp_verifier {
	char origin[MP_ORIGIN_MAX + 1];
	uint8_t keyhash[4];
	uint8_t pk[32];
};

/* The verifier key text of (origin, pk).  0, or -1 if it does not fit. */
int mp_note_verifier_text(char *out, size_t outlen, const char *origin, const uint8_t pk[32])
    __attribute__((warn_unused_result));
/* Parse verifier key text; 0, or -1 if it is malformed or its key hash is wrong. */
int mp_note_verifier_parse(struct mp_verifier *v, const char *text)
    __attribute__((warn_unused_result, nonnull));

/*
 * The signed checkpoint of a tree (origin, size, root), signed with sk
 * (libsodium's 64-byte Ed25519 secret key).  *out is malloc'ed text.  0 or -1.
 */
int mp_checkpoint_sign(char **out, const char *origin, uint64_t size, const uint8_t root[32],
    const uint8_t sk[64]) __attribute__((warn_unused_result));

/*
 * Open a signed checkpoint: 0 if it is well formed, its origin line is the
 * verifier's origin and one of its signature lines is a good signature by
 * the verifier's key (other signature lines are ignored, as in C2SP).  Sets
 * *size and root.  -1 otherwise, with why (may be NULL) saying what failed.
 */
int mp_checkpoint_open(const char *text, size_t len, const struct mp_verifier *v, uint64_t *size,
    uint8_t root[32], char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
