/* The instance directory: created once by `meldpunt init`, read at every start. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mp_b64.h"
#include "mp_err.h"
#include "mp_instance.h"
#include "mp_note.h"
#include "mp_store.h"

#define DB_KEY_FILE "db.key"
#define PEPPER_FILE "pepper.key"
#define LOG_KEY_FILE "log.key"
#define DEFAULT_TZ "Europe/Amsterdam"
#define CONF_MAX 4096

static int
join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
mp_instance_path(char *out, size_t outlen, const struct mp_instance *in, const char *name)
{
	return join(out, outlen, in->dir, name);
}

/* Write a new file exclusively, mode 0600, and make it durable. */
static int
write_new(const char *dir, const char *name, const void *buf, size_t len, char *err, size_t errlen)
{
	char path[PATH_MAX];
	const char *p = buf;
	ssize_t w;
	int fd;

	if (join(path, sizeof path, dir, name) != 0)
		return mp_errf(err, errlen, "%s: path too long", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return mp_errf(err, errlen, "%s: %s", path, strerror(errno));
	while (len > 0) {
		if ((w = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return mp_errf(err, errlen, "%s: %s", path, strerror(errno));
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return mp_errf(err, errlen, "%s: %s", path, strerror(errno));
	return 0;
}

/* Read a whole file of at most max bytes into a new NUL-terminated buffer (sodium_malloc when secret). */
static char *
read_file(const char *dir, const char *name, size_t max, size_t *len, int secret, char *err,
    size_t errlen)
{
	char path[PATH_MAX];
	struct stat sb;
	char *buf = NULL;
	ssize_t r;
	size_t got = 0;
	int fd;

	if (join(path, sizeof path, dir, name) != 0) {
		mp_errf(err, errlen, "%s: path too long", dir);
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		mp_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
		mp_errf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
		goto fail;
	}
	if (secret && (sb.st_mode & 077) != 0) {
		mp_errf(err, errlen, "%s: must be readable by its owner only (chmod 600)", path);
		goto fail;
	}
	buf = secret ? sodium_malloc((size_t)sb.st_size + 1) : malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		mp_errf(err, errlen, "out of memory");
		goto fail;
	}
	while (got < (size_t)sb.st_size && (r = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)r;
	if (got != (size_t)sb.st_size) {
		mp_errf(err, errlen, "%s: short read", path);
		goto fail;
	}
	buf[got] = '\0';
	*len = got;
	close(fd);
	return buf;
fail:
	if (buf != NULL) {
		if (secret)
			sodium_free(buf);
		else
			free(buf);
	}
	close(fd);
	return NULL;
}

/* An origin is a C2SP note name: printable, no spaces, no '+'. */
static int
origin_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 200)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '+')
			return 0;
	return 1;
}

static int
url_ok(const char *s)
{
	size_t i;

	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return 0;
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '#' ||
		    s[i] == '"' || s[i] == '<' || s[i] == '>' || s[i] == '\'')
			return 0;
	return i < 400;
}

static int
zone_ok(const char *tz)
{
	char path[PATH_MAX];

	if (*tz == '\0' || strstr(tz, "..") != NULL || tz[0] == '/')
		return 0;
	return join(path, sizeof path, "/usr/share/zoneinfo", tz) == 0 && access(path, R_OK) == 0;
}

int
mp_instance_create(const char *dir, const char *origin, const char *public_url, char *verifier,
    size_t vlen, char *err, size_t errlen)
{
	struct mp_secrets *sec = NULL;
	uint8_t log_pk[32];
	char conf[CONF_MAX], path[PATH_MAX];
	const char *policy = mp_default_policy();
	struct mp_policy *pol = NULL;
	int n, rc = -1;

	if (!origin_ok(origin))
		return mp_errf(err, errlen,
		    "the origin must be printable text without spaces or '+' "
		    "(for example meldpunt.leiden.nl/log)");
	if (public_url != NULL && !url_ok(public_url))
		return mp_errf(err, errlen,
		    "the public URL must start with http:// or https:// and "
		    "hold no spaces, quotes or '#'");
	if (mp_policy_parse(&pol, policy, strlen(policy), err, errlen) != 0)
		return -1;
	mp_policy_free(pol);
	if (mkdir(dir, 0700) != 0)
		return mp_errf(err, errlen, "%s: %s", dir,
		    errno == EEXIST ? "already exists (an instance is created only once)"
		                    : strerror(errno));
	if ((sec = sodium_malloc(sizeof *sec)) == NULL) {
		mp_errf(err, errlen, "out of memory");
		goto out;
	}
	randombytes_buf(sec->db_key, sizeof sec->db_key);
	randombytes_buf(sec->pepper, sizeof sec->pepper);
	crypto_sign_keypair(log_pk, sec->log_sk);
	if (public_url != NULL)
		n = snprintf(conf, sizeof conf,
		    "# meldpunt instance configuration\n"
		    "origin = %s\npublic_url = %s\ntimezone = %s\n",
		    origin, public_url, DEFAULT_TZ);
	else
		n = snprintf(conf, sizeof conf,
		    "# meldpunt instance configuration\n"
		    "origin = %s\n# public_url = https://meldpunt.example.nl  (unset: http:// and "
		    "the --listen address)\ntimezone = %s\n",
		    origin, DEFAULT_TZ);
	if (n < 0 || (size_t)n >= sizeof conf) {
		mp_errf(err, errlen, "configuration too long");
		goto out;
	}
	if (write_new(dir, DB_KEY_FILE, sec->db_key, 32, err, errlen) != 0 ||
	    write_new(dir, PEPPER_FILE, sec->pepper, 32, err, errlen) != 0 ||
	    write_new(dir, LOG_KEY_FILE, sec->log_sk, 64, err, errlen) != 0 ||
	    write_new(dir, MP_INSTANCE_CONF, conf, (size_t)n, err, errlen) != 0 ||
	    write_new(dir, MP_INSTANCE_POLICY, policy, strlen(policy), err, errlen) != 0)
		goto out;
	if (join(path, sizeof path, dir, MP_INSTANCE_DB) != 0 ||
	    mp_store_create(path, sec->db_key) != 0) {
		mp_errf(err, errlen, "%s: cannot create the database", dir);
		goto out;
	}
	if (verifier != NULL && mp_note_verifier_text(verifier, vlen, origin, log_pk) != 0) {
		mp_errf(err, errlen, "verifier key too long");
		goto out;
	}
	rc = 0;
out:
	if (sec != NULL)
		sodium_free(sec);
	return rc;
}

int
mp_instance_set_public_url(struct mp_instance *in, const char *url)
{
	size_t n = strlen(url);

	/* Links are built as <public URL>/f#...: no trailing slash. */
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= sizeof in->public_url || !url_ok(url))
		return -1;
	memcpy(in->public_url, url, n);
	in->public_url[n] = '\0';
	return 0;
}

/* Parse `name = value` lines of the config. */
static int
parse_conf(struct mp_instance *in, char *text, char *err, size_t errlen)
{
	char *line, *next, *eq, *k, *v, *e;
	int lineno = 0;

	snprintf(in->timezone, sizeof in->timezone, "%s", DEFAULT_TZ);
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL)
			return mp_errf(err, errlen, "%s line %d: expected `name = value`",
			    MP_INSTANCE_CONF, lineno);
		*eq = '\0';
		k = line;
		for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r');)
			*--e = '\0';
		if (strcmp(k, "origin") == 0 && origin_ok(v))
			snprintf(in->origin, sizeof in->origin, "%s", v);
		else if (strcmp(k, "public_url") == 0 && url_ok(v))
			mp_instance_set_public_url(in, v);
		else if (strcmp(k, "timezone") == 0 && zone_ok(v) &&
		    strlen(v) < sizeof in->timezone)
			snprintf(in->timezone, sizeof in->timezone, "%s", v);
		else
			return mp_errf(err, errlen,
			    "%s line %d: unknown setting or bad value for \"%s\"", MP_INSTANCE_CONF,
			    lineno, k);
	}
	if (in->origin[0] == '\0')
		return mp_errf(err, errlen, "%s: origin is required", MP_INSTANCE_CONF);
	return 0;
}

static int
read_secret(const char *dir, const char *name, uint8_t *out, size_t want, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = read_file(dir, name, want, &len, 1, err, errlen);

	if (buf == NULL)
		return -1;
	if (len != want) {
		sodium_free(buf);
		return mp_errf(err, errlen, "%s/%s: must hold %zu bytes", dir, name, want);
	}
	memcpy(out, buf, want);
	sodium_free(buf);
	return 0;
}

int
mp_instance_load(struct mp_instance **out, const char *dir, char *err, size_t errlen)
{
	struct mp_instance *in;
	char *conf = NULL, *pol = NULL, perr[256];
	size_t len = 0;
	int rc = -1;

	*out = NULL;
	if ((in = calloc(1, sizeof *in)) == NULL)
		return mp_errf(err, errlen, "out of memory");
	if (strlen(dir) >= sizeof in->dir) {
		mp_errf(err, errlen, "directory name too long");
		goto out;
	}
	memcpy(in->dir, dir, strlen(dir) + 1);
	if ((conf = read_file(dir, MP_INSTANCE_CONF, CONF_MAX, &len, 0, err, errlen)) == NULL ||
	    parse_conf(in, conf, err, errlen) != 0)
		goto out;
	if ((in->sec = sodium_malloc(sizeof *in->sec)) == NULL) {
		mp_errf(err, errlen, "out of memory");
		goto out;
	}
	if (read_secret(dir, DB_KEY_FILE, in->sec->db_key, 32, err, errlen) != 0 ||
	    read_secret(dir, PEPPER_FILE, in->sec->pepper, 32, err, errlen) != 0 ||
	    read_secret(dir, LOG_KEY_FILE, in->sec->log_sk, 64, err, errlen) != 0)
		goto out;
	memcpy(in->log_pk, in->sec->log_sk + 32, 32);
	if ((pol = read_file(dir, MP_INSTANCE_POLICY, 1 << 20, &len, 0, err, errlen)) == NULL)
		goto out;
	if (mp_policy_parse(&in->policy, pol, len, perr, sizeof perr) != 0) {
		mp_errf(err, errlen, "%s/%s %s", dir, MP_INSTANCE_POLICY, perr);
		goto out;
	}
	/* Days are the instance's calendar days. */
	if (setenv("TZ", in->timezone, 1) != 0) {
		mp_errf(err, errlen, "cannot set the time zone");
		goto out;
	}
	tzset();
	*out = in;
	in = NULL;
	rc = 0;
out:
	free(conf);
	free(pol);
	mp_instance_free(in);
	return rc;
}

void
mp_instance_free(struct mp_instance *in)
{
	if (in == NULL)
		return;
	if (in->sec != NULL)
		sodium_free(in->sec);
	mp_policy_free(in->policy);
	free(in);
}

void
mp_today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		out[0] = '\0';
}

unsigned
mp_seconds_to_tomorrow(void)
{
	time_t now = time(NULL), next;
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_mday++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1; /* midnight after a change of summer time */
	next = mktime(&tm);
	return next > now ? (unsigned)(next - now) : 1;
}

int
mp_day_ok(const char *day)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, i, leap;

	if (strlen(day) != 10 || day[4] != '-' || day[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (day[i] < '0' || day[i] > '9'))
			return 0;
	y = atoi(day);
	m = atoi(day + 5);
	d = atoi(day + 8);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* Noon UTC of a calendar day, so that adding days never trips over a clock change. */
static int
day_tm(const char *day, struct tm *tm)
{
	if (!mp_day_ok(day))
		return -1;
	memset(tm, 0, sizeof *tm);
	tm->tm_year = atoi(day) - 1900;
	tm->tm_mon = atoi(day + 5) - 1;
	tm->tm_mday = atoi(day + 8);
	tm->tm_hour = 12;
	return 0;
}

static int
tm_day(char out[11], struct tm *tm)
{
	time_t t = timegm(tm);
	struct tm norm;

	if (t == (time_t)-1 || gmtime_r(&t, &norm) == NULL)
		return -1;
	return strftime(out, 11, "%Y-%m-%d", &norm) == 10 ? 0 : -1;
}

int
mp_day_add(char out[11], const char *day, int n)
{
	struct tm tm;

	if (day_tm(day, &tm) != 0)
		return -1;
	tm.tm_mday += n;
	return tm_day(out, &tm);
}

int
mp_day_add_months(char out[11], const char *day, int n)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	int y, m, last;

	if (day_tm(day, &tm) != 0)
		return -1;
	m = tm.tm_mon + n;
	y = tm.tm_year + 1900 + (m >= 0 ? m / 12 : -((11 - m) / 12));
	m = ((m % 12) + 12) % 12;
	last = mdays[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	if (tm.tm_mday > last)
		tm.tm_mday = last;
	return tm_day(out, &tm);
}

int
mp_retention_cutoffs(
    const struct mp_policy *p, const char *today, char closed[11], char inactive[11])
{
	if (mp_day_add_months(closed, today, -p->retention_closed_months) != 0 ||
	    mp_day_add_months(inactive, today, -p->retention_inactive_months) != 0)
		return -1;
	return 0;
}
