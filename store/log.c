/* The transparency log's tables: append in the caller's change, read leaves, nodes and sizes. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "remote.h"
#include "mp_merkle.h"
#include "mp_stats.h"
#include "mp_store.h"

/* Event bytes: {"v":1,"case":..,"seq":..,"type":..,"month":..} plus data's members. */
static char *
event_bytes(const char *case_id, int64_t seq, const char *type, const char *day, const char *data,
    size_t *len)
{
	size_t dlen = strlen(data), cap;
	char *out;
	int n;

	/* data is a compact JSON object of codes: "{}" or "{...}". */
	if (dlen < 2 || data[0] != '{' || data[dlen - 1] != '}')
		return NULL;
	cap = 128 + strlen(case_id) + strlen(type) + dlen;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	n = snprintf(out, cap,
	    "{\"v\":1,\"case\":\"%s\",\"seq\":%lld,\"type\":\"%s\","
	    "\"month\":\"%.7s\"%s%.*s}",
	    case_id, (long long)seq, type, day, dlen > 2 ? "," : "", (int)(dlen - 2), data + 1);
	if (n < 0 || (size_t)n >= cap) {
		free(out);
		return NULL;
	}
	*len = (size_t)n;
	return out;
}

static int
put_node(struct mp_store *st, unsigned level, uint64_t idx, const uint8_t hash[32])
{
	sqlite3_stmt *s;
	int r;

	if ((s = store_prep(st, "INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)")) ==
	    NULL)
		return -1;
	sqlite3_bind_int(s, 1, (int)level);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)idx);
	sqlite3_bind_blob(s, 3, hash, 32, SQLITE_STATIC);
	r = sqlite3_step(s);
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : store_fail(st->db, r);
}

/* One integer from a query with up to one text parameter. */
static int
query_int(struct mp_store *st, const char *sql, const char *param, int64_t *out)
{
	sqlite3_stmt *s;
	int rc = -1;

	if ((s = store_prep(st, sql)) == NULL)
		return -1;
	if (param != NULL)
		sqlite3_bind_text(s, 1, param, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = sqlite3_column_type(s, 0) == SQLITE_NULL ? MP_STORE_NOTFOUND : 0;
	}
	store_done(st, s);
	return rc;
}

int
store_log_append(
    struct mp_store *st, const char *case_id, const char *day, const char *type, const char *data)
{
	uint8_t salt[32], leaf[32], h[32], left[32];
	sqlite3_stmt *s = NULL;
	int64_t seq, size;
	uint64_t i;
	unsigned level;
	char *ev = NULL, err[160];
	size_t len = 0;
	int rc = -1, r;

	if (query_int(st,
	        "SELECT coalesce(max(seq), 0) + 1 FROM log "
	        "WHERE case_n = (SELECT n FROM cases WHERE id = ?)",
	        case_id, &seq) != 0 ||
	    query_int(st, "SELECT coalesce(max(idx), -1) + 1 FROM log", NULL, &size) != 0)
		goto out;
	if ((ev = event_bytes(case_id, seq, type, day, data, &len)) == NULL)
		goto out;
	/*
	 * A leaf is there for good: only bytes the statistics' fold reads go in
	 * (ids and codes, its fields in order, and, where the policy is known,
	 * only its codes), whatever a caller passed.
	 */
	if ((st->codes != NULL
	            ? mp_stats_event_known(st->codes, (const uint8_t *)ev, len, err, sizeof err)
	            : mp_stats_event_ok((const uint8_t *)ev, len, err, sizeof err)) != 0) {
		fprintf(stderr, "meldpunt: database: a %s event refused: %s\n", type, err);
		goto out;
	}
	randombytes_buf(salt, sizeof salt);
	mp_log_commit(leaf, salt, (const uint8_t *)ev, len);
	if ((s = store_prep(st,
	         "INSERT INTO log (idx, case_n, seq, salt, event, leaf) "
	         "VALUES (?, (SELECT n FROM cases WHERE id = ?), ?, ?, ?, ?)")) == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, size);
	sqlite3_bind_text(s, 2, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, seq);
	sqlite3_bind_blob(s, 4, salt, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, ev, (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, leaf, 32, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) != SQLITE_DONE) {
		rc = store_fail(st->db, r);
		goto out;
	}
	/* The new leaf, then every subtree it completes. */
	mp_merkle_leaf(h, leaf, sizeof leaf);
	if ((rc = put_node(st, 0, (uint64_t)size, h)) != 0)
		goto out;
	for (i = (uint64_t)size, level = 0; i & 1; i >>= 1, level++) {
		if ((rc = mp_store_log_node(st, level, i - 1, left)) != 0)
			goto out;
		mp_merkle_node(h, left, h);
		if ((rc = put_node(st, level + 1, i >> 1, h)) != 0)
			goto out;
	}
	rc = 0;
out:
	store_done(st, s);
	free(ev);
	return rc;
}

int
store_log_backfill(struct mp_store *st)
{
	sqlite3_stmt *s = NULL;
	int64_t n = 0;
	int rc, r;

	if ((rc = mp_store_begin(st)) != 0)
		return rc;
	rc = -1;
	if (query_int(st, "SELECT count(*) FROM log", NULL, &n) != 0)
		goto out;
	if (n > 0) {
		rc = 0;
		goto out;
	}
	if ((s = store_prep(st,
	         "SELECT c.id, e.day, e.type, e.data FROM events e JOIN cases c ON c.n = e.case_n "
	         "WHERE e.type != 'shared' ORDER BY e.seq")) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = store_log_append(st, (const char *)sqlite3_column_text(s, 0),
		         (const char *)sqlite3_column_text(s, 1),
		         (const char *)sqlite3_column_text(s, 2),
		         (const char *)sqlite3_column_text(s, 3))) != 0)
			goto out;
	rc = r == SQLITE_DONE ? 0 : store_fail(st->db, r);
out:
	store_done(st, s);
	r = mp_store_end(st, rc == 0);
	return rc != 0 ? rc : r;
}

int
mp_store_log_size(struct mp_store *st, uint64_t *n)
{
	int64_t v = 0;
	int rc;

	if (st->remote != NULL)
		return remote_log_size(st->remote, n);
	store_lock(st);
	rc = query_int(st, "SELECT coalesce(max(idx), -1) + 1 FROM log", NULL, &v);
	store_unlock(st);
	*n = (uint64_t)v;
	return rc;
}

int
mp_store_log_node(void *arg, unsigned level, uint64_t index, uint8_t out[32])
{
	struct mp_store *st = arg;
	sqlite3_stmt *s;
	int rc = -1;

	if (st->remote != NULL)
		return remote_log_node(st->remote, level, index, out);
	if (index > INT64_MAX || level > 63)
		return -1;
	store_lock(st);
	if ((s = store_prep(st, "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?")) == NULL)
		goto out;
	sqlite3_bind_int(s, 1, (int)level);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)index);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
		memcpy(out, sqlite3_column_blob(s, 0), 32);
		rc = 0;
	}
	store_done(st, s);
out:
	store_unlock(st);
	return rc;
}

int
mp_store_log_entries(struct mp_store *st, uint64_t start, uint64_t end,
    int (*cb)(void *, const struct mp_log_entry *), void *arg)
{
	struct mp_log_entry e;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (st->remote != NULL)
		return remote_log_entries(st->remote, start, end, cb, arg);
	if (start > INT64_MAX || end > INT64_MAX)
		return -1;
	store_lock(st);
	if ((s = store_prep(st,
	         "SELECT idx, salt, event, leaf FROM log "
	         "WHERE idx >= ? AND idx < ? ORDER BY idx")) == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)start);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)end);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&e, 0, sizeof e);
		e.index = (uint64_t)sqlite3_column_int64(s, 0);
		if (sqlite3_column_bytes(s, 1) != 32 || sqlite3_column_bytes(s, 3) != 32)
			goto out;
		memcpy(e.salt, sqlite3_column_blob(s, 1), 32);
		e.event = sqlite3_column_blob(s, 2);
		e.len = (size_t)sqlite3_column_bytes(s, 2);
		memcpy(e.leaf, sqlite3_column_blob(s, 3), 32);
		if (cb(arg, &e) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : store_fail(st->db, r);
out:
	store_done(st, s);
	store_unlock(st);
	return rc;
}

int
mp_store_log_created(struct mp_store *st, const char *case_id, uint64_t *index)
{
	int64_t v = 0;
	int rc;

	if (st->remote != NULL)
		return remote_log_created(st->remote, case_id, index);
	store_lock(st);
	rc = query_int(st,
	    "SELECT idx FROM log WHERE case_n = (SELECT n FROM cases WHERE id = ?) AND seq = 1",
	    case_id, &v);
	store_unlock(st);
	if (rc == -1)
		return -1;
	*index = (uint64_t)v;
	return rc;
}
