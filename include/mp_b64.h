/*
 * mp_b64 - base64url without padding (PROTOCOL.md "b64u") and standard
 * base64 with padding ("b64", signed notes and HTTP signature headers).
 */
#ifndef MP_B64_H
#define MP_B64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes, including the terminating NUL. */
#define MP_B64U_LEN(n) ((((n)*4) + 2) / 3 + 1)
#define MP_B64_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Encode in[0..inlen) into out (NUL-terminated). 0, or -1 if out is too small. */
int mp_b64u_encode(char *out, size_t outlen, const uint8_t *in, size_t inlen)
    __attribute__((warn_unused_result));
int mp_b64_encode(char *out, size_t outlen, const uint8_t *in, size_t inlen)
    __attribute__((warn_unused_result));

/*
 * Decode text[0..textlen) strictly: no padding, no white space, no other
 * alphabet, and exactly `want` bytes.  0 on success, -1 otherwise.
 */
int mp_b64u_decode_exact(uint8_t *out, size_t want, const char *text, size_t textlen)
    __attribute__((warn_unused_result));
int mp_b64_decode_exact(uint8_t *out, size_t want, const char *text, size_t textlen)
    __attribute__((warn_unused_result));

/*
 * Decode b64u of unknown length into out (at most outmax bytes); the
 * decoded length goes to *outlen.  0, or -1 on bad text or no room.
 */
int mp_b64u_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *text, size_t textlen)
    __attribute__((warn_unused_result));

#endif
