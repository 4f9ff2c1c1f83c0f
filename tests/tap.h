/*
 * tap.h - a tiny header-only test helper for the C test programs.
 *
 * Every check prints one line to stdout, "ok - <name>" or
 * "not ok - <name> (file:line)", followed on failure by "# " lines that
 * show what was got and what was wanted.  tests/run.sh counts those lines.
 * stdout is flushed after every check so that a crash loses nothing.
 *
 *	T_OK(cond, "name %d", i);
 *	T_EQ_STR(got, want, "name");       strings (NULL allowed)
 *	T_EQ_INT(got, want, "name");       integers, compared as long long
 *	T_EQ_MEM(got, want, len, "name");  byte buffers, shown in hex
 *	return t_done();                   0 when nothing failed, else 1
 *
 * Each macro evaluates its arguments once and returns 1 (pass) or 0.
 */
#ifndef MP_TAP_H
#define MP_TAP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define T_UNUSED_ __attribute__((unused))
#define T_PRINTF_(f, a) __attribute__((format(printf, f, a)))

static int t_pass_count_ T_UNUSED_;
static int t_fail_count_ T_UNUSED_;

/* Print the result line; returns ok. */
static int t_vresult_(int ok, const char *file, int line, const char *fmt, va_list ap)
    T_PRINTF_(4, 0) T_UNUSED_;

static int
t_vresult_(int ok, const char *file, int line, const char *fmt, va_list ap)
{
	fputs(ok ? "ok - " : "not ok - ", stdout);
	vprintf(fmt, ap);
	if (ok) {
		t_pass_count_++;
		fputc('\n', stdout);
	} else {
		t_fail_count_++;
		printf(" (%s:%d)\n", file, line);
	}
	fflush(stdout);
	return ok;
}

static int t_ok_(int ok, const char *file, int line, const char *fmt, ...)
    T_PRINTF_(4, 5) T_UNUSED_;

static int
t_ok_(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ok = t_vresult_(ok, file, line, fmt, ap);
	va_end(ap);
	return ok;
}

/* A diagnostic string on one line: quoted, control and non-ASCII bytes escaped. */
static void T_UNUSED_
t_show_str_(const char *label, const char *s)
{
	const unsigned char *p;

	printf("#   %s: ", label);
	if (s == NULL) {
		fputs("NULL\n", stdout);
		return;
	}
	fputc('"', stdout);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\x%02x", *p);
		else
			fputc(*p, stdout);
	}
	fputs("\"\n", stdout);
}

static void T_UNUSED_
t_show_mem_(const char *label, const void *mem, size_t len)
{
	const uint8_t *p = mem;
	size_t i, shown = len > 256 ? 256 : len;

	printf("#   %s: ", label);
	if (mem == NULL) {
		fputs("NULL\n", stdout);
		return;
	}
	for (i = 0; i < shown; i++)
		printf("%02x", p[i]);
	if (shown < len)
		printf("... (%zu bytes)", len);
	fputc('\n', stdout);
}

static int t_eq_str_(const char *got, const char *want, const char *file, int line, const char *fmt,
    ...) T_PRINTF_(5, 6) T_UNUSED_;

static int
t_eq_str_(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int ok;

	ok = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
	va_start(ap, fmt);
	ok = t_vresult_(ok, file, line, fmt, ap);
	va_end(ap);
	if (!ok) {
		t_show_str_(" got", got);
		t_show_str_("want", want);
		fflush(stdout);
	}
	return ok;
}

static int t_eq_int_(long long got, long long want, const char *file, int line, const char *fmt,
    ...) T_PRINTF_(5, 6) T_UNUSED_;

static int
t_eq_int_(long long got, long long want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int ok;

	va_start(ap, fmt);
	ok = t_vresult_(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!ok) {
		printf("#    got: %lld\n#   want: %lld\n", got, want);
		fflush(stdout);
	}
	return ok;
}

static int t_eq_mem_(const void *got, const void *want, size_t len, const char *file, int line,
    const char *fmt, ...) T_PRINTF_(6, 7) T_UNUSED_;

static int
t_eq_mem_(
    const void *got, const void *want, size_t len, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int ok;

	ok = (got == NULL || want == NULL) ? got == want : memcmp(got, want, len) == 0;
	va_start(ap, fmt);
	ok = t_vresult_(ok, file, line, fmt, ap);
	va_end(ap);
	if (!ok) {
		t_show_mem_(" got", got, len);
		t_show_mem_("want", want, len);
		fflush(stdout);
	}
	return ok;
}

/* The exit status for main: 0 when no check failed.  Prints nothing. */
static int T_UNUSED_
t_done(void)
{
	fflush(stdout);
	return t_fail_count_ == 0 ? 0 : 1;
}

#define T_OK(cond, ...) t_ok_((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define T_EQ_STR(got, want, ...) t_eq_str_((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define T_EQ_INT(got, want, ...) \
	t_eq_int_((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define T_EQ_MEM(got, want, len, ...) \
	t_eq_mem_((got), (want), (len), __FILE__, __LINE__, __VA_ARGS__)

#endif
