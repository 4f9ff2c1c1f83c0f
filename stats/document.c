/*
 * The statistics document: written from folded counts, read back (strictly:
 * it may come from a server nobody trusts), compared cell by cell, and
 * merged with the documents of other services.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_b64.h"

#define ROOT_LEN 43 /* b64u of 32 bytes */

int
stats_origin_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || i >= 255)
			return 0;
	return i > 0;
}

static int
table_has_cols(int t)
{
	return t == T_MUNI ? NCOLS : 1;
}

void
stats_doc_clear(struct stats_doc *d)
{
	size_t i;
	int t;

	for (t = 0; t < NT; t++) {
		if (!d->borrowed && d->t[t].codes != NULL) {
			for (i = 0; i < d->t[t].n; i++)
				free(d->t[t].codes[i]);
			free(d->t[t].codes);
		}
		free(d->t[t].cells);
	}
	for (i = 0; !d->borrowed && d->src != NULL && i < d->nsrc; i++)
		free(d->src[i].origin);
	free(d->src);
	mp_stats_layout_free(d->layout);
	memset(d, 0, sizeof *d);
}

/* ---- reading ---- */

/* An integer member in [min, max]. */
static int
get_int(const json_t *o, const char *key, json_int_t min, json_int_t max, json_int_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* A cell: a count, or null when suppressed (-1). */
static int
get_cell(const json_t *v, int nullable, int64_t *out)
{
	if (nullable && json_is_null(v)) {
		*out = -1;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* An object with exactly these members. */
static int
members_are(const json_t *o, const char *const *keys, size_t n)
{
	size_t i;

	if (!json_is_object(o) || json_object_size(o) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (json_object_get(o, keys[i]) == NULL)
			return 0;
	return 1;
}

static int
get_source(struct stats_source *src, const json_t *origin, const json_t *size, const json_t *root)
{
	uint8_t raw[32];
	const char *r = json_string_value(root);

	if (!json_is_string(origin) || !stats_origin_ok(json_string_value(origin)) ||
	    !json_is_integer(size) || json_integer_value(size) < 0 || r == NULL ||
	    json_string_length(root) != ROOT_LEN || mp_b64u_decode_exact(raw, 32, r, ROOT_LEN) != 0)
		return -1;
	if ((src->origin = strdup(json_string_value(origin))) == NULL)
		return -1;
	src->tree_size = (uint64_t)json_integer_value(size);
	memcpy(src->root, r, ROOT_LEN + 1);
	return 0;
}

static int
parse_table(struct stats_doc_table *tb, int t, const json_t *j, char *why, size_t whylen)
{
	static const char *const muni_keys[] = { "columns", "rows", "totals" };
	static const char *const keys[] = { "rows", "total" };
	const char *name = stats_table_names[t], *code;
	const json_t *rows, *v, *cols;
	size_t i, c, ncols = (size_t)table_has_cols(t);

	if (t == T_MUNI ? !members_are(j, muni_keys, 3) : !members_are(j, keys, 2))
		return stats_err(why, whylen, "table %s: not the members a table has", name);
	rows = json_object_get(j, "rows");
	if (!json_is_object(rows))
		return stats_err(why, whylen, "table %s: rows is not an object", name);
	tb->n = json_object_size(rows);
	if (tb->n > MAX_MUNIS)
		return stats_err(why, whylen, "table %s: too many rows", name);
	if ((tb->codes = calloc(tb->n + 1, sizeof *tb->codes)) == NULL ||
	    (tb->cells = calloc(tb->n * ncols + 1, sizeof *tb->cells)) == NULL)
		return stats_err(why, whylen, "out of memory");
	i = 0;
	json_object_foreach((json_t *)rows, code, v) {
		if (!stats_code_ok(code, strlen(code)) || (tb->codes[i] = strdup(code)) == NULL)
			return stats_err(why, whylen, "table %s: a row that is not a code", name);
		if (t == T_MUNI) {
			if (!json_is_array(v) || json_array_size(v) != NCOLS)
				return stats_err(why, whylen, "table %s: row %s is not %d cells",
				    name, code, NCOLS);
			for (c = 0; c < NCOLS; c++)
				if (get_cell(json_array_get(v, c), 1, &tb->cells[i * NCOLS + c]) !=
				    0)
					return stats_err(why, whylen,
					    "table %s: row %s has a cell that is not "
					    "a count or null",
					    name, code);
		} else if (get_cell(v, 1, &tb->cells[i]) != 0) {
			return stats_err(
			    why, whylen, "table %s: row %s is not a count or null", name, code);
		}
		i++;
	}
	if (t == T_MUNI) {
		cols = json_object_get(j, "columns");
		v = json_object_get(j, "totals");
		if (!json_is_array(cols) || json_array_size(cols) != NCOLS || !json_is_array(v) ||
		    json_array_size(v) != NCOLS)
			return stats_err(why, whylen, "table %s: columns or totals are not %d long",
			    name, NCOLS);
		for (c = 0; c < NCOLS; c++) {
			if (!json_is_string(json_array_get(cols, c)) ||
			    strcmp(json_string_value(json_array_get(cols, c)),
			        stats_col_names[c]) != 0)
				return stats_err(why, whylen, "table %s: column %zu is not %s",
				    name, c + 1, stats_col_names[c]);
			if (get_cell(json_array_get(v, c), 0, &tb->total[c]) != 0)
				return stats_err(
				    why, whylen, "table %s: a total that is not a count", name);
		}
	} else if (get_cell(json_object_get(j, "total"), 0, &tb->total[0]) != 0) {
		return stats_err(why, whylen, "table %s: total is not a count", name);
	}
	return 0;
}

static int
parse_header(struct stats_doc *d, const json_t *o, char *why, size_t whylen)
{
	static const char *const single[] = { "v", "origin", "year", "provisional", "threshold",
		"tree_size", "root", "cases", "tables" };
	static const char *const merged[] = { "v", "origins", "year", "provisional", "threshold",
		"sources", "cases", "tables" };
	const json_t *origins, *sources, *s;
	json_int_t v;
	size_t i;

	d->merged = json_object_get(o, "origins") != NULL;
	if (d->merged ? !members_are(o, merged, 8) : !members_are(o, single, 9))
		return stats_err(why, whylen, "not the members of a statistics document");
	if (get_int(o, "v", 1, 1, &v) != 0)
		return stats_err(why, whylen, "not a v1 statistics document");
	if (get_int(o, "year", 1, 9999, &v) != 0)
		return stats_err(why, whylen, "year is not a year");
	d->year = (int)v;
	if (get_int(o, "threshold", 1, 1000, &v) != 0)
		return stats_err(why, whylen, "threshold is not a number from 1 to 1000");
	d->threshold = (int)v;
	if (get_int(o, "cases", 0, INT64_MAX, &v) != 0)
		return stats_err(why, whylen, "cases is not a count");
	d->cases = v;
	if (!json_is_boolean(json_object_get(o, "provisional")))
		return stats_err(why, whylen, "provisional is not true or false");
	d->provisional = json_is_true(json_object_get(o, "provisional"));

	if (!d->merged) {
		if ((d->src = calloc(1, sizeof *d->src)) == NULL)
			return stats_err(why, whylen, "out of memory");
		if (get_source(&d->src[0], json_object_get(o, "origin"),
		        json_object_get(o, "tree_size"), json_object_get(o, "root")) != 0)
			return stats_err(why, whylen, "origin, tree_size or root is malformed");
		d->nsrc = 1;
		return 0;
	}
	origins = json_object_get(o, "origins");
	sources = json_object_get(o, "sources");
	if (!json_is_array(origins) || !json_is_array(sources) || json_array_size(origins) == 0 ||
	    json_array_size(origins) != json_array_size(sources))
		return stats_err(why, whylen, "origins and sources are not lists of one length");
	if ((d->src = calloc(json_array_size(sources), sizeof *d->src)) == NULL)
		return stats_err(why, whylen, "out of memory");
	for (i = 0; i < json_array_size(sources); i++) {
		static const char *const skeys[] = { "origin", "tree_size", "root" };

		s = json_array_get(sources, i);
		if (!members_are(s, skeys, 3) ||
		    get_source(&d->src[i], json_object_get(s, "origin"),
		        json_object_get(s, "tree_size"), json_object_get(s, "root")) != 0)
			return stats_err(why, whylen, "source %zu is malformed", i + 1);
		d->nsrc = i + 1;
		if (!json_is_string(json_array_get(origins, i)) ||
		    strcmp(json_string_value(json_array_get(origins, i)), d->src[i].origin) != 0)
			return stats_err(
			    why, whylen, "origin %zu is not its source's origin", i + 1);
	}
	return 0;
}

int
stats_doc_parse(struct stats_doc *d, const char *text, size_t len, char *why, size_t whylen)
{
	const char *const *rows[NT];
	size_t n[NT];
	const json_t *tables;
	json_t *o = NULL;
	json_error_t jerr;
	int t, rc = -1;

	memset(d, 0, sizeof *d);
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		stats_err(why, whylen, "not JSON: %s at byte %d", jerr.text, jerr.position);
		goto out;
	}
	if (!json_is_object(o)) {
		stats_err(why, whylen, "not a JSON object");
		goto out;
	}
	if (parse_header(d, o, why, whylen) != 0)
		goto out;
	tables = json_object_get(o, "tables");
	if (!members_are(tables, stats_table_names, NT)) {
		stats_err(why, whylen, "tables are not the %d tables of a statistics document", NT);
		goto out;
	}
	for (t = 0; t < NT; t++)
		if (parse_table(&d->t[t], t, json_object_get(tables, stats_table_names[t]), why,
		        whylen) != 0)
			goto out;
	/* The rows must make a layout: synthetic rows last, within the limits. */
	for (t = 0; t < NT; t++) {
		rows[t] = (const char *const *)d->t[t].codes;
		n[t] = d->t[t].n;
	}
	if ((d->layout = stats_layout_new(rows, n)) == NULL) {
		stats_err(why, whylen, "its rows are not the rows of a statistics layout");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc != 0)
		stats_doc_clear(d);
	return rc;
}

/* ---- writing ---- */

/*
 * The document is written by hand rather than by jansson's dump, so that
 * its bytes (which the log key signs) are this file's choice alone and no
 * library version can change them.
 */

/* Codes and checked origins hold no control characters; only " and \\ need escaping. */
static void
text(struct stats_buf *o, const char *s)
{
	const char *run = s;

	stats_put(o, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s != '"' && *s != '\\')
			continue;
		stats_put(o, run, (size_t)(s - run));
		stats_put(o, "\\", 1);
		run = s;
	}
	stats_put(o, run, (size_t)(s - run));
	stats_put(o, "\"", 1);
}

static void
count(struct stats_buf *o, int64_t v)
{
	if (v < 0)
		stats_puts(o, "null");
	else
		stats_printf(o, "%lld", (long long)v);
}

static void
table_text(struct stats_buf *o, const struct stats_doc_table *tb, int t)
{
	size_t i, c;

	stats_printf(o, "  \"%s\": {\n", stats_table_names[t]);
	if (t == T_MUNI) {
		stats_puts(o, "   \"columns\": [");
		for (c = 0; c < NCOLS; c++) {
			text(o, stats_col_names[c]);
			stats_puts(o, c + 1 < NCOLS ? ", " : "],\n");
		}
	}
	stats_puts(o, tb->n > 0 ? "   \"rows\": {\n" : "   \"rows\": {");
	for (i = 0; i < tb->n; i++) {
		stats_puts(o, "    ");
		text(o, tb->codes[i]);
		stats_puts(o, ": ");
		if (t == T_MUNI) {
			for (c = 0; c < NCOLS; c++) {
				stats_puts(o, c == 0 ? "[" : ", ");
				count(o, tb->cells[i * NCOLS + c]);
			}
			stats_puts(o, "]");
		} else {
			count(o, tb->cells[i]);
		}
		stats_puts(o, i + 1 < tb->n ? ",\n" : "\n");
	}
	stats_puts(o, tb->n > 0 ? "   },\n" : "},\n");
	if (t == T_MUNI)
		stats_printf(o, "   \"totals\": [%lld, %lld, %lld]\n", (long long)tb->total[0],
		    (long long)tb->total[1], (long long)tb->total[2]);
	else
		stats_printf(o, "   \"total\": %lld\n", (long long)tb->total[0]);
	stats_puts(o, t + 1 < NT ? "  },\n" : "  }\n");
}

char *
stats_doc_emit(const struct stats_doc *d)
{
	struct stats_buf o = { NULL, 0, 0, 0 };
	size_t i;
	int t;

	if (d->nsrc == 0 || (!d->merged && d->nsrc != 1))
		return NULL;
	for (i = 0; i < d->nsrc; i++)
		if (d->src[i].tree_size > INT64_MAX || !stats_origin_ok(d->src[i].origin))
			return NULL;
	stats_puts(&o, "{\n \"v\": 1,\n");
	if (d->merged) {
		stats_puts(&o, " \"origins\": [");
		for (i = 0; i < d->nsrc; i++) {
			text(&o, d->src[i].origin);
			stats_puts(&o, i + 1 < d->nsrc ? ", " : "],\n");
		}
	} else {
		stats_puts(&o, " \"origin\": ");
		text(&o, d->src[0].origin);
		stats_puts(&o, ",\n");
	}
	stats_printf(&o, " \"year\": %d,\n \"provisional\": %s,\n \"threshold\": %d,\n", d->year,
	    d->provisional ? "true" : "false", d->threshold);
	if (d->merged) {
		stats_puts(&o, " \"sources\": [\n");
		for (i = 0; i < d->nsrc; i++) {
			stats_puts(&o, "  {\"origin\": ");
			text(&o, d->src[i].origin);
			stats_printf(&o, ", \"tree_size\": %llu, \"root\": \"%s\"}%s\n",
			    (unsigned long long)d->src[i].tree_size, d->src[i].root,
			    i + 1 < d->nsrc ? "," : "");
		}
		stats_puts(&o, " ],\n");
	} else {
		stats_printf(&o, " \"tree_size\": %llu,\n \"root\": \"%s\",\n",
		    (unsigned long long)d->src[0].tree_size, d->src[0].root);
	}
	stats_printf(&o, " \"cases\": %lld,\n \"tables\": {\n", (long long)d->cases);
	for (t = 0; t < NT; t++)
		table_text(&o, &d->t[t], t);
	/* A text file ends with a newline; it is part of the signed bytes. */
	stats_puts(&o, " }\n}\n");
	return stats_buf_done(&o);
}

char *
mp_stats_document(const struct mp_stats *s, const char *origin, uint64_t tree_size,
    const uint8_t root[32], int provisional)
{
	struct stats_doc d;
	char *text = NULL;

	if (s == NULL || origin == NULL || root == NULL || !stats_origin_ok(origin) ||
	    tree_size > INT64_MAX)
		return NULL;
	if (stats_fold_doc(s, &d) != 0 || stats_suppress_doc(&d, d.threshold) != 0 ||
	    (d.src = calloc(1, sizeof *d.src)) == NULL)
		goto out;
	d.nsrc = 1;
	d.src[0].origin = (char *)origin; /* borrowed: d.borrowed */
	d.src[0].tree_size = tree_size;
	if (mp_b64u_encode(d.src[0].root, sizeof d.src[0].root, root, 32) != 0)
		goto out;
	d.provisional = provisional != 0;
	text = stats_doc_emit(&d);
out:
	stats_doc_clear(&d);
	return text;
}

/* ---- comparing ---- */

struct differ {
	void (*say)(void *, const char *);
	void *arg;
	int n;
};

static void diff(struct differ *df, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
diff(struct differ *df, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	df->n++;
	if (df->say == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	df->say(df->arg, line);
}

/* A cell as the difference lines show it; row SIZE_MAX is a row the document lacks. */
static const char *
cell_text(
    char *buf, size_t len, const struct stats_doc_table *tb, size_t row, size_t col, size_t ncols)
{
	int64_t v;

	if (row == SIZE_MAX)
		return "absent";
	v = tb->cells[row * ncols + col];
	if (v < 0)
		return "null";
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

static void
diff_cell(struct differ *df, int t, const char *code, const struct stats_doc_table *a, size_t ra,
    const struct stats_doc_table *b, size_t rb)
{
	char x[32], y[32];
	const char *va, *vb;
	size_t c, ncols = (size_t)table_has_cols(t);

	for (c = 0; c < ncols; c++) {
		va = cell_text(x, sizeof x, a, ra, c, ncols);
		vb = cell_text(y, sizeof y, b, rb, c, ncols);
		if (strcmp(va, vb) == 0)
			continue;
		if (t == T_MUNI)
			diff(df, "%s/%s/%s: published %s, recomputed %s", stats_table_names[t],
			    code, stats_col_names[c], va, vb);
		else
			diff(df, "%s/%s: published %s, recomputed %s", stats_table_names[t], code,
			    va, vb);
	}
}

static void
diff_table(struct differ *df, int t, const struct stats_doc *a, const struct stats_doc *b)
{
	const struct stats_doc_table *ta = &a->t[t], *tb = &b->t[t];
	const struct stats_list *lb = &b->layout->rows[t], *la = &a->layout->rows[t];
	size_t i, j, c, ncols = (size_t)table_has_cols(t);
	int moved = 0, missing = 0;

	for (i = 0; i < ta->n; i++) {
		j = stats_list_find(lb, ta->codes[i], strlen(ta->codes[i]));
		moved |= j != SIZE_MAX && j != i;
		missing |= j == SIZE_MAX;
		diff_cell(df, t, ta->codes[i], ta, i, tb, j);
	}
	for (j = 0; j < tb->n; j++) {
		if (stats_list_find(la, tb->codes[j], strlen(tb->codes[j])) != SIZE_MAX)
			continue;
		missing = 1;
		diff_cell(df, t, tb->codes[j], ta, SIZE_MAX, tb, j);
	}
	if (moved && !missing)
		diff(df, "%s: the same rows in another order", stats_table_names[t]);
	for (c = 0; c < ncols; c++) {
		if (ta->total[c] == tb->total[c])
			continue;
		if (t == T_MUNI)
			diff(df, "%s/total/%s: published %lld, recomputed %lld",
			    stats_table_names[t], stats_col_names[c], (long long)ta->total[c],
			    (long long)tb->total[c]);
		else
			diff(df, "%s/total: published %lld, recomputed %lld", stats_table_names[t],
			    (long long)ta->total[c], (long long)tb->total[c]);
	}
}

int
mp_stats_compare(const char *published, const char *recomputed,
    void (*say)(void *arg, const char *line), void *arg)
{
	struct differ df = { say, arg, 0 };
	struct stats_doc a, b;
	const struct stats_source *sa, *sb;
	char key[64];
	size_t i;
	int t;

	if (published == NULL || recomputed == NULL ||
	    stats_doc_parse(&a, published, strlen(published), NULL, 0) != 0)
		return -1;
	if (stats_doc_parse(&b, recomputed, strlen(recomputed), NULL, 0) != 0) {
		stats_doc_clear(&a);
		return -1;
	}
	if (a.merged != b.merged)
		diff(&df, "form: published %s, recomputed %s", a.merged ? "merged" : "single",
		    b.merged ? "merged" : "single");
	if (a.nsrc != b.nsrc)
		diff(&df, "sources: published %zu, recomputed %zu", a.nsrc, b.nsrc);
	for (i = 0; i < a.nsrc && i < b.nsrc; i++) {
		sa = &a.src[i];
		sb = &b.src[i];
		if (a.merged)
			snprintf(key, sizeof key, "sources/%zu/", i + 1);
		else
			key[0] = '\0';
		if (strcmp(sa->origin, sb->origin) != 0)
			diff(&df, "%sorigin: published %s, recomputed %s", key, sa->origin,
			    sb->origin);
		if (sa->tree_size != sb->tree_size)
			diff(&df, "%stree_size: published %llu, recomputed %llu", key,
			    (unsigned long long)sa->tree_size, (unsigned long long)sb->tree_size);
		if (strcmp(sa->root, sb->root) != 0)
			diff(&df, "%sroot: published %s, recomputed %s", key, sa->root, sb->root);
	}
	if (a.year != b.year)
		diff(&df, "year: published %d, recomputed %d", a.year, b.year);
	if (a.provisional != b.provisional)
		diff(&df, "provisional: published %s, recomputed %s",
		    a.provisional ? "true" : "false", b.provisional ? "true" : "false");
	if (a.threshold != b.threshold)
		diff(&df, "threshold: published %d, recomputed %d", a.threshold, b.threshold);
	if (a.cases != b.cases)
		diff(&df, "cases: published %lld, recomputed %lld", (long long)a.cases,
		    (long long)b.cases);
	for (t = 0; t < NT; t++)
		diff_table(&df, t, &a, &b);
	stats_doc_clear(&a);
	stats_doc_clear(&b);
	return df.n;
}
