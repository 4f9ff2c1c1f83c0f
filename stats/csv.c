/*
 * A document as CSV for a Dutch spreadsheet (docs/STATISTICS.md, "CSV"):
 * UTF-8 with a byte order mark (else Excel reads it as Windows-1252), ';'
 * between fields (',' is the decimal sign in nl), CRLF, one cell a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

static const char header[] =
    "year;provisional;table;code;label;column;column_label;value;suppressed\r\n";

/* Labels of what no policy list holds: [0] Dutch, [1] English (for every other language). */
static const struct {
	const char *code, *label[2];
} own_labels[] = {
	{ "not_classified", { "Niet geclassificeerd", "Not classified" } },
	{ "open", { "Nog niet afgesloten", "Not closed yet" } },
	{ "anonymous", { "Anoniem", "Anonymous" } },
	{ "named", { "Met naam", "Named" } },
	{ "individual", { "Individueel", "Individual" } },
	{ "collective", { "Collectief", "Collective" } },
	{ "total", { "Totaal", "Total" } },
	{ "cases", { "Aantal zaken", "Cases" } },
	{ "resident_incident_here",
	    { "Inwoner, voorval in de gemeente", "Resident, incident in the municipality" } },
	{ "resident_incident_elsewhere",
	    { "Inwoner, voorval elders", "Resident, incident elsewhere" } },
	{ "nonresident_incident_here",
	    { "Geen inwoner, voorval in de gemeente",
	        "Non-resident, incident in the municipality" } },
};

/*
 * One field of n bytes: quoted when it holds a separator, quote or line
 * break; and a label a spreadsheet would run as a formula gets a leading
 * apostrophe, so that a label from a policy file can never compute.
 */
static void
field(struct stats_buf *o, const char *s, size_t n, int last)
{
	const char *q;
	size_t i;
	int quote = 0;

	for (i = 0; i < n; i++)
		if (s[i] == ';' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			quote = 1;
	if (quote)
		stats_put(o, "\"", 1);
	if (n > 0 && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL)
		stats_put(o, "'", 1);
	/* Each quote doubled: the text up to and including it, then one more. */
	while (n > 0 && (q = memchr(s, '"', n)) != NULL) {
		stats_put(o, s, (size_t)(q - s) + 1);
		stats_put(o, "\"", 1);
		n -= (size_t)(q - s) + 1;
		s = q + 1;
	}
	stats_put(o, s, n);
	if (quote)
		stats_put(o, "\"", 1);
	stats_put(o, last ? "\r\n" : ";", last ? 2 : 1);
}

static void
sfield(struct stats_buf *o, const char *s)
{
	field(o, s, strlen(s), 0);
}

/* The label of code in table t (t < 0: a column or the total), and its length. */
static const char *
label(const struct mp_policy *p, const char *lang, int t, const char *code, size_t *len)
{
	const struct mp_code *c;
	const char *s, *dot;
	size_t i;

	*len = strlen(code);
	if (p == NULL)
		return code;
	if (t >= 0 && stats_policy_lists[t] != MP_NLISTS &&
	    (c = mp_policy_find(p, stats_policy_lists[t], code)) != NULL) {
		s = mp_policy_label(p, c, lang);
		*len = strlen(s);
		/* A status label is a sentence for the reporter; its first one names it. */
		if (t == T_STATUS && (dot = strchr(s, '.')) != NULL && dot > s)
			*len = (size_t)(dot - s);
		return s;
	}
	for (i = 0; i < sizeof own_labels / sizeof own_labels[0]; i++) {
		if (strcmp(own_labels[i].code, code) != 0)
			continue;
		s = own_labels[i].label[lang != NULL && strcmp(lang, "nl") == 0 ? 0 : 1];
		*len = strlen(s);
		return s;
	}
	return code;
}

static void
line(struct stats_buf *o, const struct stats_doc *d, const struct mp_policy *p, const char *lang,
    int t, const char *code, int col, int64_t v)
{
	char num[32];
	const char *s, *colname = col < 0 ? "cases" : stats_col_names[col];
	size_t n;

	snprintf(num, sizeof num, "%d", d->year);
	sfield(o, num);
	sfield(o, d->provisional ? "1" : "0");
	sfield(o, stats_table_names[t]);
	sfield(o, code);
	s = label(p, lang, strcmp(code, "total") == 0 ? -1 : t, code, &n);
	field(o, s, n, 0);
	sfield(o, colname);
	s = label(p, lang, -1, colname, &n);
	field(o, s, n, 0);
	if (v < 0) {
		field(o, "", 0, 0);
		field(o, "1", 1, 1);
	} else {
		snprintf(num, sizeof num, "%lld", (long long)v);
		sfield(o, num);
		field(o, "0", 1, 1);
	}
}

char *
mp_stats_csv(const char *doc, const struct mp_policy *p, const char *lang)
{
	struct stats_doc d;
	struct stats_buf o = { NULL, 0, 0, 0 };
	const struct stats_doc_table *tb;
	size_t r, c, ncols;
	int t;

	if (doc == NULL || stats_doc_parse(&d, doc, strlen(doc), NULL, 0) != 0)
		return NULL;
	stats_puts(&o, "\xef\xbb\xbf");
	stats_puts(&o, header);
	for (t = 0; t < NT; t++) {
		tb = &d.t[t];
		ncols = t == T_MUNI ? NCOLS : 1;
		for (r = 0; r < tb->n; r++)
			for (c = 0; c < ncols; c++)
				line(&o, &d, p, lang, t, tb->codes[r], t == T_MUNI ? (int)c : -1,
				    tb->cells[r * ncols + c]);
		for (c = 0; c < ncols; c++)
			line(&o, &d, p, lang, t, "total", t == T_MUNI ? (int)c : -1, tb->total[c]);
	}
	stats_doc_clear(&d);
	return stats_buf_done(&o);
}
