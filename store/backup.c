/*
 * The database side of backup and restore: SQLite's online backup API
 * between two connections keyed alike, and the checks of a copy.  Nothing
 * here migrates or changes the original; that stays with store.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mp_backup.h"
#include "mp_err.h"
#include "mp_store.h"

/* Consecutive busy steps tolerated (each followed by a pause) before giving up. */
#define BUSY_MAX 2000

/* The raw key, given as store.c gives it, so that both ends read the same pages. */
static int
key_db(sqlite3 *db, const uint8_t key[32])
{
	char pragma[16 + 64 + 4], hex[65];
	int n, r;

	sodium_bin2hex(hex, sizeof hex, key, 32);
	n = snprintf(pragma, sizeof pragma, "PRAGMA key = \"x'%s'\"", hex);
	r = (n > 0 && (size_t)n < sizeof pragma) ? sqlite3_exec(db, pragma, NULL, NULL, NULL)
	                                         : SQLITE_ERROR;
	sodium_memzero(pragma, sizeof pragma);
	sodium_memzero(hex, sizeof hex);
	return r == SQLITE_OK ? 0 : -1;
}

/* Open an existing file with the key and prove the key by reading the schema. */
static int
open_keyed(
    sqlite3 **out, const char *path, int flags, const uint8_t key[32], char *err, size_t errlen)
{
	sqlite3 *db = NULL;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		mp_errf(err, errlen, "%s: cannot open: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	if (key_db(db, key) != 0) {
		mp_errf(err, errlen, "%s: cannot set the key", path);
		goto fail;
	}
	/* A wrong key, or a file that is no database, shows only on the first read. */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		mp_errf(err, errlen, "%s does not open with the instance's database key (%s)", path,
		    sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	*out = db;
	return 0;
fail:
	sqlite3_close(db);
	return -1;
}

static int
exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return mp_errf(err, errlen, "%s: %s", sql, sqlite3_errmsg(db));
	return 0;
}

int
mp_backup_copy(
    const char *src, const char *dst, const uint8_t key[32], int *steps, char *err, size_t errlen)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *b = NULL;
	int fd, r, n = 0, busy = 0, reading = 0, rc = -1;

	if (steps != NULL)
		*steps = 0;
	/* Read-write only because WAL readers share the -shm index; query_only keeps it a reader. */
	if (open_keyed(&from, src, SQLITE_OPEN_READWRITE, key, err, errlen) != 0 ||
	    exec(from, "PRAGMA query_only = 1", err, errlen) != 0)
		goto out;
	/* The copy is made here, exclusively and private, before SQLite opens it. */
	if ((fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		mp_errf(err, errlen, "%s: %s", dst, strerror(errno));
		goto out;
	}
	close(fd);
	if (open_keyed(&to, dst, SQLITE_OPEN_READWRITE, key, err, errlen) != 0)
		goto out;
	/*
	 * One read transaction spans every step: the copy is one snapshot, the
	 * server's commits between steps do not restart it, and in WAL mode no
	 * writer ever waits for a reader (checkpoints only stop short of it).
	 */
	if (exec(from, "BEGIN", err, errlen) != 0)
		goto out;
	reading = 1;
	if (exec(from, "SELECT count(*) FROM sqlite_master", err, errlen) != 0)
		goto out;
	if ((b = sqlite3_backup_init(to, "main", from, "main")) == NULL) {
		mp_errf(err, errlen, "cannot start the backup: %s", sqlite3_errmsg(to));
		goto out;
	}
	for (;;) {
		r = sqlite3_backup_step(b, MP_BACKUP_STEP_PAGES);
		n++;
		if (r == SQLITE_DONE)
			break;
		if (r == SQLITE_BUSY || r == SQLITE_LOCKED) {
			if (++busy > BUSY_MAX) {
				mp_errf(err, errlen, "the database stayed busy; try again");
				goto out;
			}
		} else if (r != SQLITE_OK) {
			mp_errf(err, errlen, "the backup failed: %s", sqlite3_errstr(r));
			goto out;
		} else {
			busy = 0;
		}
		sqlite3_sleep(MP_BACKUP_PAUSE_MS);
	}
	r = sqlite3_backup_finish(b);
	b = NULL;
	if (r != SQLITE_OK) {
		mp_errf(err, errlen, "the backup failed: %s", sqlite3_errmsg(to));
		goto out;
	}
	reading = 0;
	if (exec(from, "COMMIT", err, errlen) != 0)
		goto out;
	/* The copy came with the original's WAL flag; without it the file alone is the database. */
	if (exec(to, "PRAGMA journal_mode = DELETE", err, errlen) != 0)
		goto out;
	if (steps != NULL)
		*steps = n;
	rc = 0;
out:
	if (b != NULL)
		sqlite3_backup_finish(b);
	if (reading)
		sqlite3_exec(from, "ROLLBACK", NULL, NULL, NULL);
	if (to != NULL && sqlite3_close(to) != SQLITE_OK && rc == 0)
		rc = mp_errf(err, errlen, "%s: cannot close the copy", dst);
	sqlite3_close(from);
	return rc;
}

/* One integer from a one-row query; -1 when the query fails. */
static int
query_int(sqlite3 *db, const char *sql, long long *v)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

/* PRAGMA integrity_check: "ok", or its first complaint into err. */
static int
integrity(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int r, rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) {
		mp_errf(err, errlen, "%s: integrity_check: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		mp_errf(err, errlen, "%s: integrity_check: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	t = sqlite3_column_text(s, 0);
	if (t == NULL || strcmp((const char *)t, "ok") != 0) {
		mp_errf(err, errlen, "%s fails integrity_check: %s", path,
		    t != NULL ? (const char *)t : "no answer");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int
mp_backup_verify(
    const char *path, const uint8_t key[32], struct mp_backup_info *info, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	long long v, has_log = 0;
	int known, rc = -1;

	memset(info, 0, sizeof *info);
	if (open_keyed(&db, path, SQLITE_OPEN_READONLY, key, err, errlen) != 0 ||
	    integrity(db, path, err, errlen) != 0)
		goto out;
	if (query_int(db, "SELECT count(*) FROM cases", &info->cases) != 0 ||
	    query_int(db, "SELECT count(*) FROM keys WHERE revoked IS NULL", &info->keys) != 0 ||
	    query_int(db,
	        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
	        "name = 'log'",
	        &has_log) != 0 ||
	    (has_log && query_int(db, "SELECT count(*) FROM log", &info->log_size) != 0) ||
	    query_int(db, "PRAGMA user_version", &v) != 0 ||
	    query_int(db, "PRAGMA page_count", &info->pages) != 0 ||
	    query_int(db, "PRAGMA page_size", &info->page_size) != 0) {
		mp_errf(
		    err, errlen, "%s is not a meldpunt database (%s)", path, sqlite3_errmsg(db));
		goto out;
	}
	info->schema = (int)v;
	known = mp_store_schema_version();
	/* meldpuntd would refuse it at start; better said now. */
	if (info->schema > known) {
		mp_errf(err, errlen, "%s is from a newer meldpunt (schema %d; this one knows %d)",
		    path, info->schema, known);
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(db);
	return rc;
}
