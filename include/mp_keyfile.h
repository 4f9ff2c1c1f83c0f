/*
 * mp_keyfile - a person's keys (PROTOCOL.md section 1): an Ed25519 signing
 * key for requests and a separate X25519 box key for opening envelopes,
 * kept in a passphrase-protected file (Argon2id + XChaCha20-Poly1305).
 * Pure functions over buffers; the CLI reads and writes the files.
 */
#ifndef MP_KEYFILE_H
#define MP_KEYFILE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define MP_NAME_MAX 100

/* Lives in sodium_malloc'ed, locked memory; free with mp_identity_free. */
struct mp_identity {
	char name[MP_NAME_MAX * 4 + 1]; /* UTF-8, up to 100 code points */
	char role[16];                  /* caseworker | auditor | admin | recovery */
	uint8_t sign_pk[32];
	uint8_t sign_sk[64];
	uint8_t box_pk[32];
	uint8_t box_sk[32];
	int has_sign; /* 0 for a recovery key */
};

/* True for "caseworker", "auditor", "admin", "recovery". */
int mp_role_ok(const char *role);

/* New random keys for name and role.  NULL on failure. */
struct mp_identity *mp_identity_new(const char *name, const char *role)
    __attribute__((warn_unused_result));
void mp_identity_free(struct mp_identity *id);

/*
 * The public key bundle as compact JSON text:
 * {"name","role","sign","box"} ("sign" absent for recovery).  malloc'ed.
 */
char *mp_identity_bundle(const struct mp_identity *id) __attribute__((warn_unused_result));

/*
 * Encrypt id under the passphrase into a JSON key file text (malloc'ed).
 * opslimit/memlimit are Argon2id's; 0 takes the interactive defaults.
 */
char *mp_keyfile_seal(const struct mp_identity *id, const char *pass, size_t passlen,
    unsigned long long opslimit, size_t memlimit) __attribute__((warn_unused_result));

/*
 * Open a key file text with the passphrase.  0 with *out set, -1 on a
 * malformed file, -2 on a wrong passphrase (or a tampered file).
 */
int mp_keyfile_open(struct mp_identity **out, const char *text, size_t len, const char *pass,
    size_t passlen) __attribute__((warn_unused_result));

#endif
