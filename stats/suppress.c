/*
 * Disclosure control (docs/STATISTICS.md, "Suppression"): small cells are
 * suppressed, then enough other cells of the same line that the published
 * total cannot give any suppressed value back.
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/*
 * After primary suppression every published non-zero cell is at least k,
 * so the loop adds at most one non-zero cell (the sum then gains k) and, on
 * a line with nothing else to take, at most one zero cell: it is linear.
 */
void
stats_suppress_from(const int64_t *cells, size_t n, int k, int *sup)
{
	size_t i, best, count;
	int64_t sum, v;

	for (i = 0; i < n; i++)
		if (cells[i] >= 1 && cells[i] < k)
			sup[i] = 1;
	for (;;) {
		count = 0;
		sum = 0;
		for (i = 0; i < n; i++) {
			if (!sup[i])
				continue;
			count++;
			v = cells[i] > 0 ? cells[i] : 0;
			sum = sum > INT64_MAX - v ? INT64_MAX : sum + v;
		}
		/*
		 * Done when nothing is hidden, or when each suppressed cell could
		 * still be k or more even if every other one is only 1.
		 */
		if (count == 0 || (count >= 2 && sum - (int64_t)(count - 1) >= k))
			return;
		best = SIZE_MAX;
		for (i = 0; i < n; i++)
			if (!sup[i] && cells[i] > 0 && (best == SIZE_MAX || cells[i] < cells[best]))
				best = i;
		if (best == SIZE_MAX) {
			/* Zeros add nothing to the sum; they only keep a lone cell from being the rest. */
			if (count >= 2)
				return;
			for (i = 0; i < n && best == SIZE_MAX; i++)
				if (!sup[i])
					best = i;
			if (best == SIZE_MAX)
				return;
		}
		sup[best] = 1;
	}
}

void
mp_stats_suppress_line(const int64_t *cells, size_t n, int k, int *sup)
{
	if (n == 0)
		return;
	memset(sup, 0, n * sizeof *sup);
	stats_suppress_from(cells, n, k, sup);
}

struct cell {
	int t;
	size_t row; /* SIZE_MAX: the table has no such row */
};

static size_t
row_of(const struct stats_doc *d, int t, const char *code)
{
	size_t i;

	for (i = 0; i < d->t[t].n; i++)
		if (strcmp(d->t[t].codes[i], code) == 0)
			return i;
	return SIZE_MAX;
}

/* Suppress every cell of a group when one is: they are equal, or add up to the total. */
static int
link(int **sup, const struct cell *g, size_t n)
{
	size_t i;
	int any = 0, changed = 0;

	for (i = 0; i < n; i++)
		if (g[i].row == SIZE_MAX)
			return 0;
	for (i = 0; i < n; i++)
		any |= sup[g[i].t][g[i].row];
	for (i = 0; any && i < n; i++) {
		if (!sup[g[i].t][g[i].row])
			changed = 1;
		sup[g[i].t][g[i].row] = 1;
	}
	return changed;
}

int
stats_suppress_doc(struct stats_doc *d, int k)
{
	struct cell closed[2], unclassified[3];
	struct stats_doc_table *tb;
	int *sup[NT] = { NULL }, *csup = NULL;
	int64_t *col = NULL;
	size_t i, j, n, nm = d->t[T_MUNI].n;
	int t, changed, rc = -1;

	for (t = 0; t < NT; t++) {
		n = d->t[t].n * (t == T_MUNI ? NCOLS : 1);
		if ((sup[t] = calloc(n + 1, sizeof *sup[t])) == NULL)
			goto out;
	}
	if ((col = calloc(nm + 1, sizeof *col)) == NULL ||
	    (csup = calloc(nm + 1, sizeof *csup)) == NULL)
		goto out;

	/*
	 * Cells that other tables give away: open cases are the cases not
	 * closed, and an unclassified case is (as the server classifies) one
	 * without ground, domain and manifestation alike.
	 */
	closed[0] = (struct cell){ T_STATUS, row_of(d, T_STATUS, "closed") };
	closed[1] = (struct cell){ T_CLOSURE, row_of(d, T_CLOSURE, "open") };
	unclassified[0] = (struct cell){ T_GROUND, row_of(d, T_GROUND, "not_classified") };
	unclassified[1] = (struct cell){ T_DOMAIN, row_of(d, T_DOMAIN, "not_classified") };
	unclassified[2] = (struct cell){ T_MANIF, row_of(d, T_MANIF, "not_classified") };

	/* Suppression only grows, so this ends. */
	do {
		for (t = 0; t < NT; t++) {
			tb = &d->t[t];
			if (t != T_MUNI) {
				stats_suppress_from(tb->cells, tb->n, k, sup[t]);
				continue;
			}
			for (j = 0; j < NCOLS; j++) {
				for (i = 0; i < nm; i++) {
					col[i] = tb->cells[i * NCOLS + j];
					csup[i] = sup[t][i * NCOLS + j];
				}
				stats_suppress_from(col, nm, k, csup);
				for (i = 0; i < nm; i++)
					sup[t][i * NCOLS + j] = csup[i];
			}
		}
		changed = link(sup, closed, 2);
		changed |= link(sup, unclassified, 3);
	} while (changed);

	for (t = 0; t < NT; t++) {
		n = d->t[t].n * (t == T_MUNI ? NCOLS : 1);
		for (i = 0; i < n; i++)
			if (sup[t][i])
				d->t[t].cells[i] = -1;
	}
	rc = 0;
out:
	for (t = 0; t < NT; t++)
		free(sup[t]);
	free(col);
	free(csup);
	return rc;
}
