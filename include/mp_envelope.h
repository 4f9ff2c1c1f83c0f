/*
 * mp_envelope - sealed items (PROTOCOL.md section 3).  A fresh item key K
 * encrypts the padded plaintext with XChaCha20-Poly1305 under
 * AD = "meldpunt/v1/<kind>/<case id>"; K is sealed to every recipient.
 * Envelopes are jansson objects of the wire form.
 */
#ifndef MP_ENVELOPE_H
#define MP_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MP_PAD_BLOCK 256
#define MP_ENVELOPE_MAX_RECIPIENTS 256

/* A recipient's public box key. */
struct mp_box_pk {
	uint8_t pk[32];
};

/* True when kind is "report", "message" or "note". */
int mp_envelope_kind_ok(const char *kind);

/*
 * Seal pt for the n recipients.  Returns a new envelope object, or NULL.
 * K is wiped before returning; the caller wipes pt.
 */
json_t *mp_envelope_seal(const char *kind, const char *case_id, const uint8_t *pt, size_t ptlen,
    const struct mp_box_pk *rcpt, size_t n) __attribute__((warn_unused_result));

/*
 * As mp_envelope_seal, written straight as the envelope's compact JSON
 * text (the same text json_dumps of mp_envelope_seal's object would give,
 * JSON_COMPACT | JSON_PRESERVE_ORDER), without building the object: what
 * the server stores.  A new string to free, or NULL.
 */
char *mp_envelope_seal_text(const char *kind, const char *case_id, const uint8_t *pt, size_t ptlen,
    const struct mp_box_pk *rcpt, size_t n) __attribute__((warn_unused_result));

/*
 * Seal pt under a caller-held item key K (collectives and re-sealing use
 * this); otherwise as mp_envelope_seal.
 */
json_t *mp_envelope_seal_with_key(const uint8_t K[32], const char *kind, const char *case_id,
    const uint8_t *pt, size_t ptlen, const struct mp_box_pk *rcpt, size_t n)
    __attribute__((warn_unused_result));

/*
 * Check an envelope's form without opening it: v = 1, a known kind, a
 * 24-byte nonce, ct whose length is a padded block plus the tag, 1 to
 * MP_ENVELOPE_MAX_RECIPIENTS recipients with 16-byte kids (no repeats) and
 * 80-byte sealed keys, and no other fields.  0, or -1 with *why set to a
 * static message.
 */
int mp_envelope_check(const json_t *env, const char **why) __attribute__((warn_unused_result));

/* 1 if one of env's recipients has this kid, else 0. */
int mp_envelope_has_kid(const json_t *env, const char *kid);

/*
 * Recover the item key K with the recipient's box key pair.  0, or -1 if
 * the key is not a recipient or the sealed key does not open.
 */
int mp_envelope_item_key(uint8_t K[32], const json_t *env, const uint8_t box_pk[32],
    const uint8_t box_sk[32]) __attribute__((warn_unused_result, nonnull));

/*
 * Open env for the key pair: K recovered, ct decrypted and unpadded.
 * *pt is sodium_malloc'ed (free it with mp_envelope_free, which wipes it)
 * and NUL-terminated after *ptlen bytes.  0, or -1 if it does not open.
 */
int mp_envelope_open(uint8_t **pt, size_t *ptlen, const json_t *env, const char *case_id,
    const uint8_t box_pk[32], const uint8_t box_sk[32]) __attribute__((warn_unused_result));
void mp_envelope_free(uint8_t *pt, size_t ptlen);

/*
 * The same two for an envelope's JSON text as stored, text[0..len): its
 * usual form is read in place, without building the object (a follow-up
 * opens every message this way); any other text is parsed by jansson, and
 * both give what mp_envelope_check and mp_envelope_open give for
 * json_loadb's object of the text.
 */
int mp_envelope_check_text(const char *text, size_t len, const char **why)
    __attribute__((warn_unused_result));
int mp_envelope_open_text(uint8_t **pt, size_t *ptlen, const char *text, size_t len,
    const char *case_id, const uint8_t box_pk[32], const uint8_t box_sk[32])
    __attribute__((warn_unused_result));

/*
 * Whether the envelope text grown[0..glen) is was[0..wlen) with one
 * recipient added at its end for each of kids, in that order, and nothing
 * else changed (the same kind, nonce, ct and earlier recipients, both of
 * the form mp_envelope_check holds): 0, or -1.  Sharing an item may only
 * do this.
 */
int mp_envelope_grows(const char *was, size_t wlen, const char *grown, size_t glen,
    const char *const *kids, size_t nkids) __attribute__((warn_unused_result));

#endif
