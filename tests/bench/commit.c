/*
 * commit FILE [SECONDS]: the limit for durable writes.  Makes a new
 * SQLCipher database at FILE, keyed with a random raw key and opened with
 * the pragmas of the store (store/store.c, open_db: WAL, synchronous =
 * FULL, secure_delete, foreign keys), then for SECONDS (default 3) commits
 * one row per transaction: BEGIN, one INSERT of a 3 KB blob (the size of a
 * sealed report), COMMIT.  Each COMMIT waits for the write-ahead log's
 * fsync.  Prints one line of key=value pairs: commits per second,
 * milliseconds per commit and the SQLite and SQLCipher versions.  The
 * database is removed afterwards.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROW 3072

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	fprintf(stderr, "commit: %s: %s\n", sql, sqlite3_errmsg(db));
	return -1;
}

static void
remove_db(const char *path)
{
	char side[4200];

	unlink(path);
	if (snprintf(side, sizeof side, "%s-wal", path) < (int)sizeof side)
		unlink(side);
	if (snprintf(side, sizeof side, "%s-shm", path) < (int)sizeof side)
		unlink(side);
}

int
main(int argc, char **argv)
{
	uint8_t key[32], row[ROW];
	char hex[65], pragma[100], cipher[64] = "?";
	double secs = argc > 2 ? atof(argv[2]) : 3.0, t0, t;
	sqlite3_stmt *ins = NULL, *ver = NULL;
	sqlite3 *db = NULL;
	long n = 0;
	int rc = 1;

	if (argc < 2 || secs <= 0) {
		fprintf(stderr, "usage: commit FILE [SECONDS]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	remove_db(argv[1]);
	if (sqlite3_open_v2(argv[1], &db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK) {
		fprintf(stderr, "commit: cannot open %s\n", argv[1]);
		goto out;
	}
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	snprintf(pragma, sizeof pragma, "PRAGMA key = \"x'%s'\"", hex);
	if (exec(db, pragma) != 0 || exec(db, "PRAGMA journal_mode = WAL") != 0 ||
	    exec(db, "PRAGMA synchronous = FULL") != 0 ||
	    exec(db, "PRAGMA secure_delete = ON") != 0 ||
	    exec(db, "PRAGMA foreign_keys = ON") != 0 ||
	    exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)") != 0)
		goto out;
	if (sqlite3_prepare_v2(db, "PRAGMA cipher_version", -1, &ver, NULL) == SQLITE_OK &&
	    sqlite3_step(ver) == SQLITE_ROW && sqlite3_column_text(ver, 0) != NULL)
		snprintf(cipher, sizeof cipher, "%s", (const char *)sqlite3_column_text(ver, 0));
	sqlite3_finalize(ver);
	if (sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &ins, NULL) != SQLITE_OK)
		goto out;
	t0 = now();
	do {
		randombytes_buf(row, sizeof row);
		if (exec(db, "BEGIN") != 0 ||
		    sqlite3_bind_blob(ins, 1, row, sizeof row, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(ins) != SQLITE_DONE || sqlite3_reset(ins) != SQLITE_OK ||
		    exec(db, "COMMIT") != 0)
			goto out;
		n++;
		t = now() - t0;
	} while (t < secs);
	printf("commit per_s=%.0f ms=%.3f row_bytes=%d sqlite=%s cipher=%s\n", (double)n / t,
	    t * 1e3 / (double)n, ROW, sqlite3_libversion(), cipher);
	rc = 0;
out:
	sodium_memzero(key, sizeof key);
	sodium_memzero(hex, sizeof hex);
	sodium_memzero(pragma, sizeof pragma);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	remove_db(argv[1]);
	return rc;
}
