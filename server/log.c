/*
 * The transparency log's routes (PROTOCOL.md section 5): signed checkpoints,
 * leaves, proofs, opened events for auditors, the inclusion proof handed to
 * a reporter, and the yearly statistics signed by the log key (section 6).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_b64.h"
#include "mp_merkle.h"
#include "mp_note.h"
#include "mp_remote.h"
#include "mp_stats.h"
#include "mp_wipe.h"

#define PAGE_MAX 1000 /* leaves or events per answer */
#define STATS_CACHED 4
#define NODES_CACHED 1024 /* subtree hashes kept (2^10, see log_node) */

struct stats_doc {
	int year;
	uint64_t size;
	char *doc;
	char sig[MP_B64_LEN(crypto_sign_BYTES) + 1]; /* b64 and a newline */
};

/* A complete subtree's hash: once in the log it never changes. */
struct node {
	uint64_t index;
	unsigned level; /* 0 while the slot is empty: level + 1 is stored */
	uint8_t hash[32];
};

struct log_cache {
	pthread_mutex_t lock; /* the checkpoint */
	pthread_mutex_t node_lock;
	struct node nodes[NODES_CACHED];
	pthread_mutex_t stats_lock; /* the documents: a long fold must not hold up reports */
	uint64_t size;              /* of the newest checkpoint signed */
	uint8_t root[32];
	char *note;
	struct stats_doc stats[STATS_CACHED];
	size_t next; /* the stats slot to reuse */
};

struct log_cache *
log_new(void)
{
	struct log_cache *lc;

	if ((lc = calloc(1, sizeof *lc)) == NULL)
		return NULL;
	pthread_mutex_init(&lc->lock, NULL);
	pthread_mutex_init(&lc->node_lock, NULL);
	pthread_mutex_init(&lc->stats_lock, NULL);
	return lc;
}

void
log_free(struct log_cache *lc)
{
	size_t i;

	if (lc == NULL)
		return;
	free(lc->note);
	for (i = 0; i < STATS_CACHED; i++)
		free(lc->stats[i].doc);
	pthread_mutex_destroy(&lc->lock);
	pthread_mutex_destroy(&lc->node_lock);
	pthread_mutex_destroy(&lc->stats_lock);
	free(lc);
}

/*
 * mp_merkle_get_fn over the store with a small cache in front.  The store
 * answers from committed transactions only, and a complete subtree's hash
 * never changes once committed, so a kept hash is never stale.  Receipts
 * made one after another ask for nearly the same nodes.
 */
static int
log_node(void *arg, unsigned level, uint64_t index, uint8_t out[32])
{
	struct server *srv = arg;
	struct log_cache *lc = srv->log;
	/* Fibonacci hashing of (level, index) onto the 2^10 slots. */
	struct node
	    *n = &lc->nodes[((index ^ (uint64_t)level << 58) * 0x9E3779B97F4A7C15ULL) >> 54];
	int hit;

	pthread_mutex_lock(&lc->node_lock);
	if ((hit = n->level == level + 1 && n->index == index))
		memcpy(out, n->hash, 32);
	pthread_mutex_unlock(&lc->node_lock);
	if (hit)
		return 0;
	if (mp_store_log_node(srv->st, level, index, out) != 0)
		return -1;
	pthread_mutex_lock(&lc->node_lock);
	n->level = level + 1;
	n->index = index;
	memcpy(n->hash, out, 32);
	pthread_mutex_unlock(&lc->node_lock);
	return 0;
}

/*
 * Sign a checkpoint of the log as the store has it now: here, in the
 * process that holds the log key, or by asking that process.  Either way
 * the root is computed where the key is, from the store's own hashes, so
 * whoever asks can get signed only what the log holds.
 */
static int
checkpoint_sign(struct server *srv, char **note, uint64_t *size, uint8_t root[32])
{
	struct mp_wbuf w;
	struct mp_rbuf r;
	const char *s;
	uint8_t *msg;
	size_t len;
	int rc;

	*note = NULL;
	if (srv->in->sec != NULL) {
		if (mp_store_log_size(srv->st, size) != 0 ||
		    mp_merkle_root(*size, log_node, srv, root) != 0)
			return -1;
		return mp_checkpoint_sign(note, srv->in->origin, *size, root, srv->in->sec->log_sk);
	}
	mp_wire_init(&w);
	mp_put_u32(&w, KEYS_CHECKPOINT);
	rc = mp_remote_call(srv->st, &w, &r, &msg, &len);
	mp_wire_free(&w);
	if (rc == 0) {
		s = mp_get_str(&r);
		*size = mp_get_u64(&r);
		mp_get_fixed(&r, root, 32);
		if (mp_wire_done(&r) != 0 || s == NULL || (*note = strdup(s)) == NULL)
			rc = -1;
	}
	mp_wire_discard(msg, len);
	return rc;
}

/*
 * The checkpoint of the log as it is now: signed afresh when the tree grew.
 * Ed25519 signatures are deterministic and the tree only grows, so two
 * checkpoints of one size are the same bytes and no two are inconsistent.
 */
int
log_checkpoint(struct server *srv, char **note, uint64_t *size, uint8_t root[32])
{
	struct log_cache *lc = srv->log;
	uint64_t n;
	int rc = -1;

	*note = NULL;
	if (mp_store_log_size(srv->st, &n) != 0)
		return -1;
	pthread_mutex_lock(&lc->lock);
	if (lc->note == NULL || n > lc->size) {
		char *fresh = NULL;
		uint8_t r[32];

		if (checkpoint_sign(srv, &fresh, &n, r) != 0)
			goto out;
		free(lc->note);
		lc->note = fresh;
		lc->size = n;
		memcpy(lc->root, r, 32);
	}
	if ((*note = strdup(lc->note)) == NULL)
		goto out;
	*size = lc->size;
	memcpy(root, lc->root, 32);
	rc = 0;
out:
	pthread_mutex_unlock(&lc->lock);
	return rc;
}

static json_t *
b64u_json(const uint8_t *b, size_t n)
{
	json_t *j = NULL;
	char *s;

	if ((s = malloc(MP_B64U_LEN(n))) == NULL)
		return NULL;
	if (mp_b64u_encode(s, MP_B64U_LEN(n), b, n) == 0)
		j = json_string(s);
	free(s);
	return j;
}

static json_t *
hashes_json(const uint8_t (*h)[MP_HASH_LEN], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, b64u_json(h[i], MP_HASH_LEN)) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

/* One opened event: {"index", "salt", "event"}. */
static json_t *
entry_json(const struct mp_log_entry *en)
{
	return json_pack("{s:I, s:o, s:o}", "index", (json_int_t)en->index, "salt",
	    b64u_json(en->salt, sizeof en->salt), "event", b64u_json(en->event, en->len));
}

static int
keep_entry(void *arg, const struct mp_log_entry *en)
{
	json_t **out = arg;

	*out = entry_json(en);
	return *out == NULL ? -1 : 0;
}

json_t *
log_proof_json(struct server *srv, const char *case_id)
{
	uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], root[32];
	json_t *ev = NULL, *out = NULL;
	uint64_t idx, size;
	char *note = NULL;
	size_t n = 0;

	if (mp_store_log_created(srv->st, case_id, &idx) != 0 ||
	    log_checkpoint(srv, &note, &size, root) != 0 || idx >= size ||
	    mp_merkle_inclusion(idx, size, log_node, srv, proof, &n) != 0 ||
	    mp_store_log_entries(srv->st, idx, idx + 1, keep_entry, &ev) != 0 || ev == NULL)
		goto out;
	out = json_pack("{s:O, s:O, s:O, s:s, s:o}", "index", json_object_get(ev, "index"), "salt",
	    json_object_get(ev, "salt"), "event", json_object_get(ev, "event"), "checkpoint", note,
	    "proof", hashes_json((const uint8_t(*)[MP_HASH_LEN])proof, n));
out:
	json_decref(ev);
	free(note);
	return out;
}

/* A query parameter that is a decimal number 0..2^63-1, no sign, no leading zeros. */
static int
query_u64(struct request *rq, const char *name, int required, uint64_t *v, struct api_err *e)
{
	const char *s = request_query(rq, name);
	uint64_t n = 0;
	size_t i, len;

	if (s == NULL) {
		if (required)
			return api_error(e, 400, "missing_field", name, "%s is required", name);
		return 1;
	}
	len = strlen(s);
	if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
		goto bad;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > INT64_MAX)
		goto bad;
	*v = n;
	return 0;
bad:
	return api_error(e, 400, "invalid_field", name, "%s must be a whole number", name);
}

int
h_log_checkpoint(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	uint8_t root[32];
	uint64_t size;

	(void)rq;
	if (log_checkpoint(srv, &out->body, &size, root) != 0)
		return store_error(-1, e);
	out->status = 200;
	out->ctype = "text/plain; charset=utf-8";
	return 0;
}

/* [start, end) of a page: end defaults to and is cut at start + PAGE_MAX and the log's size. */
static int
page(struct server *srv, struct request *rq, uint64_t *start, uint64_t *end, struct api_err *e)
{
	uint64_t size;
	int r;

	if (query_u64(rq, "start", 1, start, e) != 0 || (r = query_u64(rq, "end", 0, end, e)) < 0)
		return -1;
	if (mp_store_log_size(srv->st, &size) != 0)
		return store_error(-1, e);
	if (r == 1)
		*end = *start + PAGE_MAX;
	if (*start >= size)
		return api_error(e, 400, "invalid_field", "start", "the log has %llu entries",
		    (unsigned long long)size);
	if (*end <= *start)
		return api_error(e, 400, "invalid_field", "end", "end must be above start");
	if (*end > *start + PAGE_MAX)
		*end = *start + PAGE_MAX;
	if (*end > size)
		*end = size;
	return 0;
}

/* The entries of the page rq asks for, each as add makes it, in *a (new); 0, or -1 with e set. */
static int
page_entries(struct server *srv, struct request *rq,
    int (*add)(void *arg, const struct mp_log_entry *en), uint64_t *start, json_t **a,
    struct api_err *e)
{
	uint64_t end;

	*a = NULL;
	if (page(srv, rq, start, &end, e) != 0)
		return -1;
	if ((*a = json_array()) == NULL ||
	    mp_store_log_entries(srv->st, *start, end, add, *a) != 0) {
		json_decref(*a);
		*a = NULL;
		return store_error(-1, e);
	}
	return 0;
}

static int
add_leaf(void *arg, const struct mp_log_entry *en)
{
	return json_array_append_new(arg, b64u_json(en->leaf, sizeof en->leaf));
}

int
h_log_leaves(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	uint64_t start;
	json_t *a;

	if (page_entries(srv, rq, add_leaf, &start, &a, e) != 0)
		return -1;
	return reply_json(
	    out, 200, json_pack("{s:I, s:o}", "start", (json_int_t)start, "leaves", a));
}

static int
add_event(void *arg, const struct mp_log_entry *en)
{
	return json_array_append_new(arg, entry_json(en));
}

int
h_audit_events(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	uint64_t start;
	json_t *a;

	if (page_entries(srv, rq, add_event, &start, &a, e) != 0)
		return -1;
	return reply_json(out, 200, json_pack("{s:o}", "events", a));
}

/* A tree size asked for must be one the log has reached. */
static int
size_ok(struct server *srv, uint64_t n, const char *field, struct api_err *e)
{
	uint64_t size;

	if (mp_store_log_size(srv->st, &size) != 0)
		return store_error(-1, e);
	if (n == 0 || n > size)
		return api_error(e, 400, "invalid_field", field, "%s must be 1 to %llu", field,
		    (unsigned long long)size);
	return 0;
}

static int
copy_leaf(void *arg, const struct mp_log_entry *en)
{
	memcpy(arg, en->leaf, sizeof en->leaf);
	return 0;
}

int
h_log_inclusion(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN], leaf[32];
	uint64_t index, size;
	size_t n = 0;

	if (query_u64(rq, "index", 1, &index, e) != 0 || query_u64(rq, "size", 1, &size, e) != 0 ||
	    size_ok(srv, size, "size", e) != 0)
		return -1;
	if (index >= size)
		return api_error(e, 400, "invalid_field", "index", "index must be below size");
	if (mp_merkle_inclusion(index, size, log_node, srv, proof, &n) != 0 ||
	    mp_store_log_entries(srv->st, index, index + 1, copy_leaf, leaf) != 0)
		return store_error(-1, e);
	return reply_json(out, 200,
	    json_pack("{s:I, s:I, s:o, s:o}", "index", (json_int_t)index, "size", (json_int_t)size,
	        "leaf", b64u_json(leaf, sizeof leaf), "hashes",
	        hashes_json((const uint8_t(*)[MP_HASH_LEN])proof, n)));
}

int
h_log_consistency(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN];
	uint64_t from, to;
	size_t n = 0;

	if (query_u64(rq, "from", 1, &from, e) != 0 || query_u64(rq, "to", 1, &to, e) != 0 ||
	    size_ok(srv, to, "to", e) != 0)
		return -1;
	if (from == 0 || from > to)
		return api_error(e, 400, "invalid_field", "from", "from must be 1 to `to`");
	if (mp_merkle_consistency(from, to, log_node, srv, proof, &n) != 0)
		return store_error(-1, e);
	return reply_json(out, 200,
	    json_pack("{s:I, s:I, s:o}", "from", (json_int_t)from, "to", (json_int_t)to, "hashes",
	        hashes_json((const uint8_t(*)[MP_HASH_LEN])proof, n)));
}

struct fold {
	struct mp_stats *stats;
	char err[200];
	uint64_t index;
};

static int
fold_event(void *arg, const struct mp_log_entry *en)
{
	struct fold *f = arg;

	f->index = en->index;
	return mp_stats_add(f->stats, en->event, en->len, f->err, sizeof f->err);
}

/* The document and its signature made by the process that holds the log key. */
static int
stats_ask(struct server *srv, int year, uint64_t n, struct stats_doc *d)
{
	struct mp_wbuf w;
	struct mp_rbuf r;
	const char *doc, *sig;
	uint8_t *msg;
	size_t len;
	int rc;

	free(d->doc);
	memset(d, 0, sizeof *d);
	mp_wire_init(&w);
	mp_put_u32(&w, KEYS_STATS);
	mp_put_u32(&w, (uint32_t)year);
	mp_put_u64(&w, n);
	rc = mp_remote_call(srv->st, &w, &r, &msg, &len);
	mp_wire_free(&w);
	if (rc == 0) {
		doc = mp_get_str(&r);
		sig = mp_get_str(&r);
		if (mp_wire_done(&r) != 0 || doc == NULL || sig == NULL ||
		    strlen(sig) >= sizeof d->sig || (d->doc = strdup(doc)) == NULL)
			rc = -1;
		else {
			memcpy(d->sig, sig, strlen(sig) + 1);
			d->year = year;
			d->size = n;
		}
	}
	mp_wire_discard(msg, len);
	return rc;
}

/*
 * The statistics document of year at tree size n, signed; in slot d.  It
 * is provisional while the year lasts, by the clock of the process that
 * signs it: nobody who asks decides that.
 */
static int
stats_make(struct server *srv, int year, uint64_t n, struct stats_doc *d)
{
	struct mp_stats_layout *l = NULL;
	struct fold f = { NULL, "", 0 };
	uint8_t root[32], sig[crypto_sign_BYTES];
	char today[11];
	uint64_t at;
	size_t len;
	int rc = -1;

	if (srv->in->sec == NULL)
		return stats_ask(srv, year, n, d);
	mp_today(today);
	if ((l = mp_stats_layout_policy(srv->in->policy)) == NULL ||
	    (f.stats = mp_stats_new(l, year, srv->in->policy->threshold)) == NULL ||
	    mp_merkle_root(n, log_node, srv, root) != 0)
		goto out;
	/* In pages, so the store's lock is not held for the whole fold. */
	for (at = 0; at < n; at += 4096)
		if (mp_store_log_entries(
		        srv->st, at, at + 4096 < n ? at + 4096 : n, fold_event, &f) != 0) {
			if (f.err[0] != '\0')
				fprintf(stderr, "meldpuntd: log event %llu: %s\n",
				    (unsigned long long)f.index, f.err);
			goto out;
		}
	free(d->doc);
	memset(d, 0, sizeof *d);
	if ((d->doc = mp_stats_document(f.stats, srv->in->origin, n, root, year >= atoi(today))) ==
	    NULL)
		goto out;
	len = strlen(d->doc);
	crypto_sign_detached(sig, NULL, (const uint8_t *)d->doc, len, srv->in->sec->log_sk);
	if (mp_b64_encode(d->sig, sizeof d->sig - 1, sig, sizeof sig) != 0)
		goto out;
	len = strlen(d->sig);
	d->sig[len] = '\n';
	d->sig[len + 1] = '\0';
	d->year = year;
	d->size = n;
	rc = 0;
out:
	if (rc != 0 && d->doc != NULL) {
		free(d->doc);
		d->doc = NULL;
	}
	mp_stats_free(f.stats);
	mp_stats_layout_free(l);
	return rc;
}

/*
 * GET /api/v1/stats/{year}[.sig][?size=N]: the document at the newest
 * checkpoint (or at size N, so that a signature can be fetched for the
 * exact document an auditor holds), and its detached signature.
 */
static int
stats_answer(
    struct server *srv, struct request *rq, struct reply *out, struct api_err *e, int want_sig)
{
	struct log_cache *lc = srv->log;
	struct stats_doc *d = NULL;
	char today[11], *note = NULL, *end;
	uint8_t root[32];
	uint64_t size, n;
	int year, r, rc = -1;
	size_t i;

	year = (int)strtol(rq->param, &end, 10);
	mp_today(today);
	if (end - rq->param != 4 || *end != '\0' || year < 1970 || year > atoi(today))
		return api_error(e, 404, "not_found", NULL, "no statistics for this year");
	if (log_checkpoint(srv, &note, &size, root) != 0)
		return store_error(-1, e);
	free(note);
	if ((r = query_u64(rq, "size", 0, &n, e)) < 0)
		return -1;
	if (r == 1)
		n = size;
	else if (n > size)
		return api_error(e, 400, "invalid_field", "size", "size must be 0 to %llu",
		    (unsigned long long)size);
	pthread_mutex_lock(&lc->stats_lock);
	for (i = 0; i < STATS_CACHED; i++)
		if (lc->stats[i].doc != NULL && lc->stats[i].year == year && lc->stats[i].size == n)
			d = &lc->stats[i];
	if (d == NULL) {
		d = &lc->stats[lc->next];
		lc->next = (lc->next + 1) % STATS_CACHED;
		if (stats_make(srv, year, n, d) != 0) {
			store_error(-1, e);
			goto out;
		}
	}
	if ((out->body = strdup(want_sig ? d->sig : d->doc)) == NULL) {
		store_error(-1, e);
		goto out;
	}
	out->status = 200;
	out->ctype = want_sig ? "text/plain; charset=utf-8" : "application/json; charset=utf-8";
	rc = 0;
out:
	pthread_mutex_unlock(&lc->stats_lock);
	return rc;
}

int
h_stats(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	return stats_answer(srv, rq, out, e, 0);
}

int
h_stats_sig(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	return stats_answer(srv, rq, out, e, 1);
}

/*
 * The log key's operations, in the process that holds it (privsep.c
 * passes them on): a checkpoint of the log as it is, and a year's document
 * at a size the log has reached.
 */
int
log_keys_serve(struct server *srv, uint32_t code, struct mp_rbuf *in, struct mp_wbuf *out)
{
	struct stats_doc d;
	uint8_t root[32];
	uint64_t size, n;
	char *note = NULL, today[11];
	int year, rc = -1;

	if (code == KEYS_CHECKPOINT) {
		if (mp_wire_done(in) != 0 || checkpoint_sign(srv, &note, &size, root) != 0)
			return -1;
		mp_put_str(out, note);
		mp_put_u64(out, size);
		mp_put_fixed(out, root, 32);
		free(note);
		return 0;
	}
	year = (int)mp_get_u32(in);
	n = mp_get_u64(in);
	mp_today(today);
	if (mp_wire_done(in) != 0 || year < 1970 || year > atoi(today) ||
	    mp_store_log_size(srv->st, &size) != 0 || n > size)
		return -1;
	memset(&d, 0, sizeof d);
	if (stats_make(srv, year, n, &d) == 0) {
		mp_put_str(out, d.doc);
		mp_put_str(out, d.sig);
		rc = 0;
	}
	free(d.doc);
	return rc;
}
