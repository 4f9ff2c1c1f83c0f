/* Helpers shared by the meldpunt commands; see util.h for the contracts. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cli.h"
#include "mp_b64.h"
#include "mp_note.h"
#include "mp_store.h"
#include "mp_wipe.h"
#include "util.h"

void
err1(const char *fmt, ...)
{
	va_list ap;

	fputs("meldpunt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("meldpunt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return EXIT_USAGE;
}

void
mp_cli_harden(void)
{
	struct rlimit no_core = { 0, 0 };

	mp_wipe_json();
	/* Keys and plaintexts must not end up in a core file; failure is harmless. */
	(void)setrlimit(RLIMIT_CORE, &no_core);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

/* ---- options ---- */

static const struct mp_opt *
find_opt(const struct mp_opt *opts, const char *name, size_t namelen)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == namelen && strncmp(opts->name, name, namelen) == 0)
			return opts;
	return NULL;
}

int
mp_id_ok(const char *s)
{
	uint8_t buf[16];

	return strlen(s) == MP_ID_LEN && mp_b64u_decode_exact(buf, sizeof buf, s, MP_ID_LEN) == 0;
}

int
mp_opts_parse(int argc, char **argv, const struct mp_opt *opts, char **pos, int maxpos, int *npos,
    const char *usage)
{
	const struct mp_opt *o;
	const char *a, *name, *eq;
	size_t namelen;
	int i, n = 0, only_pos = 0;

	*npos = 0;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0))
			return MP_OPTS_HELP;
		/* A single dash does not start an option: case ids and keys may begin with one. */
		if (only_pos || strncmp(a, "--", 2) != 0) {
			if (n >= maxpos) {
				usage_error(usage, "unexpected argument '%s'", a);
				return -1;
			}
			pos[n++] = argv[i];
			continue;
		}
		name = a + 2;
		eq = strchr(name, '=');
		namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		/* One id in 4,096 begins with "--": an id copied from a list works as it stands. */
		if ((o = find_opt(opts, name, namelen)) == NULL && n < maxpos && mp_id_ok(a)) {
			pos[n++] = argv[i];
			continue;
		}
		if (o == NULL) {
			usage_error(usage,
			    "unknown option '%s' (put -- before an argument that "
			    "begins with --)",
			    a);
			return -1;
		}
		if (o->flag != NULL) {
			if (eq != NULL) {
				usage_error(usage, "option --%s takes no value", o->name);
				return -1;
			}
			*o->flag = 1;
			continue;
		}
		if (*o->value != NULL) {
			usage_error(usage, "option --%s is given twice", o->name);
			return -1;
		}
		if (eq != NULL) {
			*o->value = eq + 1;
		} else if (i + 1 < argc) {
			*o->value = argv[++i]; /* whatever it looks like: b64u may begin with '-' */
		} else {
			usage_error(usage, "option --%s needs a value", o->name);
			return -1;
		}
	}
	*npos = n;
	return 0;
}

int
mp_opts_exit(int r, const char *usage, const char *help)
{
	if (r != MP_OPTS_HELP)
		return EXIT_USAGE;
	if (help != NULL)
		printf("usage: %s\n\n%s", usage, help);
	else
		printf("usage: %s\n", usage);
	return 0;
}

/* ---- subcommands ---- */

/* The usage error for no subcommand: "show, reply or note?". */
static int
subcmd_missing(const struct mp_subcmd *subs, size_t n, const char *usage)
{
	char list[256];
	size_t i, len = 0;
	int w;

	list[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(list + len, sizeof list - len, "%s%s",
		    i == 0           ? ""
		        : i + 1 == n ? " or "
		                     : ", ",
		    subs[i].name);
		if (w < 0 || (size_t)w >= sizeof list - len)
			break; /* the names that fit still say what is wanted */
		len += (size_t)w;
	}
	return usage_error(usage, "%s?", list);
}

int
mp_subcmd_run(const char *cmd, const struct mp_subcmd *subs, size_t n, const char *usage,
    const char *common, int argc, char **argv)
{
	const char *sub;
	size_t i;

	if (argc < 2)
		return subcmd_missing(subs, n, usage);
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		printf("usage: %s\n\n", usage);
		for (i = 0; i < n; i++)
			printf("meldpunt %s %s:\n%s\n", cmd, subs[i].name, subs[i].help);
		printf("Every %s command also takes:\n%s", cmd, common);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (strcmp(sub, subs[i].name) == 0)
			return subs[i].run(argc - 1, argv + 1);
	return usage_error(usage, "unknown %s command '%s'", cmd, sub);
}

/* ---- secrets and files ---- */

void
mp_secret_free(void *p)
{
	if (p != NULL)
		sodium_free(p); /* wipes */
}

/* The terminal to restore if a signal arrives while echo is off. */
static volatile sig_atomic_t tty_fd = -1;
static struct termios tty_saved;

static void
tty_signal(int sig)
{
	if (tty_fd >= 0)
		(void)tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	/* Die of the same signal, so the shell sees what happened. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NSIGNALS (sizeof tty_signals / sizeof tty_signals[0])

int
mp_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * One line from the open terminal with echo off, into buf (MP_PASS_MAX + 1
 * bytes).  Byte by byte with read(2), so no stdio buffer ever holds it.
 */
static int
tty_line(int fd, const char *prompt, char *buf, size_t *len)
{
	struct sigaction sa, old[NSIGNALS];
	struct termios quiet;
	size_t i, n = 0;
	int rc = -1, too_long = 0, eof = 0, echo_off = 0;
	ssize_t r;
	char c;

	if (tcgetattr(fd, &tty_saved) != 0) {
		err1("cannot read the passphrase: /dev/tty is not a terminal");
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tty_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &sa, &old[i]);
	quiet = tty_saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	quiet.c_lflag |= ECHONL; /* the Enter key still moves to the next line */
	tty_fd = fd;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		err1("cannot turn off echo on the terminal: %s", strerror(errno));
		goto out;
	}
	echo_off = 1;
	if (mp_write_all(fd, prompt, strlen(prompt)) != 0)
		goto out;
	for (;;) {
		if ((r = read(fd, &c, 1)) < 0) {
			if (errno == EINTR)
				continue;
			err1("cannot read the passphrase: %s", strerror(errno));
			goto out;
		}
		if (r == 0) {
			eof = 1;
			break;
		}
		if (c == '\n' || c == '\r')
			break;
		if (n < MP_PASS_MAX)
			buf[n++] = c;
		else
			too_long = 1; /* read on to the end of the line, so none of it is left */
	}
	buf[n] = '\0';
	if (eof)
		(void)mp_write_all(fd, "\n", 1);
	if (too_long) {
		err1("the passphrase is longer than %d bytes", MP_PASS_MAX);
		goto out;
	}
	if (eof && n == 0) {
		err1("no passphrase given");
		goto out;
	}
	*len = n;
	rc = 0;
out:
	sodium_memzero(&c, sizeof c); /* a plain store to a dying local would be optimised away */
	if (echo_off)
		(void)tcsetattr(fd, TCSAFLUSH, &tty_saved);
	tty_fd = -1;
	for (i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &old[i], NULL);
	if (rc != 0)
		sodium_memzero(buf, MP_PASS_MAX + 1);
	return rc;
}

int
mp_passphrase_read(char **pass, size_t *len, const char *prompt, int flags)
{
	const char *env = getenv("MELDPUNT_PASSPHRASE");
	char *p = NULL, *again = NULL;
	size_t n = 0, n2 = 0, ncp = 0;
	int fd = -1, rc = -1;

	*pass = NULL;
	*len = 0;
	if ((p = sodium_malloc(MP_PASS_MAX + 1)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (env != NULL) {
		if ((n = strlen(env)) > MP_PASS_MAX) {
			err1("MELDPUNT_PASSPHRASE is longer than %d bytes", MP_PASS_MAX);
			goto out;
		}
		memcpy(p, env, n + 1);
	} else {
		if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
			err1("no terminal to ask for the passphrase; set MELDPUNT_PASSPHRASE");
			goto out;
		}
		if (tty_line(fd, prompt, p, &n) != 0)
			goto out;
		if (flags & MP_PASS_NEW) {
			if ((again = sodium_malloc(MP_PASS_MAX + 1)) == NULL) {
				err1("out of memory");
				goto out;
			}
			if (tty_line(fd, "Repeat the passphrase: ", again, &n2) != 0)
				goto out;
			if (n != n2 || sodium_memcmp(p, again, n) != 0) {
				err1("the two passphrases differ");
				goto out;
			}
		}
	}
	if (flags & MP_PASS_NEW) {
		if (mp_utf8_check(p, n, &ncp) != 0) {
			err1("the passphrase is not valid UTF-8");
			goto out;
		}
		if (ncp < MP_PASS_MIN_NEW) {
			err1("a new passphrase needs at least %d characters", MP_PASS_MIN_NEW);
			goto out;
		}
	}
	*pass = p;
	*len = n;
	p = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	mp_secret_free(again);
	mp_secret_free(p);
	return rc;
}

int
mp_read_fd(int fd, const char *name, size_t max, char **buf, size_t *len)
{
	char *b = NULL, *bigger;
	size_t cap, n = 0;
	ssize_t r;
	int rc = -1;

	*buf = NULL;
	*len = 0;
	/* One byte more than max is read, to tell "exactly max" from "too long". */
	cap = max < 4096 ? max + 1 : 4096;
	if ((b = sodium_malloc(cap + 1)) == NULL) {
		err1("out of memory");
		goto out;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				err1("%s is larger than %zu bytes", name, max);
				goto out;
			}
			cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			/* sodium_malloc has no realloc: copy, then wipe the old block. */
			if ((bigger = sodium_malloc(cap + 1)) == NULL) {
				err1("out of memory");
				goto out;
			}
			memcpy(bigger, b, n);
			mp_secret_free(b);
			b = bigger;
		}
		if ((r = read(fd, b + n, cap - n)) < 0) {
			if (errno == EINTR)
				continue;
			err1("cannot read %s: %s", name, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		err1("%s is larger than %zu bytes", name, max);
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	mp_secret_free(b);
	return rc;
}

int
mp_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	int fd = -1, rc = -1;

	*buf = NULL;
	*len = 0;
	if (strcmp(path, "-") == 0)
		return mp_read_fd(STDIN_FILENO, "standard input", max, buf, len);
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0) {
		err1("cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		err1("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err1("%s is a directory", path);
		goto out;
	}
	rc = mp_read_fd(fd, path, max, buf, len);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int
mp_write_file_new(const char *path, const void *data, size_t len)
{
	int fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		if (errno == EEXIST)
			err1("%s already exists; not overwriting it", path);
		else
			err1("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (mp_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		err1("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (close(fd) != 0 && rc == 0) {
		err1("cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		(void)unlink(path); /* we created it (O_EXCL), so it is ours to remove */
	return rc;
}

/* ---- text ---- */

/*
 * Decode one UTF-8 sequence at s[0..len): its length (1..4) and code point,
 * or -1 for an invalid, overlong, surrogate or out-of-range one.
 */
static int
utf8_next(const unsigned char *s, size_t len, unsigned long *cp)
{
	unsigned long c;
	int n, i;

	if (len == 0)
		return -1;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return -1;
	}
	if (len < (size_t)n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return n;
}

int
mp_utf8_check(const char *s, size_t len, size_t *ncp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, count = 0;
	int n;

	while (i < len) {
		if ((n = utf8_next(p + i, len - i, &cp)) < 0 || cp == 0)
			return -1;
		i += (size_t)n;
		count++;
	}
	if (ncp != NULL)
		*ncp = count;
	return 0;
}

/* A code point that must not reach a terminal: C0 and C1 controls and DEL. */
static int
is_control(unsigned long cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
}

/* Shared by mp_print_text and mp_print_line: one_line folds newlines and tabs to spaces. */
static void
print_safe(FILE *f, const char *s, const char *indent, int one_line)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;
	unsigned long cp;
	int n;

	while (i < len) {
		if ((n = utf8_next(p + i, len - i, &cp)) < 0) {
			fputc('?', f);
			i++;
			continue;
		}
		if (cp == '\n' || cp == '\t') {
			if (one_line)
				fputc(' ', f);
			else if (cp == '\n')
				fprintf(f, "\n%s", indent);
			else
				fputc('\t', f);
		} else if (is_control(cp)) {
			fputc('?', f);
		} else {
			fwrite(p + i, 1, (size_t)n, f);
		}
		i += (size_t)n;
	}
}

void
mp_print_text(FILE *f, const char *s, const char *indent)
{
	print_safe(f, s, indent, 0);
}

void
mp_print_line(FILE *f, const char *s)
{
	print_safe(f, s, "", 1);
}

size_t
mp_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, w = 0;
	unsigned long cp;
	int n;

	while (i < len) {
		n = utf8_next(p + i, len - i, &cp);
		i += n < 0 ? 1 : (size_t)n;
		w++;
	}
	return w;
}

int
mp_verifier_arg(struct mp_verifier *v, const char *arg, const char *usage)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int rc = EXIT_USER;

	if (mp_note_verifier_parse(v, arg) == 0)
		return 0;
	if (stat(arg, &st) != 0)
		return usage_error(usage,
		    "--key takes the log's verifier key (ORIGIN+HASH+KEY, as "
		    "`meldpunt init` printed it) or a file that holds it; '%s' is neither",
		    arg);
	if (mp_read_file(arg, 4096, &text, &len) != 0)
		goto out;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (mp_note_verifier_parse(v, text) != 0) {
		err1("%s does not hold a verifier key (ORIGIN+HASH+KEY)", arg);
		goto out;
	}
	rc = 0;
out:
	mp_secret_free(text);
	return rc;
}

int
mp_year_arg(const char *s, int *year)
{
	char *end;
	long y;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	y = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || y < MP_YEAR_MIN || y > MP_YEAR_MAX)
		return -1;
	*year = (int)y;
	return 0;
}
