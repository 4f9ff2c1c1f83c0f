/*
 * The QR encoder (server/qr.c) against another and against a decoder:
 * libqrencode's symbol for the same text (byte mode, level M) is ours under
 * one of the eight masks, module for module, at every version from 1 to
 * 40; the mask ours picks has the lowest penalty by ISO/IEC 18004's rules,
 * counted here module by module; what qr_svg draws decodes with zbarimg
 * (after rsvg-convert) to the text; a text too long for version 40 is
 * refused.
 */
#include <qrencode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "../../server/extern.h"
#include "mp_wipe.h"

#define MAX_TEXT 2331 /* bytes version 40 holds at level M in byte mode */

/* A line of modules: runs of 5+ (3 + beyond 5), and 1011101 with 4 light before or after (40). */
static long
line_penalty(const uint8_t *m, int w, int stride)
{
	static const char *const finder[2] = { "00001011101", "10111010000" };
	long pen = 0;
	int i, j, k, run = 1, match;

	for (i = 1; i <= w; i++) {
		if (i < w && m[i * stride] == m[(i - 1) * stride]) {
			run++;
			continue;
		}
		if (run >= 5)
			pen += 3 + run - 5;
		run = 1;
	}
	/* Windows of 11 starting 4 before the line up to 4 past it; outside is light. */
	for (i = -4; i + 11 <= w + 4; i++)
		for (k = 0; k < 2; k++) {
			match = 1;
			for (j = 0; j < 11 && match; j++) {
				int at = i + j, dark = at >= 0 && at < w && m[at * stride];

				match = dark == (finder[k][j] == '1');
			}
			pen += match ? 40 : 0;
		}
	return pen;
}

static long
penalty(const uint8_t *m, int w)
{
	long pen = 0, dark = 0, total = (long)w * w;
	int x, y;

	for (y = 0; y < w; y++) {
		pen += line_penalty(m + y * w, w, 1) + line_penalty(m + y, w, w);
		for (x = 0; x < w; x++) {
			dark += m[y * w + x];
			if (x > 0 && y > 0 && m[y * w + x] == m[y * w + x - 1] &&
			    m[y * w + x] == m[(y - 1) * w + x] &&
			    m[y * w + x] == m[(y - 1) * w + x - 1])
				pen += 3;
		}
	}
	return pen + 10 * (labs(dark * 20 - total * 10) / total);
}

static void
random_text(char *t, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		t[i] = (char)(' ' + rand() % 95);
	t[len] = '\0';
}

/* Ours against libqrencode, and our mask choice against the penalties counted here. */
static void
compare(void)
{
	static char t[MAX_TEXT + 2];
	size_t len;
	int n = 0, differ = 0, not_lowest = 0, width_diff = 0, k, w, wk, matches, i;
	int versions[41] = { 0 }, nversions = 0, mask_same = 0;
	uint8_t *m, *mk;
	long pen[8], low;
	QRcode *q;

	srand(20261124);
	for (len = 1; len <= MAX_TEXT; len += len < 200 ? 1 : 9) {
		random_text(t, len);
		if ((q = QRcode_encodeString8bit(t, 0, QR_ECLEVEL_M)) == NULL)
			continue;
		if (qr_modules(t, -1, &m, &w) != 0 || w != q->width) {
			if (width_diff++ == 0)
				printf("# %zu bytes: width %d, libqrencode %d\n", len, w, q->width);
			QRcode_free(q);
			continue;
		}
		n++;
		if (versions[q->version]++ == 0)
			nversions++;
		matches = 0;
		low = -1;
		for (k = 0; k < 8; k++) {
			if (qr_modules(t, k, &mk, &wk) != 0)
				break;
			for (i = 0; i < w * w && mk[i] == (q->data[i] & 1); i++)
				;
			if (i == w * w) {
				matches++;
				mask_same += memcmp(m, mk, (size_t)(w * w)) == 0;
			}
			pen[k] = penalty(mk, w);
			if (low < 0 || pen[k] < low)
				low = pen[k];
			mp_wipe_free(mk);
		}
		if (matches != 1 && differ++ == 0)
			printf(
			    "# %zu bytes (version %d): %d of our masks give libqrencode's symbol\n",
			    len, q->version, matches);
		for (k = 0; k < 8; k++)
			if (pen[k] == low)
				break;
		/* The chosen one is the first with the lowest penalty. */
		if (qr_modules(t, k, &mk, &wk) == 0) {
			if (memcmp(m, mk, (size_t)(w * w)) != 0)
				not_lowest++;
			mp_wipe_free(mk);
		}
		mp_wipe_free(m);
		QRcode_free(q);
	}
	T_OK(width_diff == 0, "the same version as libqrencode for every length up to %d bytes",
	    MAX_TEXT);
	T_OK(n > 400 && nversions == 40, "%d texts compared, every version from 1 to 40 (%d)", n,
	    nversions);
	T_OK(differ == 0,
	    "every one is libqrencode's symbol under exactly one of our masks (%d not)", differ);
	T_OK(not_lowest == 0,
	    "the mask we choose has the lowest penalty (%d not); libqrencode chose "
	    "the same mask for %d of %d",
	    not_lowest, mask_same, n);
}

/* qr_svg's picture, rendered and decoded by zbarimg, is the text. */
static void
decode(const char *dir, const char *text, const char *what)
{
	char svgpath[64], pngpath[64], outpath[64], cmd[512], got[MAX_TEXT + 8];
	char *svg;
	FILE *f;
	size_t n = 0;
	int wide = strlen(text) > 500 ? 1600 : 600;

	snprintf(svgpath, sizeof svgpath, "%s/qr.svg", dir);
	snprintf(pngpath, sizeof pngpath, "%s/qr.png", dir);
	snprintf(outpath, sizeof outpath, "%s/qr.txt", dir);
	if ((svg = qr_svg(text)) == NULL || (f = fopen(svgpath, "w")) == NULL) {
		T_OK(0, "qr_svg: %s decodes with zbarimg (no SVG)", what);
		free(svg);
		return;
	}
	fputs(svg, f);
	fclose(f);
	mp_wipe_free(svg);
	snprintf(cmd, sizeof cmd,
	    "rsvg-convert -w %d -b white -o '%s' '%s' && "
	    "zbarimg --raw -q '%s' >'%s' 2>/dev/null",
	    wide, pngpath, svgpath, pngpath, outpath);
	if (system(cmd) == 0 && (f = fopen(outpath, "r")) != NULL) {
		n = fread(got, 1, sizeof got - 1, f);
		fclose(f);
	}
	got[n] = '\0';
	if (n > 0 && got[n - 1] == '\n')
		got[--n] = '\0';
	T_OK(strcmp(got, text) == 0, "qr_svg: %s decodes with zbarimg to the text", what);
	unlink(svgpath);
	unlink(pngpath);
	unlink(outpath);
}

int
main(void)
{
	static char t[MAX_TEXT + 2];
	static const size_t lengths[] = { 1, 14, 120, 300, 700, 1400, MAX_TEXT };
	char dir[] = "/tmp/meldpunt-qr.XXXXXX", what[64];
	uint8_t *m;
	size_t i;
	int w;

	compare();

	random_text(t, MAX_TEXT + 1);
	T_OK(qr_modules(t, -1, &m, &w) == -1 && m == NULL && qr_svg(t) == NULL,
	    "a text of %d bytes (more than version 40 holds) is refused", MAX_TEXT + 1);
	t[MAX_TEXT] = '\0';
	T_OK(qr_modules(t, -1, &m, &w) == 0 && w == 177, "%d bytes fit version 40 (177 modules)",
	    MAX_TEXT);
	mp_wipe_free(m);

	if (mkdtemp(dir) == NULL) {
		T_OK(0, "a temporary directory for the pictures");
		return t_done();
	}
	decode(dir, "https://meldpunt.example.nl/f#7K3Q-M9TX-2RVA-H8PZ-4NCE-J6WB-G5D",
	    "a follow-up URL");
	for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		random_text(t, lengths[i]);
		snprintf(what, sizeof what, "%zu random bytes", lengths[i]);
		decode(dir, t, what);
	}
	rmdir(dir);
	return t_done();
}
