/* The follow-up URL as a QR code in SVG, drawn from libqrencode's module matrix. */
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_wipe.h"

#define QUIET 4      /* modules of white border the standard asks for */
#define RUN_MAX 32   /* "M123 123h123v1h-123z": one run of dark modules, with room */

/* Append n in decimal (0..9999: a QR code is at most 177 modules wide). */
static char *
num(char *p, int n)
{
	char d[4];
	int i = 0;

	do {
		d[i++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && i < 4);
	while (i > 0)
		*p++ = d[--i];
	return p;
}

/*
 * The buffer is sized from the matrix before anything is written, so it
 * never moves: a moved buffer would leave an unwiped copy of the code,
 * which encodes the token, behind on the heap.
 */
char *
qr_svg(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	char *buf = NULL, *p;
	size_t runs = 0, cap;
	int w, x, y, run, size, n;

	if (qr == NULL)
		return NULL;
	w = qr->width;
	size = w + 2 * QUIET;
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++)
			if ((qr->data[y * w + x] & 1) && (x == 0 || !(qr->data[y * w + x - 1] & 1)))
				runs++;
	cap = 256 + runs * RUN_MAX;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	n = snprintf(buf, cap, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\" role=\"img\"><rect width=\"%d\" height=\"%d\" "
	    "fill=\"#fff\"/><path fill=\"#000\" d=\"", size, size, size, size);
	if (n < 0 || (size_t)n >= cap - runs * RUN_MAX - 16) {
		mp_wipe_free(buf);
		buf = NULL;
		goto out;
	}
	p = buf + n;
	/* One path, dark modules merged into horizontal runs to keep it small. */
	for (y = 0; y < w; y++) {
		for (x = 0; x < w; x++) {
			if (!(qr->data[y * w + x] & 1))
				continue;
			for (run = 1; x + run < w && (qr->data[y * w + x + run] & 1); run++)
				;
			*p++ = 'M';
			p = num(p, x + QUIET);
			*p++ = ' ';
			p = num(p, y + QUIET);
			*p++ = 'h';
			p = num(p, run);
			memcpy(p, "v1h-", 4);
			p = num(p + 4, run);
			*p++ = 'z';
			x += run - 1;
		}
	}
	memcpy(p, "\"/></svg>", sizeof "\"/></svg>");
out:
	/* libqrencode's matrix is the code too. */
	if (qr->data != NULL)
		memset(qr->data, 0, (size_t)w * (size_t)w);
	QRcode_free(qr);
	return buf;
}
