/* The rows of the statistics' tables: from the policy, or read back from a published document. */
#include <stdlib.h>
#include <string.h>

#include "extern.h"

const char *const stats_table_names[NT] = {
	"municipality",
	"ground",
	"domain",
	"manifestation",
	"channel",
	"status",
	"closure",
	"anonymity",
	"kind",
};

/* The tables of anonymity and kind have fixed rows, from no list of the policy. */
const enum mp_list_id stats_policy_lists[NT] = {
	MP_MUNICIPALITIES,
	MP_GROUNDS,
	MP_DOMAINS,
	MP_MANIFESTATIONS,
	MP_CHANNELS,
	MP_STATUSES,
	MP_CLOSURES,
	MP_NLISTS,
	MP_NLISTS,
};

const char *const stats_col_names[NCOLS] = {
	"resident_incident_here",
	"resident_incident_elsewhere",
	"nonresident_incident_here",
};

/* The rows no policy list holds: each table's own, and the fixed two-row tables. */
static const char *const anon_rows[] = { "anonymous", "named" };
static const char *const kind_rows[] = { "individual", "collective" };
static const char not_classified[] = "not_classified";
static const char open_row[] = "open";

int
stats_code_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CODE_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Codes hold no NUL, so this orders like strcmp. */
static int
cmp_text(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct stats_entry *x = a, *y = b;

	return cmp_text(x->code, x->len, y->code, y->len);
}

size_t
stats_list_find(const struct stats_list *l, const char *code, size_t len)
{
	size_t lo = 0, hi = l->n, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = cmp_text(code, len, l->order[mid].code, l->order[mid].len);
		if (r == 0)
			return l->order[mid].i;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return SIZE_MAX;
}

static void
list_clear(struct stats_list *l)
{
	free(l->v); /* one block: see list_set */
	memset(l, 0, sizeof *l);
}

/*
 * Copy codes[0..n) and index them; -1 if a code is malformed or repeated.
 * The pointers, the index and the text share one block: a layout is made
 * for every document read, and one allocation is cheaper than a hundred.
 */
static int
list_set(struct stats_list *l, const char *const *codes, size_t n)
{
	size_t i, len, text = 0;
	char *pool;

	if (n > MAX_MUNIS)
		return -1;
	for (i = 0; i < n; i++) {
		if (!stats_code_ok(codes[i], strlen(codes[i])))
			return -1;
		text += strlen(codes[i]) + 1;
	}
	/* One more entry than needed, so that an empty list still allocates. */
	if ((l->v = malloc((n + 1) * (sizeof *l->v + sizeof *l->order) + text)) == NULL)
		return -1;
	l->order = (struct stats_entry *)(l->v + n + 1);
	pool = (char *)(l->order + n + 1);
	for (i = 0; i < n; i++) {
		len = strlen(codes[i]);
		memcpy(pool, codes[i], len + 1);
		l->v[i] = pool;
		l->order[i].code = pool;
		l->order[i].len = len;
		l->order[i].i = i;
		pool += len + 1;
	}
	l->v[n] = NULL;
	l->n = n;
	qsort(l->order, l->n, sizeof *l->order, cmp_entry);
	for (i = 1; i < l->n; i++)
		if (cmp_entry(&l->order[i - 1], &l->order[i]) == 0)
			return -1;
	return 0;
}

static int
last_is(const struct stats_list *l, const char *code)
{
	return l->n >= 1 && strcmp(l->v[l->n - 1], code) == 0;
}

static int
rows_are(const struct stats_list *l, const char *const *want, size_t n)
{
	size_t i;

	if (l->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(l->v[i], want[i]) != 0)
			return 0;
	return 1;
}

void
mp_stats_layout_free(struct mp_stats_layout *l)
{
	int t;

	if (l == NULL)
		return;
	for (t = 0; t < NT; t++)
		list_clear(&l->rows[t]);
	list_clear(&l->munis);
	free(l);
}

struct mp_stats_layout *
stats_layout_new(const char *const *const rows[NT], const size_t n[NT])
{
	struct mp_stats_layout *l;
	const char **munis = NULL;
	size_t i, nm;
	int t, ok = 0;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	for (t = 0; t < NT; t++) {
		if (list_set(&l->rows[t], rows[t], n[t]) != 0)
			goto out;
		/* The CSV's line for a table's total is named so. */
		if (stats_list_find(&l->rows[t], "total", 5) != SIZE_MAX)
			goto out;
	}

	/* A synthetic row must be last, so that a policy code can never take its name. */
	for (t = T_GROUND; t <= T_MANIF; t++)
		if (!last_is(&l->rows[t], not_classified))
			goto out;
	if (!last_is(&l->rows[T_CLOSURE], open_row) || !rows_are(&l->rows[T_ANON], anon_rows, 2) ||
	    !rows_are(&l->rows[T_KIND], kind_rows, 2))
		goto out;
	for (t = 0; t < NT; t++)
		l->nev[t] = l->rows[t].n -
		    (t == T_GROUND || t == T_DOMAIN || t == T_MANIF || t == T_CLOSURE);
	l->nev[T_ANON] = l->nev[T_KIND] = 0;
	if (l->nev[T_GROUND] > MAX_GROUNDS || l->nev[T_DOMAIN] > MAX_SMALL ||
	    l->nev[T_MANIF] > MAX_SMALL || l->nev[T_CLOSURE] > MAX_SMALL ||
	    l->rows[T_CHANNEL].n == 0 || l->rows[T_CHANNEL].n > MAX_SMALL ||
	    l->rows[T_STATUS].n == 0 || l->rows[T_STATUS].n > MAX_SMALL ||
	    l->rows[T_MUNI].n > MAX_MUNIS - 2)
		goto out;

	/* A new case is received; a closure code goes with closed, if the layout has it. */
	if ((l->received = stats_list_find(&l->rows[T_STATUS], "received", 8)) == SIZE_MAX)
		goto out;
	l->closed = stats_list_find(&l->rows[T_STATUS], "closed", 6);

	/* Served rows, then the two codes that are never a row; both may be named in events. */
	nm = l->rows[T_MUNI].n;
	if ((munis = calloc(nm + 2, sizeof *munis)) == NULL)
		goto out;
	for (i = 0; i < nm; i++)
		munis[i] = l->rows[T_MUNI].v[i];
	munis[nm] = "elsewhere";
	munis[nm + 1] = "unknown";
	if (list_set(&l->munis, munis, nm + 2) != 0)
		goto out; /* a served row named elsewhere or unknown */
	ok = 1;
out:
	free(munis);
	if (!ok) {
		mp_stats_layout_free(l);
		return NULL;
	}
	return l;
}

struct mp_stats_layout *
mp_stats_layout_policy(const struct mp_policy *p)
{
	const char **rows[NT] = { NULL };
	size_t n[NT] = { 0 }, i, cap;
	const struct mp_list *pl;
	struct mp_stats_layout *l = NULL;
	int t;

	for (t = 0; t < NT; t++) {
		if (t == T_ANON || t == T_KIND) {
			rows[t] = (const char **)(t == T_ANON ? anon_rows : kind_rows);
			n[t] = 2;
			continue;
		}
		pl = &p->lists[stats_policy_lists[t]];
		cap = pl->n + 1;
		if ((rows[t] = calloc(cap, sizeof *rows[t])) == NULL)
			goto out;
		for (i = 0; i < pl->n; i++) {
			/* Served rows leave out the two codes that name no municipality we serve. */
			if (t == T_MUNI &&
			    (strcmp(pl->v[i].code, "elsewhere") == 0 ||
			        strcmp(pl->v[i].code, "unknown") == 0))
				continue;
			rows[t][n[t]++] = pl->v[i].code;
		}
		if (t == T_GROUND || t == T_DOMAIN || t == T_MANIF)
			rows[t][n[t]++] = not_classified;
		else if (t == T_CLOSURE)
			rows[t][n[t]++] = open_row;
	}
	l = stats_layout_new((const char *const *const *)rows, n);
out:
	for (t = 0; t < NT; t++)
		if (t != T_ANON && t != T_KIND)
			free(rows[t]);
	return l;
}

struct mp_stats_layout *
mp_stats_layout_doc(const char *doc, size_t len)
{
	struct stats_doc d;
	struct mp_stats_layout *l = NULL;
	size_t n[NT];
	const char *const *rows[NT];
	int t;

	if (doc == NULL || stats_doc_parse(&d, doc, len, NULL, 0) != 0)
		return NULL;
	for (t = 0; t < NT; t++) {
		rows[t] = (const char *const *)d.t[t].codes;
		n[t] = d.t[t].n;
	}
	l = stats_layout_new(rows, n);
	stats_doc_clear(&d);
	return l;
}
