/*
 * The instance directory as meldpuntd reads it at start (store/instance.c):
 * meldpunt.conf, the three secret files and policy.conf, and the calendar
 * arithmetic on days.  The first byte chooses what the rest is:
 *   0: meldpunt.conf     1: db.key     2: pepper.key     3: log.key
 *   4: policy.conf       5: a day (and then a count of days and months)
 * Files are written into a real instance and loaded; what loads has an
 * origin, a public URL without a trailing slash and a time zone, and
 * whatever is refused says why.  Days that are real dates move by any count
 * to real dates, and by 0 to themselves.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "mp_instance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = { MP_INSTANCE_CONF, "db.key", "pepper.key", "log.key",
	MP_INSTANCE_POLICY };
#define NFILES (sizeof files / sizeof files[0])

static char dir[400];
static struct {
	char *text;
	size_t len;
} orig[NFILES];

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_instance: %s\n", what);
	abort();
}

static void
put(const char *name, const void *p, size_t len)
{
	char path[500];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    (len > 0 && write(fd, p, len) != (ssize_t)len) || close(fd) != 0)
		die(path);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char top[300];

/* The instance goes when the harness ends. */
static void
cleanup(void)
{
	(void)nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
setup(void)
{
	char err[512], path[500];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	size_t i;
	FILE *f;
	long n;

	if (dir[0] != '\0')
		return;
	if (sodium_init() < 0)
		die("sodium_init");
	snprintf(top, sizeof top, "%s/meldpunt-fuzz-XXXXXX", base);
	if (mkdtemp(top) == NULL)
		die("mkdtemp");
	atexit(cleanup);
	snprintf(dir, sizeof dir, "%s/inst", top);
	if (mp_instance_create(dir, "fuzz.example/log", "https://meldpunt.example/", NULL, 0, err,
	        sizeof err) != 0)
		die(err);
	for (i = 0; i < NFILES; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
		    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
		    (orig[i].text = malloc((size_t)n + 1)) == NULL ||
		    fread(orig[i].text, 1, (size_t)n, f) != (size_t)n)
			die(path);
		orig[i].len = (size_t)n;
		fclose(f);
	}
}

static void
load(size_t which, const uint8_t *data, size_t size)
{
	struct mp_instance *in = NULL;
	char err[512];
	size_t n;

	put(files[which], data, size);
	err[0] = '\0';
	if (mp_instance_load(&in, dir, err, sizeof err) == 0) {
		n = strlen(in->public_url);
		if (in->origin[0] == '\0' || in->timezone[0] == '\0' || in->policy == NULL ||
		    (n > 0 && in->public_url[n - 1] == '/'))
			__builtin_trap();
		mp_instance_free(in);
	} else if (in != NULL || err[0] == '\0') {
		__builtin_trap();
	}
	put(files[which], orig[which].text, orig[which].len);
}

static void
days(const uint8_t *data, size_t size)
{
	char day[11], out[11], back[11];
	int n = 0, m = 0;

	if (size < 10)
		return;
	memcpy(day, data, 10);
	day[10] = '\0';
	if (size >= 12)
		n = (int16_t)(data[10] | data[11] << 8);
	if (size >= 13)
		m = (int8_t)data[12];
	if (!mp_day_ok(day)) {
		if (mp_day_add(out, day, n) == 0 || mp_day_add_months(out, day, m) == 0)
			__builtin_trap();
		return;
	}
	if (mp_day_add(out, day, 0) != 0 || strcmp(out, day) != 0)
		__builtin_trap();
	/* A day from 1900 on is a real date, and moving it back returns it. */
	if (mp_day_add(out, day, n) == 0) {
		if (atoi(out) >= 1900 && !mp_day_ok(out))
			__builtin_trap();
		if (mp_day_ok(out) && (mp_day_add(back, out, -n) != 0 || strcmp(back, day) != 0))
			__builtin_trap();
	}
	if (mp_day_add_months(out, day, m) == 0 && atoi(out) >= 1900 && !mp_day_ok(out))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size == 0)
		return 0;
	if (data[0] % 6 < NFILES)
		load(data[0] % 6, data + 1, size - 1);
	else
		days(data + 1, size - 1);
	return 0;
}
