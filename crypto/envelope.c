/* Envelopes (PROTOCOL.md section 3). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_token.h"
#include "mp_wipe.h"

#define AD_MAX 96
#define SEALED_BYTES (32 + crypto_box_SEALBYTES)
#define CT_MAX (16 * 1024 * 1024)

int
mp_envelope_kind_ok(const char *kind)
{
	return kind != NULL &&
	    (strcmp(kind, "report") == 0 || strcmp(kind, "message") == 0 || strcmp(kind, "note") == 0);
}

static int
make_ad(char ad[AD_MAX], const char *kind, const char *case_id)
{
	int n = snprintf(ad, AD_MAX, "meldpunt/v1/%s/%s", kind, case_id);

	return (n < 0 || n >= AD_MAX) ? -1 : n;
}

json_t *
mp_envelope_seal(const char *kind, const char *case_id, const uint8_t *pt, size_t ptlen,
    const struct mp_box_pk *rcpt, size_t n)
{
	uint8_t K[32];
	json_t *env;

	crypto_aead_xchacha20poly1305_ietf_keygen(K);
	env = mp_envelope_seal_with_key(K, kind, case_id, pt, ptlen, rcpt, n);
	sodium_memzero(K, sizeof K);
	return env;
}

/* b64u of buf as a new jansson string. */
static json_t *
b64u_string(const uint8_t *buf, size_t len)
{
	size_t tlen = MP_B64U_LEN(len);
	char *text;
	json_t *s = NULL;

	if ((text = malloc(tlen)) == NULL)
		return NULL;
	if (mp_b64u_encode(text, tlen, buf, len) == 0)
		s = json_string(text);
	free(text);
	return s;
}

/* What sealing makes, before it is written out as an envelope. */
struct sealed {
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t *ct;
	size_t ctlen, n;
	uint8_t (*keys)[SEALED_BYTES];   /* K sealed to each recipient */
	char (*kids)[MP_KID_TEXT_LEN + 1];
};

static void
sealed_free(struct sealed *sd)
{
	free(sd->ct);
	free(sd->keys);
	free(sd->kids);
}

/* Encrypt the padded plaintext under K and seal K to each recipient: 0, or -1. */
static int
seal_parts(struct sealed *sd, const uint8_t K[32], const char *kind, const char *case_id,
    const uint8_t *pt, size_t ptlen, const struct mp_box_pk *rcpt, size_t n)
{
	char ad[AD_MAX];
	uint8_t *padded = NULL;
	size_t padmax, padlen = 0, i;
	unsigned long long ctlen = 0;
	int adlen, rc = -1;

	memset(sd, 0, sizeof *sd);
	if (!mp_envelope_kind_ok(kind) || n == 0 || n > MP_ENVELOPE_MAX_RECIPIENTS ||
	    ptlen > CT_MAX || (adlen = make_ad(ad, kind, case_id)) < 0)
		return -1;
	padmax = ptlen + MP_PAD_BLOCK;
	if ((padded = mp_locked_alloc(padmax)) == NULL)
		goto out;
	if (ptlen > 0)
		memcpy(padded, pt, ptlen);
	if (sodium_pad(&padlen, padded, ptlen, MP_PAD_BLOCK, padmax) != 0 ||
	    (sd->ct = malloc(padlen + crypto_aead_xchacha20poly1305_ietf_ABYTES)) == NULL ||
	    (sd->keys = calloc(n, sizeof *sd->keys)) == NULL ||
	    (sd->kids = calloc(n, sizeof *sd->kids)) == NULL)
		goto out;
	randombytes_buf(sd->nonce, sizeof sd->nonce);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sd->ct, &ctlen, padded, padlen,
	    (const uint8_t *)ad, (unsigned long long)adlen, NULL, sd->nonce, K);
	sd->ctlen = (size_t)ctlen;
	for (i = 0; i < n; i++) {
		if (crypto_box_seal(sd->keys[i], K, 32, rcpt[i].pk) != 0)
			goto out;
		mp_kid(sd->kids[i], rcpt[i].pk);
	}
	sd->n = n;
	rc = 0;
out:
	mp_locked_free(padded); /* wipes */
	if (rc != 0)
		sealed_free(sd);
	return rc;
}

json_t *
mp_envelope_seal_with_key(const uint8_t K[32], const char *kind, const char *case_id,
    const uint8_t *pt, size_t ptlen, const struct mp_box_pk *rcpt, size_t n)
{
	struct sealed sd;
	json_t *env = NULL, *list, *r;
	size_t i;

	if (seal_parts(&sd, K, kind, case_id, pt, ptlen, rcpt, n) != 0)
		return NULL;
	if ((list = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		r = json_pack("{s:s, s:o}", "kid", sd.kids[i], "sealed",
		    b64u_string(sd.keys[i], SEALED_BYTES));
		if (r == NULL || json_array_append_new(list, r) != 0)
			goto out;
	}
	env = json_pack("{s:i, s:s, s:o, s:o, s:O}", "v", 1, "kind", kind, "nonce",
	    b64u_string(sd.nonce, sizeof sd.nonce), "ct", b64u_string(sd.ct, sd.ctlen),
	    "recipients", list);
out:
	json_decref(list);
	sealed_free(&sd);
	return env;
}

/* A text written into a block of known size; err is set by anything that would not fit. */
struct out {
	char *p, *end;
	int err;
};

static void
out_str(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->err || n >= (size_t)(o->end - o->p)) {
		o->err = 1;
		return;
	}
	memcpy(o->p, s, n + 1);
	o->p += n;
}

static void
out_b64u(struct out *o, const uint8_t *buf, size_t len)
{
	if (o->err || (size_t)(o->end - o->p) < MP_B64U_LEN(len) ||
	    mp_b64u_encode(o->p, MP_B64U_LEN(len), buf, len) != 0) {
		o->err = 1;
		return;
	}
	o->p += strlen(o->p);
}

char *
mp_envelope_seal_text(const char *kind, const char *case_id, const uint8_t *pt, size_t ptlen,
    const struct mp_box_pk *rcpt, size_t n)
{
	struct sealed sd;
	struct out o;
	uint8_t K[32];
	char *text;
	size_t len, i;
	int rc;

	crypto_aead_xchacha20poly1305_ietf_keygen(K);
	rc = seal_parts(&sd, K, kind, case_id, pt, ptlen, rcpt, n);
	sodium_memzero(K, sizeof K);
	if (rc != 0)
		return NULL;
	/* kind is one of three words and every value is b64u: nothing to escape. */
	len = 64 + strlen(kind) + MP_B64U_LEN(sizeof sd.nonce) + MP_B64U_LEN(sd.ctlen) +
	    n * (32 + MP_KID_TEXT_LEN + MP_B64U_LEN(SEALED_BYTES));
	if ((text = malloc(len)) == NULL)
		goto out;
	o.p = text;
	o.end = text + len;
	o.err = 0;
	out_str(&o, "{\"v\":1,\"kind\":\"");
	out_str(&o, kind);
	out_str(&o, "\",\"nonce\":\"");
	out_b64u(&o, sd.nonce, sizeof sd.nonce);
	out_str(&o, "\",\"ct\":\"");
	out_b64u(&o, sd.ct, sd.ctlen);
	out_str(&o, "\",\"recipients\":[");
	for (i = 0; i < n; i++) {
		out_str(&o, i > 0 ? ",{\"kid\":\"" : "{\"kid\":\"");
		out_str(&o, sd.kids[i]);
		out_str(&o, "\",\"sealed\":\"");
		out_b64u(&o, sd.keys[i], SEALED_BYTES);
		out_str(&o, "\"}");
	}
	out_str(&o, "]}");
	if (o.err) {
		free(text);
		text = NULL;
	}
out:
	sealed_free(&sd);
	return text;
}

int
mp_envelope_check(const json_t *env, const char **why)
{
	const char *key, *s;
	json_t *v, *r;
	size_t i, j, n, ctlen;
	uint8_t buf[SEALED_BYTES];

	*why = "envelope must be an object";
	if (!json_is_object(env))
		return -1;
	json_object_foreach((json_t *)env, key, v) {
		if (strcmp(key, "v") && strcmp(key, "kind") && strcmp(key, "nonce") &&
		    strcmp(key, "ct") && strcmp(key, "recipients")) {
			*why = "envelope has an unknown field";
			return -1;
		}
	}
	v = json_object_get(env, "v");
	*why = "envelope version must be 1";
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return -1;
	*why = "envelope kind must be report, message or note";
	if (!mp_envelope_kind_ok(json_string_value(json_object_get(env, "kind"))))
		return -1;
	*why = "envelope nonce must be 24 bytes, b64u";
	v = json_object_get(env, "nonce");
	if (!json_is_string(v) || mp_b64u_decode_exact(buf, 24, json_string_value(v),
	    json_string_length(v)) != 0)
		return -1;
	*why = "envelope ct must be b64u of a padded plaintext and its tag";
	v = json_object_get(env, "ct");
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	n = json_string_length(v);
	/* Decoded length from the text length; then the alphabet is checked in place. */
	if (n % 4 == 1 || n > CT_MAX)
		return -1;
	ctlen = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (ctlen < MP_PAD_BLOCK + 16 || (ctlen - 16) % MP_PAD_BLOCK != 0)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return -1;
	}
	*why = "envelope recipients must be 1 to 256 distinct {kid, sealed}";
	v = json_object_get(env, "recipients");
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > MP_ENVELOPE_MAX_RECIPIENTS)
		return -1;
	json_array_foreach(v, i, r) {
		json_t *kid = json_object_get(r, "kid"), *sealed = json_object_get(r, "sealed");
		if (!json_is_object(r) || json_object_size(r) != 2 || !json_is_string(kid) ||
		    !json_is_string(sealed))
			return -1;
		if (mp_b64u_decode_exact(buf, MP_KID_BYTES, json_string_value(kid),
		    json_string_length(kid)) != 0)
			return -1;
		if (mp_b64u_decode_exact(buf, SEALED_BYTES, json_string_value(sealed),
		    json_string_length(sealed)) != 0)
			return -1;
		for (j = 0; j < i; j++) {
			if (strcmp(json_string_value(kid), json_string_value(json_object_get(
			    json_array_get(v, j), "kid"))) == 0)
				return -1;
		}
	}
	*why = NULL;
	return 0;
}

int
mp_envelope_has_kid(const json_t *env, const char *kid)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(env, "recipients"), i, r) {
		const char *k = json_string_value(json_object_get(r, "kid"));
		if (k != NULL && strcmp(k, kid) == 0)
			return 1;
	}
	return 0;
}

int
mp_envelope_item_key(uint8_t K[32], const json_t *env, const uint8_t box_pk[32],
    const uint8_t box_sk[32])
{
	char kid[MP_KID_TEXT_LEN + 1];
	uint8_t sealed[SEALED_BYTES];
	size_t i;
	json_t *r;

	mp_kid(kid, box_pk);
	json_array_foreach(json_object_get(env, "recipients"), i, r) {
		json_t *k = json_object_get(r, "kid"), *s = json_object_get(r, "sealed");
		if (!json_is_string(k) || strcmp(json_string_value(k), kid) != 0 || !json_is_string(s))
			continue;
		if (mp_b64u_decode_exact(sealed, sizeof sealed, json_string_value(s),
		    json_string_length(s)) != 0)
			return -1;
		return crypto_box_seal_open(K, sealed, sizeof sealed, box_pk, box_sk) == 0 ? 0 : -1;
	}
	return -1;
}

int
mp_envelope_open(uint8_t **pt, size_t *ptlen, const json_t *env, const char *case_id,
    const uint8_t box_pk[32], const uint8_t box_sk[32])
{
	uint8_t K[32], nonce[24];
	uint8_t *ct = NULL, *out = NULL;
	size_t ctmax, ctlen = 0, unpadded = 0;
	unsigned long long outlen = 0;
	char ad[AD_MAX];
	const char *kind, *ctext;
	int adlen, rc = -1;
	const char *why;

	*pt = NULL;
	*ptlen = 0;
	if (mp_envelope_check(env, &why) != 0)
		return -1;
	kind = json_string_value(json_object_get(env, "kind"));
	if ((adlen = make_ad(ad, kind, case_id)) < 0)
		return -1;
	if (mp_envelope_item_key(K, env, box_pk, box_sk) != 0)
		goto out;
	if (mp_b64u_decode_exact(nonce, sizeof nonce, json_string_value(json_object_get(env, "nonce")),
	    json_string_length(json_object_get(env, "nonce"))) != 0)
		goto out;
	ctext = json_string_value(json_object_get(env, "ct"));
	ctmax = strlen(ctext) / 4 * 3 + 3;
	if ((ct = malloc(ctmax)) == NULL || (out = mp_locked_alloc(ctmax + 1)) == NULL)
		goto out;
	if (mp_b64u_decode(ct, ctmax, &ctlen, ctext, strlen(ctext)) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &outlen, NULL, ct, ctlen,
	    (const uint8_t *)ad, (unsigned long long)adlen, nonce, K) != 0)
		goto out;
	if (sodium_unpad(&unpadded, out, (size_t)outlen, MP_PAD_BLOCK) != 0)
		goto out;
	out[unpadded] = '\0';
	*pt = out;
	*ptlen = unpadded;
	out = NULL;
	rc = 0;
out:
	sodium_memzero(K, sizeof K);
	free(ct);
	mp_locked_free(out);
	return rc;
}

void
mp_envelope_free(uint8_t *pt, size_t ptlen)
{
	(void)ptlen;
	mp_locked_free(pt);
}
