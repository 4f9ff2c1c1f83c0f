/*
 * HTML pages: a growing buffer and the one function that escapes dynamic
 * text.  Markup only ever comes from the literal format strings of html_f;
 * every %s argument is escaped on its way in.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* A page that would grow past this is a fault, not a page. */
#define HTML_MAX (16 * 1024 * KIB)

void
html_init(struct html *h)
{
	memset(h, 0, sizeof *h);
}

/*
 * Grown by copy, never realloc: a page can hold a token, a typed report or
 * a caseworker's message, and realloc would leave the old block unwiped.
 */
static int
grow(struct html *h, size_t more)
{
	size_t cap;
	char *nb;

	if (h->failed)
		return -1;
	if (more < h->cap - h->len)
		return 0;
	if (more > HTML_MAX - h->len - 1) {
		h->failed = 1;
		return -1;
	}
	cap = h->cap ? h->cap : 16 * KIB;
	while (cap - h->len <= more)
		cap *= 2;
	if (cap > HTML_MAX)
		cap = HTML_MAX;
	if ((nb = malloc(cap)) == NULL) {
		h->failed = 1;
		return -1;
	}
	if (h->buf != NULL) {
		memcpy(nb, h->buf, h->len);
		sodium_memzero(h->buf, h->cap);
		free(h->buf);
	}
	h->buf = nb;
	h->cap = cap;
	h->buf[h->len] = '\0';
	return 0;
}

static void
put(struct html *h, const char *s, size_t n)
{
	if (n == 0 || grow(h, n) != 0)
		return;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

void
html_escn(struct html *h, const char *s, size_t n)
{
	const char *run = s, *end = s + n, *rep;

	/* The same five for text and for quoted attribute values. */
	for (; s < end; s++) {
		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		put(h, run, (size_t)(s - run));
		put(h, rep, strlen(rep));
		run = s + 1;
	}
	put(h, run, (size_t)(s - run));
}

void
html_esc(struct html *h, const char *s)
{
	if (s != NULL)
		html_escn(h, s, strlen(s));
}

void
html_f(struct html *h, const char *fmt, ...)
{
	char num[32];
	const char *p = fmt, *run = fmt;
	va_list ap;
	int n;

	va_start(ap, fmt);
	for (; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		put(h, run, (size_t)(p - run));
		p++;
		if (*p == 's') {
			html_esc(h, va_arg(ap, const char *));
		} else if (*p == 'd') {
			n = snprintf(num, sizeof num, "%d", va_arg(ap, int));
			put(h, num, n > 0 ? (size_t)n : 0);
		} else if (p[0] == 'z' && p[1] == 'u') {
			p++;
			n = snprintf(num, sizeof num, "%zu", va_arg(ap, size_t));
			put(h, num, n > 0 ? (size_t)n : 0);
		} else if (*p == '%') {
			put(h, "%", 1);
		} else {
			/* A directive this builder does not know: refuse the page. */
			h->failed = 1;
			break;
		}
		run = p + 1;
	}
	if (*p == '\0')
		put(h, run, (size_t)(p - run));
	va_end(ap);
}

/* Markup this program generated itself (the QR code's SVG), never text from a person. */
void
html_markup(struct html *h, const char *markup, size_t n)
{
	put(h, markup, n);
}

char *
html_done(struct html *h)
{
	char *body = NULL;

	if (!h->failed && grow(h, 0) == 0) {
		body = h->buf;
		h->buf = NULL;
	}
	html_free(h);
	return body;
}

void
html_free(struct html *h)
{
	if (h->buf != NULL) {
		sodium_memzero(h->buf, h->cap);
		free(h->buf);
	}
	memset(h, 0, sizeof *h);
}
