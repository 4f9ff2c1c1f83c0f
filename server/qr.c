/*
 * The follow-up URL as a QR code (ISO/IEC 18004) in SVG: byte mode, error
 * correction level M, the smallest version that holds the text, the mask
 * with the lowest penalty, a 4-module quiet zone.
 *
 * The code encodes the token, so every buffer that holds it (the
 * codewords, the modules, the rows and columns that the masks are scored
 * on, the SVG) is this file's own, sized before anything is written, and
 * wiped when freed.
 * A library's encoder leaves copies in memory it frees unwiped, and spends
 * more on choosing a mask than the rest of a report's receipt.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_wipe.h"

#define VMAX 40
#define WMAX (17 + 4 * VMAX)
#define QUIET 4    /* modules of white border the standard asks for */
#define RUN_MAX 32 /* "M123 123h123v1h-123z": one run of dark modules, with room */

#define DARK 1  /* a module's bits: dark, */
#define FIXED 2 /* and part of a function pattern, never masked */

/* Level M: error correction codewords per block, and blocks, by version. */
static const uint8_t ecc_len[VMAX + 1] = { 0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22,
	24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
	28, 28, 28, 28 };
static const uint8_t ecc_blocks[VMAX + 1] = { 0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10,
	11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47,
	49 };

/*
 * A row or a column of a masked symbol as bits, for the penalty: bit 4 + i
 * is module i, with four light modules on either side (the edge counts as
 * light) and room to spare.
 */
#define LWORDS 3
struct line {
	uint64_t b[LWORDS];
};

/* GF(256) with the polynomial x^8 + x^4 + x^3 + x^2 + 1, as tables. */
static uint8_t gf_exp[512], gf_log[256];
/* Each mask over rows (by y % 12, bits along x) and over columns (by x % 12, bits along y). */
static struct line mask_rows[8][12], mask_cols[8][12];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Whether a mask flips the module in column x, row y. */
static int
mask_bit(int mask, int x, int y)
{
	switch (mask) {
	case 0:
		return (x + y) % 2 == 0;
	case 1:
		return y % 2 == 0;
	case 2:
		return x % 3 == 0;
	case 3:
		return (x + y) % 3 == 0;
	case 4:
		return (x / 3 + y / 2) % 2 == 0;
	case 5:
		return x * y % 2 + x * y % 3 == 0;
	case 6:
		return (x * y % 2 + x * y % 3) % 2 == 0;
	default:
		return ((x + y) % 2 + x * y % 3) % 2 == 0;
	}
}

static void
line_set(struct line *l, int i)
{
	l->b[(i + 4) >> 6] |= (uint64_t)1 << ((i + 4) & 63);
}

static void
tables_init(void)
{
	int i, k, r, x = 1;

	for (i = 0; i < 255; i++) {
		gf_exp[i] = gf_exp[i + 255] = (uint8_t)x;
		gf_log[x] = (uint8_t)i;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
	}
	for (k = 0; k < 8; k++)
		for (r = 0; r < 12; r++)
			for (i = 0; i < WMAX; i++) {
				if (mask_bit(k, i, r))
					line_set(&mask_rows[k][r], i);
				if (mask_bit(k, r, i))
					line_set(&mask_cols[k][r], i);
			}
}

static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	return a == 0 || b == 0 ? 0 : gf_exp[gf_log[a] + gf_log[b]];
}

/* Codewords a version holds: its modules less the function patterns, in bytes. */
static int
codewords(int v)
{
	int n = (16 * v + 128) * v + 64, a;

	if (v >= 2) {
		a = v / 7 + 2;
		n -= (25 * a - 10) * a - 55;
		if (v >= 7)
			n -= 36;
	}
	return n / 8;
}

static int
data_codewords(int v)
{
	return codewords(v) - ecc_len[v] * ecc_blocks[v];
}

/* The smallest version whose data codewords hold len bytes in byte mode; 0 if none. */
static int
version_for(size_t len)
{
	int v;

	if (len > 4096)
		return 0;
	for (v = 1; v <= VMAX; v++)
		if (4 + (v < 10 ? 8 : 16) + 8 * len <= (size_t)data_codewords(v) * 8)
			return v;
	return 0;
}

/* n bits of val, the highest first, at *bit. */
static void
put_bits(uint8_t *out, size_t *bit, unsigned val, int n)
{
	for (n--; n >= 0; n--, (*bit)++)
		out[*bit >> 3] |= (uint8_t)(((val >> n) & 1) << (7 - (*bit & 7)));
}

/*
 * The data codewords: mode 0100, the count, the bytes, a terminator of up
 * to four zero bits, zero bits to a byte, then 0xEC 0x11 alternating.
 */
static void
put_data(uint8_t *out, int n, int v, const char *text, size_t len)
{
	size_t bit = 0, i;

	memset(out, 0, (size_t)n);
	put_bits(out, &bit, 4, 4);
	put_bits(out, &bit, (unsigned)len, v < 10 ? 8 : 16);
	for (i = 0; i < len; i++)
		put_bits(out, &bit, (uint8_t)text[i], 8);
	bit += 4; /* the terminator, cut short by the end */
	for (i = (bit + 7) / 8; i < (size_t)n; i++)
		out[i] = (i - (bit + 7) / 8) % 2 ? 0x11 : 0xec;
}

/* Reed-Solomon: the n error correction codewords of data[0..len) into ecc. */
static void
rs_block(uint8_t *ecc, const uint8_t *data, int len, int n)
{
	uint8_t gen[32], root = 1, f;
	int i, j;

	/* The generator (x - a^0)(x - a^1)...(x - a^(n-1)), leading 1 left out. */
	memset(gen, 0, sizeof gen);
	gen[n - 1] = 1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			gen[j] = gf_mul(gen[j], root);
			if (j + 1 < n)
				gen[j] ^= gen[j + 1];
		}
		root = gf_mul(root, 2);
	}
	memset(ecc, 0, (size_t)n);
	for (i = 0; i < len; i++) {
		f = data[i] ^ ecc[0];
		memmove(ecc, ecc + 1, (size_t)n - 1);
		ecc[n - 1] = 0;
		for (j = 0; j < n; j++)
			ecc[j] ^= gf_mul(gen[j], f);
	}
}

/*
 * The final codeword sequence: the blocks' data interleaved, then their
 * error correction.  The short blocks come first and are one byte shorter.
 */
static void
interleave(uint8_t *out, const uint8_t *data, int v)
{
	int nb = ecc_blocks[v], ne = ecc_len[v], total = codewords(v);
	int nshort = nb - total % nb, slen = total / nb - ne;
	uint8_t ecc[30];
	int b, i, k, off, len;

	k = 0;
	for (i = 0; i <= slen; i++)
		for (b = 0, off = 0; b < nb; off += slen + (b >= nshort), b++)
			if (i < slen || b >= nshort)
				out[k++] = data[off + i];
	for (b = 0, off = 0; b < nb; off += len, b++) {
		len = slen + (b >= nshort);
		rs_block(ecc, data + off, len, ne);
		for (i = 0; i < ne; i++)
			out[k + i * nb + b] = ecc[i];
	}
	sodium_memzero(ecc, sizeof ecc);
}

struct symbol {
	int w;
	uint8_t *m; /* w * w modules, row by row */
};

static void
fixed(struct symbol *s, int x, int y, int dark)
{
	if (x >= 0 && y >= 0 && x < s->w && y < s->w)
		s->m[y * s->w + x] = (uint8_t)(FIXED | (dark ? DARK : 0));
}

/*
 * Square rings centred on (cx, cy) out to radius r, dark but for the rings
 * whose distance is a bit of light: a finder pattern with its separator is
 * rings 0..4 with 2 and 4 light, an alignment pattern rings 0..2 with 1.
 */
static void
rings(struct symbol *s, int cx, int cy, int r, unsigned light)
{
	int dx, dy, d;

	for (dy = -r; dy <= r; dy++)
		for (dx = -r; dx <= r; dx++) {
			d = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
			fixed(s, cx + dx, cy + dy, !((light >> d) & 1));
		}
}

/* The 15 format bits for level M and a mask: error correction bits 00, BCH(15,5). */
static int
format_word(int mask)
{
	int rem = mask, i;

	for (i = 0; i < 10; i++)
		rem = (rem << 1) ^ ((rem >> 9) * 0x537);
	return ((mask << 10) | rem) ^ 0x5412;
}

/* Where format bit i goes: its first place (by the top left finder) or its second. */
static void
format_at(int w, int i, int second, int *x, int *y)
{
	if (second) {
		*x = i < 8 ? w - 1 - i : 8;
		*y = i < 8 ? 8 : w - 15 + i;
	} else if (i < 8) {
		*x = 8;
		*y = i < 6 ? i : i + 1;
	} else {
		*x = i == 8 ? 7 : 14 - i;
		*y = 8;
	}
}

/* The format bits of a mask drawn, or for mask -1 their places kept light. */
static void
format_bits(struct symbol *s, int mask)
{
	int bits = mask < 0 ? 0 : format_word(mask), i, x, y;

	for (i = 0; i < 30; i++) {
		format_at(s->w, i % 15, i >= 15, &x, &y);
		fixed(s, x, y, (bits >> (i % 15)) & 1);
	}
}

/* Everything but the data: finders, timing, alignment, format and version areas. */
static void
function_patterns(struct symbol *s, int v)
{
	int w = s->w, i, j, n, step, pos[7], bits, rem;

	for (i = 0; i < w; i++) {
		fixed(s, 6, i, i % 2 == 0);
		fixed(s, i, 6, i % 2 == 0);
	}
	rings(s, 3, 3, 4, 1u << 2 | 1u << 4); /* the finder patterns */
	rings(s, w - 4, 3, 4, 1u << 2 | 1u << 4);
	rings(s, 3, w - 4, 4, 1u << 2 | 1u << 4);
	if (v >= 2) {
		n = v / 7 + 2;
		step = v == 32 ? 26 : (v * 4 + n * 2 + 1) / (n * 2 - 2) * 2;
		pos[0] = 6;
		for (i = n - 1; i >= 1; i--)
			pos[i] = w - 7 - (n - 1 - i) * step;
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++)
				if (!((i == 0 && j == 0) || (i == 0 && j == n - 1) ||
				        (i == n - 1 && j == 0)))
					rings(s, pos[i], pos[j], 2, 1u << 1);
	}
	format_bits(s, -1);
	fixed(s, 8, w - 8, 1); /* the dark module */
	if (v >= 7) {
		rem = v;
		for (i = 0; i < 12; i++)
			rem = (rem << 1) ^ ((rem >> 11) * 0x1f25);
		bits = (v << 12) | rem;
		for (i = 0; i < 18; i++) {
			fixed(s, w - 11 + i % 3, i / 3, (bits >> i) & 1);
			fixed(s, i / 3, w - 11 + i % 3, (bits >> i) & 1);
		}
	}
}

/* The codewords into the free modules, two columns at a time, up and down from the right. */
static void
place(struct symbol *s, const uint8_t *cw, int n)
{
	int w = s->w, right, row, j, x, y, up;
	size_t bit = 0, bits = (size_t)n * 8;

	for (right = w - 1; right >= 1; right -= 2) {
		if (right == 6)
			right = 5; /* the vertical timing pattern */
		up = ((right + 1) & 2) == 0;
		for (row = 0; row < w; row++)
			for (j = 0; j < 2; j++) {
				x = right - j;
				y = up ? w - 1 - row : row;
				if (s->m[y * w + x] & FIXED)
					continue;
				if (bit < bits && ((cw[bit >> 3] >> (7 - (bit & 7))) & 1))
					s->m[y * w + x] = DARK;
				bit++;
			}
	}
}

/* The words of a line that a symbol of width w uses. */
static int
line_words(int w)
{
	return (w + 8 + 63) / 64;
}

static struct line
line_shr(struct line a, int k, int nw)
{
	struct line r;
	int i;

	for (i = 0; i < nw; i++)
		r.b[i] = k == 0 ? a.b[i]
		                : (a.b[i] >> k) | (i + 1 < nw ? a.b[i + 1] << (64 - k) : 0);
	return r;
}

static int
line_count(const uint64_t b[LWORDS], int nw)
{
	int i, n = 0;

	for (i = 0; i < nw; i++)
		n += __builtin_popcountll(b[i]);
	return n;
}

/*
 * A line's penalty for runs of five or more modules of one colour (3 +
 * the length beyond 5) and for 1:1:3:1:1 finder look-alikes with four
 * light modules before or after (40).  pairs has the bits of the modules
 * that have a next one in the line.
 */
static int
line_penalty(struct line p, const struct line *pairs, int nw)
{
	/* 0000 1011101 and 1011101 0000, first module at bit 0. */
	static const unsigned before = 0x5d0, after = 0x05d;
	struct line sh[11], e, e1, e2, e3;
	uint64_t q[LWORDS], start[LWORDS], f1, f2, in;
	int i, k, pen = 0;

	for (k = 0; k < 11; k++)
		sh[k] = line_shr(p, k, nw);
	for (i = 0; i < nw; i++)
		e.b[i] = ~(p.b[i] ^ sh[1].b[i]) & pairs->b[i];
	e1 = line_shr(e, 1, nw);
	e2 = line_shr(e, 2, nw);
	e3 = line_shr(e, 3, nw);
	for (i = 0; i < nw; i++) {
		/* q: five equal modules from here; start: the first such of a run. */
		q[i] = e.b[i] & e1.b[i] & e2.b[i] & e3.b[i];
		in = (e.b[i] << 1) | (i > 0 ? e.b[i - 1] >> 63 : 0);
		start[i] = q[i] & ~in;
		f1 = f2 = ~(uint64_t)0;
		for (k = 0; k < 11; k++) {
			f1 &= ((before >> (10 - k)) & 1) ? sh[k].b[i] : ~sh[k].b[i];
			f2 &= ((after >> (10 - k)) & 1) ? sh[k].b[i] : ~sh[k].b[i];
		}
		pen += 40 * (__builtin_popcountll(f1) + __builtin_popcountll(f2));
	}
	/* A run of n >= 5 has n - 4 fives in it: 3 + (n - 5) = (n - 4) + 2. */
	pen += line_count(q, nw) + 2 * line_count(start, nw);
	sodium_memzero(sh, sizeof sh);
	return pen;
}

/*
 * ISO/IEC 18004's penalty of the symbol under a mask (runs, 2x2 blocks,
 * finder look-alikes, balance), from its rows and columns as lines: the
 * unmasked ones, which of their modules are free (data, which the mask
 * flips), and room for the masked ones.
 */
static long
penalty(int w, int mask, const struct line *rows, const struct line *cols,
    const struct line *free_rows, const struct line *free_cols, struct line *mr, struct line *mc)
{
	int bits = format_word(mask), nw = line_words(w), i, j, x, y;
	long pen = 0, dark = 0, total = (long)w * w;
	struct line pairs = { { 0 } }, a1, b1;
	uint64_t eq;

	for (i = 0; i < w - 1; i++)
		line_set(&pairs, i);
	for (i = 0; i < w; i++)
		for (j = 0; j < nw; j++) {
			mr[i].b[j] = rows[i].b[j] ^
			    (mask_rows[mask][i % 12].b[j] & free_rows[i].b[j]);
			mc[i].b[j] = cols[i].b[j] ^
			    (mask_cols[mask][i % 12].b[j] & free_cols[i].b[j]);
		}
	for (i = 0; i < 30; i++)
		if ((bits >> (i % 15)) & 1) {
			format_at(w, i % 15, i >= 15, &x, &y);
			line_set(&mr[y], x);
			line_set(&mc[x], y);
		}
	for (i = 0; i < w; i++) {
		pen += line_penalty(mr[i], &pairs, nw) + line_penalty(mc[i], &pairs, nw);
		dark += line_count(mr[i].b, nw);
		if (i == 0)
			continue;
		/* 2x2 blocks of one colour: the top left module of each, 3 each. */
		a1 = line_shr(mr[i - 1], 1, nw);
		b1 = line_shr(mr[i], 1, nw);
		for (j = 0; j < nw; j++) {
			eq = ~(mr[i - 1].b[j] ^ a1.b[j]) & ~(mr[i].b[j] ^ b1.b[j]) &
			    ~(mr[i - 1].b[j] ^ mr[i].b[j]) & pairs.b[j];
			pen += 3 * __builtin_popcountll(eq);
		}
	}
	/* 10 for each full 5% that the dark modules are away from half. */
	return pen + 10 * (labs(dark * 20 - total * 10) / total);
}

/* The symbol under a mask, format bits drawn, bit 0 only. */
static void
apply(struct symbol *s, int mask)
{
	int w = s->w, x, y;
	uint8_t *c;

	format_bits(s, mask);
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++) {
			c = &s->m[y * w + x];
			*c = (*c & FIXED) ? (*c & DARK)
			                  : (uint8_t)((*c & DARK) ^ mask_bit(mask, x, y));
		}
}

/*
 * The modules of text's QR code into *out (width * width bytes, 1 for
 * dark, row by row; the caller frees it with mp_wipe_free): mask 0..7, or
 * -1 for the one with the lowest penalty.  0, or -1 if text is too long or
 * memory ran out.
 */
int
qr_modules(const char *text, int mask, uint8_t **out, int *width)
{
	size_t len = strlen(text), area, size;
	int v = version_for(len), w, n, k, x, y;
	long pen, low = -1;
	struct symbol s;
	struct line *rows, *cols, *free_rows, *free_cols, *mr, *mc;
	uint8_t *buf, *data, *cw, c;

	*out = NULL;
	if (v == 0 || mask < -1 || mask > 7)
		return -1;
	pthread_once(&tables_once, tables_init);
	w = 17 + 4 * v;
	n = codewords(v);
	area = (size_t)w * (size_t)w;
	/* One allocation: the lines, the modules, the codewords. */
	size = 6 * (size_t)w * sizeof *rows + area + 2 * (size_t)n;
	if ((rows = calloc(1, size)) == NULL)
		return -1;
	cols = rows + w;
	free_rows = cols + w;
	free_cols = free_rows + w;
	mr = free_cols + w;
	mc = mr + w;
	buf = (uint8_t *)(mc + w);
	data = buf + area;
	cw = data + n;
	s = (struct symbol){ w, buf };
	put_data(data, data_codewords(v), v, text, len);
	interleave(cw, data, v);
	function_patterns(&s, v);
	place(&s, cw, n);
	if (mask < 0) {
		for (y = 0; y < w; y++)
			for (x = 0; x < w; x++) {
				c = s.m[y * w + x];
				if (c & DARK) {
					line_set(&rows[y], x);
					line_set(&cols[x], y);
				}
				if (!(c & FIXED)) {
					line_set(&free_rows[y], x);
					line_set(&free_cols[x], y);
				}
			}
		for (k = 0; k < 8; k++)
			if ((pen = penalty(w, k, rows, cols, free_rows, free_cols, mr, mc)) < low ||
			    low < 0) {
				low = pen;
				mask = k;
			}
	}
	apply(&s, mask);
	/* The modules move to the front; everything behind them is wiped. */
	memmove(rows, buf, area);
	sodium_memzero((uint8_t *)rows + area, size - area);
	*out = (uint8_t *)rows;
	*width = w;
	return 0;
}

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
 * The SVG: a white square and one path of the dark modules, merged into
 * horizontal runs to keep it small.  The buffer is sized from the modules
 * before anything is written, so it never moves and leaves no copy behind.
 */
char *
qr_svg(const char *text)
{
	uint8_t *m;
	char *buf = NULL, *p;
	size_t runs = 0, cap;
	int w, x, y, run, size, n;

	if (qr_modules(text, -1, &m, &w) != 0)
		return NULL;
	size = w + 2 * QUIET;
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++)
			if (m[y * w + x] && (x == 0 || !m[y * w + x - 1]))
				runs++;
	cap = 256 + runs * RUN_MAX;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	n = snprintf(buf, cap,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\" role=\"img\"><rect width=\"%d\" height=\"%d\" "
	    "fill=\"#fff\"/><path fill=\"#000\" d=\"",
	    size, size, size, size);
	if (n < 0 || (size_t)n >= cap - runs * RUN_MAX - 16) {
		mp_wipe_free(buf);
		buf = NULL;
		goto out;
	}
	p = buf + n;
	for (y = 0; y < w; y++) {
		for (x = 0; x < w; x++) {
			if (!m[y * w + x])
				continue;
			for (run = 1; x + run < w && m[y * w + x + run]; run++)
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
	mp_wipe_free(m);
	return buf;
}
