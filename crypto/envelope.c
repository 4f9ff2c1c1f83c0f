/* Envelopes (PROTOCOL.md section 3). */
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_token.h"
#include "mp_wipe.h"

#define AD_MAX 96
#define SEALED_BYTES (32 + crypto_box_SEALBYTES)
#define CT_MAX (16 * 1024 * 1024)

/* kind[0..n) is "report", "message" or "note". */
static int
kind_known(const char *kind, size_t n)
{
	return (n == 6 && memcmp(kind, "report", 6) == 0) ||
	    (n == 7 && memcmp(kind, "message", 7) == 0) || (n == 4 && memcmp(kind, "note", 4) == 0);
}

int
mp_envelope_kind_ok(const char *kind)
{
	return kind != NULL && kind_known(kind, strlen(kind));
}

static int
make_ad(char ad[AD_MAX], const char *kind, size_t kindlen, const char *case_id)
{
	int n = kindlen > 16
	    ? -1
	    : snprintf(ad, AD_MAX, "meldpunt/v1/%.*s/%s", (int)kindlen, kind, case_id);

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
	uint8_t (*keys)[SEALED_BYTES]; /* K sealed to each recipient */
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
	    ptlen > CT_MAX || (adlen = make_ad(ad, kind, strlen(kind), case_id)) < 0)
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

/* A string of an envelope: where its text is, and how long; s NULL when absent or not a string. */
struct span {
	const char *s;
	size_t n;
};

/*
 * An envelope's fields as read, from its JSON object or straight from its
 * text (mp_envelope_open_text): the same rules check both.
 */
struct view {
	int unknown; /* a field other than the five */
	int v1;      /* "v" is the integer 1 */
	struct span kind, nonce, ct;
	int list_ok; /* recipients: an array of objects, each exactly {kid, sealed} strings */
	size_t n;    /* recipients, at most MP_ENVELOPE_MAX_RECIPIENTS + 1 counted */
	/* Filled up to n; not cleared beforehand (8 KiB an envelope). */
	struct span kid[MP_ENVELOPE_MAX_RECIPIENTS], sealed[MP_ENVELOPE_MAX_RECIPIENTS];
};

#define VIEW_CLEAR(e) memset((e), 0, offsetof(struct view, kid))

static struct span
json_span(const json_t *j)
{
	struct span sp = { NULL, 0 };

	if (json_is_string(j)) {
		sp.s = json_string_value(j);
		sp.n = json_string_length(j);
	}
	return sp;
}

/* The view of an object (env must be one). */
static void
view_of_json(struct view *e, const json_t *env)
{
	const char *key;
	json_t *v, *list, *r;
	size_t i;

	VIEW_CLEAR(e);
	json_object_foreach((json_t *)env, key, v) {
		if (strcmp(key, "v") && strcmp(key, "kind") && strcmp(key, "nonce") &&
		    strcmp(key, "ct") && strcmp(key, "recipients"))
			e->unknown = 1;
	}
	v = json_object_get(env, "v");
	e->v1 = json_is_integer(v) && json_integer_value(v) == 1;
	e->kind = json_span(json_object_get(env, "kind"));
	e->nonce = json_span(json_object_get(env, "nonce"));
	e->ct = json_span(json_object_get(env, "ct"));
	list = json_object_get(env, "recipients");
	e->list_ok = json_is_array(list);
	e->n = e->list_ok ? json_array_size(list) : 0;
	if (e->n > MP_ENVELOPE_MAX_RECIPIENTS)
		return;
	json_array_foreach(list, i, r) {
		e->kid[i] = json_span(json_object_get(r, "kid"));
		e->sealed[i] = json_span(json_object_get(r, "sealed"));
		if (!json_is_object(r) || json_object_size(r) != 2 || e->kid[i].s == NULL ||
		    e->sealed[i].s == NULL)
			e->list_ok = 0;
	}
}

static int
span_is(struct span sp, const char *word)
{
	return sp.s != NULL && sp.n == strlen(word) && memcmp(sp.s, word, sp.n) == 0;
}

static int
span_same(struct span a, struct span b)
{
	return a.n == b.n && memcmp(a.s, b.s, a.n) == 0;
}

/* The rules of mp_envelope_check, in its order. */
static int
view_check(const struct view *e, const char **why)
{
	uint8_t buf[SEALED_BYTES];
	size_t i, j, n, ctlen;
	const char *s;

	*why = "envelope has an unknown field";
	if (e->unknown)
		return -1;
	*why = "envelope version must be 1";
	if (!e->v1)
		return -1;
	*why = "envelope kind must be report, message or note";
	if (e->kind.s == NULL || !kind_known(e->kind.s, e->kind.n))
		return -1;
	*why = "envelope nonce must be 24 bytes, b64u";
	if (e->nonce.s == NULL || mp_b64u_decode_exact(buf, 24, e->nonce.s, e->nonce.n) != 0)
		return -1;
	*why = "envelope ct must be b64u of a padded plaintext and its tag";
	if ((s = e->ct.s) == NULL)
		return -1;
	n = e->ct.n;
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
	if (!e->list_ok || e->n == 0 || e->n > MP_ENVELOPE_MAX_RECIPIENTS)
		return -1;
	for (i = 0; i < e->n; i++) {
		if (mp_b64u_decode_exact(buf, MP_KID_BYTES, e->kid[i].s, e->kid[i].n) != 0 ||
		    mp_b64u_decode_exact(buf, SEALED_BYTES, e->sealed[i].s, e->sealed[i].n) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (span_same(e->kid[i], e->kid[j]))
				return -1;
	}
	*why = NULL;
	return 0;
}

int
mp_envelope_check(const json_t *env, const char **why)
{
	struct view e;

	*why = "envelope must be an object";
	if (!json_is_object(env))
		return -1;
	view_of_json(&e, env);
	return view_check(&e, why);
}

/*
 * Reading an envelope's text without building its object, for the common
 * form: one object of the five fields, each once, "v" the number 1, every
 * string printable ASCII without escapes, the recipients 1 to 256 objects
 * of kid and sealed.  Anything else is left to jansson (0): what is read
 * here is exactly what json_loads would make of the same text.
 */
struct scan {
	const char *p, *end;
};

static void
scan_ws(struct scan *sc)
{
	while (sc->p < sc->end &&
	    (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

static int
scan_char(struct scan *sc, char c)
{
	scan_ws(sc);
	if (sc->p >= sc->end || *sc->p != c)
		return 0;
	sc->p++;
	return 1;
}

static int
scan_string(struct scan *sc, struct span *sp)
{
	const char *q;

	if (!scan_char(sc, '"'))
		return 0;
	for (q = sc->p; q < sc->end && *q != '"'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e || *q == '\\')
			return 0;
	if (q >= sc->end)
		return 0;
	sp->s = sc->p;
	sp->n = (size_t)(q - sc->p);
	sc->p = q + 1;
	return 1;
}

/* One recipient: {"kid": ..., "sealed": ...} in either order. */
static int
scan_recipient(struct scan *sc, struct span *kid, struct span *sealed)
{
	struct span key, *to;
	int i;

	kid->s = sealed->s = NULL;
	if (!scan_char(sc, '{'))
		return 0;
	for (i = 0; i < 2; i++) {
		if ((i > 0 && !scan_char(sc, ',')) || !scan_string(sc, &key) || !scan_char(sc, ':'))
			return 0;
		to = span_is(key, "kid") ? kid : span_is(key, "sealed") ? sealed : NULL;
		if (to == NULL || to->s != NULL || !scan_string(sc, to))
			return 0;
	}
	return scan_char(sc, '}');
}

static int
scan_recipients(struct scan *sc, struct view *e)
{
	if (!scan_char(sc, '['))
		return 0;
	do {
		if (e->n == MP_ENVELOPE_MAX_RECIPIENTS ||
		    !scan_recipient(sc, &e->kid[e->n], &e->sealed[e->n]))
			return 0;
		e->n++;
	} while (scan_char(sc, ','));
	e->list_ok = 1;
	return scan_char(sc, ']');
}

static int
view_of_text(struct view *e, const char *text, size_t len)
{
	struct scan sc = { text, text + len };
	struct span key, *to;
	int seen = 0, bit;

	VIEW_CLEAR(e);
	if (!scan_char(&sc, '{'))
		return 0;
	do {
		if (!scan_string(&sc, &key) || !scan_char(&sc, ':'))
			return 0;
		bit = span_is(key, "v")          ? 1
		    : span_is(key, "kind")       ? 2
		    : span_is(key, "nonce")      ? 4
		    : span_is(key, "ct")         ? 8
		    : span_is(key, "recipients") ? 16
		                                 : 0;
		if (bit == 0 || (seen & bit))
			return 0;
		seen |= bit;
		to = bit == 2 ? &e->kind : bit == 4 ? &e->nonce : bit == 8 ? &e->ct : NULL;
		if (bit == 1) {
			/* The number 1: "10", "1.0" or "1e0" then finds no ',' or '}' and is jansson's. */
			if (!scan_char(&sc, '1'))
				return 0;
			e->v1 = 1;
		} else if (bit == 16) {
			if (!scan_recipients(&sc, e))
				return 0;
		} else if (!scan_string(&sc, to)) {
			return 0;
		}
	} while (scan_char(&sc, ','));
	if (!scan_char(&sc, '}') || seen != 31)
		return 0;
	scan_ws(&sc);
	return sc.p == sc.end;
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

/* Open a recipient's sealed item key: 0, or -1. */
static int
sealed_open(uint8_t K[32], struct span sealed, const uint8_t box_pk[32], const uint8_t box_sk[32])
{
	uint8_t buf[SEALED_BYTES];

	if (mp_b64u_decode_exact(buf, sizeof buf, sealed.s, sealed.n) != 0)
		return -1;
	return crypto_box_seal_open(K, buf, sizeof buf, box_pk, box_sk) == 0 ? 0 : -1;
}

int
mp_envelope_item_key(
    uint8_t K[32], const json_t *env, const uint8_t box_pk[32], const uint8_t box_sk[32])
{
	char kid[MP_KID_TEXT_LEN + 1];
	size_t i;
	json_t *r;

	mp_kid(kid, box_pk);
	json_array_foreach(json_object_get(env, "recipients"), i, r) {
		json_t *k = json_object_get(r, "kid"), *s = json_object_get(r, "sealed");
		if (!json_is_string(k) || strcmp(json_string_value(k), kid) != 0 ||
		    !json_is_string(s))
			continue;
		return sealed_open(K, json_span(s), box_pk, box_sk);
	}
	return -1;
}

/* Open a view that passed view_check. */
static int
view_open(uint8_t **pt, size_t *ptlen, const struct view *e, const char *case_id,
    const uint8_t box_pk[32], const uint8_t box_sk[32])
{
	uint8_t K[32], nonce[24];
	uint8_t *ct = NULL, *out = NULL;
	size_t i, ctmax, ctlen = 0, unpadded = 0;
	unsigned long long outlen = 0;
	char ad[AD_MAX], kid[MP_KID_TEXT_LEN + 1];
	struct span me;
	int adlen, rc = -1;

	*pt = NULL;
	*ptlen = 0;
	if ((adlen = make_ad(ad, e->kind.s, e->kind.n, case_id)) < 0)
		return -1;
	mp_kid(kid, box_pk);
	me.s = kid;
	me.n = strlen(kid);
	for (i = 0; i < e->n && !span_same(e->kid[i], me); i++)
		;
	if (i == e->n || sealed_open(K, e->sealed[i], box_pk, box_sk) != 0)
		goto out;
	if (mp_b64u_decode_exact(nonce, sizeof nonce, e->nonce.s, e->nonce.n) != 0)
		goto out;
	ctmax = e->ct.n / 4 * 3 + 3;
	if ((ct = malloc(ctmax)) == NULL || (out = mp_locked_alloc(ctmax + 1)) == NULL)
		goto out;
	if (mp_b64u_decode(ct, ctmax, &ctlen, e->ct.s, e->ct.n) != 0)
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

int
mp_envelope_open(uint8_t **pt, size_t *ptlen, const json_t *env, const char *case_id,
    const uint8_t box_pk[32], const uint8_t box_sk[32])
{
	struct view e;
	const char *why;

	*pt = NULL;
	*ptlen = 0;
	if (!json_is_object(env))
		return -1;
	view_of_json(&e, env);
	if (view_check(&e, &why) != 0)
		return -1;
	return view_open(pt, ptlen, &e, case_id, box_pk, box_sk);
}

int
mp_envelope_check_text(const char *text, size_t len, const char **why)
{
	struct view e;
	json_t *env;
	int rc;

	if (view_of_text(&e, text, len))
		return view_check(&e, why);
	*why = "envelope must be a JSON object";
	if ((env = json_loadb(text, len, 0, NULL)) == NULL)
		return -1;
	rc = mp_envelope_check(env, why);
	json_decref(env);
	return rc;
}

/*
 * The view of text[0..len), checked: 0, or -1.  When the text is not in the
 * form read in place, its object is parsed into *hold, which the view's
 * spans point into: the caller frees it.
 */
static int
view_load(struct view *e, const char *text, size_t len, json_t **hold)
{
	const char *why;

	*hold = NULL;
	if (!view_of_text(e, text, len)) {
		if ((*hold = json_loadb(text, len, 0, NULL)) == NULL || !json_is_object(*hold))
			return -1;
		view_of_json(e, *hold);
	}
	return view_check(e, &why);
}

int
mp_envelope_grows(const char *was, size_t wlen, const char *grown, size_t glen,
    const char *const *kids, size_t nkids)
{
	struct view *a, *b;
	json_t *ha = NULL, *hb = NULL;
	size_t i;
	int rc = -1;

	if ((a = malloc(2 * sizeof *a)) == NULL)
		return -1;
	b = a + 1;
	if (view_load(a, was, wlen, &ha) != 0 || view_load(b, grown, glen, &hb) != 0 ||
	    !span_same(a->kind, b->kind) || !span_same(a->nonce, b->nonce) ||
	    !span_same(a->ct, b->ct) || nkids == 0 || b->n != a->n + nkids)
		goto out;
	for (i = 0; i < a->n; i++)
		if (!span_same(a->kid[i], b->kid[i]) || !span_same(a->sealed[i], b->sealed[i]))
			goto out;
	for (i = 0; i < nkids; i++)
		if (kids[i] == NULL || !span_is(b->kid[a->n + i], kids[i]))
			goto out;
	rc = 0;
out:
	json_decref(ha);
	json_decref(hb);
	free(a);
	return rc;
}

int
mp_envelope_open_text(uint8_t **pt, size_t *ptlen, const char *text, size_t len,
    const char *case_id, const uint8_t box_pk[32], const uint8_t box_sk[32])
{
	struct view e;
	const char *why;
	json_t *env;
	int rc;

	*pt = NULL;
	*ptlen = 0;
	if (view_of_text(&e, text, len))
		return view_check(&e, &why) == 0 ? view_open(pt, ptlen, &e, case_id, box_pk, box_sk)
		                                 : -1;
	if ((env = json_loadb(text, len, 0, NULL)) == NULL)
		return -1;
	rc = mp_envelope_open(pt, ptlen, env, case_id, box_pk, box_sk);
	json_decref(env);
	return rc;
}

void
mp_envelope_free(uint8_t *pt, size_t ptlen)
{
	(void)ptlen;
	mp_locked_free(pt);
}
