/* A growing text buffer for the document and the CSV: every failure is remembered, checked once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

void
stats_put(struct stats_buf *o, const char *s, size_t n)
{
	size_t cap;
	char *nb;

	if (o->bad)
		return;
	if (n + 1 > o->cap - o->len) {
		cap = o->cap ? o->cap : 1024;
		while (cap - o->len < n + 1) {
			if (cap > SIZE_MAX / 2) {
				o->bad = 1;
				return;
			}
			cap *= 2;
		}
		if ((nb = realloc(o->b, cap)) == NULL) {
			o->bad = 1;
			return;
		}
		o->b = nb;
		o->cap = cap;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
	o->b[o->len] = '\0';
}

void
stats_puts(struct stats_buf *o, const char *s)
{
	stats_put(o, s, strlen(s));
}

void
stats_printf(struct stats_buf *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* Callers print numbers and codes; anything longer is a bug, not a truncation. */
	if (n < 0 || (size_t)n >= sizeof line) {
		o->bad = 1;
		return;
	}
	stats_put(o, line, (size_t)n);
}

char *
stats_buf_done(struct stats_buf *o)
{
	if (o->bad || o->b == NULL) {
		free(o->b);
		o->b = NULL;
		return NULL;
	}
	return o->b;
}

int
stats_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
