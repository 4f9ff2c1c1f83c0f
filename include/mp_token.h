/*
 * mp_token - the reporter's follow-up token (PROTOCOL.md section 2):
 * 16 random bytes, shown as 27 Crockford base32 symbols in groups of 4,
 * and the keys derived from it.
 */
#ifndef MP_TOKEN_H
#define MP_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define MP_TOKEN_BYTES 16
#define MP_TOKEN_SYMBOLS 27
#define MP_TOKEN_TEXT_LEN 33 /* 27 symbols and 6 dashes */
#define MP_KID_BYTES 16
#define MP_KID_TEXT_LEN 22

/* Fill t with 16 random bytes. */
void mp_token_new(uint8_t t[MP_TOKEN_BYTES]);

/* Text form "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXX" into out (34 bytes with NUL). */
void mp_token_format(char out[MP_TOKEN_TEXT_LEN + 1], const uint8_t t[MP_TOKEN_BYTES]);

/*
 * Parse a typed or scanned token: dashes and spaces dropped, case folded,
 * O read as 0, I and L as 1.  0 on success; -1 (token_malformed) when it is
 * not exactly 27 valid symbols with zero spare bits and the right check symbol.
 */
int mp_token_parse(uint8_t t[MP_TOKEN_BYTES], const char *text, size_t len)
    __attribute__((warn_unused_result));

/* lookup = BLAKE2b-256(key = "meldpunt/v1/lookup", msg = T). */
void mp_token_lookup(uint8_t lookup[32], const uint8_t t[MP_TOKEN_BYTES]);

/* tag = BLAKE2b-256(key = pepper, msg = lookup): the only thing the server stores. */
void mp_token_tag(uint8_t tag[32], const uint8_t pepper[32], const uint8_t lookup[32]);

/* The reporter's X25519 box key pair from seed = BLAKE2b-256(key = "meldpunt/v1/reporter", msg = T). */
int mp_token_reporter_keypair(uint8_t pk[32], uint8_t sk[32], const uint8_t t[MP_TOKEN_BYTES])
    __attribute__((warn_unused_result));

/* kid = b64u(BLAKE2b-128(msg = box_pk)), 22 symbols and a NUL. */
void mp_kid(char out[MP_KID_TEXT_LEN + 1], const uint8_t box_pk[32]);

#endif
