/* The store's internals shared by its files (mp_store.h is the module's contract). */
#ifndef MP_STORE_EXTERN_H
#define MP_STORE_EXTERN_H

#include <pthread.h>
#include <sqlite3.h>

struct mp_store {
	sqlite3 *db;
	pthread_mutex_t lock;    /* recursive: a change may call other store functions */
	int depth;               /* nesting of mp_store_begin */
	sqlite3_stmt *node;      /* the log's subtree hash look-up, prepared once */
};

/* Map an SQLite result to the store's codes. */
int store_fail(sqlite3 *db, int rc);
/* Prepare with the lock held; the statement is finalised by the caller. */
sqlite3_stmt *store_prep(struct mp_store *st, const char *sql);
/* Copy a text column into dst, truncated to dstlen - 1 bytes. */
void store_copy_text(char *dst, size_t dstlen, sqlite3_stmt *s, int col);

/* log.c: append an event of a case to the transparency log (lock held, inside a change). */
int store_log_append(struct mp_store *st, const char *case_id, const char *day, const char *type,
    const char *data);
/* log.c: put the events recorded before the log existed into it, once. */
int store_log_backfill(struct mp_store *st);
void store_log_close(struct mp_store *st);

#endif
