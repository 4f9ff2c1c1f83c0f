/* Residents' routes: report, follow-up, policy, health. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_token.h"
#include "mp_wipe.h"

int
h_healthz(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	(void)srv;
	(void)rq;
	(void)e;
	out->status = 200;
	out->text = "ok";
	out->ctype = "text/plain; charset=utf-8";
	return 0;
}

int
h_policy(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	(void)rq;
	(void)e;
	return reply_json(out, 200, mp_policy_json(srv->in->policy));
}

/* No contact, null, {} or only empty texts: the reporter stays anonymous. */
static int
is_anonymous(const json_t *contact)
{
	const char *k;
	json_t *v;

	if (!json_is_object(contact))
		return 1;
	json_object_foreach((json_t *)contact, k, v)
		if (strcmp(k, "preferred") != 0 && json_is_string(v) && json_string_length(v) > 0)
			return 0;
	return 1;
}

/*
 * The active recipients as this process last heard them from the store.  A
 * report sealed to them tells the store which keys it used, and the store
 * creates the case only if they are still exactly the active ones
 * (MP_STORE_STALE otherwise): a key added or revoked meanwhile costs one
 * more sealing, never a report sealed to the wrong keys.
 */
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t (*known)[32];
static size_t nknown;

/* The known recipients into *pks (malloc'ed, *n of them), asked of the store first when fresh. */
static int
active_keys(struct server *srv, int fresh, uint8_t (**pks)[32], size_t *n)
{
	uint8_t(*got)[32] = NULL;
	size_t k = 0;
	int rc = 0;

	*pks = NULL;
	*n = 0;
	pthread_mutex_lock(&known_lock);
	if (fresh || known == NULL) {
		if (mp_store_recipients(srv->st, &got, &k) != 0) {
			rc = -1;
		} else {
			free(known);
			known = got;
			nknown = k;
		}
	}
	if (rc == 0 && nknown > 0) {
		if ((*pks = malloc(nknown * sizeof *known)) == NULL) {
			rc = -1;
		} else {
			memcpy(*pks, known, nknown * sizeof *known);
			*n = nknown;
		}
	}
	pthread_mutex_unlock(&known_lock);
	return rc;
}

/*
 * Every active caseworker and the recovery key, plus the reporter when
 * given.  With to: the keys this process knows (asked again when to->fresh),
 * and a copy of them, the reporter's left out, in to->keys for the store to
 * check; without: asked of the store.
 */
static int
recipients(struct server *srv, const uint8_t *extra, struct mp_box_pk **out, size_t *n,
    struct sealed_to *to, struct api_err *e)
{
	uint8_t(*pks)[32] = NULL;
	struct mp_box_pk *r;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if ((to != NULL ? active_keys(srv, to->fresh, &pks, &k)
	                : mp_store_recipients(srv->st, &pks, &k)) != 0)
		return store_error(-1, e);
	if (k == 0) {
		free(pks);
		return api_error(e, 503, "unavailable", NULL,
		    "no caseworker can receive reports yet; please try again later");
	}
	if ((r = calloc(k + 1, sizeof *r)) == NULL) {
		free(pks);
		return store_error(-1, e);
	}
	for (i = 0; i < k; i++)
		memcpy(r[i].pk, pks[i], 32);
	if (extra != NULL)
		memcpy(r[k++].pk, extra, 32);
	if (to != NULL) {
		free(to->keys);
		to->keys = pks;
		to->n = extra != NULL ? k - 1 : k;
	} else {
		free(pks);
	}
	*out = r;
	*n = k;
	return 0;
}

/* Seal a plaintext JSON object into a new envelope text (wiping the plaintext). */
static char *
seal_text(struct server *srv, const char *case_id, const char *kind, json_t *plain,
    const uint8_t *extra_pk, struct sealed_to *to, struct api_err *e)
{
	struct mp_box_pk *rcpt = NULL;
	char *pt = NULL, *text = NULL;
	size_t n = 0;

	if (recipients(srv, extra_pk, &rcpt, &n, to, e) != 0)
		return NULL;
	if ((pt = json_dumps(plain, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL ||
	    (text = mp_envelope_seal_text(
	         kind, case_id, (const uint8_t *)pt, strlen(pt), rcpt, n)) == NULL)
		store_error(-1, e);
	mp_wipe_free(pt);
	free(rcpt);
	return text;
}

int
seal_and_store(struct server *srv, const char *case_id, const char *kind, const char *sender,
    json_t *plain, const uint8_t *extra_pk, unsigned day_cap, struct api_err *e)
{
	char item_id[MP_ID_LEN + 1], day[11], *env;
	int rc;

	if ((env = seal_text(srv, case_id, kind, plain, extra_pk, NULL, e)) == NULL)
		return -1;
	mp_new_id(item_id);
	mp_today(day);
	rc = mp_store_item_add(srv->st, case_id, item_id, kind, sender, day, env, day_cap);
	free(env);
	if (rc == MP_STORE_LIMIT) {
		api_error(e, 429, "rate_limited", NULL,
		    "this case has taken %u messages today; "
		    "send more tomorrow",
		    day_cap);
		e->retry = mp_seconds_to_tomorrow();
		return -1;
	}
	return rc == 0 ? 0 : store_error(rc, e);
}

const char *
default_language(const struct mp_policy *p)
{
	/* The API's default is Dutch; a policy without Dutch falls back to its first language. */
	return mp_policy_lang(p, "nl") >= 0 ? "nl" : p->lists[MP_LANGUAGES].v[0].code;
}

/* A new token: its text, URL, look-up value and the reporter's public key. */
static int
token_new(struct server *srv, char token[MP_TOKEN_TEXT_LEN + 1], char *url, size_t urllen,
    uint8_t lookup[32], uint8_t pk[32])
{
	uint8_t t[MP_TOKEN_BYTES], sk[32];
	int n, rc = -1;

	mp_token_new(t);
	mp_token_format(token, t);
	mp_token_lookup(lookup, t);
	if (mp_token_reporter_keypair(pk, sk, t) != 0)
		goto out;
	n = snprintf(url, urllen, "%s/f#%s", srv->in->public_url, token);
	rc = (n < 0 || (size_t)n >= urllen) ? -1 : 0;
out:
	/* Only the reporter's token ever re-derives these. */
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(t, sizeof t);
	return rc;
}

int
token_issue(struct server *srv, char token[MP_TOKEN_TEXT_LEN + 1], char *url, size_t urllen,
    uint8_t tag[32], uint8_t pk[32])
{
	uint8_t lookup[32];
	int rc;

	rc = token_new(srv, token, url, urllen, lookup, pk) != 0 || token_tag(srv, lookup, tag) != 0
	    ? -1
	    : 0;
	sodium_memzero(lookup, sizeof lookup);
	return rc;
}

void
receipt_clear(struct receipt *r)
{
	mp_wipe_free(r->svg); /* the QR code encodes the token */
	json_decref(r->log);
	sodium_memzero(r, sizeof *r);
}

int
report_submit(struct server *srv, json_t *o, struct receipt *r, struct api_err *e)
{
	uint8_t lookup[32], pk[32];
	char item_id[MP_ID_LEN + 1], ref[24], *env = NULL;
	const char *lang;
	struct sealed_to to = { NULL, 0, 0 };
	struct mp_case_new c;
	int n, rc = -1;

	memset(r, 0, sizeof *r);
	if (report_validate(srv->in->policy, o, e) != 0)
		goto out;
	lang = json_string_value(json_object_get(o, "language"));
	mp_today(r->received);
	mp_new_id(r->case_id);
	mp_new_id(item_id);
	if (json_object_set_new(o, "received", json_string(r->received)) != 0 ||
	    (env = seal_text(srv, r->case_id, "report", o, NULL, &to, e)) == NULL)
		goto out;
	if (token_new(srv, r->token, r->url, sizeof r->url, lookup, pk) != 0 ||
	    (r->svg = qr_svg(r->url)) == NULL) {
		store_error(-1, e);
		goto out;
	}
	memset(&c, 0, sizeof c);
	c.id = r->case_id;
	c.day = r->received;
	c.channel = "web";
	c.language = lang != NULL ? lang : default_language(srv->in->policy);
	c.anonymous = is_anonymous(json_object_get(o, "contact"));
	c.reporter_pk = pk;
	c.item_id = item_id;
	c.envelope = env;
	c.sealed_to = (const uint8_t *)to.keys;
	c.nsealed = to.n;
	/* Stored with its proof; a proof that cannot be made now leaves it out of the answer. */
	if ((n = case_store(srv, lookup, &c, ref, &r->log)) == MP_STORE_STALE) {
		/* The keys changed since this process last asked: sealed again to today's. */
		free(env);
		to.fresh = 1;
		if ((env = seal_text(srv, r->case_id, "report", o, NULL, &to, e)) == NULL)
			goto out;
		c.envelope = env;
		c.sealed_to = (const uint8_t *)to.keys;
		c.nsealed = to.n;
		n = case_store(srv, lookup, &c, ref, &r->log);
	}
	if (n != 0) {
		store_error(n, e);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(lookup, sizeof lookup);
	free(to.keys);
	free(env);
	if (rc != 0)
		receipt_clear(r);
	return rc;
}

/*
 * The report's answer as text, {"token", "followup_url", "qr_svg",
 * "received", "log"}, written straight into one block (the answer is wiped
 * when sent: it holds the token).  Most of it is the QR code's SVG, which
 * a general JSON writer would check and copy character by character.
 */
static char *
receipt_text(const struct receipt *r)
{
	static const char *const keys[] = {
		"{\"token\":", ",\"followup_url\":", ",\"qr_svg\":", ",\"received\":"
	};
	static const char logkey[] = ",\"log\":";
	const char *vals[] = { r->token, r->url, r->svg, r->received };
	char *log = NULL, *text, *p;
	size_t n = sizeof "}", i, k, loglen = 0;

	if (r->log != NULL &&
	    (log = json_dumps(r->log, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		return NULL;
	for (i = 0; i < 4; i++)
		n += strlen(keys[i]) + json_quoted_len(vals[i]);
	if (log != NULL)
		n += (loglen = strlen(log)) + sizeof logkey - 1;
	/* Every part below is counted in n. */
	if ((text = malloc(n)) != NULL) {
		p = text;
		for (i = 0; i < 4; i++) {
			memcpy(p, keys[i], k = strlen(keys[i]));
			p = json_quote(p + k, vals[i]);
		}
		if (log != NULL) {
			memcpy(p, logkey, sizeof logkey - 1);
			memcpy(p + sizeof logkey - 1, log, loglen);
			p += sizeof logkey - 1 + loglen;
		}
		memcpy(p, "}", sizeof "}");
	}
	free(log);
	return text;
}

int
h_report(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct receipt r;
	json_t *o = NULL;
	int rc = -1;

	memset(&r, 0, sizeof r);
	if (body_json(rq, &o, e) != 0 || report_submit(srv, o, &r, e) != 0)
		goto out;
	if ((out->body = receipt_text(&r)) == NULL) {
		/* Out of memory after the report was stored: answered as any failure. */
		store_error(-1, e);
		goto out;
	}
	out->status = 201;
	out->ctype = "application/json; charset=utf-8";
	rc = 0;
out:
	receipt_clear(&r);
	json_decref(o);
	return rc;
}

/* The reporter's key pair and what the store holds for the token field of a follow-up body. */
struct followup {
	uint8_t pk[32], sk[32];
	struct found fd;
};

static int
open_followup(struct server *srv, const char *text, int view, struct followup *f, struct api_err *e)
{
	uint8_t t[MP_TOKEN_BYTES], lookup[32];
	int rc = -1, r;

	memset(f, 0, sizeof *f);
	if (mp_token_parse(t, text, strlen(text)) != 0)
		return api_error(e, 400, "token_malformed", "token",
		    "this is not a follow-up token; check it and try again");
	/*
	 * Known and unknown tokens take the same path up to the indexed look-up
	 * of a keyed hash, which an attacker cannot steer byte by byte.
	 */
	mp_token_lookup(lookup, t);
	if (mp_token_reporter_keypair(f->pk, f->sk, t) != 0) {
		store_error(-1, e);
		goto out;
	}
	if ((r = case_find(srv, lookup, view, &f->fd)) == MP_STORE_NOTFOUND) {
		api_error(e, 404, "token_unknown", "token", "no report has this token");
		goto out;
	}
	if (r != 0) {
		store_error(r, e);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(t, sizeof t);
	sodium_memzero(lookup, sizeof lookup);
	if (rc != 0)
		sodium_memzero(f->sk, sizeof f->sk);
	return rc;
}

static void
close_followup(struct followup *f)
{
	sodium_memzero(f->sk, sizeof f->sk);
	found_clear(&f->fd);
}

/* The reporter's view of the messages, each opened with the token's key. */
static json_t *
open_messages(struct followup *f)
{
	const struct found_item *it;
	json_t *list, *plain, *text;
	uint8_t *pt;
	size_t ptlen, i;

	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; i < f->fd.n; i++) {
		it = &f->fd.items[i];
		pt = NULL;
		ptlen = 0;
		plain = NULL;
		if (mp_envelope_open_text(&pt, &ptlen, it->envelope, strlen(it->envelope),
		        f->fd.c.id, f->pk, f->sk) == 0 &&
		    (plain = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES, NULL)) !=
		        NULL &&
		    json_is_string(text = json_object_get(plain, "text")))
			json_array_append_new(list,
			    json_pack("{s:s, s:s, s:O}", "from", it->sender, "date", it->day,
			        "text", text));
		/* A message it cannot open is left out. */
		mp_envelope_free(pt, ptlen);
		json_decref(plain);
	}
	return list;
}

static const char *const followup_fields[] = { "token", NULL };
static const char *const message_fields[] = { "token", "text", NULL };

int
followup_view(struct server *srv, const char *token, json_t **answer, struct api_err *e)
{
	const struct mp_code *st;
	const struct mp_case *c;
	struct followup f;
	json_t *messages = NULL;
	int rc = -1;

	*answer = NULL;
	if (open_followup(srv, token, 1, &f, e) != 0)
		return -1;
	c = &f.fd.c;
	if ((messages = open_messages(&f)) == NULL) {
		store_error(-1, e);
		goto out;
	}
	if (c->purged[0] != '\0') {
		/* The contents are gone after the retention term; the case still counts. */
		st = mp_policy_find(srv->in->policy, MP_NOTICES, "purged");
		*answer = json_pack("{s:s, s:s, s:s, s:s, s:O}", "status", "closed", "status_label",
		    mp_policy_label(srv->in->policy, st, c->language), "updated", c->purged,
		    "language", c->language, "messages", messages);
	} else {
		st = mp_policy_find(srv->in->policy, MP_STATUSES, c->status);
		*answer = json_pack("{s:s, s:s, s:s, s:s, s:O}", "status", c->status,
		    "status_label",
		    st ? mp_policy_label(srv->in->policy, st, c->language) : c->status, "updated",
		    c->updated, "language", c->language, "messages", messages);
	}
	if (*answer == NULL) {
		store_error(-1, e);
		goto out;
	}
	/* The reporter can check, at every visit, that the report still counts. */
	if (f.fd.log != NULL)
		json_object_set(*answer, "log", f.fd.log);
	rc = 0;
out:
	close_followup(&f);
	json_decref(messages);
	return rc;
}

int
h_followup(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const char *token;
	json_t *o = NULL, *answer = NULL;
	int rc = -1;

	if (body_json(rq, &o, e) != 0 || only_fields(o, followup_fields, "", e) != 0 ||
	    text_field(o, "token", 1, 200, 1, &token, e) != 0 ||
	    followup_view(srv, token, &answer, e) != 0)
		goto out;
	/* The API answer has exactly its documented fields. */
	json_object_del(answer, "language");
	rc = reply_json(out, 200, answer);
	answer = NULL;
out:
	json_decref(answer);
	json_decref(o);
	return rc;
}

int
followup_post(struct server *srv, const char *token, const char *text, struct api_err *e)
{
	struct followup f;
	json_t *plain = NULL;
	int rc = -1;

	if (open_followup(srv, token, 0, &f, e) != 0)
		return -1;
	sodium_memzero(f.sk, sizeof f.sk); /* sealing needs only the public key */
	if (f.fd.c.purged[0] != '\0') {
		api_error(e, 409, "conflict", NULL, "this case is closed and its contents removed");
		goto out;
	}
	if ((plain = json_pack("{s:s, s:s}", "text", text, "from", "reporter")) == NULL) {
		store_error(-1, e);
		goto out;
	}
	/* docs/ABUSE.md: a token, leaked or scripted, cannot bury its case in messages. */
	rc = seal_and_store(srv, f.fd.c.id, "message", "reporter", plain, f.pk,
	    (unsigned)srv->in->policy->limits.case_messages, e);
out:
	close_followup(&f);
	json_decref(plain);
	return rc;
}

int
h_followup_message(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const char *token, *text;
	json_t *o = NULL;
	int rc = -1;

	if (body_json(rq, &o, e) != 0 || only_fields(o, message_fields, "", e) != 0 ||
	    text_field(o, "text", 1, TEXT_MAX, 1, &text, e) != 0 ||
	    text_field(o, "token", 1, 200, 1, &token, e) != 0 ||
	    followup_post(srv, token, text, e) != 0)
		goto out;
	rc = reply_json(out, 201, json_object());
out:
	json_decref(o);
	return rc;
}
