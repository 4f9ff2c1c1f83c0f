/*
 * mp_sig - signed requests (PROTOCOL.md section 4): the project's profile
 * of RFC 9421 with Ed25519 and RFC 9530 Content-Digest.  Pure functions:
 * building and parsing header values and the signature base.
 */
#ifndef MP_SIG_H
#define MP_SIG_H

#include <stddef.h>
#include <stdint.h>

#define MP_SIG_NONCE_BYTES 16
#define MP_SIG_MAX_SKEW 300 /* seconds either side of the server clock */
#define MP_SIG_REPLAY_WINDOW 600
#define MP_SIG_DIGEST_LEN 64 /* "sha-256=:" 44 ":" NUL, rounded up */
#define MP_SIG_PARAMS_LEN 256
#define MP_SIG_BASE_MAX 8192

/* A parsed Signature-Input and Signature pair. */
struct mp_sig_params {
	int has_digest;      /* "content-digest" is covered */
	long long created;   /* unix seconds */
	char nonce[32];      /* b64u of 16 bytes, 22 symbols */
	uint8_t sign_pk[32]; /* decoded keyid */
	char keyid[48];      /* as received, b64u of 32 bytes */
	uint8_t sig[64];
	char params[MP_SIG_PARAMS_LEN]; /* the inner list and parameters, as received */
};

/* "sha-256=:<b64 SHA-256 of body>:" into out. 0, or -1 if out is too small. */
int mp_sig_digest(char *out, size_t outlen, const uint8_t *body, size_t len)
    __attribute__((warn_unused_result));

/*
 * Parse the Signature-Input and Signature header values (label sig1, the
 * covered components and parameters exactly in the protocol's order).
 * 0, or -1 on any deviation.
 */
int mp_sig_parse(struct mp_sig_params *p, const char *sig_input, const char *signature)
    __attribute__((warn_unused_result));

/*
 * The signature base (RFC 9421 section 2.5): one line per covered component
 * and the "@signature-params" line last, lines joined by "\n" with none at
 * the end.  digest is NULL when the request has no body.  Returns the
 * length written (without NUL), or -1 if out is too small or an input holds
 * a control character.
 */
int mp_sig_base(char *out, size_t outlen, const char *method, const char *path, const char *query,
    const char *digest, const char *params) __attribute__((warn_unused_result));

/* Verify p->sig over base with p->sign_pk. 0 if good, -1 otherwise. */
int mp_sig_verify(const struct mp_sig_params *p, const char *base, size_t baselen)
    __attribute__((warn_unused_result));

/*
 * Client side: sign a request.  query is "?" when there is none; body may
 * be NULL (no Content-Digest).  Fills the three header values (digest is
 * set to "" when there is no body).  0, or -1.
 */
int mp_sig_sign(char *sig_input, size_t silen, char *signature, size_t siglen, char *digest,
    size_t dlen, const char *method, const char *path, const char *query, const uint8_t *body,
    size_t bodylen, long long created, const uint8_t sign_pk[32], const uint8_t sign_sk[64])
    __attribute__((warn_unused_result));

#endif
