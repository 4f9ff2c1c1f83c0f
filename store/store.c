/* SQLCipher access: the only place that speaks SQL. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mp_b64.h"
#include "mp_store.h"

extern const char *const mp_migrations[];

struct mp_store {
	sqlite3 *db;
	pthread_mutex_t lock;
};

void
mp_new_id(char out[MP_ID_LEN + 1])
{
	uint8_t b[MP_ID_BYTES];

	randombytes_buf(b, sizeof b);
	if (mp_b64u_encode(out, MP_ID_LEN + 1, b, sizeof b) != 0)
		out[0] = '\0';
}

/* Map an SQLite result to the store's codes. */
static int
fail_code(sqlite3 *db, int rc)
{
	(void)db;
	if (rc == SQLITE_FULL || rc == SQLITE_IOERR)
		return MP_STORE_FULL;
	if (rc == SQLITE_CONSTRAINT)
		return MP_STORE_CONFLICT;
	return -1;
}

static int
exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		fprintf(stderr, "meldpunt: database: %s\n", sqlite3_errmsg(db));
		return fail_code(db, rc);
	}
	return 0;
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Apply the migrations past user_version, each in its own transaction. */
static int
migrate(sqlite3 *db)
{
	char sql[64];
	int v, n, i;

	if (user_version(db, &v) != 0)
		return -1;
	for (n = 0; mp_migrations[n] != NULL; n++)
		;
	if (v > n) {
		fprintf(stderr, "meldpunt: the database is newer (version %d) than this program (%d)\n",
		    v, n);
		return -1;
	}
	for (i = v; i < n; i++) {
		if (exec(db, "BEGIN IMMEDIATE") != 0)
			return -1;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", i + 1);
		if (exec(db, mp_migrations[i]) != 0 || exec(db, sql) != 0) {
			exec(db, "ROLLBACK");
			return -1;
		}
		if (exec(db, "COMMIT") != 0)
			return -1;
	}
	return 0;
}

/* Open, key with the raw key, check the key works, set the pragmas. */
static int
open_db(sqlite3 **out, const char *path, const uint8_t key[32], int create)
{
	char pragma[16 + 64 + 4];
	char hex[65];
	sqlite3 *db = NULL;
	int rc = -1;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fprintf(stderr, "meldpunt: cannot open %s\n", path);
		goto out;
	}
	sodium_bin2hex(hex, sizeof hex, key, 32);
	snprintf(pragma, sizeof pragma, "PRAGMA key = \"x'%s'\"", hex);
	rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
	sodium_memzero(pragma, sizeof pragma);
	sodium_memzero(hex, sizeof hex);
	if (rc != SQLITE_OK)
		goto fail;
	/* A wrong key shows only on the first read. */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "meldpunt: %s does not open with the instance key\n", path);
		goto fail;
	}
	if (exec(db, "PRAGMA journal_mode = WAL") != 0 || exec(db, "PRAGMA synchronous = FULL") != 0 ||
	    exec(db, "PRAGMA secure_delete = ON") != 0 || exec(db, "PRAGMA foreign_keys = ON") != 0)
		goto fail;
	sqlite3_busy_timeout(db, 5000);
	if (migrate(db) != 0)
		goto fail;
	*out = db;
	return 0;
fail:
	rc = -1;
	sqlite3_close(db);
out:
	return -1;
}

int
mp_store_create(const char *path, const uint8_t key[32])
{
	sqlite3 *db;
	int fd;

	/* The file is made here, exclusively and private, before SQLite opens it. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "meldpunt: %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (open_db(&db, path, key, 1) != 0)
		return -1;
	sqlite3_close(db);
	return 0;
}

int
mp_store_open(struct mp_store **out, const char *path, const uint8_t key[32])
{
	struct mp_store *st;

	*out = NULL;
	if ((st = calloc(1, sizeof *st)) == NULL)
		return -1;
	if (open_db(&st->db, path, key, 0) != 0) {
		free(st);
		return -1;
	}
	pthread_mutex_init(&st->lock, NULL);
	*out = st;
	return 0;
}

void
mp_store_close(struct mp_store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* Prepare with the lock held; the statement is finalised by done(). */
static sqlite3_stmt *
prep(struct mp_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "meldpunt: database: %s\n", sqlite3_errmsg(st->db));
		return NULL;
	}
	return s;
}

static void
copy_text(char *dst, size_t dstlen, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (n >= dstlen)
		n = dstlen - 1;
	if (n > 0)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

static int
copy_blob32(uint8_t dst[32], sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) != SQLITE_BLOB || sqlite3_column_bytes(s, col) != 32)
		return 0;
	memcpy(dst, sqlite3_column_blob(s, col), 32);
	return 1;
}

#define KEY_COLS "kid, name, role, sign_pk, box_pk, revoked IS NULL, added"

static void
row_key(sqlite3_stmt *s, struct mp_key *k)
{
	memset(k, 0, sizeof *k);
	copy_text(k->kid, sizeof k->kid, s, 0);
	copy_text(k->name, sizeof k->name, s, 1);
	copy_text(k->role, sizeof k->role, s, 2);
	k->has_sign = copy_blob32(k->sign_pk, s, 3);
	copy_blob32(k->box_pk, s, 4);
	k->active = sqlite3_column_int(s, 5);
	copy_text(k->added, sizeof k->added, s, 6);
}

int
mp_store_key_add(struct mp_store *st, const struct mp_key *k)
{
	sqlite3_stmt *s;
	int rc = -1, r;

	pthread_mutex_lock(&st->lock);
	if ((s = prep(st, "INSERT INTO keys (kid, name, role, sign_pk, box_pk, added) "
	    "VALUES (?, ?, ?, ?, ?, ?)")) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, k->kid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, k->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, k->role, -1, SQLITE_STATIC);
	if (k->has_sign)
		sqlite3_bind_blob(s, 4, k->sign_pk, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, k->box_pk, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, k->added, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	rc = r == SQLITE_DONE ? 0 : fail_code(st->db, r);
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int
mp_store_key_by_sign(struct mp_store *st, const uint8_t sign_pk[32], struct mp_key *out)
{
	sqlite3_stmt *s;
	int rc = -1, r;

	pthread_mutex_lock(&st->lock);
	if ((s = prep(st, "SELECT " KEY_COLS " FROM keys WHERE sign_pk = ?")) == NULL)
		goto out;
	sqlite3_bind_blob(s, 1, sign_pk, 32, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		row_key(s, out);
		rc = 0;
	} else if (r == SQLITE_DONE) {
		rc = MP_STORE_NOTFOUND;
	}
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int
mp_store_keys(struct mp_store *st, int active_only, int (*cb)(void *, const struct mp_key *),
    void *arg)
{
	struct mp_key k;
	sqlite3_stmt *s;
	int rc = -1, r;

	pthread_mutex_lock(&st->lock);
	if ((s = prep(st, active_only ?
	    "SELECT " KEY_COLS " FROM keys WHERE revoked IS NULL ORDER BY rowid" :
	    "SELECT " KEY_COLS " FROM keys ORDER BY revoked IS NOT NULL, rowid")) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		row_key(s, &k);
		if (cb(arg, &k) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int
mp_store_key_revoke(struct mp_store *st, const char *kid, const char *day)
{
	sqlite3_stmt *s;
	int rc = -1;

	pthread_mutex_lock(&st->lock);
	if ((s = prep(st, "UPDATE keys SET revoked = ? WHERE kid = ? AND revoked IS NULL")) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kid, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_DONE)
		rc = sqlite3_changes(st->db) == 1 ? 0 : MP_STORE_NOTFOUND;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int
mp_store_recipients(struct mp_store *st, uint8_t (**pks)[32], size_t *n)
{
	uint8_t (*v)[32] = NULL, (*nv)[32];
	sqlite3_stmt *s;
	int rc = -1, r;

	*pks = NULL;
	*n = 0;
	pthread_mutex_lock(&st->lock);
	if ((s = prep(st, "SELECT box_pk FROM keys WHERE revoked IS NULL AND "
	    "role IN ('caseworker', 'recovery') ORDER BY rowid")) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if ((nv = realloc(v, (*n + 1) * sizeof *v)) == NULL)
			goto out;
		v = nv;
		if (!copy_blob32(v[*n], s, 0))
			goto out;
		(*n)++;
	}
	if (r != SQLITE_DONE)
		goto out;
	*pks = v;
	v = NULL;
	rc = 0;
out:
	if (rc != 0)
		*n = 0;
	free(v);
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Insert with the lock held and a transaction open. */
static int
insert_item(struct mp_store *st, const char *case_id, const char *item_id, const char *kind,
    const char *sender, const char *day, const char *envelope)
{
	sqlite3_stmt *s;
	int r;

	if ((s = prep(st, "INSERT INTO items (id, case_id, kind, sender, day, envelope) "
	    "VALUES (?, ?, ?, ?, ?, ?)")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, item_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, envelope, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? 0 : fail_code(st->db, r);
}

static int
rollback(struct mp_store *st, int rc)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc == 0 ? -1 : rc;
}

int
mp_store_case_create(struct mp_store *st, const struct mp_case_new *c, char ref[24])
{
	sqlite3_stmt *s = NULL;
	int year = atoi(c->day), seq = 0, rc = -1, r;

	pthread_mutex_lock(&st->lock);
	if ((rc = exec(st->db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	rc = -1;
	if ((s = prep(st, "SELECT coalesce(max(seq), 0) + 1 FROM cases WHERE year = ?")) == NULL)
		goto fail;
	sqlite3_bind_int(s, 1, year);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	seq = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if ((s = prep(st, "INSERT INTO cases (id, year, seq, received, updated, status, channel, "
	    "language, anonymous, token_tag, reporter_pk) "
	    "VALUES (?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?)")) == NULL)
		goto fail;
	sqlite3_bind_text(s, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, year);
	sqlite3_bind_int(s, 3, seq);
	sqlite3_bind_text(s, 4, c->day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, c->day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, c->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, c->language, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 8, c->anonymous);
	if (c->token_tag != NULL)
		sqlite3_bind_blob(s, 9, c->token_tag, 32, SQLITE_STATIC);
	if (c->reporter_pk != NULL)
		sqlite3_bind_blob(s, 10, c->reporter_pk, 32, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) != SQLITE_DONE) {
		rc = fail_code(st->db, r);
		goto fail;
	}
	if ((rc = insert_item(st, c->id, c->item_id, "report", "reporter", c->day, c->envelope)) != 0)
		goto fail;
	/* synchronous = FULL: when COMMIT returns, the report is on disk. */
	if ((rc = exec(st->db, "COMMIT")) != 0)
		goto fail;
	snprintf(ref, 24, "%04d-%04d", year, seq);
	goto out;
fail:
	rc = rollback(st, rc);
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

#define CASE_COLS "id, year, seq, received, updated, status, closure, channel, language, " \
	"anonymous, reporter_pk, classification, collective"

static int
row_case(sqlite3_stmt *s, struct mp_case *c)
{
	memset(c, 0, sizeof *c);
	copy_text(c->id, sizeof c->id, s, 0);
	snprintf(c->ref, sizeof c->ref, "%04d-%04d", sqlite3_column_int(s, 1),
	    sqlite3_column_int(s, 2));
	copy_text(c->received, sizeof c->received, s, 3);
	copy_text(c->updated, sizeof c->updated, s, 4);
	copy_text(c->status, sizeof c->status, s, 5);
	copy_text(c->closure, sizeof c->closure, s, 6);
	copy_text(c->channel, sizeof c->channel, s, 7);
	copy_text(c->language, sizeof c->language, s, 8);
	c->anonymous = sqlite3_column_int(s, 9);
	c->has_reporter = copy_blob32(c->reporter_pk, s, 10);
	if (sqlite3_column_type(s, 11) == SQLITE_TEXT &&
	    (c->classification = strdup((const char *)sqlite3_column_text(s, 11))) == NULL)
		return -1;
	if (sqlite3_column_type(s, 12) == SQLITE_TEXT &&
	    (c->collective = strdup((const char *)sqlite3_column_text(s, 12))) == NULL)
		return -1;
	return 0;
}

void
mp_case_clear(struct mp_case *c)
{
	free(c->classification);
	free(c->collective);
	c->classification = c->collective = NULL;
}

static int
case_where(struct mp_store *st, const char *sql, const void *val, int blob, struct mp_case *out)
{
	sqlite3_stmt *s;
	int rc = -1, r;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&st->lock);
	if ((s = prep(st, sql)) == NULL)
		goto out;
	if (blob)
		sqlite3_bind_blob(s, 1, val, 32, SQLITE_STATIC);
	else
		sqlite3_bind_text(s, 1, val, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		rc = row_case(s, out);
	else if (r == SQLITE_DONE)
		rc = MP_STORE_NOTFOUND;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	if (rc != 0)
		mp_case_clear(out);
	return rc;
}

int
mp_store_case_get(struct mp_store *st, const char *id, struct mp_case *out)
{
	return case_where(st, "SELECT " CASE_COLS " FROM cases WHERE id = ?", id, 0, out);
}

int
mp_store_case_by_tag(struct mp_store *st, const uint8_t tag[32], struct mp_case *out)
{
	return case_where(st, "SELECT " CASE_COLS " FROM cases WHERE token_tag = ?", tag, 1, out);
}

int
mp_store_cases(struct mp_store *st, const char *status, int limit, const char *after,
    int (*cb)(void *, const struct mp_case *), void *arg, int *more)
{
	struct mp_case c;
	sqlite3_stmt *s;
	int rc = -1, r, n = 0;

	*more = 0;
	pthread_mutex_lock(&st->lock);
	/* rowid is insertion order: newest first is rowid descending. */
	if ((s = prep(st, "SELECT " CASE_COLS " FROM cases WHERE (?1 IS NULL OR status = ?1) AND "
	    "(?2 IS NULL OR rowid < (SELECT rowid FROM cases WHERE id = ?2)) "
	    "ORDER BY rowid DESC LIMIT ?3")) == NULL)
		goto out;
	if (status != NULL)
		sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
	if (after != NULL)
		sqlite3_bind_text(s, 2, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, limit + 1);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == limit) {
			*more = 1;
			break;
		}
		if (row_case(s, &c) != 0) {
			mp_case_clear(&c);
			goto out;
		}
		r = cb(arg, &c);
		mp_case_clear(&c);
		if (r != 0)
			goto out;
		n++;
	}
	rc = (r == SQLITE_DONE || r == SQLITE_ROW) ? 0 : -1;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int
mp_store_items(struct mp_store *st, const char *case_id, int (*cb)(void *, const struct mp_item *),
    void *arg)
{
	struct mp_item it;
	sqlite3_stmt *s;
	int rc = -1, r;

	pthread_mutex_lock(&st->lock);
	if ((s = prep(st, "SELECT id, kind, sender, day, envelope FROM items WHERE case_id = ? "
	    "ORDER BY rowid")) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, case_id, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		copy_text(it.id, sizeof it.id, s, 0);
		copy_text(it.kind, sizeof it.kind, s, 1);
		copy_text(it.sender, sizeof it.sender, s, 2);
		copy_text(it.day, sizeof it.day, s, 3);
		it.envelope = (const char *)sqlite3_column_text(s, 4);
		if (it.envelope == NULL || cb(arg, &it) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Run one UPDATE of a case with its parameters bound as text; lock held. */
static int
touch_case(struct mp_store *st, const char *case_id, const char *day)
{
	sqlite3_stmt *s;
	int r;

	if ((s = prep(st, "UPDATE cases SET updated = ? WHERE id = ?")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, case_id, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	if (r != SQLITE_DONE)
		return fail_code(st->db, r);
	return sqlite3_changes(st->db) == 1 ? 0 : MP_STORE_NOTFOUND;
}

int
mp_store_item_add(struct mp_store *st, const char *case_id, const char *item_id, const char *kind,
    const char *sender, const char *day, const char *envelope)
{
	int rc;

	pthread_mutex_lock(&st->lock);
	if ((rc = exec(st->db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	if ((rc = touch_case(st, case_id, day)) != 0 ||
	    (rc = insert_item(st, case_id, item_id, kind, sender, day, envelope)) != 0 ||
	    (rc = exec(st->db, "COMMIT")) != 0)
		rc = rollback(st, rc);
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int
mp_store_case_move(struct mp_store *st, const char *id, const char *from, const char *to,
    const char *closure, const char *day)
{
	sqlite3_stmt *s;
	int rc = -1, r;

	pthread_mutex_lock(&st->lock);
	if ((s = prep(st, "UPDATE cases SET status = ?, closure = ?, updated = ?4, "
	    "closed = CASE WHEN ?1 = 'closed' THEN ?4 ELSE NULL END "
	    "WHERE id = ? AND status = ?")) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	if (closure != NULL)
		sqlite3_bind_text(s, 2, closure, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, from, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_DONE)
		rc = sqlite3_changes(st->db) == 1 ? 0 : MP_STORE_CONFLICT;
	else
		rc = fail_code(st->db, r);
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return rc;
}
