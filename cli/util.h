/*
 * Helpers shared by the meldpunt commands in cli/: messages, options,
 * passphrases, files and text.  Every helper that fails prints one line
 * "meldpunt: <why>" on stderr itself, so a command only maps the failure
 * to its exit status (cli.h: EXIT_USER or EXIT_USAGE).
 */
#ifndef MP_CLI_UTIL_H
#define MP_CLI_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* "meldpunt: <message>" and a newline on stderr. */
void err1(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Bad usage: err1(fmt, ...) and then "usage: <usage>" on stderr.  Returns
 * EXIT_USAGE, so a command can write `return usage_error(...)`.
 */
int usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Process set-up, called once at the start of main (before any jansson
 * object exists): every block jansson frees is wiped first, so decrypted
 * reports parsed into JSON never linger on the heap; and no core dump.
 */
void mp_cli_harden(void);

/*
 * Long options.  A table ends with a NULL name.  An option with `value`
 * takes the next argument as its value whatever it looks like (a b64u key
 * may begin with '-'); "--name=VALUE" works too.  An option with `flag`
 * takes no value and sets *flag to 1.
 */
struct mp_opt {
	const char *name;   /* without the leading "--" */
	const char **value; /* for an option with a value, else NULL */
	int *flag;          /* for a flag, else NULL */
};

#define MP_OPTS_HELP 1

/* 1 if s is an id (of a case, an item, a collective or a key): 22 b64u symbols of 16 bytes. */
int mp_id_ok(const char *s);

/*
 * Parse argv[1..argc) (argv[0] is the command word).  Arguments that do
 * not begin with "--" are positional (a case id may begin with '-') and go
 * to pos[0..maxpos) with their count in *npos, as does an id (mp_id_ok)
 * that begins with "--" and names no option; "--" ends the options.
 * "--help" and "-h" return MP_OPTS_HELP.  An unknown or repeated option, a
 * missing value or too many positional arguments print the problem and
 * the usage line and return -1 (exit with EXIT_USAGE).  0 otherwise.
 */
int mp_opts_parse(int argc, char **argv, const struct mp_opt *opts, char **pos, int maxpos,
    int *npos, const char *usage) __attribute__((warn_unused_result));

/*
 * The exit status for a nonzero result r of mp_opts_parse.  For
 * MP_OPTS_HELP, "usage: <usage>" and a newline go to stdout, then an empty
 * line and help unless help is NULL, and the status is 0; otherwise the
 * problem was printed already and it is EXIT_USAGE.
 */
int mp_opts_exit(int r, const char *usage, const char *help);

/* One subcommand of a command that has several (case, collective). */
struct mp_subcmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand's word */
	const char *help;                  /* without the options every one takes */
};

/*
 * Run the subcommand argv[1] of the command cmd ("case") from subs[0..n)
 * with argv + 1, and return its exit status.  "--help", "-h" or "help"
 * print usage, each subcommand's help under "meldpunt <cmd> <name>:" and
 * then common, the help of the options every subcommand takes (status 0).
 * A missing or unknown subcommand is a usage error (EXIT_USAGE, printed).
 */
int mp_subcmd_run(const char *cmd, const struct mp_subcmd *subs, size_t n, const char *usage,
    const char *common, int argc, char **argv);

/* Longest passphrase accepted, in bytes. */
#define MP_PASS_MAX 1024
#define MP_PASS_MIN_NEW 8 /* code points, for a new passphrase */

/* mp_passphrase_read flags */
#define MP_PASS_NEW 1 /* a new passphrase: at least 8 characters, typed twice */

/*
 * The passphrase from the environment variable MELDPUNT_PASSPHRASE when it
 * is set (for scripts and tests; asked once, even with MP_PASS_NEW), else
 * typed on /dev/tty with echo off after `prompt`.  *pass is sodium_malloc'ed
 * and NUL-terminated (free it with mp_secret_free); *len excludes the NUL.
 * 0, or -1 (printed).
 */
int mp_passphrase_read(char **pass, size_t *len, const char *prompt, int flags)
    __attribute__((warn_unused_result));

/*
 * A whole file (or stdin, for path "-"), at most max bytes, into a
 * sodium_malloc'ed buffer with a NUL after *len bytes: the contents may be
 * plaintext.  Free it with mp_secret_free.  0, or -1 (printed).
 */
int mp_read_file(const char *path, size_t max, char **buf, size_t *len)
    __attribute__((warn_unused_result));

/* The same for an open descriptor; name is used in messages. */
int mp_read_fd(int fd, const char *name, size_t max, char **buf, size_t *len)
    __attribute__((warn_unused_result));

/* Wipe and free a sodium_malloc'ed buffer; NULL is fine. */
void mp_secret_free(void *p);

/*
 * Write all len bytes of data to fd, going on after a short write or
 * EINTR.  0, or -1 with errno set; nothing is printed.
 */
int mp_write_all(int fd, const void *data, size_t len);

/*
 * Create path with mode 0600 (O_CREAT|O_EXCL|O_NOFOLLOW: never overwrite,
 * never follow a planted link), write data and fsync.  A partial file is
 * removed.  0, or -1 (printed).
 */
int mp_write_file_new(const char *path, const void *data, size_t len)
    __attribute__((warn_unused_result));

/*
 * Check that s[0..len) is UTF-8 without NUL, overlong forms or surrogates;
 * its number of code points goes to *ncp (may be NULL).  0, or -1.
 */
int mp_utf8_check(const char *s, size_t len, size_t *ncp) __attribute__((warn_unused_result));

/*
 * Print text that came from someone else (a reporter, the server) on a
 * terminal: control characters other than tab and newline, and invalid
 * UTF-8, are shown as '?' so that text cannot drive the terminal.  Each
 * newline is followed by indent (may be "").
 */
void mp_print_text(FILE *f, const char *s, const char *indent);

/* mp_print_text's rule for one line: a newline is shown as a space too. */
void mp_print_line(FILE *f, const char *s);

/* Number of code points mp_print_line would show for s. */
size_t mp_text_width(const char *s);

struct mp_verifier;
/*
 * --key of the log commands: the verifier key text, or a file that holds
 * it.  0, EXIT_USER (a file without one) or EXIT_USAGE (neither), with the
 * message printed.
 */
int mp_verifier_arg(struct mp_verifier *v, const char *arg, const char *usage);
/* A --year value: decimal, MP_YEAR_MIN..MP_YEAR_MAX.  0 or -1. */
#define MP_YEAR_MIN 2000
#define MP_YEAR_MAX 9999
int mp_year_arg(const char *s, int *year);

#endif
