/* The store's internals shared by its files (mp_store.h is the module's contract). */
#ifndef MP_STORE_EXTERN_H
#define MP_STORE_EXTERN_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

struct mp_stats;

#define STORE_STMTS 64 /* prepared statements kept, by their SQL text */
#define STORE_READERS \
	4 /* reading connections (8 measured no faster: each starts cold after a commit) */

struct store_job;

/* Statements kept prepared for one connection, found by the address of their SQL. */
struct store_stmts {
	const char *sql[STORE_STMTS]; /* string literals */
	sqlite3_stmt *s[STORE_STMTS];
};

/* A reading connection (query_only) and the statements it keeps. */
struct store_reader {
	sqlite3 *db;
	pthread_mutex_t lock; /* a thread holds one reader at a time, however deep its reads */
	struct store_stmts stmts;
};

/*
 * Connections to one database in WAL mode: the writer makes every change,
 * under lock; the readers answer reads made outside a change, each under its
 * own lock, and see only committed transactions, so a read never waits for
 * a commit and never sees a batch that might still fail.
 */
struct mp_store {
	struct store_remote *remote; /* not NULL: every call goes to another process (remote.c) */
	sqlite3 *db;                 /* the writer */
	pthread_mutex_t lock; /* recursive: the writer; a change may call other store functions */
	int depth;            /* nesting of changes of the thread holding lock */
	struct store_stmts stmts;
	struct store_reader readers[STORE_READERS];

	/*
	 * Group commit (store.c): every outermost change is a savepoint of the
	 * open batch's transaction; the last to end commits for all of them.
	 */
	int open;              /* a batch's transaction is open on the writer (under lock) */
	int bare;              /* the change under way has no savepoint (under lock) */
	int alone;             /* ... because it opened the batch's transaction (under lock) */
	int mark;              /* ... else the writer's total changes when it began (under lock) */
	pthread_mutex_t qlock; /* the fields below; never held while waiting for lock */
	pthread_cond_t qcond;  /* a change ended, or a batch was answered */
	int joining;           /* changes begun and not yet ended */
	int committing;        /* a batch's COMMIT is under way */
	struct store_job *members; /* ended changes waiting for the open batch's COMMIT */
	uint64_t commits; /* transactions committed, and the changes in them (under lock) */
	uint64_t changes;
	struct mp_stats *codes; /* not NULL: every event's codes must be its layout's (log.c) */
};

/* Map an SQLite result to the store's codes. */
int store_fail(sqlite3 *db, int rc);
/*
 * Take and give back the connection for a read: the writer when this thread
 * is inside a change (it must see its own writes), else a free reader (the
 * same one for reads nested in a read's callback).
 */
void store_lock(struct mp_store *st);
void store_unlock(struct mp_store *st);
/* Take and give back the writer, for a change. */
void store_wlock(struct mp_store *st);
void store_wunlock(struct mp_store *st);
/*
 * A prepared statement for sql, a string literal, on the connection this
 * thread holds: the one kept for it, or a fresh one when that is in use
 * further up the stack.  Hand it back with store_done, which resets or
 * finalises it.
 */
sqlite3_stmt *store_prep(struct mp_store *st, const char *sql);
void store_done(struct mp_store *st, sqlite3_stmt *s);
/* Copy a text column into dst, truncated to dstlen - 1 bytes. */
void store_copy_text(char *dst, size_t dstlen, sqlite3_stmt *s, int col);
/*
 * Run fn(st, arg) as one change (mp_store_begin, fn, mp_store_end): fn's
 * result, or the error of the COMMIT that was to hold the change.
 */
int store_change(struct mp_store *st, int (*fn)(struct mp_store *, void *), void *arg);
/*
 * The same for a change that refuses only before its first write (fn
 * returns an error with nothing written): it takes no savepoint, and
 * should it fail after a write, every change of its batch fails with it,
 * so nothing partial is ever stored.
 */
int store_change_lean(struct mp_store *st, int (*fn)(struct mp_store *, void *), void *arg);

/* log.c: append an event of a case to the transparency log (lock held, inside a change). */
int store_log_append(
    struct mp_store *st, const char *case_id, const char *day, const char *type, const char *data);
/* log.c: put the events recorded before the log existed into it, once. */
int store_log_backfill(struct mp_store *st);

#endif
