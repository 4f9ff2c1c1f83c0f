/*
 * After the run and SIGTERM: no file of the instance (database, -wal, -shm,
 * config, anything) and no line of the server's log holds what a reporter
 * wrote, a token, or the client's address or user agent.
 */
#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define MAX_HITS 8

struct scan {
	int files;
	long long bytes;
	int db;      /* saw meldpunt.db */
	int hits[3]; /* by canary kind */
	char shown[3][MAX_HITS][PATHLEN / 8];
	int plain_sqlite;
	char plain[PATHLEN / 8];
	int loopback_url_free; /* 127.0.0.1 outside "//127.0.0.1" */
	char loopback[PATHLEN / 8];
};

static struct scan S;

/* The whole file, or NULL. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || (b = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size && (n = read(fd, b + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	*len = got;
	return b;
}

static void
check_bytes(const char *name, const uint8_t *b, size_t len, int is_instance)
{
	const uint8_t *p;
	size_t off;

	for (size_t i = 0; i < NCANARIES; i++) {
		struct canary *c = &CANARIES[i];

		if (memmem(b, len, c->b, c->n) == NULL)
			continue;
		if (S.hits[c->kind] < MAX_HITS)
			snprintf(S.shown[c->kind][S.hits[c->kind]], sizeof S.shown[0][0], "%s: %s",
			    name, c->label);
		S.hits[c->kind]++;
	}
	if (!is_instance)
		return;
	if (len >= 16 && memcmp(b, "SQLite format 3", 16) == 0) {
		S.plain_sqlite++;
		snprintf(S.plain, sizeof S.plain, "%s", name);
	}
	for (off = 0; (p = memmem(b + off, len - off, "127.0.0.1", 9)) != NULL;
	     off = (size_t)(p - b) + 9) {
		size_t at = (size_t)(p - b);

		if (at >= 2 && p[-1] == '/' && p[-2] == '/')
			continue; /* the configured public URL */
		S.loopback_url_free++;
		snprintf(S.loopback, sizeof S.loopback, "%s at byte %zu", name, at);
	}
}

static int
visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	uint8_t *b;
	size_t len = 0;

	(void)st;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	if ((b = slurp(path, &len)) == NULL)
		return 0;
	S.files++;
	S.bytes += (long long)len;
	if (strstr(path, "meldpunt.db") != NULL)
		S.db = 1;
	check_bytes(path + strlen(I.dir) + 1, b, len, 1);
	free(b);
	return 0;
}

static void
show(int kind)
{
	for (int i = 0; i < S.hits[kind] && i < MAX_HITS; i++)
		diag("found %s", S.shown[kind][i]);
}

/* HH:MM:SS anywhere: a time of day. */
static int
holds_time_of_day(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 8 <= len; i++) {
		const uint8_t *p = b + i;

		if (isdigit(p[0]) && isdigit(p[1]) && p[2] == ':' && isdigit(p[3]) &&
		    isdigit(p[4]) && p[5] == ':' && isdigit(p[6]) && isdigit(p[7]) &&
		    (p[0] - '0') * 10 + p[1] - '0' < 24 && p[3] < '6' && p[6] < '6' &&
		    (i == 0 || !isdigit(p[-1])))
			return 1;
	}
	return 0;
}

void
test_privacy(void)
{
	struct stat st;
	uint8_t *b;
	size_t len = 0;

	/* The scan itself must be able to fail: a planted canary is found. */
	memset(&S, 0, sizeof S);
	for (size_t i = 0; i < NCANARIES; i++) {
		if (CANARIES[i].kind == CANARY_TEXT) {
			uint8_t plant[256];
			size_t n = CANARIES[i].n < 200 ? CANARIES[i].n : 200;

			memset(plant, 'x', sizeof plant);
			memcpy(plant + 17, CANARIES[i].b, n);
			check_bytes("planted", plant, sizeof plant, 1);
			break;
		}
	}
	ok(S.hits[CANARY_TEXT] == 1, "the privacy scan finds a planted canary (self-check)");

	memset(&S, 0, sizeof S);
	nftw(I.inst, visit, 16, FTW_PHYS);
	diag("privacy scan: %d files, %lld bytes under %s", S.files, S.bytes, I.inst);
	if (!ok(S.files > 0 && S.db,
	        "the privacy scan reads the instance's files, meldpunt.db "
	        "among them"))
		diag("looked in %s", I.inst);
	if (!ok(S.hits[CANARY_TEXT] == 0,
	        "no instance file (db, -wal, -shm, config, ...) holds "
	        "a report's or a message's text"))
		show(CANARY_TEXT);
	if (!ok(S.hits[CANARY_TOKEN] == 0,
	        "no instance file holds a token (text, lower case, "
	        "without dashes, raw bytes, b64u, lookup hash)"))
		show(CANARY_TOKEN);
	if (!ok(S.hits[CANARY_CLIENT] == 0 && S.loopback_url_free == 0,
	        "no instance file holds "
	        "the client's IP (" CLIENT_IP ", or 127.0.0.1 outside a URL) or user agent")) {
		show(CANARY_CLIENT);
		if (S.loopback_url_free)
			diag("127.0.0.1 in %s", S.loopback);
	}
	if (!ok(S.plain_sqlite == 0, "no instance file is a plain SQLite database (SQLCipher)"))
		diag("plain SQLite: %s", S.plain);
	if (stat(I.inst, &st) != 0)
		memset(&st, 0xff, sizeof st);
	if (!ok((st.st_mode & 077) == 0, "the instance directory is closed to group and others"))
		diag("mode %03o", (unsigned)(st.st_mode & 0777));

	/* The server's log. */
	memset(&S, 0, sizeof S);
	if ((b = slurp(I.log, &len)) == NULL) {
		b = malloc(1);
		len = 0;
	}
	check_bytes("server log", b, len, 0);
	if (!ok(S.hits[CANARY_TEXT] == 0 && S.hits[CANARY_TOKEN] == 0,
	        "the server's log holds no report text, message or token")) {
		show(CANARY_TEXT);
		show(CANARY_TOKEN);
	}
	if (!ok(S.hits[CANARY_CLIENT] == 0,
	        "the server's log holds no client IP (" CLIENT_IP ") or user agent"))
		show(CANARY_CLIENT);
	ok(!holds_time_of_day(b, len), "the server's log holds no time of day (HH:MM:SS)");
	free(b);
}
