/* Signed requests (PROTOCOL.md section 4) and the in-memory replay cache. */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"
#include "mp_sig.h"

/*
 * Nonces seen in the last MP_SIG_REPLAY_WINDOW seconds, per key: an open
 * addressing table of BLAKE2b-128(keyid, nonce) with their expiry.  Only in
 * memory; a restart forgets it, which the 300 s clock window bounds.
 */
struct slot {
	uint8_t h[16];
	time_t expires; /* 0: empty */
};

struct replay_cache {
	pthread_mutex_t lock;
	struct slot *v;
	size_t cap, used;
};

#define REPLAY_MIN_CAP 1024
#define REPLAY_MAX_CAP (1u << 22)

struct replay_cache *
replay_new(void)
{
	struct replay_cache *rc = calloc(1, sizeof *rc);

	if (rc == NULL)
		return NULL;
	if ((rc->v = calloc(REPLAY_MIN_CAP, sizeof *rc->v)) == NULL) {
		free(rc);
		return NULL;
	}
	rc->cap = REPLAY_MIN_CAP;
	pthread_mutex_init(&rc->lock, NULL);
	return rc;
}

void
replay_free(struct replay_cache *rc)
{
	if (rc == NULL)
		return;
	pthread_mutex_destroy(&rc->lock);
	free(rc->v);
	free(rc);
}

static size_t
slot_of(const uint8_t h[16], size_t cap)
{
	size_t i;

	memcpy(&i, h, sizeof i);
	return i & (cap - 1);
}

/* Rebuild into cap slots, keeping only live entries. */
static int
rehash(struct replay_cache *rc, size_t cap, time_t now)
{
	struct slot *v = calloc(cap, sizeof *v);
	size_t i, j;

	if (v == NULL)
		return -1;
	rc->used = 0;
	for (i = 0; i < rc->cap; i++) {
		if (rc->v[i].expires <= now)
			continue;
		for (j = slot_of(rc->v[i].h, cap); v[j].expires != 0; j = (j + 1) & (cap - 1))
			;
		v[j] = rc->v[i];
		rc->used++;
	}
	free(rc->v);
	rc->v = v;
	rc->cap = cap;
	return 0;
}

/* 0 if (keyid, nonce) is new and now recorded; 1 if seen; -1 when full. */
static int
replay_check(struct replay_cache *rc, const char *keyid, const char *nonce, time_t now)
{
	crypto_generichash_state st;
	uint8_t h[16];
	size_t j;
	int r = -1;

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)keyid, strlen(keyid) + 1);
	crypto_generichash_update(&st, (const uint8_t *)nonce, strlen(nonce));
	crypto_generichash_final(&st, h, sizeof h);
	pthread_mutex_lock(&rc->lock);
	if (rc->used * 2 >= rc->cap) {
		size_t cap = rc->cap;
		if (rehash(rc, cap, now) != 0)
			goto out;
		while (rc->used * 2 >= cap && cap < REPLAY_MAX_CAP)
			cap *= 2;
		if (cap != rc->cap && rehash(rc, cap, now) != 0)
			goto out;
		if (rc->used * 2 >= rc->cap)
			goto out;
	}
	for (j = slot_of(h, rc->cap); rc->v[j].expires != 0; j = (j + 1) & (rc->cap - 1)) {
		if (memcmp(rc->v[j].h, h, sizeof h) == 0 && rc->v[j].expires > now) {
			r = 1;
			goto out;
		}
	}
	memcpy(rc->v[j].h, h, sizeof h);
	rc->v[j].expires = now + MP_SIG_REPLAY_WINDOW + 1;
	rc->used++;
	r = 0;
out:
	pthread_mutex_unlock(&rc->lock);
	return r;
}

static int
unauthorized(struct api_err *e, const char *why)
{
	return api_error(e, 401, "unauthorized", NULL, "%s", why);
}

int
auth_check(struct server *srv, struct request *rq, struct api_err *e)
{
	struct mp_sig_params p;
	char path[2048], query[2048], digest[MP_SIG_DIGEST_LEN], *base = NULL;
	const char *got;
	time_t now = time(NULL);
	int n, r, rc = -1;

	if (mp_sig_parse(
	        &p, request_header(rq, "Signature-Input"), request_header(rq, "Signature")) != 0)
		return unauthorized(e, "a valid request signature is required");
	if (p.has_digest != (rq->len > 0))
		return unauthorized(e,
		    rq->len > 0 ? "the signature must cover content-digest"
		                : "content-digest is covered but there is no body");
	if (p.created < (long long)now - MP_SIG_MAX_SKEW ||
	    p.created > (long long)now + MP_SIG_MAX_SKEW)
		return unauthorized(
		    e, "the signature is expired or from the future; check the clock");
	if (p.has_digest) {
		got = request_header(rq, "Content-Digest");
		if (mp_sig_digest(digest, sizeof digest, rq->body, rq->len) != 0 || got == NULL ||
		    strcmp(got, digest) != 0)
			return unauthorized(e, "content-digest does not match the body");
	}
	if (request_path_query(rq, path, sizeof path, query, sizeof query) != 0 ||
	    (base = malloc(MP_SIG_BASE_MAX)) == NULL)
		return unauthorized(e, "the request target is too long");
	/*
	 * The keyid is the public key, so the signature is checked before the
	 * key is looked up: a stranger learns nothing about which keys exist.
	 */
	n = mp_sig_base(
	    base, MP_SIG_BASE_MAX, rq->method, path, query, p.has_digest ? digest : NULL, p.params);
	if (n < 0 || mp_sig_verify(&p, base, (size_t)n) != 0 ||
	    (r = mp_store_key_by_sign(srv->st, p.sign_pk, &rq->who)) == MP_STORE_NOTFOUND ||
	    (r == 0 && !rq->who.active)) {
		unauthorized(e, "the signature does not verify, or its key is not registered");
		goto out;
	}
	if (r != 0) {
		store_error(r, e);
		goto out;
	}
	/* Recorded only after it verifies, so strangers cannot fill the cache. */
	if ((r = replay_check(srv->replay, p.keyid, p.nonce, now)) != 0) {
		if (r > 0)
			unauthorized(e, "this request was sent before (replay)");
		else
			api_error(
			    e, 503, "unavailable", NULL, "too many signed requests; try again");
		goto out;
	}
	switch (rq->route->auth) {
	case AUTH_CASEWORKER:
		if (strcmp(rq->who.role, "caseworker") != 0)
			goto forbidden;
		break;
	case AUTH_AUDITOR:
		if (strcmp(rq->who.role, "auditor") != 0)
			goto forbidden;
		break;
	default:
		break;
	}
	rc = 0;
	goto out;
forbidden:
	api_error(e, 403, "forbidden", NULL, "the %s role may not do this", rq->who.role);
out:
	free(base);
	return rc;
}
