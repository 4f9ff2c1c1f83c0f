/* The follow-up URL as a QR code in SVG, drawn from libqrencode's module matrix. */
#include <qrencode.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define QUIET 4 /* modules of white border the standard asks for */

/* Append formatted text to a growing buffer; -1 when it cannot grow. */
static int put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	char tmp[160];
	va_list ap;
	int n;
	char *nb;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);

	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	if (*len + (size_t)n + 1 > *cap) {
		size_t ncap = *cap * 2 + (size_t)n + 1;
		if ((nb = realloc(*buf, ncap)) == NULL)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, tmp, (size_t)n + 1);
	*len += (size_t)n;
	return 0;
}

char *
qr_svg(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	char *buf = NULL;
	size_t len = 0, cap = 4096;
	int w, x, y, run, size, ok = 0;

	if (qr == NULL || (buf = malloc(cap)) == NULL)
		goto out;
	w = qr->width;
	size = w + 2 * QUIET;
	buf[0] = '\0';
	if (put(&buf, &len, &cap, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\" role=\"img\">", size, size) != 0 ||
	    put(&buf, &len, &cap, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
	    size, size) != 0)
		goto out;
	/* One path, dark modules merged into horizontal runs to keep it small. */
	for (y = 0; y < w; y++) {
		for (x = 0; x < w; x++) {
			if (!(qr->data[y * w + x] & 1))
				continue;
			for (run = 1; x + run < w && (qr->data[y * w + x + run] & 1); run++)
				;
			if (put(&buf, &len, &cap, "M%d %d", x + QUIET, y + QUIET) != 0 ||
			    put(&buf, &len, &cap, "h%dv1h-%dz", run, run) != 0)
				goto out;
			x += run - 1;
		}
	}
	if (put(&buf, &len, &cap, "%s", "\"/></svg>") != 0)
		goto out;
	ok = 1;
out:
	if (qr != NULL)
		QRcode_free(qr);
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}
