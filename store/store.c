/* SQLCipher access: the only place that speaks SQL. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extern.h"
#include "remote.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_stats.h"
#include "mp_store.h"

extern const char *const mp_migrations[];

void
mp_new_id(char out[MP_ID_LEN + 1])
{
	uint8_t b[MP_ID_BYTES];

	randombytes_buf(b, sizeof b);
	if (mp_b64u_encode(out, MP_ID_LEN + 1, b, sizeof b) != 0)
		out[0] = '\0';
}

/* Map an SQLite result to the store's codes. */
int
store_fail(sqlite3 *db, int rc)
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
		return store_fail(db, rc);
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

/* Whether the foreign keys hold: PRAGMA foreign_key_check names no row. */
static int
keys_hold(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_DONE)
		rc = 0;
	else
		fprintf(stderr, "meldpunt: database: a row refers to a row that is not there\n");
	sqlite3_finalize(s);
	return rc;
}

int
mp_store_schema_version(void)
{
	int n;

	for (n = 0; mp_migrations[n] != NULL; n++)
		;
	return n;
}

/*
 * Apply the migrations past user_version, each in its own transaction, with
 * the foreign keys checked at its end rather than at each statement: a
 * migration may rebuild a table that others refer to.
 */
static int
migrate(sqlite3 *db)
{
	char sql[64];
	int v, n, i;

	if (user_version(db, &v) != 0)
		return -1;
	n = mp_store_schema_version();
	if (v > n) {
		fprintf(stderr,
		    "meldpunt: the database is newer (version %d) than this program (%d)\n", v, n);
		return -1;
	}
	/* A large database takes a while; whoever started it should know why. */
	if (v > 0 && v < n)
		fprintf(stderr, "meldpunt: database: migrating from schema %d to %d\n", v, n);
	for (i = v; i < n; i++) {
		if (exec(db, "BEGIN IMMEDIATE") != 0)
			return -1;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", i + 1);
		if (exec(db, mp_migrations[i]) != 0 || keys_hold(db) != 0 || exec(db, sql) != 0) {
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
	if (sqlite3_open_v2(path, &db,
	        SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK) {
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
	/* A wrong key shows only on the first read; so does a disk too full for the WAL index. */
	if ((rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		if (rc == SQLITE_NOTADB)
			fprintf(stderr, "meldpunt: %s does not open with the instance key\n", path);
		else
			fprintf(stderr, "meldpunt: %s: %s\n", path, sqlite3_errmsg(db));
		goto fail;
	}
	/* Every change is a savepoint (docs/STORE.md): their undo pages stay in memory, not in files. */
	if (exec(db, "PRAGMA journal_mode = WAL") != 0 ||
	    exec(db, "PRAGMA synchronous = FULL") != 0 ||
	    exec(db, "PRAGMA secure_delete = ON") != 0 ||
	    exec(db, "PRAGMA temp_store = MEMORY") != 0)
		goto fail;
	sqlite3_busy_timeout(db, 5000);
	/* A migration may have set secure_delete aside for itself (schema/004_case_numbers.sql). */
	if (migrate(db) != 0 || exec(db, "PRAGMA foreign_keys = ON") != 0 ||
	    exec(db, "PRAGMA secure_delete = ON") != 0)
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
	pthread_mutexattr_t a;
	struct mp_store *st;
	size_t i;

	*out = NULL;
	if ((st = calloc(1, sizeof *st)) == NULL)
		return -1;
	if (open_db(&st->db, path, key, 0) != 0) {
		free(st);
		return -1;
	}
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->lock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_init(&st->qlock, NULL);
	pthread_cond_init(&st->qcond, NULL);
	for (i = 0; i < STORE_READERS; i++)
		pthread_mutex_init(&st->readers[i].lock, NULL);
	/*
	 * The writer has migrated the file; the readers only read it.  A
	 * reader's cache starts empty after every commit it did not make, so
	 * a small one does.
	 */
	for (i = 0; i < STORE_READERS; i++)
		if (open_db(&st->readers[i].db, path, key, 0) != 0 ||
		    exec(st->readers[i].db, "PRAGMA query_only = 1") != 0 ||
		    exec(st->readers[i].db, "PRAGMA cache_size = -512") != 0) {
			mp_store_close(st);
			return -1;
		}
	/* A database from before the log gets its past events as the log's first leaves. */
	if (store_log_backfill(st) != 0) {
		mp_store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void
mp_store_close(struct mp_store *st)
{
	size_t i, k;

	if (st == NULL)
		return;
	if (st->remote != NULL) {
		remote_close(st->remote);
		free(st);
		return;
	}
	for (i = 0; i < STORE_STMTS; i++) {
		sqlite3_finalize(st->stmts.s[i]);
		for (k = 0; k < STORE_READERS; k++)
			sqlite3_finalize(st->readers[k].stmts.s[i]);
	}
	for (k = 0; k < STORE_READERS; k++) {
		sqlite3_close(st->readers[k].db);
		pthread_mutex_destroy(&st->readers[k].lock);
	}
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->qlock);
	pthread_cond_destroy(&st->qcond);
	mp_stats_free(st->codes);
	free(st);
}

int
mp_store_check_codes(struct mp_store *st, const struct mp_policy *p)
{
	struct mp_stats_layout *l;

	if (st->remote != NULL || st->codes != NULL)
		return -1;
	/* The year and threshold do not matter: only the layout's rows are read. */
	if ((l = mp_stats_layout_policy(p)) != NULL)
		st->codes = mp_stats_new(l, 2000, 1);
	mp_stats_layout_free(l);
	return st->codes != NULL ? 0 : -1;
}

void
mp_store_figures(struct mp_store *st, uint64_t *commits, uint64_t *changes)
{
	*commits = *changes = 0;
	if (st->remote != NULL)
		return;
	store_wlock(st);
	*commits = st->commits;
	*changes = st->changes;
	store_wunlock(st);
}

/*
 * How often this thread holds the writer of which store: inside its change,
 * a thread's reads go to the writer, and a change it begins is nested in
 * its own.  A thread holds one store at a time.
 */
static _Thread_local const struct mp_store *held_store;
static _Thread_local int held;
/* The reader this thread holds, and how deep its reads are nested. */
static _Thread_local struct store_reader *reading;
static _Thread_local int reads;

static int
store_held(const struct mp_store *st)
{
	return held > 0 && held_store == st;
}

void
store_wlock(struct mp_store *st)
{
	pthread_mutex_lock(&st->lock);
	if (held++ == 0)
		held_store = st;
}

void
store_wunlock(struct mp_store *st)
{
	if (--held == 0)
		held_store = NULL;
	pthread_mutex_unlock(&st->lock);
}

void
store_lock(struct mp_store *st)
{
	static atomic_uint homes;
	static _Thread_local unsigned home;
	size_t i;

	if (store_held(st)) {
		store_wlock(st);
		return;
	}
	if (reads++ > 0)
		return;
	/* A free reader, else wait for this thread's own one. */
	if (home == 0)
		home = atomic_fetch_add(&homes, 1) % STORE_READERS + 1;
	for (i = 0; i < STORE_READERS; i++) {
		reading = &st->readers[(home - 1 + i) % STORE_READERS];
		if (pthread_mutex_trylock(&reading->lock) == 0)
			return;
	}
	reading = &st->readers[home - 1];
	pthread_mutex_lock(&reading->lock);
}

void
store_unlock(struct mp_store *st)
{
	if (store_held(st)) {
		store_wunlock(st);
		return;
	}
	if (--reads == 0) {
		pthread_mutex_unlock(&reading->lock);
		reading = NULL;
	}
}

sqlite3_stmt *
store_prep(struct mp_store *st, const char *sql)
{
	int w = store_held(st);
	struct store_stmts *c = w ? &st->stmts : &reading->stmts;
	sqlite3 *db = w ? st->db : reading->db;
	sqlite3_stmt *s = NULL;
	size_t i;

	for (i = 0; i < STORE_STMTS && c->sql[i] != NULL; i++)
		if (c->sql[i] == sql) {
			/* Stepping further up the stack (a callback that reads again): a fresh one. */
			if (sqlite3_stmt_busy(c->s[i]))
				break;
			return c->s[i];
		}
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "meldpunt: database: %s\n", sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return NULL;
	}
	if (i < STORE_STMTS && c->sql[i] == NULL) {
		c->sql[i] = sql;
		c->s[i] = s;
	}
	return s;
}

void
store_done(struct mp_store *st, sqlite3_stmt *s)
{
	struct store_stmts *c = &st->stmts;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < STORE_READERS; i++)
		if (sqlite3_db_handle(s) == st->readers[i].db)
			c = &st->readers[i].stmts;
	for (i = 0; i < STORE_STMTS && c->sql[i] != NULL; i++)
		if (c->s[i] == s) {
			/* Reset at once: a statement left stepping would pin an old snapshot. */
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return;
		}
	sqlite3_finalize(s);
}

/* One statement without parameters or rows (transaction control); lock held. */
static int
run(struct mp_store *st, const char *sql)
{
	sqlite3_stmt *s;
	int r;

	if ((s = store_prep(st, sql)) == NULL)
		return -1;
	r = sqlite3_step(s);
	store_done(st, s);
	if (r != SQLITE_DONE) {
		fprintf(stderr, "meldpunt: database: %s\n", sqlite3_errmsg(st->db));
		return store_fail(st->db, r);
	}
	return 0;
}

/* A change waiting for the COMMIT of its batch; on its caller's stack. */
struct store_job {
	int rc;
	int done; /* under qlock: rc is final, the caller may return */
	struct store_job *next;
};

/* Answer every change of a batch with rc; qlock held. */
static void
batch_answer(struct mp_store *st, struct store_job *batch, int rc)
{
	struct store_job *j, *next;

	/* A change's record lives on its caller's stack: done is the last word about it. */
	for (j = batch; j != NULL; j = next) {
		next = j->next;
		j->rc = rc;
		j->done = 1;
	}
	pthread_cond_broadcast(&st->qcond);
}

/*
 * A batch that nobody is in any more (its changes were all refused) is
 * closed, so that no idle transaction keeps the database's write lock;
 * writer and qlock held.
 */
static void
batch_close_idle(struct mp_store *st)
{
	if (st->open && st->joining == 0 && st->members == NULL && !st->committing) {
		run(st, "ROLLBACK");
		st->open = 0;
	}
}

/* COMMIT the open batch (the writer not held); 0 or the error every change of it gets. */
static int
batch_commit(struct mp_store *st, uint64_t n)
{
	int rc;

	store_wlock(st);
	/* synchronous = FULL: once COMMIT returns, every change of the batch is on disk. */
	if ((rc = run(st, "COMMIT")) != 0) {
		if (!sqlite3_get_autocommit(st->db))
			run(st, "ROLLBACK");
	} else {
		st->commits++;
		st->changes += n;
	}
	st->open = 0;
	store_wunlock(st);
	return rc;
}

/* Begin a change; lean: an outermost one that joins an open batch takes no savepoint. */
static int
begin(struct mp_store *st, int lean)
{
	int rc;

	if (store_held(st) && st->depth > 0) {
		/* Inside this thread's change: a savepoint of its own. */
		store_wlock(st);
		if ((rc = run(st, "SAVEPOINT inner")) != 0) {
			store_wunlock(st);
			return rc;
		}
		st->depth++;
		return 0;
	}
	/*
	 * An outermost change joins the batch that is open, or opens one, as a
	 * savepoint of the batch's transaction.  It counts as joining at once,
	 * so that the next batch waits for it; but no batch is joined while its
	 * COMMIT is under way: that COMMIT answers only the changes it counted.
	 */
	pthread_mutex_lock(&st->qlock);
	st->joining++;
	while (st->committing)
		pthread_cond_wait(&st->qcond, &st->qlock);
	pthread_mutex_unlock(&st->qlock);
	store_wlock(st);
	if (!st->open) {
		/*
		 * The first change of a batch needs no savepoint: undoing it is
		 * undoing the transaction.  (SQLCipher encrypts every page a
		 * savepoint keeps for undoing, so this one saves work too.)
		 */
		if ((rc = run(st, "BEGIN IMMEDIATE")) != 0)
			goto fail;
		st->open = 1;
		st->bare = 1;
		st->alone = 1;
	} else if (lean) {
		/*
		 * A savepoint costs a lean change as much as a third of its
		 * work: SQLCipher encrypts every page it keeps for undoing.  A
		 * lean change refuses only before it writes; should it fail
		 * after a write (a disk error, a colliding random id), the
		 * whole batch is undone with it (mp_store_end).
		 */
		st->bare = 1;
		st->alone = 0;
		st->mark = sqlite3_total_changes(st->db);
	} else if ((rc = run(st, "SAVEPOINT change")) != 0) {
		if (sqlite3_get_autocommit(st->db))
			st->open = 0;
		goto fail;
	} else {
		st->bare = 0;
	}
	st->depth = 1;
	return 0;
fail:
	pthread_mutex_lock(&st->qlock);
	st->joining--;
	batch_close_idle(st);
	pthread_cond_broadcast(&st->qcond);
	pthread_mutex_unlock(&st->qlock);
	store_wunlock(st);
	return rc;
}

int
mp_store_begin(struct mp_store *st)
{
	if (st->remote != NULL)
		return remote_begin(st->remote);
	return begin(st, 0);
}

int
mp_store_end(struct mp_store *st, int ok)
{
	struct store_job job = { -1, 0, NULL }, *batch, *j;
	uint64_t n;
	int rc = 0, lost;

	if (st->remote != NULL)
		return remote_end(st->remote, ok);
	if (st->depth > 1) {
		st->depth--;
		if (ok) {
			rc = run(st, "RELEASE inner");
		} else {
			run(st, "ROLLBACK TO inner");
			run(st, "RELEASE inner");
			rc = -1;
		}
		store_wunlock(st);
		return ok ? rc : -1;
	}
	st->depth = 0;
	if (st->bare) {
		if (!ok && st->alone) {
			/* The batch holds nothing else yet. */
			run(st, "ROLLBACK");
			st->open = 0;
		} else if (!ok && sqlite3_total_changes(st->db) != st->mark &&
		    !sqlite3_get_autocommit(st->db)) {
			/* A lean change failed after it wrote: the batch goes with it (lost, below). */
			run(st, "ROLLBACK");
		}
	} else {
		if (ok && (rc = run(st, "RELEASE change")) != 0)
			ok = 0;
		if (!ok) {
			/* A refused change leaves nothing of itself and takes no other change down. */
			run(st, "ROLLBACK TO change");
			run(st, "RELEASE change");
		}
	}
	/* SQLite rolled the whole transaction back (disk full, I/O): the batch is lost. */
	if ((lost = st->open && sqlite3_get_autocommit(st->db)) != 0)
		st->open = 0;
	pthread_mutex_lock(&st->qlock);
	st->joining--;
	if (lost) {
		job.rc = rc == MP_STORE_FULL ? MP_STORE_FULL : -1;
		batch_answer(st, st->members, job.rc);
		st->members = NULL;
		job.done = 1;
	} else if (!ok) {
		job.done = 1;
		batch_close_idle(st);
		pthread_cond_broadcast(&st->qcond);
	} else {
		job.next = st->members;
		st->members = &job;
	}
	store_wunlock(st);
	/*
	 * The change waits for the COMMIT of its batch.  The last change to end
	 * while no other is under way commits for all of them: the batch grows
	 * while changes keep arriving, and the wait for the disk is shared.
	 */
	while (!job.done) {
		if (st->committing || st->joining > 0) {
			pthread_cond_wait(&st->qcond, &st->qlock);
			continue;
		}
		st->committing = 1;
		batch = st->members;
		st->members = NULL;
		pthread_mutex_unlock(&st->qlock);
		for (n = 0, j = batch; j != NULL; j = j->next)
			n++;
		rc = batch_commit(st, n);
		pthread_mutex_lock(&st->qlock);
		st->committing = 0;
		batch_answer(st, batch, rc);
	}
	pthread_mutex_unlock(&st->qlock);
	return job.rc;
}

static int
change(struct mp_store *st, int lean, int (*fn)(struct mp_store *, void *), void *arg)
{
	int rc, r;

	if ((rc = begin(st, lean)) != 0)
		return rc;
	rc = fn(st, arg);
	r = mp_store_end(st, rc == 0);
	return rc != 0 ? rc : r;
}

int
store_change(struct mp_store *st, int (*fn)(struct mp_store *, void *), void *arg)
{
	return change(st, 0, fn, arg);
}

int
store_change_lean(struct mp_store *st, int (*fn)(struct mp_store *, void *), void *arg)
{
	return change(st, 1, fn, arg);
}

/* Hold the writer with no batch open (for work outside a transaction); store_wunlock after. */
static void
store_wlock_quiet(struct mp_store *st)
{
	for (;;) {
		store_wlock(st);
		if (!st->open)
			return;
		store_wunlock(st);
		/* An open batch commits once its changes have ended. */
		pthread_mutex_lock(&st->qlock);
		if (st->members != NULL || st->joining > 0 || st->committing)
			pthread_cond_wait(&st->qcond, &st->qlock);
		pthread_mutex_unlock(&st->qlock);
	}
}

void
store_copy_text(char *dst, size_t dstlen, sqlite3_stmt *s, int col)
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

/*
 * A read's statement for sql on the connection store_lock gives this
 * thread, its first parameter val unless that is NULL: a blob of len
 * bytes, or text when len is 0.  NULL when it cannot be prepared; the
 * connection is held either way, until read_end.
 */
static sqlite3_stmt *
read_prep(struct mp_store *st, const char *sql, const void *val, int len)
{
	sqlite3_stmt *s;

	store_lock(st);
	if ((s = store_prep(st, sql)) != NULL && val != NULL) {
		if (len > 0)
			sqlite3_bind_blob(s, 1, val, len, SQLITE_STATIC);
		else
			sqlite3_bind_text(s, 1, val, -1, SQLITE_STATIC);
	}
	return s;
}

/* Hand back a read's statement (or NULL) and its connection; rc is the read's result. */
static int
read_end(struct mp_store *st, sqlite3_stmt *s, int rc)
{
	store_done(st, s);
	store_unlock(st);
	return rc;
}

/*
 * The one row sql finds for val (bound as read_prep binds it), decoded
 * into out by row: row's result, MP_STORE_NOTFOUND when there is none, or
 * -1.
 */
static int
read_one(struct mp_store *st, const char *sql, const void *val, int len,
    int (*row)(sqlite3_stmt *, void *), void *out)
{
	sqlite3_stmt *s;
	int rc = -1, r;

	if ((s = read_prep(st, sql, val, len)) == NULL)
		goto out;
	if ((r = sqlite3_step(s)) == SQLITE_ROW)
		rc = row(s, out);
	else if (r == SQLITE_DONE)
		rc = MP_STORE_NOTFOUND;
out:
	return read_end(st, s, rc);
}

#define KEY_COLS "kid, name, role, sign_pk, box_pk, revoked IS NULL, added"

/* A row of KEY_COLS into the struct mp_key out (the shape read_one takes); 0. */
static int
row_key(sqlite3_stmt *s, void *out)
{
	struct mp_key *k = out;

	memset(k, 0, sizeof *k);
	store_copy_text(k->kid, sizeof k->kid, s, 0);
	store_copy_text(k->name, sizeof k->name, s, 1);
	store_copy_text(k->role, sizeof k->role, s, 2);
	k->has_sign = copy_blob32(k->sign_pk, s, 3);
	copy_blob32(k->box_pk, s, 4);
	k->active = sqlite3_column_int(s, 5);
	store_copy_text(k->added, sizeof k->added, s, 6);
	return 0;
}

static int
key_add(struct mp_store *st, void *arg)
{
	const struct mp_key *k = arg;
	sqlite3_stmt *s;
	int r;

	if ((s = store_prep(st,
	         "INSERT INTO keys (kid, name, role, sign_pk, box_pk, added) "
	         "VALUES (?, ?, ?, ?, ?, ?)")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, k->kid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, k->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, k->role, -1, SQLITE_STATIC);
	if (k->has_sign)
		sqlite3_bind_blob(s, 4, k->sign_pk, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, k->box_pk, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, k->added, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : store_fail(st->db, r);
}

int
mp_store_key_add(struct mp_store *st, const struct mp_key *k)
{
	if (st->remote != NULL)
		return -1;

	return store_change(st, key_add, (void *)k);
}

int
mp_store_key_by_sign(struct mp_store *st, const uint8_t sign_pk[32], struct mp_key *out)
{
	if (st->remote != NULL)
		return remote_key_by_sign(st->remote, sign_pk, out);

	return read_one(
	    st, "SELECT " KEY_COLS " FROM keys WHERE sign_pk = ?", sign_pk, 32, row_key, out);
}

int
mp_store_keys(
    struct mp_store *st, int active_only, int (*cb)(void *, const struct mp_key *), void *arg)
{
	struct mp_key k;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (st->remote != NULL)
		return remote_keys(st->remote, active_only, cb, arg);
	if ((s = read_prep(st,
	         active_only ? "SELECT " KEY_COLS " FROM keys WHERE revoked IS NULL ORDER BY rowid"
	                     : "SELECT " KEY_COLS " FROM keys ORDER BY revoked IS NOT NULL, rowid",
	         NULL, 0)) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		row_key(s, &k);
		if (cb(arg, &k) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	return read_end(st, s, rc);
}

struct key_revoke {
	const char *kid, *day;
};

static int
key_revoke(struct mp_store *st, void *arg)
{
	const struct key_revoke *a = arg;
	sqlite3_stmt *s;
	int rc = -1;

	if ((s = store_prep(st, "UPDATE keys SET revoked = ? WHERE kid = ? AND revoked IS NULL")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(s, 1, a->day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->kid, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_DONE)
		rc = sqlite3_changes(st->db) == 1 ? 0 : MP_STORE_NOTFOUND;
	store_done(st, s);
	return rc;
}

int
mp_store_key_revoke(struct mp_store *st, const char *kid, const char *day)
{
	struct key_revoke a = { kid, day };

	if (st->remote != NULL)
		return -1;
	return store_change(st, key_revoke, &a);
}

/* The active recipients' box keys, oldest first, into *pks (malloc'ed); lock held. */
static int
recipients_now(struct mp_store *st, uint8_t (**pks)[32], size_t *n)
{
	uint8_t(*v)[32] = NULL, (*nv)[32];
	sqlite3_stmt *s;
	int rc = -1, r;

	*pks = NULL;
	*n = 0;
	if ((s = store_prep(st,
	         "SELECT box_pk FROM keys WHERE revoked IS NULL AND "
	         "role IN ('caseworker', 'recovery') ORDER BY rowid")) == NULL)
		return -1;
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
	store_done(st, s);
	return rc;
}

int
mp_store_recipients(struct mp_store *st, uint8_t (**pks)[32], size_t *n)
{
	int rc;

	if (st->remote != NULL)
		return remote_recipients(st->remote, pks, n);
	store_lock(st);
	rc = recipients_now(st, pks, n);
	store_unlock(st);
	return rc;
}

/* 0 when keys (n of 32 bytes) are the active recipients now, in order; else MP_STORE_STALE or -1. */
static int
recipients_same(struct mp_store *st, const uint8_t *keys, size_t n)
{
	uint8_t(*now)[32];
	size_t k;
	int rc;

	if (recipients_now(st, &now, &k) != 0)
		return -1;
	rc = k == n && (n == 0 || memcmp(now, keys, n * 32) == 0) ? 0 : MP_STORE_STALE;
	free(now);
	return rc;
}

/* Insert with the lock held and a transaction open. */
static int
insert_item(struct mp_store *st, const char *case_id, const char *item_id, const char *kind,
    const char *sender, const char *day, const char *envelope)
{
	sqlite3_stmt *s;
	int r;

	if ((s = store_prep(st,
	         "INSERT INTO items (id, case_n, kind, sender, day, envelope) "
	         "VALUES (?, (SELECT n FROM cases WHERE id = ?), ?, ?, ?, ?)")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, item_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, envelope, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : store_fail(st->db, r);
}

struct case_create {
	const struct mp_case_new *c;
	char *ref;
};

static int
case_create(struct mp_store *st, void *arg)
{
	const struct mp_case_new *c = ((struct case_create *)arg)->c;
	char *ref = ((struct case_create *)arg)->ref;
	sqlite3_stmt *s = NULL;
	char data[128];
	int year = atoi(c->day), seq = 0, rc = -1, r;

	/* Checked in the change: a key revoked meanwhile never gets a report it was not meant to. */
	if (c->sealed_to != NULL && (r = recipients_same(st, c->sealed_to, c->nsealed)) != 0)
		return r;
	if ((s = store_prep(st, "SELECT coalesce(max(seq), 0) + 1 FROM cases WHERE year = ?")) ==
	    NULL)
		goto out;
	sqlite3_bind_int(s, 1, year);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	seq = sqlite3_column_int(s, 0);
	store_done(st, s);
	if ((s = store_prep(st,
	         "INSERT INTO cases (id, year, seq, received, updated, status, channel, "
	         "language, anonymous, token_tag, reporter_pk) "
	         "VALUES (?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?)")) == NULL)
		goto out;
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
		rc = store_fail(st->db, r);
		goto out;
	}
	snprintf(data, sizeof data, "{\"channel\":\"%s\",\"anonymous\":%s}", c->channel,
	    c->anonymous ? "true" : "false");
	if ((rc = insert_item(st, c->id, c->item_id, "report", "reporter", c->day, c->envelope)) !=
	        0 ||
	    (rc = mp_store_event(st, c->id, c->day, "created", data)) != 0)
		goto out;
	snprintf(ref, 24, "%04d-%04d", year, seq);
	rc = 0;
out:
	store_done(st, s);
	return rc;
}

int
mp_store_case_create(struct mp_store *st, const struct mp_case_new *c, char ref[24])
{
	struct case_create a = { c, ref };

	if (st->remote != NULL)
		return remote_case_create(st->remote, c, ref);
	return store_change_lean(st, case_create, &a);
}

#define CASE_COLS \
	"id, year, seq, received, updated, status, closure, channel, language, " \
	"anonymous, reporter_pk, classification, collective, closed, purged"

/* A row of CASE_COLS into the struct mp_case out (the shape read_one takes); -1: clear it. */
static int
row_case(sqlite3_stmt *s, void *out)
{
	struct mp_case *c = out;

	memset(c, 0, sizeof *c);
	store_copy_text(c->id, sizeof c->id, s, 0);
	snprintf(
	    c->ref, sizeof c->ref, "%04d-%04d", sqlite3_column_int(s, 1), sqlite3_column_int(s, 2));
	store_copy_text(c->received, sizeof c->received, s, 3);
	store_copy_text(c->updated, sizeof c->updated, s, 4);
	store_copy_text(c->status, sizeof c->status, s, 5);
	store_copy_text(c->closure, sizeof c->closure, s, 6);
	store_copy_text(c->channel, sizeof c->channel, s, 7);
	store_copy_text(c->language, sizeof c->language, s, 8);
	c->anonymous = sqlite3_column_int(s, 9);
	c->has_reporter = copy_blob32(c->reporter_pk, s, 10);
	if (sqlite3_column_type(s, 11) == SQLITE_TEXT &&
	    (c->classification = strdup((const char *)sqlite3_column_text(s, 11))) == NULL)
		return -1;
	if (sqlite3_column_type(s, 12) == SQLITE_TEXT &&
	    (c->collective = strdup((const char *)sqlite3_column_text(s, 12))) == NULL)
		return -1;
	store_copy_text(c->closed, sizeof c->closed, s, 13);
	store_copy_text(c->purged, sizeof c->purged, s, 14);
	return 0;
}

void
mp_case_clear(struct mp_case *c)
{
	free(c->classification);
	free(c->collective);
	c->classification = c->collective = NULL;
}

/* One case by a WHERE clause with one parameter: a 32-byte blob, or text when len is 0. */
static int
case_where(struct mp_store *st, const char *sql, const void *val, int len, struct mp_case *out)
{
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = read_one(st, sql, val, len, row_case, out)) != 0)
		mp_case_clear(out);
	return rc;
}

int
mp_store_case_get(struct mp_store *st, const char *id, struct mp_case *out)
{
	if (st->remote != NULL)
		return remote_case_get(st->remote, 0, id, out);

	return case_where(st, "SELECT " CASE_COLS " FROM cases WHERE id = ?", id, 0, out);
}

int
mp_store_case_by_tag(struct mp_store *st, const uint8_t tag[32], struct mp_case *out)
{
	if (st->remote != NULL)
		return remote_case_get(st->remote, 1, tag, out);

	return case_where(st, "SELECT " CASE_COLS " FROM cases WHERE token_tag = ?", tag, 32, out);
}

/*
 * Each case row s finds (CASE_COLS) to cb, at most limit of them (-1: all);
 * *more is set when a row is left over.  0, or -1 on an error or when cb
 * stops.
 */
static int
each_case(
    sqlite3_stmt *s, int limit, int (*cb)(void *, const struct mp_case *), void *arg, int *more)
{
	struct mp_case c;
	int r, n = 0;

	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == limit) {
			*more = 1;
			return 0;
		}
		if (row_case(s, &c) != 0) {
			mp_case_clear(&c);
			return -1;
		}
		r = cb(arg, &c);
		mp_case_clear(&c);
		if (r != 0)
			return -1;
		n++;
	}
	return r == SQLITE_DONE ? 0 : -1;
}

int
mp_store_cases(struct mp_store *st, const struct mp_case_filter *f, int limit, const char *after,
    int (*cb)(void *, const struct mp_case *), void *arg, int *more)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (st->remote != NULL)
		return remote_cases(st->remote, f, limit, after, cb, arg, more);
	*more = 0;
	/* rowid is insertion order: newest first is rowid descending. */
	if ((s = read_prep(st,
	         "SELECT " CASE_COLS " FROM cases WHERE (?1 IS NULL OR status = ?1) AND "
	         "(?2 IS NULL OR rowid < (SELECT rowid FROM cases WHERE id = ?2)) AND "
	         "(?4 IS NULL OR (status != 'closed' AND received < ?4)) AND "
	         "(?5 IS NULL OR collective = ?5) AND "
	         "(?6 IS NULL OR n IN (SELECT case_n FROM case_grounds WHERE ground = ?6)) AND "
	         "(?7 IS NULL OR (year = ?7 AND seq = ?8)) "
	         "ORDER BY rowid DESC LIMIT ?3",
	         f->status, 0)) == NULL)
		goto out;
	if (after != NULL)
		sqlite3_bind_text(s, 2, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, limit + 1);
	if (f->received_before != NULL)
		sqlite3_bind_text(s, 4, f->received_before, -1, SQLITE_STATIC);
	if (f->collective != NULL)
		sqlite3_bind_text(s, 5, f->collective, -1, SQLITE_STATIC);
	if (f->ground != NULL)
		sqlite3_bind_text(s, 6, f->ground, -1, SQLITE_STATIC);
	if (f->ref_year > 0 && f->ref_seq > 0) {
		sqlite3_bind_int(s, 7, f->ref_year);
		sqlite3_bind_int(s, 8, f->ref_seq);
	}
	rc = each_case(s, limit, cb, arg, more);
out:
	return read_end(st, s, rc);
}

int
mp_store_items(
    struct mp_store *st, const char *case_id, int (*cb)(void *, const struct mp_item *), void *arg)
{
	struct mp_item it;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (st->remote != NULL)
		return remote_items(st->remote, case_id, cb, arg);
	if ((s = read_prep(st,
	         "SELECT id, kind, sender, day, envelope FROM items "
	         "WHERE case_n = (SELECT n FROM cases WHERE id = ?) "
	         "ORDER BY rowid",
	         case_id, 0)) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		store_copy_text(it.id, sizeof it.id, s, 0);
		store_copy_text(it.kind, sizeof it.kind, s, 1);
		store_copy_text(it.sender, sizeof it.sender, s, 2);
		store_copy_text(it.day, sizeof it.day, s, 3);
		it.envelope = (const char *)sqlite3_column_text(s, 4);
		if (it.envelope == NULL || cb(arg, &it) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	return read_end(st, s, rc);
}

/* Run a statement that binds (text, text) and must change `want` rows (-1: any). */
static int
run2(struct mp_store *st, const char *sql, const char *a, const char *b, int want)
{
	sqlite3_stmt *s;
	int r;

	if ((s = store_prep(st, sql)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	store_done(st, s);
	if (r != SQLITE_DONE)
		return store_fail(st->db, r);
	if (want >= 0 && sqlite3_changes(st->db) != want)
		return MP_STORE_NOTFOUND;
	return 0;
}

/* Mark a case updated on day (MP_STORE_NOTFOUND when there is no such case); lock held. */
static int
touch_case(struct mp_store *st, const char *case_id, const char *day)
{
	return run2(st, "UPDATE cases SET updated = ? WHERE id = ?", day, case_id, 1);
}

/* The integer sql (one text parameter) gives in its first row, 0 if none, or -1; lock held. */
static int
ask_int(struct mp_store *st, const char *sql, const char *text)
{
	sqlite3_stmt *s;
	int r;

	if ((s = store_prep(st, sql)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	r = r == SQLITE_ROW ? sqlite3_column_int(s, 0) : r == SQLITE_DONE ? 0 : -1;
	store_done(st, s);
	return r;
}

/* 1 if the retention purge emptied the case, 0 if not (or no such case), -1; lock held. */
static int
case_purged(struct mp_store *st, const char *case_id)
{
	return ask_int(st, "SELECT purged IS NOT NULL FROM cases WHERE id = ?", case_id);
}

struct item_add {
	const char *case_id, *item_id, *kind, *sender, *day, *envelope;
	unsigned day_cap;
};

/* Items of this kind and sender the case took on the day: 0 or more, or -1. */
static int
items_on_day(struct mp_store *st, const struct item_add *a)
{
	sqlite3_stmt *s;
	int n = -1;

	if ((s = store_prep(st,
	         "SELECT count(*) FROM items WHERE case_n = (SELECT n FROM cases WHERE id = ?) "
	         "AND kind = ? "
	         "AND sender = ? AND day = ?")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, a->case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->day, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	store_done(st, s);
	return n;
}

static int
item_add(struct mp_store *st, void *arg)
{
	const struct item_add *a = arg;
	int rc, n;

	/* Counted inside the change: items added at the same moment cannot pass the cap together. */
	if (a->day_cap > 0) {
		if ((n = items_on_day(st, a)) < 0)
			return -1;
		if ((unsigned)n >= a->day_cap)
			return MP_STORE_LIMIT;
	}
	/*
	 * A purged case takes nothing more: the purge that came between a
	 * caller's look at the case and this change would never remove it.
	 * Checked before anything is written.
	 */
	if ((rc = case_purged(st, a->case_id)) != 0)
		return rc < 0 ? -1 : MP_STORE_CONFLICT;
	if ((rc = touch_case(st, a->case_id, a->day)) != 0)
		return rc;
	return insert_item(st, a->case_id, a->item_id, a->kind, a->sender, a->day, a->envelope);
}

int
mp_store_item_add(struct mp_store *st, const char *case_id, const char *item_id, const char *kind,
    const char *sender, const char *day, const char *envelope, unsigned day_cap)
{
	struct item_add a = { case_id, item_id, kind, sender, day, envelope, day_cap };

	if (st->remote != NULL)
		return remote_item_add(
		    st->remote, case_id, item_id, kind, sender, day, envelope, day_cap);
	return store_change_lean(st, item_add, &a);
}

struct case_move {
	const char *id, *from, *to, *closure, *day;
};

static int
case_move(struct mp_store *st, void *arg)
{
	const struct case_move *a = arg;
	const char *id = a->id, *from = a->from, *to = a->to, *closure = a->closure, *day = a->day;
	sqlite3_stmt *s = NULL;
	char data[128];
	int rc = -1, r;

	if ((s = store_prep(st,
	         "UPDATE cases SET status = ?, closure = ?, updated = ?4, "
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
	if (r != SQLITE_DONE) {
		rc = store_fail(st->db, r);
		goto out;
	}
	if (sqlite3_changes(st->db) != 1) {
		rc = MP_STORE_CONFLICT;
		goto out;
	}
	if (closure != NULL)
		snprintf(data, sizeof data, "{\"status\":\"%s\",\"closure\":\"%s\"}", to, closure);
	else
		snprintf(data, sizeof data, "{\"status\":\"%s\"}", to);
	rc = mp_store_event(st, id, day, "status", data);
out:
	store_done(st, s);
	return rc;
}

int
mp_store_case_move(struct mp_store *st, const char *id, const char *from, const char *to,
    const char *closure, const char *day)
{
	struct case_move a = { id, from, to, closure, day };

	if (st->remote != NULL)
		return remote_case_move(st->remote, id, from, to, closure, day);
	return store_change(st, case_move, &a);
}

int
mp_store_event(
    struct mp_store *st, const char *case_id, const char *day, const char *type, const char *data)
{
	sqlite3_stmt *s;
	int r, rc;

	if (st->remote != NULL)
		return -1;
	store_lock(st);
	if ((s = store_prep(st,
	         "INSERT INTO events (case_n, day, type, data) "
	         "VALUES ((SELECT n FROM cases WHERE id = ?), ?, ?, ?)")) == NULL) {
		store_unlock(st);
		return -1;
	}
	sqlite3_bind_text(s, 1, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, data, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	store_done(st, s);
	rc = r == SQLITE_DONE ? 0 : store_fail(st->db, r);
	if (rc == 0 && strcmp(type, "shared") != 0)
		rc = store_log_append(st, case_id, day, type, data);
	store_unlock(st);
	return rc;
}

int
mp_store_history(
    struct mp_store *st, const char *case_id, int (*cb)(void *, const struct mp_event *), void *arg)
{
	struct mp_event ev;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (st->remote != NULL)
		return remote_history(st->remote, case_id, cb, arg);
	if ((s = read_prep(st,
	         "SELECT day, type, data FROM events "
	         "WHERE case_n = (SELECT n FROM cases WHERE id = ?) ORDER BY seq",
	         case_id, 0)) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		store_copy_text(ev.day, sizeof ev.day, s, 0);
		ev.type = (const char *)sqlite3_column_text(s, 1);
		ev.data = (const char *)sqlite3_column_text(s, 2);
		if (ev.type == NULL || ev.data == NULL || cb(arg, &ev) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	return read_end(st, s, rc);
}

struct case_classify {
	const char *id, *classification;
	const char *const *grounds;
	size_t ngrounds;
	const char *day;
};

static int
case_classify(struct mp_store *st, void *arg)
{
	const struct case_classify *a = arg;
	const char *id = a->id, *classification = a->classification, *day = a->day;
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc = -1, r;

	if ((s = store_prep(st, "UPDATE cases SET classification = ?, updated = ? WHERE id = ?")) ==
	    NULL)
		goto out;
	sqlite3_bind_text(s, 1, classification, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) != SQLITE_DONE) {
		rc = store_fail(st->db, r);
		goto out;
	}
	if (sqlite3_changes(st->db) != 1) {
		rc = MP_STORE_NOTFOUND;
		goto out;
	}
	if ((rc = run2(st,
	         "DELETE FROM case_grounds WHERE case_n = (SELECT n FROM cases WHERE id = ?)", id,
	         NULL, -1)) != 0)
		goto out;
	for (i = 0; i < a->ngrounds; i++)
		if ((rc = run2(st,
		         "INSERT INTO case_grounds (case_n, ground) "
		         "VALUES ((SELECT n FROM cases WHERE id = ?), ?)",
		         id, a->grounds[i], 1)) != 0)
			goto out;
	rc = mp_store_event(st, id, day, "classified", classification);
out:
	store_done(st, s);
	return rc;
}

int
mp_store_case_classify(struct mp_store *st, const char *id, const char *classification,
    const char *const *grounds, size_t ngrounds, const char *day)
{
	struct case_classify a = { id, classification, grounds, ngrounds, day };

	if (st->remote != NULL)
		return remote_case_classify(st->remote, id, classification, grounds, ngrounds, day);
	return store_change(st, case_classify, &a);
}

/* Where mp_store_item_get puts what it finds. */
struct item_found {
	char *case_id;
	char **envelope;
};

/* A row of case_id, envelope into the struct item_found out (the shape read_one takes). */
static int
row_item_found(sqlite3_stmt *s, void *out)
{
	const struct item_found *f = out;

	store_copy_text(f->case_id, MP_ID_LEN + 1, s, 0);
	*f->envelope = strdup((const char *)sqlite3_column_text(s, 1));
	return *f->envelope != NULL ? 0 : -1;
}

int
mp_store_item_get(
    struct mp_store *st, const char *item_id, char case_id[MP_ID_LEN + 1], char **envelope)
{
	struct item_found f = { case_id, envelope };

	if (st->remote != NULL)
		return remote_item_get(st->remote, item_id, case_id, envelope);
	*envelope = NULL;
	return read_one(st,
	    "SELECT c.id, i.envelope FROM items i JOIN cases c ON c.n = i.case_n WHERE i.id = ?",
	    item_id, 0, row_item_found, &f);
}

/* 1 if kid is a key not revoked, 0 if not, -1; lock held. */
static int
key_active(struct mp_store *st, const char *kid)
{
	return ask_int(st, "SELECT 1 FROM keys WHERE kid = ? AND revoked IS NULL", kid);
}

struct item_share {
	const char *item_id, *case_id, *envelope;
	const char *const *kids;
	size_t nkids;
	const char *day;
};

static int
item_share(struct mp_store *st, void *arg)
{
	const struct item_share *a = arg;
	sqlite3_stmt *s;
	char data[64];
	size_t i;
	int rc, r;

	/*
	 * Only what sharing does: the item is the case's, each kid an active
	 * key, and the new envelope the stored one with those recipients added
	 * at its end.  Anything else, or an envelope another share changed
	 * since the caller read it, is refused before anything is written.
	 */
	for (i = 0; i < a->nkids; i++)
		if ((r = key_active(st, a->kids[i])) != 1)
			return r < 0 ? -1 : MP_STORE_NOTFOUND;
	if ((s = store_prep(st,
	         "SELECT envelope FROM items "
	         "WHERE id = ? AND case_n = (SELECT n FROM cases WHERE id = ?)")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, a->item_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->case_id, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		rc = mp_envelope_grows((const char *)sqlite3_column_text(s, 0),
		         (size_t)sqlite3_column_bytes(s, 0), a->envelope, strlen(a->envelope),
		         a->kids, a->nkids) == 0
		    ? 0
		    : MP_STORE_CONFLICT;
	else
		rc = r == SQLITE_DONE ? MP_STORE_NOTFOUND : -1;
	store_done(st, s);
	if (rc == 0)
		rc = run2(
		    st, "UPDATE items SET envelope = ? WHERE id = ?", a->envelope, a->item_id, 1);
	for (i = 0; rc == 0 && i < a->nkids; i++) {
		snprintf(data, sizeof data, "{\"kid\":\"%.22s\"}", a->kids[i]);
		rc = mp_store_event(st, a->case_id, a->day, "shared", data);
	}
	return rc;
}

int
mp_store_item_share(struct mp_store *st, const char *item_id, const char *case_id,
    const char *envelope, const char *const *kids, size_t nkids, const char *day)
{
	struct item_share a = { item_id, case_id, envelope, kids, nkids, day };

	if (st->remote != NULL)
		return remote_item_share(st->remote, item_id, case_id, envelope, kids, nkids, day);
	return store_change(st, item_share, &a);
}

int
mp_store_items_missing(struct mp_store *st, const char *kid, int limit, const char *after,
    int (*cb)(void *, const char *, const char *, const char *), void *arg, int *more)
{
	char needle[64];
	sqlite3_stmt *s;
	int rc = -1, r, n = 0;

	if (st->remote != NULL)
		return remote_items_missing(st->remote, kid, limit, after, cb, arg, more);
	*more = 0;
	snprintf(needle, sizeof needle, "\"kid\":\"%.22s\"", kid);
	/* Envelopes are stored compact, so a recipient shows as "kid":"<kid>". */
	if ((s = read_prep(st,
	         "SELECT i.id, c.id, i.envelope FROM items i JOIN cases c ON c.n = i.case_n "
	         "WHERE instr(i.envelope, ?1) = 0 "
	         "AND (?2 IS NULL OR i.rowid > (SELECT rowid FROM items WHERE id = ?2)) "
	         "ORDER BY i.rowid LIMIT ?3",
	         needle, 0)) == NULL)
		goto out;
	if (after != NULL)
		sqlite3_bind_text(s, 2, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, limit + 1);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++ == limit) {
			*more = 1;
			break;
		}
		if (cb(arg, (const char *)sqlite3_column_text(s, 0),
		        (const char *)sqlite3_column_text(s, 1),
		        (const char *)sqlite3_column_text(s, 2)) != 0)
			goto out;
	}
	rc = (r == SQLITE_DONE || r == SQLITE_ROW) ? 0 : -1;
out:
	return read_end(st, s, rc);
}

int
mp_store_key_by_kid(struct mp_store *st, const char *kid, struct mp_key *out)
{
	if (st->remote != NULL)
		return remote_key_by_kid(st->remote, kid, out);

	return read_one(st, "SELECT " KEY_COLS " FROM keys WHERE kid = ? AND revoked IS NULL", kid,
	    0, row_key, out);
}

#define COLL_COLS \
	"c.id, c.year, c.seq, c.name, c.created, " \
	"(SELECT count(*) FROM cases WHERE collective = c.id)"

/* A row of COLL_COLS into the struct mp_collective out (the shape read_one takes); 0. */
static int
row_collective(sqlite3_stmt *s, void *out)
{
	struct mp_collective *c = out;

	memset(c, 0, sizeof *c);
	store_copy_text(c->id, sizeof c->id, s, 0);
	snprintf(c->ref, sizeof c->ref, "C%04d-%04d", sqlite3_column_int(s, 1),
	    sqlite3_column_int(s, 2));
	store_copy_text(c->name, sizeof c->name, s, 3);
	store_copy_text(c->created, sizeof c->created, s, 4);
	c->cases = sqlite3_column_int(s, 5);
	return 0;
}

struct collective_create {
	const char *id, *name, *day;
};

static int
collective_create(struct mp_store *st, void *arg)
{
	const struct collective_create *a = arg;
	sqlite3_stmt *s;
	int r;

	if ((s = store_prep(st,
	         "INSERT INTO collectives (id, year, seq, name, created) VALUES (?1, ?2, "
	         "(SELECT coalesce(max(seq), 0) + 1 FROM collectives WHERE year = ?2), ?3, ?4)")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(s, 1, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, atoi(a->day));
	sqlite3_bind_text(s, 3, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->day, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	store_done(st, s);
	return r == SQLITE_DONE ? 0 : store_fail(st->db, r);
}

int
mp_store_collective_create(
    struct mp_store *st, const char *name, const char *day, struct mp_collective *out)
{
	char id[MP_ID_LEN + 1];
	struct collective_create a = { id, name, day };
	int rc;

	if (st->remote != NULL)
		return remote_collective_create(st->remote, name, day, out);
	mp_new_id(id);
	if ((rc = store_change(st, collective_create, &a)) != 0)
		return rc;
	return mp_store_collective_get(st, id, out);
}

int
mp_store_collective_get(struct mp_store *st, const char *id, struct mp_collective *out)
{
	if (st->remote != NULL)
		return remote_collective_get(st->remote, id, out);
	return read_one(st, "SELECT " COLL_COLS " FROM collectives c WHERE c.id = ?", id, 0,
	    row_collective, out);
}

int
mp_store_collectives(
    struct mp_store *st, int (*cb)(void *, const struct mp_collective *), void *arg)
{
	struct mp_collective c;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (st->remote != NULL)
		return remote_collectives(st->remote, cb, arg);
	if ((s = read_prep(st, "SELECT " COLL_COLS " FROM collectives c ORDER BY c.rowid DESC",
	         NULL, 0)) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		row_collective(s, &c);
		if (cb(arg, &c) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	return read_end(st, s, rc);
}

int
mp_store_collective_members(
    struct mp_store *st, const char *id, int (*cb)(void *, const struct mp_member *), void *arg)
{
	struct mp_member m;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (st->remote != NULL)
		return remote_collective_members(st->remote, id, cb, arg);
	if ((s = read_prep(st,
	         "SELECT id, year, seq, status, reporter_pk FROM cases "
	         "WHERE collective = ? ORDER BY rowid",
	         id, 0)) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&m, 0, sizeof m);
		store_copy_text(m.id, sizeof m.id, s, 0);
		snprintf(m.ref, sizeof m.ref, "%04d-%04d", sqlite3_column_int(s, 1),
		    sqlite3_column_int(s, 2));
		store_copy_text(m.status, sizeof m.status, s, 3);
		m.has_reporter = copy_blob32(m.reporter_pk, s, 4);
		if (cb(arg, &m) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	return read_end(st, s, rc);
}

struct collective_link {
	const char *id, *case_id, *day;
};

static int
collective_link(struct mp_store *st, void *arg)
{
	const struct collective_link *a = arg;
	const char *id = a->id, *case_id = a->case_id, *day = a->day;
	struct mp_case c;
	char data[64];
	int rc;

	if ((rc = mp_store_case_get(st, case_id, &c)) != 0)
		return rc;
	if (c.collective != NULL) {
		rc = strcmp(c.collective, id) == 0 ? 0 : MP_STORE_CONFLICT;
		goto out;
	}
	snprintf(data, sizeof data, "{\"collective\":\"%.22s\"}", id);
	if ((rc = run2(st, "UPDATE cases SET collective = ?1 WHERE id = ?2", id, case_id, 1)) !=
	        0 ||
	    (rc = touch_case(st, case_id, day)) != 0)
		goto out;
	rc = mp_store_event(st, case_id, day, "collective", data);
out:
	mp_case_clear(&c);
	return rc;
}

int
mp_store_collective_link(struct mp_store *st, const char *id, const char *case_id, const char *day)
{
	struct collective_link a = { id, case_id, day };

	if (st->remote != NULL)
		return remote_collective_link(st->remote, id, case_id, day);
	return store_change(st, collective_link, &a);
}

/* The cases a purge with cut-offs ?1 (closed) and ?2 (inactive) removes. */
#define PURGE_DUE \
	"purged IS NULL AND " \
	"((status = 'closed' AND closed <= ?1) OR (status != 'closed' AND updated <= ?2))"

int
mp_store_purge_due(struct mp_store *st, const char *closed_cutoff, const char *inactive_cutoff,
    int (*cb)(void *, const struct mp_case *), void *arg)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (st->remote != NULL)
		return -1;
	if ((s = read_prep(st, "SELECT " CASE_COLS " FROM cases WHERE " PURGE_DUE " ORDER BY n",
	         closed_cutoff, 0)) == NULL)
		goto out;
	sqlite3_bind_text(s, 2, inactive_cutoff, -1, SQLITE_STATIC);
	rc = each_case(s, -1, cb, arg, NULL);
out:
	return read_end(st, s, rc);
}

/* Remove one case's contents; lock held, inside a change. */
static int
purge_case(struct mp_store *st, const char *id, const char *today)
{
	int rc;

	if ((rc = run2(st, "DELETE FROM items WHERE case_n = (SELECT n FROM cases WHERE id = ?)",
	         id, NULL, -1)) != 0 ||
	    (rc = run2(st, "UPDATE cases SET purged = ?2, reporter_pk = NULL WHERE id = ?1", id,
	         today, 1)) != 0)
		return rc;
	return mp_store_event(st, id, today, "purged", "{}");
}

int
mp_store_purge(struct mp_store *st, const char *today, const char *closed_cutoff,
    const char *inactive_cutoff, int *n)
{
	char(*ids)[MP_ID_LEN + 1] = NULL, (*nids)[MP_ID_LEN + 1];
	sqlite3_stmt *s = NULL;
	size_t cap = 0, k = 0, i;
	int rc, r;

	if (st->remote != NULL)
		return -1;
	*n = 0;
	if ((rc = mp_store_begin(st)) != 0)
		return rc;
	rc = -1;
	if ((s = store_prep(st, "SELECT id FROM cases WHERE " PURGE_DUE)) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, closed_cutoff, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, inactive_cutoff, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nids = realloc(ids, cap * sizeof *ids)) == NULL)
				goto out;
			ids = nids;
		}
		store_copy_text(ids[k++], MP_ID_LEN + 1, s, 0);
	}
	if (r != SQLITE_DONE)
		goto out;
	store_done(st, s);
	s = NULL;
	for (i = 0; i < k; i++)
		if ((rc = purge_case(st, ids[i], today)) != 0)
			goto out;
	rc = 0;
out:
	store_done(st, s);
	free(ids);
	r = mp_store_end(st, rc == 0);
	if (rc != 0 || r != 0)
		return rc != 0 ? rc : r;
	*n = (int)k;
	if (k == 0)
		return 0;
	/*
	 * secure_delete zeroed the freed cells; copying the WAL back, emptying it
	 * and rebuilding the file leaves no old page image anywhere.
	 */
	store_wlock_quiet(st);
	rc = exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)");
	if (rc == 0)
		rc = exec(st->db, "VACUUM");
	if (rc == 0)
		rc = exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)");
	store_wunlock(st);
	return rc;
}
