/* Several services' documents of one year added into one (a region's, the country's). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

struct cand {
	const char *code;
	size_t seq; /* where it was first seen */
};

static int
cmp_code_seq(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int r = strcmp(x->code, y->code);

	if (r != 0)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmp_seq(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The table's own last rows, which stay last in the merged table. */
static size_t
synthetic(int t)
{
	return t == T_GROUND || t == T_DOMAIN || t == T_MANIF || t == T_CLOSURE;
}

/*
 * Table t's rows of all documents, each once, in the order first seen
 * (pointers into the documents), the synthetic rows last.  *out is
 * malloc'ed; -1 when out of memory.
 */
static int
union_rows(const struct stats_doc *in, size_t n, int t, const char ***out, size_t *nout)
{
	struct cand *c = NULL;
	const char **rows = NULL;
	size_t i, r, nc = 0, total = 0, k = 0, nsyn = synthetic(t);
	int rc = -1;

	if (t == T_ANON || t == T_KIND) {
		/* Fixed rows, the same in every document (the layout checks them). */
		nsyn = in[0].t[t].n;
	}
	for (i = 0; i < n; i++)
		total += in[i].t[t].n;
	if ((c = calloc(total + 1, sizeof *c)) == NULL ||
	    (rows = calloc(total + 1, sizeof *rows)) == NULL)
		goto out;
	if (t != T_ANON && t != T_KIND) {
		for (i = 0; i < n; i++)
			for (r = 0; r + nsyn < in[i].t[t].n; r++) {
				c[nc].code = in[i].t[t].codes[r];
				c[nc].seq = nc;
				nc++;
			}
		qsort(c, nc, sizeof *c, cmp_code_seq);
		for (i = 0; i < nc; i++)
			if (i == 0 || strcmp(c[i].code, c[k - 1].code) != 0)
				c[k++] = c[i];
		qsort(c, k, sizeof *c, cmp_seq);
		for (i = 0; i < k; i++)
			rows[i] = c[i].code;
	}
	for (r = in[0].t[t].n - nsyn; r < in[0].t[t].n; r++)
		rows[k++] = in[0].t[t].codes[r];
	*out = rows;
	*nout = k;
	rows = NULL;
	rc = 0;
out:
	free(c);
	free(rows);
	return rc;
}

/* *acc += v, where a suppressed cell (-1) stays suppressed; -1 on overflow. */
static int
add_cell(int64_t *acc, int64_t v)
{
	if (*acc < 0 || v < 0) {
		*acc = -1;
		return 0;
	}
	if (v > INT64_MAX - *acc)
		return -1;
	*acc += v;
	return 0;
}

static int
add_total(int64_t *acc, int64_t v)
{
	if (v > INT64_MAX - *acc)
		return -1;
	*acc += v;
	return 0;
}

/* Add document in's cells into out (rows found in out's layout). */
static int
add_doc(struct stats_doc *out, const struct stats_doc *in)
{
	size_t r, c, j, ncols;
	int t;

	for (t = 0; t < NT; t++) {
		ncols = t == T_MUNI ? NCOLS : 1;
		for (r = 0; r < in->t[t].n; r++) {
			j = stats_list_find(
			    &out->layout->rows[t], in->t[t].codes[r], strlen(in->t[t].codes[r]));
			if (j == SIZE_MAX)
				return -1; /* cannot happen: out's rows are the union */
			for (c = 0; c < ncols; c++)
				if (add_cell(&out->t[t].cells[j * ncols + c],
				        in->t[t].cells[r * ncols + c]) != 0)
					return -1;
		}
		for (c = 0; c < ncols; c++)
			if (add_total(&out->t[t].total[c], in->t[t].total[c]) != 0)
				return -1;
	}
	return add_total(&out->cases, in->cases);
}

char *
mp_stats_merge(const char *const *docs, size_t n, char *err, size_t errlen)
{
	struct stats_doc *in = NULL, out;
	const char **rows[NT] = { NULL }, **names = NULL;
	size_t nrows[NT] = { 0 }, i, j, nsrc = 0;
	char why[256], *text = NULL;
	int t;

	memset(&out, 0, sizeof out);
	out.borrowed = 1; /* codes are the layout's, origins the inputs' */
	out.merged = 1;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (docs == NULL || n == 0) {
		stats_err(err, errlen, "no documents to merge");
		goto out;
	}
	if ((in = calloc(n, sizeof *in)) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if (docs[i] == NULL ||
		    stats_doc_parse(&in[i], docs[i], strlen(docs[i]), why, sizeof why) != 0) {
			stats_err(err, errlen, "document %zu is not a statistics document: %s",
			    i + 1, docs[i] == NULL ? "none given" : why);
			goto out;
		}
		if (in[i].year != in[0].year) {
			stats_err(err, errlen,
			    "document %zu is of %d, document 1 of %d: merge one year", i + 1,
			    in[i].year, in[0].year);
			goto out;
		}
		nsrc += in[i].nsrc;
	}

	/* Each service once: a document given twice would count its cases twice. */
	if ((out.src = calloc(nsrc, sizeof *out.src)) == NULL ||
	    (names = calloc(nsrc, sizeof *names)) == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		for (j = 0; j < in[i].nsrc; j++) {
			names[out.nsrc] = in[i].src[j].origin;
			out.src[out.nsrc++] = in[i].src[j];
		}
	qsort(names, nsrc, sizeof *names, cmp_str);
	for (i = 1; i < nsrc; i++)
		if (strcmp(names[i - 1], names[i]) == 0) {
			stats_err(err, errlen, "origin %s is in more than one document", names[i]);
			goto out;
		}

	out.year = in[0].year;
	for (i = 0; i < n; i++) {
		/* The strictest threshold any input was published under. */
		if (in[i].threshold > out.threshold)
			out.threshold = in[i].threshold;
		out.provisional |= in[i].provisional;
	}
	for (t = 0; t < NT; t++)
		if (union_rows(in, n, t, &rows[t], &nrows[t]) != 0)
			goto oom;
	if ((out.layout = stats_layout_new((const char *const *const *)rows, nrows)) == NULL) {
		stats_err(
		    err, errlen, "the documents' rows together exceed what a document may hold");
		goto out;
	}
	for (t = 0; t < NT; t++) {
		out.t[t].codes = out.layout->rows[t].v;
		out.t[t].n = out.layout->rows[t].n;
		if ((out.t[t].cells = calloc(out.t[t].n * (t == T_MUNI ? NCOLS : 1) + 1,
		         sizeof *out.t[t].cells)) == NULL)
			goto oom;
	}
	for (i = 0; i < n; i++)
		if (add_doc(&out, &in[i]) != 0) {
			stats_err(err, errlen, "the sums are too large");
			goto out;
		}
	if ((text = stats_doc_emit(&out)) == NULL)
		goto oom;
	goto out;
oom:
	stats_err(err, errlen, "out of memory");
out:
	for (t = 0; t < NT; t++)
		free(rows[t]);
	free(names);
	stats_doc_clear(&out);
	for (i = 0; in != NULL && i < n; i++)
		stats_doc_clear(&in[i]);
	free(in);
	return text;
}
