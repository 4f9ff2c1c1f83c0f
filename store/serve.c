/*
 * The serving side of the remote store (include/mp_remote.h): one thread
 * per channel reads a call, checks it field by field, runs the local call
 * and writes the answer.  The calling process is the one that parses HTTP,
 * so every call is treated as hostile: sizes are bounded, a change can
 * only end if this channel began it, and nothing it sends is trusted to be
 * well-formed.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "extern.h"
#include "mp_instance.h"
#include "mp_remote.h"
#include "remote.h"

#define LIST_MAX 1000     /* rows a page of cases or items may ask for */
#define ENTRIES_MAX 65536 /* log entries one call may ask for */
#define GROUNDS_MAX 64
#define KIDS_MAX 1024

/* Rows of an answer: the count is written in place once they are all there. */
struct rows {
	struct mp_wbuf *w;
	size_t at; /* where the count goes */
	uint32_t n;
};

static void
rows_start(struct rows *rs, struct mp_wbuf *w)
{
	rs->w = w;
	rs->at = w->len;
	rs->n = 0;
	mp_put_u32(w, 0);
}

/* A row was written: 0, or 1 (ending the walk) when the answer is too big. */
static int
rows_one(struct rows *rs)
{
	rs->n++;
	return rs->w->err ? 1 : 0;
}

static void
rows_end(struct rows *rs, int more)
{
	int i;

	if (!rs->w->err)
		for (i = 0; i < 4; i++)
			rs->w->p[rs->at + i] = (uint8_t)(rs->n >> (8 * i));
	mp_put_u32(rs->w, more != 0);
}

/*
 * The day of a change, as the worker sends it: the store's own today, or
 * the day before or after (the two processes read the clock a moment
 * apart, and midnight may fall between).  An event carries its month into
 * the statistics, and a case its days into the retention purge.
 */
int
mp_store_day_now(const char *day)
{
	char today[11], d[11];
	int i;

	if (day == NULL)
		return -1;
	mp_today(today);
	for (i = -1; i <= 1; i++)
		if (mp_day_add(d, today, i) == 0 && strcmp(d, day) == 0)
			return 0;
	return -1;
}

static int
each_key(void *arg, const struct mp_key *k)
{
	put_key(((struct rows *)arg)->w, k);
	return rows_one(arg);
}

static int
each_case(void *arg, const struct mp_case *c)
{
	mp_put_case(((struct rows *)arg)->w, c);
	return rows_one(arg);
}

static int
each_event(void *arg, const struct mp_event *ev)
{
	struct mp_wbuf *w = ((struct rows *)arg)->w;

	mp_put_str(w, ev->day);
	mp_put_str(w, ev->type);
	mp_put_str(w, ev->data);
	return rows_one(arg);
}

static int
each_missing(void *arg, const char *item, const char *kase, const char *env)
{
	struct mp_wbuf *w = ((struct rows *)arg)->w;

	mp_put_str(w, item);
	mp_put_str(w, kase);
	mp_put_str(w, env);
	return rows_one(arg);
}

static int
each_collective(void *arg, const struct mp_collective *c)
{
	put_collective(((struct rows *)arg)->w, c);
	return rows_one(arg);
}

static int
each_member(void *arg, const struct mp_member *m)
{
	struct mp_wbuf *w = ((struct rows *)arg)->w;

	mp_put_str(w, m->id);
	mp_put_str(w, m->ref);
	mp_put_str(w, m->status);
	mp_put_u32(w, m->has_reporter != 0);
	mp_put_fixed(w, m->reporter_pk, 32);
	return rows_one(arg);
}

static int
each_item(void *arg, const struct mp_item *it)
{
	struct mp_wbuf *w = ((struct rows *)arg)->w;

	mp_put_str(w, it->id);
	mp_put_str(w, it->kind);
	mp_put_str(w, it->sender);
	mp_put_str(w, it->day);
	mp_put_str(w, it->envelope);
	return rows_one(arg);
}

static int
each_entry(void *arg, const struct mp_log_entry *e)
{
	struct mp_wbuf *w = ((struct rows *)arg)->w;

	mp_put_u64(w, e->index);
	mp_put_fixed(w, e->salt, 32);
	mp_put_bytes(w, e->event, e->len);
	mp_put_fixed(w, e->leaf, 32);
	return rows_one(arg);
}

/* Strings that must be there. */
static int
need(const struct mp_rbuf *r, const char *a, const char *b, const char *c)
{
	return r->err || a == NULL || b == NULL || c == NULL ? -1 : 0;
}

/* A list of n strings (n bounded), into v. */
static int
get_strs(struct mp_rbuf *r, const char **v, size_t max, size_t *n)
{
	size_t i;

	*n = mp_get_u32(r);
	if (*n > max)
		return -1;
	for (i = 0; i < *n; i++)
		if ((v[i] = mp_get_str(r)) == NULL)
			return -1;
	return 0;
}

static int
op_case_create(struct mp_store *st, struct mp_rbuf *r, struct mp_wbuf *w)
{
	struct mp_case_new c;
	uint8_t tag[32], pk[32];
	char ref[24];
	int rc;

	if (mp_get_case_new(r, &c, tag, pk) != 0 || mp_wire_done(r) != 0 ||
	    mp_store_day_now(c.day) != 0)
		return -1;
	if ((rc = mp_store_case_create(st, &c, ref)) == 0)
		mp_put_str(w, ref);
	return rc;
}

static int
op_cases(struct mp_store *st, struct mp_rbuf *r, struct mp_wbuf *w)
{
	struct mp_case_filter f;
	struct rows rs;
	const char *after;
	uint32_t limit;
	int rc, more = 0;

	memset(&f, 0, sizeof f);
	f.status = mp_get_str(r);
	f.received_before = mp_get_str(r);
	f.collective = mp_get_str(r);
	f.ground = mp_get_str(r);
	f.ref_year = (int)(mp_get_u32(r) & 0x7fffffff);
	f.ref_seq = (int)(mp_get_u32(r) & 0x7fffffff);
	limit = mp_get_u32(r);
	after = mp_get_str(r);
	if (mp_wire_done(r) != 0 || limit > LIST_MAX)
		return -1;
	rows_start(&rs, w);
	rc = mp_store_cases(st, &f, (int)limit, after, each_case, &rs, &more);
	rows_end(&rs, more);
	return rc;
}

static int
op_classify(struct mp_store *st, struct mp_rbuf *r)
{
	const char *id, *cls, *day, *grounds[GROUNDS_MAX];
	size_t n;

	id = mp_get_str(r);
	cls = mp_get_str(r);
	if (get_strs(r, grounds, GROUNDS_MAX, &n) != 0)
		return -1;
	day = mp_get_str(r);
	if (mp_wire_done(r) != 0 || need(r, id, cls, day) != 0 || mp_store_day_now(day) != 0)
		return -1;
	return mp_store_case_classify(st, id, cls, grounds, n, day);
}

static int
op_share(struct mp_store *st, struct mp_rbuf *r)
{
	const char *item, *kase, *env, *day, **kids;
	size_t n;
	int rc = -1;

	if ((kids = calloc(KIDS_MAX, sizeof *kids)) == NULL)
		return -1;
	item = mp_get_str(r);
	kase = mp_get_str(r);
	env = mp_get_str(r);
	if (get_strs(r, kids, KIDS_MAX, &n) == 0) {
		day = mp_get_str(r);
		if (mp_wire_done(r) == 0 && need(r, item, kase, env) == 0 &&
		    mp_store_day_now(day) == 0)
			rc = mp_store_item_share(st, item, kase, env, kids, n, day);
	}
	free(kids);
	return rc;
}

static int
op_item_get(struct mp_store *st, struct mp_rbuf *r, struct mp_wbuf *w)
{
	char kase[MP_ID_LEN + 1], *env = NULL;
	const char *id = mp_get_str(r);
	int rc;

	if (mp_wire_done(r) != 0 || id == NULL)
		return -1;
	if ((rc = mp_store_item_get(st, id, kase, &env)) == 0) {
		mp_put_str(w, kase);
		mp_put_str(w, env);
	}
	free(env);
	return rc;
}

static int
op_list(struct mp_store *st, uint32_t op, struct mp_rbuf *r, struct mp_wbuf *w)
{
	struct rows rs;
	const char *s, *after = NULL;
	uint64_t a = 0, b = 0;
	uint32_t limit = 0, flag = 0;
	int rc = -1, more = 0;

	s = NULL;
	switch (op) {
	case OP_KEYS:
		flag = mp_get_u32(r);
		break;
	case OP_HISTORY:
	case OP_COLL_MEMBERS:
	case OP_ITEMS:
		s = mp_get_str(r);
		break;
	case OP_ITEMS_MISSING:
		s = mp_get_str(r);
		limit = mp_get_u32(r);
		after = mp_get_str(r);
		break;
	case OP_LOG_ENTRIES:
		a = mp_get_u64(r);
		b = mp_get_u64(r);
		break;
	}
	if (mp_wire_done(r) != 0 || limit > LIST_MAX || (b > a && b - a > ENTRIES_MAX) ||
	    (s == NULL &&
	        (op == OP_HISTORY || op == OP_COLL_MEMBERS || op == OP_ITEMS ||
	            op == OP_ITEMS_MISSING)))
		return -1;
	rows_start(&rs, w);
	switch (op) {
	case OP_KEYS:
		rc = mp_store_keys(st, (int)flag, each_key, &rs);
		break;
	case OP_HISTORY:
		rc = mp_store_history(st, s, each_event, &rs);
		break;
	case OP_COLL_MEMBERS:
		rc = mp_store_collective_members(st, s, each_member, &rs);
		break;
	case OP_ITEMS:
		rc = mp_store_items(st, s, each_item, &rs);
		break;
	case OP_ITEMS_MISSING:
		rc = mp_store_items_missing(st, s, (int)limit, after, each_missing, &rs, &more);
		break;
	case OP_COLLS:
		rc = mp_store_collectives(st, each_collective, &rs);
		break;
	case OP_LOG_ENTRIES:
		rc = mp_store_log_entries(st, a, b, each_entry, &rs);
		break;
	}
	rows_end(&rs, more);
	return rc;
}

static int
op_one(struct mp_store *st, uint32_t op, struct mp_rbuf *r, struct mp_wbuf *w)
{
	struct mp_key k;
	struct mp_case c;
	struct mp_collective co;
	const char *s = NULL, *t = NULL;
	uint8_t pk[32];
	int rc;

	if (op == OP_KEY_BY_SIGN || op == OP_CASE_BY_TAG)
		mp_get_fixed(r, pk, 32);
	else if (op == OP_COLL_CREATE) {
		s = mp_get_str(r);
		t = mp_get_str(r);
		if (mp_store_day_now(t) != 0)
			return -1;
	} else
		s = mp_get_str(r);
	if (mp_wire_done(r) != 0 || (s == NULL && op != OP_KEY_BY_SIGN && op != OP_CASE_BY_TAG))
		return -1;
	switch (op) {
	case OP_KEY_BY_SIGN:
	case OP_KEY_BY_KID:
		rc = op == OP_KEY_BY_SIGN ? mp_store_key_by_sign(st, pk, &k)
		                          : mp_store_key_by_kid(st, s, &k);
		if (rc == 0)
			put_key(w, &k);
		return rc;
	case OP_CASE_GET:
	case OP_CASE_BY_TAG:
		rc = op == OP_CASE_GET ? mp_store_case_get(st, s, &c)
		                       : mp_store_case_by_tag(st, pk, &c);
		if (rc == 0)
			mp_put_case(w, &c);
		mp_case_clear(&c);
		return rc;
	case OP_COLL_GET:
	case OP_COLL_CREATE:
		rc = op == OP_COLL_GET ? mp_store_collective_get(st, s, &co)
		                       : mp_store_collective_create(st, s, t, &co);
		if (rc == 0)
			put_collective(w, &co);
		return rc;
	}
	return -1;
}

static int
op_recipients(struct mp_store *st, struct mp_rbuf *r, struct mp_wbuf *w)
{
	uint8_t(*pks)[32] = NULL;
	size_t n;
	int rc;

	if (mp_wire_done(r) != 0)
		return -1;
	if ((rc = mp_store_recipients(st, &pks, &n)) == 0) {
		mp_put_u32(w, (uint32_t)n);
		mp_put_fixed(w, pks, n * 32);
	}
	free(pks);
	return rc;
}

static int
op_texts(struct mp_store *st, uint32_t op, struct mp_rbuf *r)
{
	const char *v[6];
	size_t i, n = op == OP_COLL_LINK ? 3 : op == OP_CASE_MOVE ? 5 : 6;
	uint32_t cap = 0;

	for (i = 0; i < n; i++)
		v[i] = mp_get_str(r);
	if (op == OP_ITEM_ADD)
		cap = mp_get_u32(r);
	if (mp_wire_done(r) != 0)
		return -1;
	/* Only a move's closure may be absent. */
	for (i = 0; i < n; i++)
		if (v[i] == NULL && !(op == OP_CASE_MOVE && i == 3))
			return -1;
	if (mp_store_day_now(op == OP_COLL_LINK ? v[2] : v[4]) != 0)
		return -1;
	if (op == OP_COLL_LINK)
		return mp_store_collective_link(st, v[0], v[1], v[2]);
	if (op == OP_CASE_MOVE)
		return mp_store_case_move(st, v[0], v[1], v[2], v[3], v[4]);
	return mp_store_item_add(st, v[0], v[1], v[2], v[3], v[4], v[5], cap);
}

static int
op_log(struct mp_store *st, uint32_t op, struct mp_rbuf *r, struct mp_wbuf *w)
{
	uint8_t h[32];
	uint64_t v = 0;
	const char *s = NULL;
	uint32_t level = 0;
	int rc;

	if (op == OP_LOG_NODE) {
		level = mp_get_u32(r);
		v = mp_get_u64(r);
	} else if (op == OP_LOG_CREATED)
		s = mp_get_str(r);
	if (mp_wire_done(r) != 0 || (op == OP_LOG_CREATED && s == NULL))
		return -1;
	if (op == OP_LOG_NODE) {
		if ((rc = mp_store_log_node(st, level, v, h)) == 0)
			mp_put_fixed(w, h, 32);
		return rc;
	}
	rc = op == OP_LOG_SIZE ? mp_store_log_size(st, &v) : mp_store_log_created(st, s, &v);
	if (rc == 0)
		mp_put_u64(w, v);
	return rc;
}

/* One call: its answer's code; fields in w.  *depth follows this channel's changes. */
static int
dispatch(struct mp_store *st, uint32_t op, struct mp_rbuf *r, struct mp_wbuf *w, int *depth,
    mp_remote_fn user, void *arg)
{
	int rc;

	switch (op) {
	case OP_BEGIN:
		if (mp_wire_done(r) != 0 || *depth >= 8)
			return -1;
		if ((rc = mp_store_begin(st)) == 0)
			(*depth)++;
		return rc;
	case OP_END:
		rc = (int)mp_get_u32(r);
		/* Only a change this channel began can end here. */
		if (mp_wire_done(r) != 0 || *depth == 0)
			return -1;
		(*depth)--;
		return mp_store_end(st, rc != 0);
	case OP_KEY_BY_SIGN:
	case OP_KEY_BY_KID:
	case OP_CASE_GET:
	case OP_CASE_BY_TAG:
	case OP_COLL_GET:
	case OP_COLL_CREATE:
		return op_one(st, op, r, w);
	case OP_KEYS:
	case OP_HISTORY:
	case OP_COLL_MEMBERS:
	case OP_ITEMS:
	case OP_ITEMS_MISSING:
	case OP_COLLS:
	case OP_LOG_ENTRIES:
		return op_list(st, op, r, w);
	case OP_RECIPIENTS:
		return op_recipients(st, r, w);
	case OP_CASE_CREATE:
		return op_case_create(st, r, w);
	case OP_CASES:
		return op_cases(st, r, w);
	case OP_CASE_CLASSIFY:
		return op_classify(st, r);
	case OP_ITEM_GET:
		return op_item_get(st, r, w);
	case OP_ITEM_SHARE:
		return op_share(st, r);
	case OP_COLL_LINK:
	case OP_CASE_MOVE:
	case OP_ITEM_ADD:
		return op_texts(st, op, r);
	case OP_LOG_SIZE:
	case OP_LOG_NODE:
	case OP_LOG_CREATED:
		return op_log(st, op, r, w);
	}
	/*
	 * The keyed calls sign and prove what the log holds; inside a change of
	 * this channel its reads would see that change's rows, which may never
	 * be committed.  No call of the worker's needs them there.
	 */
	if (op >= MP_REMOTE_USER && user != NULL && *depth == 0)
		return user(arg, op, r, w);
	return -1;
}

/*
 * One message: its answer in *w (code first).  A refused or failed call
 * answers its code with no fields, whatever it had begun to write.
 */
void
mp_store_answer(struct mp_store *st, const uint8_t *msg, size_t len, struct mp_wbuf *w, int *depth,
    mp_remote_fn user, void *arg)
{
	struct mp_rbuf r;
	uint32_t op;
	int rc;

	mp_wire_init(w);
	mp_put_u32(w, 0);
	mp_wire_reader(&r, msg, len);
	op = mp_get_u32(&r);
	rc = r.err ? -1 : dispatch(st, op, &r, w, depth, user, arg);
	if (rc != 0 || w->err) {
		if (rc == 0)
			rc = -1;
		mp_wire_free(w);
		mp_put_u32(w, 0);
	}
	/* Out of memory even for the code: an empty answer, which the caller takes for a failure. */
	if (w->p == NULL || w->len < 4)
		return;
	w->p[0] = (uint8_t)rc;
	w->p[1] = (uint8_t)((uint32_t)rc >> 8);
	w->p[2] = (uint8_t)((uint32_t)rc >> 16);
	w->p[3] = (uint8_t)((uint32_t)rc >> 24);
}

/* Reads on fd wait at most ms (0: for ever); 0, or -1. */
static int
recv_limit(int fd, unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

int
mp_store_serve(struct mp_store *st, int fd, unsigned change_idle_ms, mp_remote_fn user, void *arg)
{
	struct mp_wbuf w;
	uint8_t *msg;
	size_t len;
	int depth = 0, ok = 1, limited = 0, idle = 0;

	while (ok) {
		/* Only while this channel holds a change open is its silence bounded. */
		if ((depth > 0) != limited) {
			limited = depth > 0;
			if (recv_limit(fd, limited ? change_idle_ms : 0) != 0)
				break;
		}
		errno = 0;
		if (mp_wire_recv(fd, &msg, &len) != 0) {
			idle = limited && (errno == EAGAIN || errno == EWOULDBLOCK);
			break;
		}
		mp_store_answer(st, msg, len, &w, &depth, user, arg);
		mp_wire_discard(msg, len);
		ok = !w.err && mp_wire_send(fd, &w) == 0;
		mp_wire_free(&w);
	}
	/* The other side is gone, or silent, in the middle of a change: nothing of it stays. */
	while (depth-- > 0)
		mp_store_end(st, 0);
	return idle;
}
