/*
 * The store across a process boundary (include/mp_remote.h): each call is
 * one message and one answer on a channel; rows that a local call would
 * hand to a callback come back in the answer and are handed over here.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "mp_envelope.h"
#include "mp_remote.h"
#include "remote.h"

#define GROUNDS_MAX 64
#define KIDS_MAX 1024

struct store_remote {
	int *fds;
	size_t n;
	unsigned char *busy;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* The channel this thread holds for a change, and how deep the change is. */
static __thread int bound = -1;
static __thread int depth;

/* --- the calling side ---------------------------------------------------------------------- */

int
mp_store_remote(struct mp_store **out, const int *fds, size_t n)
{
	struct mp_store *st;
	struct store_remote *rm;

	*out = NULL;
	if (n == 0 || (st = calloc(1, sizeof *st)) == NULL)
		return -1;
	if ((rm = calloc(1, sizeof *rm)) == NULL ||
	    (rm->fds = calloc(n, sizeof *rm->fds)) == NULL || (rm->busy = calloc(n, 1)) == NULL) {
		if (rm != NULL)
			free(rm->fds);
		free(rm);
		free(st);
		return -1;
	}
	memcpy(rm->fds, fds, n * sizeof *fds);
	rm->n = n;
	pthread_mutex_init(&rm->lock, NULL);
	pthread_cond_init(&rm->cond, NULL);
	st->remote = rm;
	*out = st;
	return 0;
}

int
mp_store_is_remote(const struct mp_store *st)
{
	return st != NULL && st->remote != NULL;
}

void
remote_close(struct store_remote *rm)
{
	size_t i;

	for (i = 0; i < rm->n; i++)
		close(rm->fds[i]);
	pthread_mutex_destroy(&rm->lock);
	pthread_cond_destroy(&rm->cond);
	free(rm->fds);
	free(rm->busy);
	free(rm);
}

static int
acquire(struct store_remote *rm)
{
	size_t i;

	if (bound >= 0)
		return bound;
	pthread_mutex_lock(&rm->lock);
	for (;;) {
		for (i = 0; i < rm->n; i++)
			if (!rm->busy[i]) {
				rm->busy[i] = 1;
				pthread_mutex_unlock(&rm->lock);
				return (int)i;
			}
		pthread_cond_wait(&rm->cond, &rm->lock);
	}
}

static void
release(struct store_remote *rm, int c)
{
	if (c == bound)
		return;
	pthread_mutex_lock(&rm->lock);
	rm->busy[c] = 0;
	pthread_cond_signal(&rm->cond);
	pthread_mutex_unlock(&rm->lock);
}

/*
 * Send req and read the answer: its code, with *r positioned on its fields
 * (free *msg after reading them).  A broken channel is -1: the serving
 * process is gone, and nothing can be stored until meldpuntd restarts.
 */
static int
call(struct store_remote *rm, const struct mp_wbuf *req, struct mp_rbuf *r, uint8_t **msg,
    size_t *len)
{
	int c, code;

	*msg = NULL;
	*len = 0;
	mp_wire_reader(r, NULL, 0);
	if (req->err)
		return -1;
	c = acquire(rm);
	if (mp_wire_send(rm->fds[c], req) != 0 || mp_wire_recv(rm->fds[c], msg, len) != 0) {
		release(rm, c);
		return -1;
	}
	release(rm, c);
	mp_wire_reader(r, *msg, *len);
	code = (int32_t)mp_get_u32(r);
	return r->err ? -1 : code;
}

int
mp_remote_call(
    struct mp_store *st, const struct mp_wbuf *req, struct mp_rbuf *ans, uint8_t **msg, size_t *len)
{
	if (st->remote == NULL)
		return -1;
	return call(st->remote, req, ans, msg, len);
}

/* A call whose answer has no fields. */
static int
call_plain(struct store_remote *rm, struct mp_wbuf *req)
{
	struct mp_rbuf r;
	uint8_t *msg;
	size_t len;
	int rc;

	rc = call(rm, req, &r, &msg, &len);
	if (rc >= 0 && mp_wire_done(&r) != 0)
		rc = -1;
	mp_wire_discard(msg, len);
	mp_wire_free(req);
	return rc;
}

static void
start(struct mp_wbuf *w, enum op op)
{
	mp_wire_init(w);
	mp_put_u32(w, op);
}

int
remote_begin(struct store_remote *rm)
{
	struct mp_wbuf w;
	int rc;

	if (depth == 0)
		bound = acquire(rm);
	depth++;
	start(&w, OP_BEGIN);
	if ((rc = call_plain(rm, &w)) != 0 && --depth == 0) {
		int c = bound;

		bound = -1;
		release(rm, c);
	}
	return rc;
}

int
remote_end(struct store_remote *rm, int ok)
{
	struct mp_wbuf w;
	int rc, c;

	if (depth == 0)
		return -1;
	start(&w, OP_END);
	mp_put_u32(&w, ok != 0);
	rc = call_plain(rm, &w);
	if (--depth == 0) {
		c = bound;
		bound = -1;
		release(rm, c);
	}
	return rc;
}

/* --- records both ways --------------------------------------------------------------------- */

void
put_key(struct mp_wbuf *w, const struct mp_key *k)
{
	mp_put_str(w, k->kid);
	mp_put_str(w, k->name);
	mp_put_str(w, k->role);
	mp_put_fixed(w, k->sign_pk, 32);
	mp_put_fixed(w, k->box_pk, 32);
	mp_put_u32(w, k->has_sign != 0);
	mp_put_u32(w, k->active != 0);
	mp_put_str(w, k->added);
}

static void
get_key(struct mp_rbuf *r, struct mp_key *k)
{
	memset(k, 0, sizeof *k);
	mp_get_strcpy(r, k->kid, sizeof k->kid);
	mp_get_strcpy(r, k->name, sizeof k->name);
	mp_get_strcpy(r, k->role, sizeof k->role);
	mp_get_fixed(r, k->sign_pk, 32);
	mp_get_fixed(r, k->box_pk, 32);
	k->has_sign = mp_get_u32(r) != 0;
	k->active = mp_get_u32(r) != 0;
	mp_get_strcpy(r, k->added, sizeof k->added);
}

void
mp_put_case(struct mp_wbuf *w, const struct mp_case *c)
{
	mp_put_str(w, c->id);
	mp_put_str(w, c->ref);
	mp_put_str(w, c->received);
	mp_put_str(w, c->updated);
	mp_put_str(w, c->status);
	mp_put_str(w, c->closure);
	mp_put_str(w, c->channel);
	mp_put_str(w, c->language);
	mp_put_u32(w, c->anonymous != 0);
	mp_put_u32(w, c->has_reporter != 0);
	mp_put_fixed(w, c->reporter_pk, 32);
	mp_put_str(w, c->classification);
	mp_put_str(w, c->collective);
	mp_put_str(w, c->closed);
	mp_put_str(w, c->purged);
}

void
mp_get_case(struct mp_rbuf *r, struct mp_case *c)
{
	const char *s;

	memset(c, 0, sizeof *c);
	mp_get_strcpy(r, c->id, sizeof c->id);
	mp_get_strcpy(r, c->ref, sizeof c->ref);
	mp_get_strcpy(r, c->received, sizeof c->received);
	mp_get_strcpy(r, c->updated, sizeof c->updated);
	mp_get_strcpy(r, c->status, sizeof c->status);
	mp_get_strcpy(r, c->closure, sizeof c->closure);
	mp_get_strcpy(r, c->channel, sizeof c->channel);
	mp_get_strcpy(r, c->language, sizeof c->language);
	c->anonymous = mp_get_u32(r) != 0;
	c->has_reporter = mp_get_u32(r) != 0;
	mp_get_fixed(r, c->reporter_pk, 32);
	if ((s = mp_get_str(r)) != NULL && (c->classification = strdup(s)) == NULL)
		r->err = 1;
	if ((s = mp_get_str(r)) != NULL && (c->collective = strdup(s)) == NULL)
		r->err = 1;
	mp_get_strcpy(r, c->closed, sizeof c->closed);
	mp_get_strcpy(r, c->purged, sizeof c->purged);
}

void
mp_put_case_new(struct mp_wbuf *w, const struct mp_case_new *c)
{
	mp_put_str(w, c->id);
	mp_put_str(w, c->day);
	mp_put_str(w, c->channel);
	mp_put_str(w, c->language);
	mp_put_u32(w, c->anonymous != 0);
	mp_put_u32(w, c->token_tag != NULL);
	if (c->token_tag != NULL)
		mp_put_fixed(w, c->token_tag, 32);
	mp_put_u32(w, c->reporter_pk != NULL);
	if (c->reporter_pk != NULL)
		mp_put_fixed(w, c->reporter_pk, 32);
	mp_put_str(w, c->item_id);
	mp_put_str(w, c->envelope);
	mp_put_bytes(w, c->sealed_to, c->sealed_to != NULL ? c->nsealed * 32 : 0);
}

int
mp_get_case_new(struct mp_rbuf *r, struct mp_case_new *c, uint8_t tag[32], uint8_t pk[32])
{
	size_t n;

	memset(c, 0, sizeof *c);
	c->id = mp_get_str(r);
	c->day = mp_get_str(r);
	c->channel = mp_get_str(r);
	c->language = mp_get_str(r);
	c->anonymous = mp_get_u32(r) != 0;
	if (mp_get_u32(r)) {
		mp_get_fixed(r, tag, 32);
		c->token_tag = tag;
	}
	if (mp_get_u32(r)) {
		mp_get_fixed(r, pk, 32);
		c->reporter_pk = pk;
	}
	c->item_id = mp_get_str(r);
	c->envelope = mp_get_str(r);
	if ((c->sealed_to = mp_get_bytes(r, &n)) != NULL && n > 0) {
		if (n % 32 != 0 || n / 32 > MP_ENVELOPE_MAX_RECIPIENTS)
			return -1;
		c->nsealed = n / 32;
	} else {
		c->sealed_to = NULL;
	}
	return r->err || c->id == NULL || c->day == NULL || c->channel == NULL ||
	        c->language == NULL || c->item_id == NULL || c->envelope == NULL
	    ? -1
	    : 0;
}

void
put_collective(struct mp_wbuf *w, const struct mp_collective *c)
{
	mp_put_str(w, c->id);
	mp_put_str(w, c->ref);
	mp_put_str(w, c->name);
	mp_put_str(w, c->created);
	mp_put_u32(w, (uint32_t)c->cases);
}

static void
get_collective(struct mp_rbuf *r, struct mp_collective *c)
{
	memset(c, 0, sizeof *c);
	mp_get_strcpy(r, c->id, sizeof c->id);
	mp_get_strcpy(r, c->ref, sizeof c->ref);
	mp_get_strcpy(r, c->name, sizeof c->name);
	mp_get_strcpy(r, c->created, sizeof c->created);
	c->cases = (int)mp_get_u32(r);
}

/* --- the calls ----------------------------------------------------------------------------- */

/*
 * A call answering one record: read by get into out when the code is 0.
 * get sets r->err for a field it cannot take, and what it allocates is
 * the caller's to free when the call then fails.
 */
static int
call_one(
    struct store_remote *rm, struct mp_wbuf *req, void (*get)(struct mp_rbuf *, void *), void *out)
{
	struct mp_rbuf r;
	uint8_t *msg;
	size_t len;
	int rc;

	rc = call(rm, req, &r, &msg, &len);
	mp_wire_free(req);
	if (rc == 0) {
		get(&r, out);
		if (mp_wire_done(&r) != 0)
			rc = -1;
	}
	mp_wire_discard(msg, len);
	return rc;
}

static void
get_key_v(struct mp_rbuf *r, void *out)
{
	get_key(r, out);
}

static void
get_case_v(struct mp_rbuf *r, void *out)
{
	mp_get_case(r, out);
}

static void
get_collective_v(struct mp_rbuf *r, void *out)
{
	get_collective(r, out);
}

static void
get_ref(struct mp_rbuf *r, void *out)
{
	mp_get_strcpy(r, out, 24);
}

static void
get_hash(struct mp_rbuf *r, void *out)
{
	mp_get_fixed(r, out, 32);
}

static void
get_u64(struct mp_rbuf *r, void *out)
{
	*(uint64_t *)out = mp_get_u64(r);
}

int
remote_key_by_sign(struct store_remote *rm, const uint8_t pk[32], struct mp_key *out)
{
	struct mp_wbuf w;

	start(&w, OP_KEY_BY_SIGN);
	mp_put_fixed(&w, pk, 32);
	return call_one(rm, &w, get_key_v, out);
}

int
remote_key_by_kid(struct store_remote *rm, const char *kid, struct mp_key *out)
{
	struct mp_wbuf w;

	start(&w, OP_KEY_BY_KID);
	mp_put_str(&w, kid);
	return call_one(rm, &w, get_key_v, out);
}

int
remote_case_get(struct store_remote *rm, int by_tag, const void *key, struct mp_case *out)
{
	struct mp_wbuf w;
	int rc;

	start(&w, by_tag ? OP_CASE_BY_TAG : OP_CASE_GET);
	if (by_tag)
		mp_put_fixed(&w, key, 32);
	else
		mp_put_str(&w, key);
	memset(out, 0, sizeof *out);
	if ((rc = call_one(rm, &w, get_case_v, out)) != 0)
		mp_case_clear(out);
	return rc;
}

int
remote_collective_get(struct store_remote *rm, const char *id, struct mp_collective *out)
{
	struct mp_wbuf w;

	start(&w, OP_COLL_GET);
	mp_put_str(&w, id);
	return call_one(rm, &w, get_collective_v, out);
}

int
remote_collective_create(
    struct store_remote *rm, const char *name, const char *day, struct mp_collective *out)
{
	struct mp_wbuf w;

	start(&w, OP_COLL_CREATE);
	mp_put_str(&w, name);
	mp_put_str(&w, day);
	return call_one(rm, &w, get_collective_v, out);
}

/*
 * A call answering rows: a count, then the rows, then a `more` flag; each
 * row is read by row(r, cb, arg), which calls the caller's callback.  A
 * callback's refusal ends the walk with -1, as in a local call.
 */
static int
call_rows(struct store_remote *rm, struct mp_wbuf *req,
    int (*row)(struct mp_rbuf *, void *, void *), void *cb, void *arg, int *more)
{
	struct mp_rbuf r;
	uint8_t *msg;
	size_t len;
	uint32_t n, i;
	int rc, m;

	if (more != NULL)
		*more = 0;
	rc = call(rm, req, &r, &msg, &len);
	mp_wire_free(req);
	if (rc != 0)
		goto out;
	n = mp_get_u32(&r);
	for (i = 0; i < n && !r.err; i++)
		if (row(&r, cb, arg) != 0) {
			rc = -1;
			goto out;
		}
	m = mp_get_u32(&r) != 0;
	if (mp_wire_done(&r) != 0)
		rc = -1;
	else if (more != NULL)
		*more = m;
out:
	mp_wire_discard(msg, len);
	return rc;
}

static int
row_key(struct mp_rbuf *r, void *cb, void *arg)
{
	int (*fn)(void *, const struct mp_key *) = (int (*)(void *, const struct mp_key *))cb;
	struct mp_key k;

	get_key(r, &k);
	return r->err || fn(arg, &k) != 0 ? -1 : 0;
}

int
remote_keys(
    struct store_remote *rm, int active_only, int (*cb)(void *, const struct mp_key *), void *arg)
{
	struct mp_wbuf w;

	start(&w, OP_KEYS);
	mp_put_u32(&w, active_only != 0);
	return call_rows(rm, &w, row_key, (void *)cb, arg, NULL);
}

/* Where remote_recipients puts the keys an answer carries. */
struct recipients {
	uint8_t (**pks)[32];
	size_t *n;
};

/* The keys into a struct recipients; they are calloc'ed, the caller's to free on failure. */
static void
get_recipients(struct mp_rbuf *r, void *out)
{
	const struct recipients *a = out;
	uint32_t k = mp_get_u32(r);

	if (k > KIDS_MAX || (k > 0 && (*a->pks = calloc(k, 32)) == NULL))
		r->err = 1;
	else if (k > 0)
		mp_get_fixed(r, *a->pks, (size_t)k * 32);
	*a->n = k;
}

int
remote_recipients(struct store_remote *rm, uint8_t (**pks)[32], size_t *n)
{
	struct recipients a = { pks, n };
	struct mp_wbuf w;
	int rc;

	*pks = NULL;
	*n = 0;
	start(&w, OP_RECIPIENTS);
	if ((rc = call_one(rm, &w, get_recipients, &a)) != 0) {
		free(*pks);
		*pks = NULL;
		*n = 0;
	}
	return rc;
}

int
remote_case_create(struct store_remote *rm, const struct mp_case_new *c, char ref[24])
{
	struct mp_wbuf w;

	start(&w, OP_CASE_CREATE);
	mp_put_case_new(&w, c);
	return call_one(rm, &w, get_ref, ref);
}

static int
row_case(struct mp_rbuf *r, void *cb, void *arg)
{
	int (*fn)(void *, const struct mp_case *) = (int (*)(void *, const struct mp_case *))cb;
	struct mp_case c;
	int rc;

	mp_get_case(r, &c);
	rc = r->err || fn(arg, &c) != 0 ? -1 : 0;
	mp_case_clear(&c);
	return rc;
}

int
remote_cases(struct store_remote *rm, const struct mp_case_filter *f, int limit, const char *after,
    int (*cb)(void *, const struct mp_case *), void *arg, int *more)
{
	struct mp_wbuf w;

	start(&w, OP_CASES);
	mp_put_str(&w, f->status);
	mp_put_str(&w, f->received_before);
	mp_put_str(&w, f->collective);
	mp_put_str(&w, f->ground);
	mp_put_u32(&w, f->ref_year > 0 ? (uint32_t)f->ref_year : 0);
	mp_put_u32(&w, f->ref_seq > 0 ? (uint32_t)f->ref_seq : 0);
	mp_put_u32(&w, limit > 0 ? (uint32_t)limit : 0);
	mp_put_str(&w, after);
	return call_rows(rm, &w, row_case, (void *)cb, arg, more);
}

static int
row_event(struct mp_rbuf *r, void *cb, void *arg)
{
	int (*fn)(void *, const struct mp_event *) = (int (*)(void *, const struct mp_event *))cb;
	struct mp_event ev;

	mp_get_strcpy(r, ev.day, sizeof ev.day);
	ev.type = mp_get_str(r);
	ev.data = mp_get_str(r);
	return r->err || ev.type == NULL || ev.data == NULL || fn(arg, &ev) != 0 ? -1 : 0;
}

int
remote_history(struct store_remote *rm, const char *case_id,
    int (*cb)(void *, const struct mp_event *), void *arg)
{
	struct mp_wbuf w;

	start(&w, OP_HISTORY);
	mp_put_str(&w, case_id);
	return call_rows(rm, &w, row_event, (void *)cb, arg, NULL);
}

int
remote_case_classify(struct store_remote *rm, const char *id, const char *classification,
    const char *const *grounds, size_t ngrounds, const char *day)
{
	struct mp_wbuf w;
	size_t i;

	start(&w, OP_CASE_CLASSIFY);
	mp_put_str(&w, id);
	mp_put_str(&w, classification);
	mp_put_u32(&w, (uint32_t)ngrounds);
	for (i = 0; i < ngrounds; i++)
		mp_put_str(&w, grounds[i]);
	mp_put_str(&w, day);
	if (ngrounds > GROUNDS_MAX)
		w.err = 1;
	return call_plain(rm, &w);
}

/* Where remote_item_get puts an item's case and envelope. */
struct item_got {
	char *case_id;
	char **envelope;
};

/* An item into a struct item_got; the envelope is strdup'ed, the caller's to free on failure. */
static void
get_item(struct mp_rbuf *r, void *out)
{
	const struct item_got *a = out;
	const char *s;

	mp_get_strcpy(r, a->case_id, MP_ID_LEN + 1);
	if ((s = mp_get_str(r)) == NULL || (*a->envelope = strdup(s)) == NULL)
		r->err = 1;
}

int
remote_item_get(
    struct store_remote *rm, const char *item_id, char case_id[MP_ID_LEN + 1], char **envelope)
{
	struct item_got a = { case_id, envelope };
	struct mp_wbuf w;
	int rc;

	*envelope = NULL;
	start(&w, OP_ITEM_GET);
	mp_put_str(&w, item_id);
	if ((rc = call_one(rm, &w, get_item, &a)) != 0) {
		free(*envelope);
		*envelope = NULL;
	}
	return rc;
}

int
remote_item_share(struct store_remote *rm, const char *item_id, const char *case_id,
    const char *envelope, const char *const *kids, size_t nkids, const char *day)
{
	struct mp_wbuf w;
	size_t i;

	start(&w, OP_ITEM_SHARE);
	mp_put_str(&w, item_id);
	mp_put_str(&w, case_id);
	mp_put_str(&w, envelope);
	mp_put_u32(&w, (uint32_t)nkids);
	for (i = 0; i < nkids; i++)
		mp_put_str(&w, kids[i]);
	mp_put_str(&w, day);
	if (nkids > KIDS_MAX)
		w.err = 1;
	return call_plain(rm, &w);
}

static int
row_missing(struct mp_rbuf *r, void *cb, void *arg)
{
	int (*fn)(void *, const char *, const char *,
	    const char *) = (int (*)(void *, const char *, const char *, const char *))cb;
	const char *item, *kase, *env;

	item = mp_get_str(r);
	kase = mp_get_str(r);
	env = mp_get_str(r);
	return r->err || item == NULL || kase == NULL || env == NULL ||
	        fn(arg, item, kase, env) != 0
	    ? -1
	    : 0;
}

int
remote_items_missing(struct store_remote *rm, const char *kid, int limit, const char *after,
    int (*cb)(void *, const char *, const char *, const char *), void *arg, int *more)
{
	struct mp_wbuf w;

	start(&w, OP_ITEMS_MISSING);
	mp_put_str(&w, kid);
	mp_put_u32(&w, limit > 0 ? (uint32_t)limit : 0);
	mp_put_str(&w, after);
	return call_rows(rm, &w, row_missing, (void *)cb, arg, more);
}

static int
row_collective(struct mp_rbuf *r, void *cb, void *arg)
{
	int (*fn)(void *,
	    const struct mp_collective *) = (int (*)(void *, const struct mp_collective *))cb;
	struct mp_collective c;

	get_collective(r, &c);
	return r->err || fn(arg, &c) != 0 ? -1 : 0;
}

int
remote_collectives(
    struct store_remote *rm, int (*cb)(void *, const struct mp_collective *), void *arg)
{
	struct mp_wbuf w;

	start(&w, OP_COLLS);
	return call_rows(rm, &w, row_collective, (void *)cb, arg, NULL);
}

static int
row_member(struct mp_rbuf *r, void *cb, void *arg)
{
	int (*fn)(void *, const struct mp_member *) = (int (*)(void *, const struct mp_member *))cb;
	struct mp_member m;

	memset(&m, 0, sizeof m);
	mp_get_strcpy(r, m.id, sizeof m.id);
	mp_get_strcpy(r, m.ref, sizeof m.ref);
	mp_get_strcpy(r, m.status, sizeof m.status);
	m.has_reporter = mp_get_u32(r) != 0;
	mp_get_fixed(r, m.reporter_pk, 32);
	return r->err || fn(arg, &m) != 0 ? -1 : 0;
}

int
remote_collective_members(
    struct store_remote *rm, const char *id, int (*cb)(void *, const struct mp_member *), void *arg)
{
	struct mp_wbuf w;

	start(&w, OP_COLL_MEMBERS);
	mp_put_str(&w, id);
	return call_rows(rm, &w, row_member, (void *)cb, arg, NULL);
}

int
remote_collective_link(
    struct store_remote *rm, const char *id, const char *case_id, const char *day)
{
	struct mp_wbuf w;

	start(&w, OP_COLL_LINK);
	mp_put_str(&w, id);
	mp_put_str(&w, case_id);
	mp_put_str(&w, day);
	return call_plain(rm, &w);
}

static int
row_item(struct mp_rbuf *r, void *cb, void *arg)
{
	int (*fn)(void *, const struct mp_item *) = (int (*)(void *, const struct mp_item *))cb;
	struct mp_item it;

	memset(&it, 0, sizeof it);
	mp_get_strcpy(r, it.id, sizeof it.id);
	mp_get_strcpy(r, it.kind, sizeof it.kind);
	mp_get_strcpy(r, it.sender, sizeof it.sender);
	mp_get_strcpy(r, it.day, sizeof it.day);
	it.envelope = mp_get_str(r);
	return r->err || it.envelope == NULL || fn(arg, &it) != 0 ? -1 : 0;
}

int
remote_items(struct store_remote *rm, const char *case_id,
    int (*cb)(void *, const struct mp_item *), void *arg)
{
	struct mp_wbuf w;

	start(&w, OP_ITEMS);
	mp_put_str(&w, case_id);
	return call_rows(rm, &w, row_item, (void *)cb, arg, NULL);
}

int
remote_item_add(struct store_remote *rm, const char *case_id, const char *item_id, const char *kind,
    const char *sender, const char *day, const char *envelope, unsigned day_cap)
{
	struct mp_wbuf w;

	start(&w, OP_ITEM_ADD);
	mp_put_str(&w, case_id);
	mp_put_str(&w, item_id);
	mp_put_str(&w, kind);
	mp_put_str(&w, sender);
	mp_put_str(&w, day);
	mp_put_str(&w, envelope);
	mp_put_u32(&w, day_cap);
	return call_plain(rm, &w);
}

int
remote_case_move(struct store_remote *rm, const char *id, const char *from, const char *to,
    const char *closure, const char *day)
{
	struct mp_wbuf w;

	start(&w, OP_CASE_MOVE);
	mp_put_str(&w, id);
	mp_put_str(&w, from);
	mp_put_str(&w, to);
	mp_put_str(&w, closure);
	mp_put_str(&w, day);
	return call_plain(rm, &w);
}

int
remote_log_size(struct store_remote *rm, uint64_t *n)
{
	struct mp_wbuf w;

	start(&w, OP_LOG_SIZE);
	return call_one(rm, &w, get_u64, n);
}

int
remote_log_created(struct store_remote *rm, const char *case_id, uint64_t *index)
{
	struct mp_wbuf w;

	start(&w, OP_LOG_CREATED);
	mp_put_str(&w, case_id);
	return call_one(rm, &w, get_u64, index);
}

int
remote_log_node(struct store_remote *rm, unsigned level, uint64_t index, uint8_t out[32])
{
	struct mp_wbuf w;

	start(&w, OP_LOG_NODE);
	mp_put_u32(&w, level);
	mp_put_u64(&w, index);
	return call_one(rm, &w, get_hash, out);
}

static int
row_entry(struct mp_rbuf *r, void *cb, void *arg)
{
	int (*fn)(
	    void *, const struct mp_log_entry *) = (int (*)(void *, const struct mp_log_entry *))cb;
	struct mp_log_entry e;

	memset(&e, 0, sizeof e);
	e.index = mp_get_u64(r);
	mp_get_fixed(r, e.salt, 32);
	e.event = mp_get_bytes(r, &e.len);
	mp_get_fixed(r, e.leaf, 32);
	return r->err || e.event == NULL || fn(arg, &e) != 0 ? -1 : 0;
}

int
remote_log_entries(struct store_remote *rm, uint64_t start_at, uint64_t end,
    int (*cb)(void *, const struct mp_log_entry *), void *arg)
{
	struct mp_wbuf w;

	start(&w, OP_LOG_ENTRIES);
	mp_put_u64(&w, start_at);
	mp_put_u64(&w, end);
	return call_rows(rm, &w, row_entry, (void *)cb, arg, NULL);
}
