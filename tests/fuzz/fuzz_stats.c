/*
 * The statistics from untrusted bytes.  The first byte chooses, by its
 * value modulo 4, what the rest is:
 *   0: events, one a line, folded over a small layout; the document they
 *      give must read back as a layout that folds them to the same bytes;
 *   1: a published document: its layout is read and it is compared with
 *      itself (0 differences exactly when it is a document);
 *   2: a published document made into CSV;
 *   3: a published document merged.
 * The layout is small on purpose, so that each run is short.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp_policy.h"
#include "mp_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t root[32] = { 7 };

/* The layout of the events: two of most things, read from a document as an auditor would. */
static const char small_doc[] =
    "{\"v\":1,\"origin\":\"fuzz.example/log\",\"year\":2026,\"provisional\":false,"
    "\"threshold\":5,\"tree_size\":0,\"root\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
    "\"cases\":0,\"tables\":{"
    "\"municipality\":{\"columns\":[\"resident_incident_here\",\"resident_incident_elsewhere\","
    "\"nonresident_incident_here\"],\"rows\":{\"leiden\":[0,0,0],\"katwijk\":[0,0,0]},"
    "\"totals\":[0,0,0]},"
    "\"ground\":{\"rows\":{\"origin\":0,\"age\":0,\"not_classified\":0},\"total\":0},"
    "\"domain\":{\"rows\":{\"housing\":0,\"not_classified\":0},\"total\":0},"
    "\"manifestation\":{\"rows\":{\"remark\":0,\"not_classified\":0},\"total\":0},"
    "\"channel\":{\"rows\":{\"web\":0,\"phone\":0},\"total\":0},"
    "\"status\":{\"rows\":{\"received\":0,\"intake\":0,\"closed\":0},\"total\":0},"
    "\"closure\":{\"rows\":{\"mediation\":0,\"open\":0},\"total\":0},"
    "\"anonymity\":{\"rows\":{\"anonymous\":0,\"named\":0},\"total\":0},"
    "\"kind\":{\"rows\":{\"individual\":0,\"collective\":0},\"total\":0}}}";

static void
ignore(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/* Fold every line of ev[0..len) into s. */
static void
fold(struct mp_stats *s, const uint8_t *ev, size_t len)
{
	const uint8_t *p = ev, *nl;
	char err[256];

	while (p < ev + len) {
		nl = memchr(p, '\n', (size_t)(ev + len - p));
		if (nl == NULL)
			nl = ev + len;
		err[0] = '\0';
		if (mp_stats_add(s, p, (size_t)(nl - p), err, sizeof err) != 0 && err[0] == '\0')
			__builtin_trap(); /* a refusal always says why */
		p = nl + 1;
	}
}

static void
events(const struct mp_stats_layout *l, const uint8_t *ev, size_t len)
{
	struct mp_stats *s = mp_stats_new(l, 2026, 5), *again = NULL;
	struct mp_stats_layout *dl = NULL;
	char *doc = NULL, *doc2 = NULL;

	if (s == NULL)
		return;
	fold(s, ev, len);
	if ((doc = mp_stats_document(s, "fuzz.example/log", 1, root, 1)) == NULL)
		__builtin_trap();
	if ((dl = mp_stats_layout_doc(doc, strlen(doc))) == NULL ||
	    (again = mp_stats_new(dl, 2026, 5)) == NULL)
		__builtin_trap();
	fold(again, ev, len);
	if ((doc2 = mp_stats_document(again, "fuzz.example/log", 1, root, 1)) == NULL ||
	    strcmp(doc, doc2) != 0)
		__builtin_trap();
	free(doc);
	free(doc2);
	mp_stats_free(s);
	mp_stats_free(again);
	mp_stats_layout_free(dl);
}

static void
document(const struct mp_policy *p, int what, const uint8_t *data, size_t len)
{
	struct mp_stats_layout *l;
	char *doc, err[256];
	const char *docs[1];
	int n;

	if ((doc = malloc(len + 1)) == NULL)
		return;
	memcpy(doc, data, len);
	doc[len] = '\0';
	docs[0] = doc;
	switch (what) {
	case 1:
		l = mp_stats_layout_doc(doc, strlen(doc));
		n = mp_stats_compare(doc, doc, ignore, NULL);
		if ((l != NULL) != (n == 0))
			__builtin_trap();
		mp_stats_layout_free(l);
		break;
	case 2:
		free(mp_stats_csv(doc, p, "nl"));
		break;
	default:
		free(mp_stats_merge(docs, 1, err, sizeof err));
		break;
	}
	free(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mp_policy *p;
	static struct mp_stats_layout *l;
	char err[256];

	if (p == NULL &&
	    (mp_policy_parse(
	         &p, mp_default_policy(), strlen(mp_default_policy()), err, sizeof err) != 0 ||
	        (l = mp_stats_layout_doc(small_doc, strlen(small_doc))) == NULL))
		__builtin_trap();
	if (size == 0)
		return 0;
	if (data[0] % 4 == 0)
		events(l, data + 1, size - 1);
	else
		document(p, data[0] % 4, data + 1, size - 1);
	return 0;
}
