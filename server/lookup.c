/*
 * A token's case and a new report's case, found or stored where the token
 * pepper and the log key are, in one call.
 *
 * In one process these are plain calls.  Split into processes
 * (docs/PRIVSEP.md), the HTTP worker holds neither the pepper (which turns
 * a token's look-up value into the tag the store indexes) nor the log key
 * (which signs the checkpoint a receipt carries), so it asks the store
 * process.  It asks once: a follow-up is one message and one answer (the
 * case, its messages still sealed, the log proof), and so is a new report
 * (its tag made, the case stored, the proof).  The worker still opens the
 * messages itself: the store process never sees a token, only its look-up
 * value, from which no key is derived.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_remote.h"
#include "mp_token.h"
#include "mp_wire.h"

void
found_clear(struct found *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->items[i].envelope);
	free(f->items);
	json_decref(f->log);
	mp_case_clear(&f->c);
	memset(f, 0, sizeof *f);
}

static int
found_add(struct found *f, const char *sender, const char *day, const char *envelope)
{
	struct found_item *it;

	if ((it = realloc(f->items, (f->n + 1) * sizeof *it)) == NULL)
		return -1;
	f->items = it;
	it = &f->items[f->n];
	memset(it, 0, sizeof *it);
	if (snprintf(it->sender, sizeof it->sender, "%s", sender) >= (int)sizeof it->sender ||
	    snprintf(it->day, sizeof it->day, "%s", day) >= (int)sizeof it->day ||
	    (it->envelope = strdup(envelope)) == NULL)
		return -1;
	f->n++;
	return 0;
}

/* mp_store_items callback: keep the messages (the report and notes are not the reporter's view). */
static int
keep_message(void *arg, const struct mp_item *it)
{
	if (strcmp(it->kind, "message") != 0)
		return 0;
	return found_add(arg, it->sender, it->day, it->envelope);
}

/* --- where the keys are -------------------------------------------------------------------- */

static int
find_here(struct server *srv, const uint8_t lookup[32], int view, struct found *f)
{
	uint8_t tag[32];
	int rc;

	mp_token_tag(tag, srv->in->sec->pepper, lookup);
	rc = mp_store_case_by_tag(srv->st, tag, &f->c);
	sodium_memzero(tag, sizeof tag);
	if (rc != 0 || !view)
		return rc;
	if (mp_store_items(srv->st, f->c.id, keep_message, f) != 0)
		return -1;
	/* A proof that cannot be made now leaves it out of the answer. */
	f->log = log_proof_json(srv, f->c.id);
	return 0;
}

static int
store_here(
    struct server *srv, const uint8_t *lookup, struct mp_case_new *c, char ref[24], json_t **log)
{
	uint8_t tag[32];
	int rc;

	if (lookup != NULL) {
		mp_token_tag(tag, srv->in->sec->pepper, lookup);
		c->token_tag = tag;
	}
	rc = mp_store_case_create(srv->st, c, ref);
	if (lookup != NULL) {
		c->token_tag = NULL;
		sodium_memzero(tag, sizeof tag);
	}
	if (rc == 0 && log != NULL)
		*log = log_proof_json(srv, c->id);
	return rc;
}

/* The answer's proof: its JSON text, or NULL. */
static void
put_json(struct mp_wbuf *w, const json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	mp_put_str(w, s);
	free(s);
}

static json_t *
get_json(struct mp_rbuf *r)
{
	const char *s = mp_get_str(r);

	return s != NULL ? json_loads(s, JSON_REJECT_DUPLICATES, NULL) : NULL;
}

int
lookup_keys_serve(struct server *srv, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out)
{
	struct mp_case_new c;
	struct found f;
	json_t *log = NULL;
	uint8_t lookup[32], tag[32], pk[32];
	char ref[24];
	size_t i;
	int has, view, rc = -1;

	has = (int)mp_get_u32(in);
	if (has)
		mp_get_fixed(in, lookup, 32);
	if (code == KEYS_FIND) {
		view = mp_get_u32(in) != 0;
		if (mp_wire_done(in) != 0 || !has)
			goto out;
		memset(&f, 0, sizeof f);
		if ((rc = find_here(srv, lookup, view, &f)) == 0) {
			mp_put_case(out, &f.c);
			mp_put_u32(out, (uint32_t)f.n);
			for (i = 0; i < f.n; i++) {
				mp_put_str(out, f.items[i].sender);
				mp_put_str(out, f.items[i].day);
				mp_put_str(out, f.items[i].envelope);
			}
			put_json(out, f.log);
		}
		found_clear(&f);
	} else {
		/* The tag is made here from the look-up value, never taken from the caller. */
		if (mp_get_case_new(in, &c, tag, pk) != 0 || mp_wire_done(in) != 0 ||
		    c.token_tag != NULL || mp_store_day_now(c.day) != 0)
			goto out;
		if ((rc = store_here(srv, has ? lookup : NULL, &c, ref, &log)) == 0) {
			mp_put_str(out, ref);
			put_json(out, log);
		}
		json_decref(log);
	}
out:
	sodium_memzero(lookup, sizeof lookup); /* a malformed call too: it may hold one */
	return rc;
}

/* --- the callers --------------------------------------------------------------------------- */

int
case_find(struct server *srv, const uint8_t lookup[32], int view, struct found *f)
{
	struct mp_wbuf w;
	struct mp_rbuf r;
	const char *sender, *day, *env;
	uint8_t *msg;
	size_t len, n, i;
	int rc;

	memset(f, 0, sizeof *f);
	if (srv->in->sec != NULL)
		return find_here(srv, lookup, view, f);
	mp_wire_init(&w);
	mp_put_u32(&w, KEYS_FIND);
	mp_put_u32(&w, 1);
	mp_put_fixed(&w, lookup, 32);
	mp_put_u32(&w, view != 0);
	rc = mp_remote_call(srv->st, &w, &r, &msg, &len);
	mp_wire_free(&w);
	if (rc == 0) {
		mp_get_case(&r, &f->c);
		n = mp_get_u32(&r);
		for (i = 0; i < n && !r.err; i++) {
			sender = mp_get_str(&r);
			day = mp_get_str(&r);
			env = mp_get_str(&r);
			if (sender == NULL || day == NULL || env == NULL ||
			    found_add(f, sender, day, env) != 0)
				r.err = 1;
		}
		f->log = get_json(&r);
		if (mp_wire_done(&r) != 0)
			rc = -1;
	}
	mp_wire_discard(msg, len);
	if (rc != 0)
		found_clear(f);
	return rc;
}

int
case_store(
    struct server *srv, const uint8_t *lookup, struct mp_case_new *c, char ref[24], json_t **log)
{
	struct mp_wbuf w;
	struct mp_rbuf r;
	uint8_t *msg;
	size_t len;
	int rc;

	if (log != NULL)
		*log = NULL;
	if (srv->in->sec != NULL)
		return store_here(srv, lookup, c, ref, log);
	mp_wire_init(&w);
	mp_put_u32(&w, KEYS_REPORT);
	mp_put_u32(&w, lookup != NULL);
	if (lookup != NULL)
		mp_put_fixed(&w, lookup, 32);
	mp_put_case_new(&w, c);
	rc = mp_remote_call(srv->st, &w, &r, &msg, &len);
	mp_wire_free(&w);
	if (rc == 0) {
		mp_get_strcpy(&r, ref, 24);
		if (log != NULL)
			*log = get_json(&r);
		else
			(void)mp_get_str(&r);
		if (mp_wire_done(&r) != 0)
			rc = -1;
	}
	mp_wire_discard(msg, len);
	if (rc != 0 && log != NULL) {
		json_decref(*log);
		*log = NULL;
	}
	return rc;
}
