/*
 * The yearly statistics (mp_stats.h): a log folded by hand, strict events,
 * disclosure control (by example and by brute force), the document's
 * bytes, layout, compare, CSV and merge.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tap.h"
#include "mp_policy.h"
#include "mp_stats.h"

#define YEAR 2026
#define NIDS 16

static const uint8_t root0[32] = { 1, 2, 3 };
static char ids[NIDS][23];

/* Case n's id: 22 b64u characters. */
static const char *
id(int n)
{
	return ids[n];
}

static void
make_ids(void)
{
	int i;

	for (i = 0; i < NIDS; i++) {
		memset(ids[i], 'A', 22);
		ids[i][20] = (char)('a' + i);
		ids[i][21] = '_';
		ids[i][22] = '\0';
	}
}

/* One event of the hand-checked log; seq is counted per case as the log is folded. */
struct logev {
	int c;
	const char *type, *month, *tail;
};

#define CR(c, m, tail) \
	{ \
		c, "created", m, tail \
	}
#define CL(c, m, tail) \
	{ \
		c, "classified", m, tail \
	}
#define ST(c, m, tail) \
	{ \
		c, "status", m, tail \
	}

static const struct logev hand_log[] = {
	CR(1, "2026-01", ",\"channel\":\"web\",\"anonymous\":true"),
	CR(6, "2025-12", ",\"channel\":\"web\",\"anonymous\":false"),
	CR(2, "2026-01", ",\"channel\":\"phone\",\"anonymous\":false"),
	CL(1, "2026-01",
	    ",\"grounds\":[\"origin\",\"religion\"],\"domain\":\"housing\","
	    "\"manifestation\":\"refusal\",\"incident_municipality\":\"leiden\","
	    "\"residence_municipality\":\"leiden\""),
	CL(6, "2026-01",
	    ",\"grounds\":[\"age\"],\"domain\":\"sport\",\"manifestation\":\"threat\","
	    "\"incident_municipality\":\"lisse\",\"residence_municipality\":\"lisse\""),
	ST(1, "2026-02", ",\"status\":\"intake\""),
	CR(3, "2026-02", ",\"channel\":\"email\",\"anonymous\":false"),
	CL(2, "2026-02",
	    ",\"grounds\":[\"origin\"],\"domain\":\"labour_market\","
	    "\"manifestation\":\"unequal_treatment\",\"incident_municipality\":\"katwijk\","
	    "\"residence_municipality\":\"leiden\""),
	ST(2, "2026-02", ",\"status\":\"intake\""),
	CL(3, "2026-03",
	    ",\"grounds\":[\"age\"],\"domain\":\"education\","
	    "\"manifestation\":\"remark\",\"incident_municipality\":\"leiden\","
	    "\"residence_municipality\":\"elsewhere\""),
	{ 3, "collective", "2026-03", ",\"collective\":\"CCCCCCCCCCCCCCCCCCCCCC\"" },
	CR(4, "2026-03", ",\"channel\":\"web\",\"anonymous\":true"),
	CR(5, "2026-04", ",\"channel\":\"web\",\"anonymous\":false"),
	CL(5, "2026-04",
	    ",\"grounds\":[\"sex\"],\"domain\":\"sport\",\"manifestation\":\"threat\","
	    "\"incident_municipality\":\"lisse\",\"residence_municipality\":\"lisse\""),
	ST(1, "2026-05", ",\"status\":\"in_progress\""),
	/* The latest classification wins, fields it leaves out included. */
	CL(5, "2026-06",
	    ",\"grounds\":[\"disability\"],\"domain\":\"housing\","
	    "\"incident_municipality\":\"leiden\",\"residence_municipality\":\"unknown\""),
	CR(8, "2026-06", ",\"channel\":\"walk_in\",\"anonymous\":false"),
	CL(8, "2026-06", ",\"grounds\":[\"origin\"]"),
	ST(8, "2026-06", ",\"status\":\"intake\""),
	ST(8, "2026-07", ",\"status\":\"registration_only\""),
	ST(1, "2026-07", ",\"status\":\"closed\",\"closure\":\"mediation\""),
	CR(9, "2026-08", ",\"channel\":\"post\",\"anonymous\":false"),
	CL(9, "2026-08",
	    ",\"grounds\":[\"other\"],\"domain\":\"public_space\","
	    "\"manifestation\":\"violence\",\"incident_municipality\":\"leiden\","
	    "\"residence_municipality\":\"katwijk\""),
	{ 9, "collective", "2026-08", ",\"collective\":\"CCCCCCCCCCCCCCCCCCCCCC\"" },
	ST(8, "2026-09", ",\"status\":\"closed\",\"closure\":\"registration_only\""),
	CR(10, "2026-11", ",\"channel\":\"web\",\"anonymous\":false"),
	CL(10, "2026-11", ",\"grounds\":[\"origin\"],\"residence_municipality\":\"noordwijk\""),
	{ 1, "purged", "2026-12", "" },
	CR(7, "2027-01", ",\"channel\":\"web\",\"anonymous\":true"),
	ST(6, "2027-01", ",\"status\":\"intake\""),
};
#define NHAND (sizeof hand_log / sizeof hand_log[0])

/* Fold one event; on failure the error is shown as a diagnostic. */
static int
add_text(struct mp_stats *s, const char *text, char *err, size_t errlen)
{
	return mp_stats_add(s, (const uint8_t *)text, strlen(text), err, errlen);
}

static int
add_ev(struct mp_stats *s, const struct logev *e, int seq)
{
	char buf[1024], err[256] = "";
	int rc;

	snprintf(buf, sizeof buf,
	    "{\"v\":1,\"case\":\"%s\",\"seq\":%d,\"type\":\"%s\","
	    "\"month\":\"%s\"%s}",
	    id(e->c), seq, e->type, e->month, e->tail);
	if ((rc = add_text(s, buf, err, sizeof err)) != 0)
		printf("# %s: %s\n", buf, err);
	return rc;
}

/* Fold the hand log in log order, or (by_case) all of one case's events before the next's. */
static int
fold_hand(struct mp_stats *s, int by_case)
{
	int seq[NIDS] = { 0 }, c;
	size_t i;

	if (!by_case) {
		for (i = 0; i < NHAND; i++)
			if (add_ev(s, &hand_log[i], ++seq[hand_log[i].c]) != 0)
				return -1;
		return 0;
	}
	for (c = NIDS - 1; c >= 0; c--)
		for (i = 0; i < NHAND; i++)
			if (hand_log[i].c == c && add_ev(s, &hand_log[i], ++seq[c]) != 0)
				return -1;
	return 0;
}

static char *
hand_doc(const struct mp_stats_layout *l, int year, int k, int by_case)
{
	struct mp_stats *s = mp_stats_new(l, year, k);
	char *doc = NULL;

	if (s != NULL && fold_hand(s, by_case) == 0)
		doc = mp_stats_document(s, "test.example/log", 42, root0, 0);
	mp_stats_free(s);
	return doc;
}

/* A cell of a document: its count, -1 when null, -2 when absent. */
static long long
cell(const char *doc, const char *table, const char *row, int col)
{
	json_t *j = json_loads(doc, 0, NULL), *v;
	long long r = -2;

	v = json_object_get(
	    json_object_get(json_object_get(json_object_get(j, "tables"), table), "rows"), row);
	if (col >= 0)
		v = json_array_get(v, (size_t)col);
	if (json_is_integer(v))
		r = json_integer_value(v);
	else if (json_is_null(v))
		r = -1;
	json_decref(j);
	return r;
}

static long long
total(const char *doc, const char *table, int col)
{
	json_t *j = json_loads(doc, 0, NULL), *t, *v;
	long long r = -2;

	t = json_object_get(json_object_get(j, "tables"), table);
	v = col >= 0 ? json_array_get(json_object_get(t, "totals"), (size_t)col)
	             : json_object_get(t, "total");
	if (json_is_integer(v))
		r = json_integer_value(v);
	json_decref(j);
	return r;
}

static long long
header(const char *doc, const char *key)
{
	json_t *j = json_loads(doc, 0, NULL), *v = json_object_get(j, key);
	long long r = json_is_integer(v) ? json_integer_value(v)
	    : json_is_true(v)            ? 1
	    : json_is_false(v)           ? 0
	                                 : -2;

	json_decref(j);
	return r;
}

/* Every cell named, all others of the table 0. */
struct want {
	const char *row;
	long long v;
};

static void
check_table(const char *doc, const char *table, const struct want *w, size_t nw, long long tot)
{
	json_t *j = json_loads(doc, 0, NULL), *rows, *v;
	const char *code;
	long long want, got;
	size_t i;
	int ok = 1;

	rows = json_object_get(json_object_get(json_object_get(j, "tables"), table), "rows");
	json_object_foreach(rows, code, v) {
		want = 0;
		for (i = 0; i < nw; i++)
			if (strcmp(w[i].row, code) == 0)
				want = w[i].v;
		got = json_is_integer(v) ? json_integer_value(v) : -1;
		if (got != want) {
			printf("# %s/%s: got %lld, want %lld\n", table, code, got, want);
			ok = 0;
		}
	}
	for (i = 0; i < nw; i++)
		if (json_object_get(rows, w[i].row) == NULL) {
			printf("# %s/%s: absent\n", table, w[i].row);
			ok = 0;
		}
	json_decref(j);
	T_OK(ok, "table %s counts as worked out by hand", table);
	T_EQ_INT(total(doc, table, -1), tot, "table %s's total is %lld", table, tot);
}

static void
test_hand(const struct mp_stats_layout *l)
{
	static const struct want ground[] = { { "origin", 4 }, { "religion", 1 }, { "age", 1 },
		{ "disability", 1 }, { "other", 1 }, { "not_classified", 1 } };
	static const struct want domain[] = { { "housing", 2 }, { "labour_market", 1 },
		{ "education", 1 }, { "public_space", 1 }, { "not_classified", 3 } };
	static const struct want manif[] = { { "refusal", 1 }, { "unequal_treatment", 1 },
		{ "remark", 1 }, { "violence", 1 }, { "not_classified", 4 } };
	static const struct want channel[] = { { "web", 4 }, { "phone", 1 }, { "email", 1 },
		{ "post", 1 }, { "walk_in", 1 } };
	static const struct want status[] = { { "received", 5 }, { "intake", 1 }, { "closed", 2 } };
	static const struct want closure[] = { { "mediation", 1 }, { "registration_only", 1 },
		{ "open", 6 } };
	static const struct want anon[] = { { "anonymous", 2 }, { "named", 6 } };
	static const struct want kind[] = { { "individual", 6 }, { "collective", 2 } };
	char *doc = hand_doc(l, YEAR, 1, 0), *d25 = NULL;
	json_t *j, *rows, *v;
	const char *code;
	int others_zero = 1;

	T_OK(doc != NULL, "the hand log folds into a document");
	if (doc == NULL)
		return;
	T_EQ_INT(
	    header(doc, "cases"), 8, "8 cases were received in 2026 (not the 2025 and 2027 ones)");
	T_EQ_INT(header(doc, "year"), YEAR, "the document names its year");
	T_EQ_INT(header(doc, "threshold"), 1, "... its threshold");
	T_EQ_INT(header(doc, "tree_size"), 42, "... its tree size");
	T_EQ_INT(header(doc, "provisional"), 0, "... and that it is final");
	check_table(doc, "ground", ground, sizeof ground / sizeof ground[0], 8);
	check_table(doc, "domain", domain, sizeof domain / sizeof domain[0], 8);
	check_table(doc, "manifestation", manif, sizeof manif / sizeof manif[0], 8);
	check_table(doc, "channel", channel, sizeof channel / sizeof channel[0], 8);
	check_table(doc, "status", status, sizeof status / sizeof status[0], 8);
	check_table(doc, "closure", closure, sizeof closure / sizeof closure[0], 8);
	check_table(doc, "anonymity", anon, 2, 8);
	check_table(doc, "kind", kind, 2, 8);

	/* Municipalities: leiden/leiden, leiden->katwijk, elsewhere->leiden, unknown->leiden,
	 * katwijk->leiden, noordwijk->(absent). */
	T_EQ_INT(cell(doc, "municipality", "leiden", 0), 1, "leiden: 1 resident, incident here");
	T_EQ_INT(
	    cell(doc, "municipality", "leiden", 1), 1, "leiden: 1 resident, incident elsewhere");
	T_EQ_INT(cell(doc, "municipality", "leiden", 2), 3,
	    "leiden: 3 non-residents (elsewhere, unknown, katwijk), incident here");
	T_EQ_INT(cell(doc, "municipality", "katwijk", 1), 1,
	    "katwijk: its resident's incident elsewhere");
	T_EQ_INT(cell(doc, "municipality", "katwijk", 2), 1,
	    "katwijk: a leiden resident's incident here");
	T_EQ_INT(cell(doc, "municipality", "katwijk", 0), 0, "katwijk: none both");
	T_EQ_INT(cell(doc, "municipality", "noordwijk", 1), 1,
	    "noordwijk: a resident whose incident place is absent counts as incident elsewhere");
	T_EQ_INT(cell(doc, "municipality", "lisse", 0), 0,
	    "lisse: the replaced classification's lisse/lisse no longer counts");
	T_EQ_INT(cell(doc, "municipality", "elsewhere", 0), -2, "elsewhere is not a row");
	T_EQ_INT(cell(doc, "municipality", "unknown", 0), -2, "unknown is not a row");
	T_EQ_INT(total(doc, "municipality", 0), 1, "column total: resident, incident here");
	T_EQ_INT(total(doc, "municipality", 1), 3, "column total: resident, incident elsewhere");
	T_EQ_INT(total(doc, "municipality", 2), 4, "column total: non-resident, incident here");
	j = json_loads(doc, 0, NULL);
	rows = json_object_get(
	    json_object_get(json_object_get(j, "tables"), "municipality"), "rows");
	T_EQ_INT(json_object_size(rows), 13, "13 served municipalities are rows, even with 0");
	json_object_foreach(rows, code, v) {
		if (strcmp(code, "leiden") && strcmp(code, "katwijk") &&
		    strcmp(code, "noordwijk") &&
		    (json_integer_value(json_array_get(v, 0)) ||
		        json_integer_value(json_array_get(v, 1)) ||
		        json_integer_value(json_array_get(v, 2))))
			others_zero = 0;
	}
	T_OK(others_zero, "every other municipality is 0, 0, 0");
	json_decref(j);

	/* Latest classification wins. */
	T_EQ_INT(cell(doc, "ground", "sex", -1), 0, "a replaced ground is not counted");
	T_EQ_INT(cell(doc, "domain", "sport", -1), 0, "a replaced domain is not counted");
	T_EQ_INT(cell(doc, "manifestation", "threat", -1), 0,
	    "a manifestation the latest classification leaves out is not counted");

	/* Year boundaries: the 2025 case counts in 2025, with its 2026 classification and 2027 status. */
	d25 = hand_doc(l, 2025, 1, 0);
	T_OK(d25 != NULL && header(d25, "cases") == 1,
	    "the 2025 log holds one case, created in 2025-12");
	if (d25 != NULL) {
		T_EQ_INT(
		    cell(d25, "ground", "age", -1), 1, "... with the classification of 2026-01");
		T_EQ_INT(
		    cell(d25, "municipality", "lisse", 0), 1, "... lisse, resident and incident");
		T_EQ_INT(cell(d25, "status", "intake", -1), 1, "... and its status of 2027-01");
	}
	free(d25);
	d25 = hand_doc(l, 2027, 1, 0);
	T_OK(d25 != NULL && header(d25, "cases") == 1 &&
	        cell(d25, "ground", "not_classified", -1) == 1,
	    "2027 holds the case created in 2027-01, not classified");
	free(d25);
	free(doc);
}

/* ---- strict events ---- */

static int
rejects(struct mp_stats *s, const char *text, const char *why)
{
	char err[256] = "";
	int rc = add_text(s, text, err, sizeof err);

	if (rc == 0)
		printf("# accepted: %s\n", text);
	else if (err[0] == '\0')
		printf("# no error text for: %s\n", text);
	return T_OK(rc == -1 && err[0] != '\0', "refused: %s (%s)", why, err);
}

static void
test_strict(const struct mp_stats_layout *l)
{
	static const char *const good[] = {
		"{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":1,\"type\":\"created\",\"month\":\"2026-03\",\"channel\":\"web\",\"anonymous\":false}",
		"{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":2,\"type\":\"classified\",\"month\":\"2026-03\",\"grounds\":[\"origin\",\"age\"],\"domain\":\"housing\",\"manifestation\":\"remark\",\"incident_municipality\":\"leiden\",\"residence_municipality\":\"elsewhere\"}",
		"{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":3,\"type\":\"status\",\"month\":\"2026-04\",\"status\":\"intake\"}",
		"{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":4,\"type\":\"collective\",\"month\":\"2026-04\",\"collective\":\"CCCCCCCCCCCCCCCCCCCCCC\"}",
		"{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":5,\"type\":\"purged\",\"month\":\"2026-05\"}",
	};
#define PRE "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":6,"
#define NEW \
	"{\"v\":1,\"case\":\"DDDDDDDDDDDDDDDDDDDDDD\",\"seq\":1,\"type\":\"created\",\"month\":\"2026-03\","
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "an empty event" },
		{ "{}", "an empty object" },
		{ "null", "JSON null" },
		{ "\xff\xfe", "bytes that are not text" },
		{ PRE "\"type\":\"purged\",\"month\":\"2026-05\"}\n", "a trailing newline" },
		{ PRE "\"type\":\"purged\", \"month\":\"2026-05\"}", "white space" },
		{ PRE "\"month\":\"2026-05\",\"type\":\"purged\"}", "keys in another order" },
		{ PRE "\"type\":\"purged\",\"month\":\"2026-05\",\"extra\":1}",
		    "an unknown member" },
		{ "{\"v\":2,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":6,\"type\":\"purged\",\"month\":\"2026-05\"}",
		    "v 2" },
		{ PRE "\"type\":\"deleted\",\"month\":\"2026-05\"}", "an unknown type" },
		{ PRE "\"type\":\"purged\",\"month\":\"2026-13\"}", "month 13" },
		{ PRE "\"type\":\"purged\",\"month\":\"2026-00\"}", "month 0" },
		{ PRE "\"type\":\"purged\",\"month\":\"0000-05\"}", "year 0" },
		{ PRE "\"type\":\"purged\",\"month\":\"2026-5\"}", "a one-digit month" },
		{ PRE "\"type\":\"purged\",\"month\":\"2026-05-01\"}", "a day instead of a month" },
		{ PRE "\"type\":\"purged\",\"month\":\"2026-02\"}",
		    "a month before the case was created" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":0,\"type\":\"purged\",\"month\":\"2026-05\"}",
		    "seq 0" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":06,\"type\":\"purged\",\"month\":\"2026-05\"}",
		    "a leading zero" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":-6,\"type\":\"purged\",\"month\":\"2026-05\"}",
		    "a negative seq" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":99999999999,\"type\":\"purged\",\"month\":\"2026-05\"}",
		    "a seq past 2^32" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":4294967295,\"type\":\"purged\",\"month\":\"2026-05\"}",
		    "a seq that skips" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":5,\"type\":\"purged\",\"month\":\"2026-05\"}",
		    "a repeated seq" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":7,\"type\":\"purged\",\"month\":\"2026-05\"}",
		    "a gap in seq" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBB\",\"seq\":1,\"type\":\"created\",\"month\":\"2026-03\",\"channel\":\"web\",\"anonymous\":false}",
		    "a 21-character id" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBB+\",\"seq\":1,\"type\":\"created\",\"month\":\"2026-03\",\"channel\":\"web\",\"anonymous\":false}",
		    "an id outside b64u" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBB\\u0042\",\"seq\":1,\"type\":\"created\",\"month\":\"2026-03\",\"channel\":\"web\",\"anonymous\":false}",
		    "an escaped character" },
		{ "{\"v\":1,\"case\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"seq\":1,\"type\":\"created\",\"month\":\"2026-03\",\"channel\":\"web\",\"anonymous\":false}",
		    "a case created twice" },
		{ "{\"v\":1,\"case\":\"EEEEEEEEEEEEEEEEEEEEEE\",\"seq\":1,\"type\":\"status\",\"month\":\"2026-03\",\"status\":\"intake\"}",
		    "an event of a case never created" },
		{ "{\"v\":1,\"case\":\"EEEEEEEEEEEEEEEEEEEEEE\",\"seq\":2,\"type\":\"created\",\"month\":\"2026-03\",\"channel\":\"web\",\"anonymous\":false}",
		    "a created event with seq 2" },
		{ NEW "\"channel\":\"fax\",\"anonymous\":false}", "a channel the layout lacks" },
		{ NEW "\"channel\":\"Web\",\"anonymous\":false}", "a code with a capital" },
		{ NEW "\"channel\":\"web\",\"anonymous\":0}", "anonymous as a number" },
		{ NEW "\"channel\":\"web\"}", "a created event without anonymous" },
		{ NEW "\"channel\":null,\"anonymous\":true}", "a null channel" },
		{ PRE "\"type\":\"classified\",\"month\":\"2026-05\",\"grounds\":[]}",
		    "an empty ground list" },
		{ PRE
		    "\"type\":\"classified\",\"month\":\"2026-05\",\"grounds\":[\"age\",\"age\"]}",
		    "a ground named twice" },
		{ PRE
		    "\"type\":\"classified\",\"month\":\"2026-05\",\"grounds\":[\"not_classified\"]}",
		    "not_classified as a ground" },
		{ PRE "\"type\":\"classified\",\"month\":\"2026-05\",\"grounds\":[\"age\",]}",
		    "a trailing comma" },
		{ PRE "\"type\":\"classified\",\"month\":\"2026-05\",\"domain\":null}",
		    "a null domain" },
		{ PRE
		    "\"type\":\"classified\",\"month\":\"2026-05\",\"domain\":\"not_classified\"}",
		    "not_classified as a domain" },
		{ PRE
		    "\"type\":\"classified\",\"month\":\"2026-05\",\"manifestation\":\"remark\",\"domain\":\"housing\"}",
		    "fields in another order" },
		{ PRE
		    "\"type\":\"classified\",\"month\":\"2026-05\",\"incident_municipality\":\"amsterdam\"}",
		    "a municipality the layout lacks" },
		{ PRE "\"type\":\"status\",\"month\":\"2026-05\",\"status\":\"closed\"}",
		    "closed without a closure" },
		{ PRE
		    "\"type\":\"status\",\"month\":\"2026-05\",\"status\":\"intake\",\"closure\":\"mediation\"}",
		    "a closure without closing" },
		{ PRE
		    "\"type\":\"status\",\"month\":\"2026-05\",\"status\":\"closed\",\"closure\":\"open\"}",
		    "open as a closure code" },
		{ PRE "\"type\":\"status\",\"month\":\"2026-05\",\"status\":\"lost\"}",
		    "a status the layout lacks" },
		{ PRE "\"type\":\"collective\",\"month\":\"2026-05\",\"collective\":\"short\"}",
		    "a collective that is not an id" },
		{ PRE "\"type\":\"purged\",\"month\":\"2026-05\"}}", "bytes after the end" },
	};
	struct mp_stats *s = mp_stats_new(l, YEAR, 5), *fresh;
	char buf[2048], err[256], *before, *after;
	size_t i, n, bytes;
	int ok, rejected;
	uint32_t x = 12345;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		T_OK(add_text(s, good[i], err, sizeof err) == 0, "a valid %s event is folded",
		    i == 0       ? "created"
		        : i == 1 ? "classified"
		        : i == 2 ? "status"
		        : i == 3 ? "collective"
		                 : "purged");
	before = mp_stats_document(s, "test.example/log", 5, root0, 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		rejects(s, bad[i].text, bad[i].why);
	T_OK(mp_stats_add(s, (const uint8_t *)"{\"v\":1\0", 7, err, sizeof err) == -1,
	    "refused: a NUL byte");
	T_OK(mp_stats_add(s, NULL, 0, err, sizeof err) == -1, "refused: no bytes at all");
	T_OK(mp_stats_add(s, (const uint8_t *)"x", 1, NULL, 0) == -1,
	    "refused without an error buffer");
	snprintf(
	    buf, sizeof buf, PRE "\"type\":\"classified\",\"month\":\"2026-05\",\"grounds\":[");
	for (i = 0; i < 65; i++)
		snprintf(
		    buf + strlen(buf), sizeof buf - strlen(buf), "%s\"g%zu\"", i ? "," : "", i);
	snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "]}");
	rejects(s, buf, "65 grounds");

	/* Every proper prefix of every valid event is refused, without reading past it. */
	fresh = mp_stats_new(l, YEAR, 5);
	ok = 1;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		n = strlen(good[i]);
		for (bytes = 0; bytes < n; bytes++) {
			uint8_t *copy = malloc(bytes + 1);

			memcpy(copy, good[i], bytes);
			if (mp_stats_add(fresh, copy, bytes, err, sizeof err) != -1)
				ok = 0;
			free(copy);
		}
		if (add_text(fresh, good[i], err, sizeof err) != 0)
			ok = 0;
	}
	T_OK(ok, "every truncation of a valid event is refused");

	/* Random byte changes: refused or (rarely) another valid event, never a crash. */
	rejected = 0;
	mp_stats_free(fresh);
	fresh = mp_stats_new(l, YEAR, 5);
	ok = add_text(fresh, good[0], err, sizeof err) == 0;
	for (i = 0; ok && i < 20000; i++) {
		size_t len = strlen(good[1]);

		memcpy(buf, good[1], len);
		x = x * 1103515245 + 12345;
		buf[(x >> 8) % len] = (char)(x >> 20);
		if (mp_stats_add(fresh, (const uint8_t *)buf, len, err, sizeof err) != 0) {
			rejected++;
			continue;
		}
		/* Accepted (a month changed, say): start again so seq 2 is due again. */
		mp_stats_free(fresh);
		fresh = mp_stats_new(l, YEAR, 5);
		ok = add_text(fresh, good[0], err, sizeof err) == 0;
	}
	T_OK(ok && rejected > 19000,
	    "changed events are refused (%d of 20000; the rest still "
	    "valid, such as another month)",
	    rejected);
	mp_stats_free(fresh);

	after = mp_stats_document(s, "test.example/log", 5, root0, 1);
	T_OK(before != NULL && after != NULL && strcmp(before, after) == 0,
	    "refused events change nothing");
	free(before);
	free(after);
	mp_stats_free(s);
#undef PRE
#undef NEW
}

/* ---- suppression ---- */

static void
show_line(const char *what, const int64_t *cells, const int *sup, size_t n)
{
	size_t i;

	printf("# %s:", what);
	for (i = 0; i < n; i++)
		printf(" %lld%s", (long long)cells[i], sup[i] ? "*" : "");
	printf("\n");
}

/*
 * Every way to fill the suppressed cells with counts >= 0 that agrees
 * with the published cells and the total: for each suppressed cell, the
 * number of values it can take and the largest.
 */
static void
enumerate(const int64_t *cells, const int *sup, size_t n, int64_t left, size_t at, int64_t *val,
    int64_t *seen_max, uint64_t *seen_mask)
{
	size_t i;
	int64_t v;

	while (at < n && !sup[at])
		at++;
	if (at == n) {
		if (left != 0)
			return;
		for (i = 0; i < n; i++) {
			if (!sup[i])
				continue;
			if (val[i] > seen_max[i])
				seen_max[i] = val[i];
			seen_mask[i] |= (uint64_t)1 << (val[i] < 63 ? val[i] : 63);
		}
		return;
	}
	for (v = 0; v <= left; v++) {
		val[at] = v;
		enumerate(cells, sup, n, left - v, at + 1, val, seen_max, seen_mask);
	}
}

static int
popcount64(uint64_t x)
{
	int n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

static void
test_suppress(void)
{
	/* One cell of 2; the total 40 is published. */
	const int64_t line[] = { 2, 10, 20, 8 };
	const int64_t ones[] = { 1, 1, 30 };
	const int64_t lone[] = { 3, 0, 0 };
	const int64_t zeros[] = { 0, 0, 0 };
	int sup[8], primary[4], k, bad_small, bad_values, bad_bound, bad_rule, lines;
	int64_t cells[6], val[6], seen_max[6], published, tot, sum;
	uint64_t seen_mask[6], x = 7;
	size_t i, n, count, nonzero, supnonzero;

	/* Primary suppression alone gives the small cell away: 40 - 10 - 20 - 8 = 2. */
	for (i = 0; i < 4; i++)
		primary[i] = line[i] >= 1 && line[i] < 5;
	T_OK(primary[0] && !primary[1] && !primary[2] && !primary[3],
	    "primary suppression alone hides only the 2 ...");
	T_EQ_INT(
	    40 - line[1] - line[2] - line[3], 2, "... which the total minus the rest gives back");
	mp_stats_suppress_line(line, 4, 5, sup);
	show_line("2 10 20 8, k 5", line, sup, 4);
	T_OK(sup[0] && sup[3] && !sup[1] && !sup[2],
	    "the smallest other cell (8) is suppressed with it, nothing else");
	memset(seen_max, 0, sizeof seen_max);
	memset(seen_mask, 0, sizeof seen_mask);
	enumerate(line, sup, 4, 40 - 10 - 20, 0, val, seen_max, seen_mask);
	T_OK(popcount64(seen_mask[0]) > 1 && popcount64(seen_mask[3]) > 1,
	    "each suppressed cell has more than one possible value (%d and %d)",
	    popcount64(seen_mask[0]), popcount64(seen_mask[3]));
	T_OK(seen_max[0] >= 5 && seen_max[3] >= 5,
	    "and either could be 5 or more (upper bounds %lld and %lld)", (long long)seen_max[0],
	    (long long)seen_max[3]);

	/* Two cells of 1: suppressed together they still sum to 2, and each is known to be >= 1. */
	mp_stats_suppress_line(ones, 3, 5, sup);
	show_line("1 1 30, k 5", ones, sup, 3);
	T_OK(sup[0] && sup[1] && sup[2],
	    "two 1s are not enough: each >= 1 with sum 2 makes both 1, so the 30 goes too");

	mp_stats_suppress_line(lone, 3, 5, sup);
	T_OK(sup[0] && sup[1] && !sup[2], "with nothing else left, one zero keeps the 3 company");
	mp_stats_suppress_line(zeros, 3, 5, sup);
	T_OK(!sup[0] && !sup[1] && !sup[2], "a line of zeros hides nothing");
	mp_stats_suppress_line(line, 4, 1, sup);
	T_OK(!sup[0] && !sup[1] && !sup[2] && !sup[3], "threshold 1 hides nothing");
	mp_stats_suppress_line(line, 4, 21, sup);
	T_OK(sup[0] && sup[1] && sup[2] && sup[3], "threshold 21 hides all four, the 20 included");

	/* Brute force over random small lines. */
	bad_small = bad_values = bad_bound = bad_rule = lines = 0;
	for (i = 0; i < 3000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		n = 2 + (size_t)((x >> 33) % 4);
		k = 2 + (int)((x >> 40) % 4);
		tot = 0;
		for (size_t j = 0; j < n; j++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			/* Mostly small values, sometimes zeros. */
			cells[j] = (int64_t)((x >> 35) % 8);
			tot += cells[j];
		}
		mp_stats_suppress_line(cells, n, k, sup);
		published = 0;
		count = nonzero = supnonzero = 0;
		sum = 0;
		for (size_t j = 0; j < n; j++) {
			if (!sup[j]) {
				published += cells[j];
				if (cells[j] >= 1 && cells[j] < k)
					bad_small++;
			} else {
				count++;
				sum += cells[j];
				supnonzero += cells[j] > 0;
			}
			nonzero += cells[j] > 0;
		}
		if (count == 0)
			continue;
		lines++;
		memset(seen_max, 0, sizeof seen_max);
		memset(seen_mask, 0, sizeof seen_mask);
		enumerate(cells, sup, n, tot - published, 0, val, seen_max, seen_mask);
		for (size_t j = 0; j < n; j++) {
			if (!sup[j])
				continue;
			if (popcount64(seen_mask[j]) < 2)
				bad_values++;
			/* Where the line's total is below k, nothing can hide it. */
			if (tot >= k && seen_max[j] < k)
				bad_bound++;
		}
		/* Either each cell could be k even if the others are all >= 1, or nothing was left. */
		if (!(count >= 2 && sum - (int64_t)(count - 1) >= k) && supnonzero != nonzero)
			bad_rule++;
		if (bad_small + bad_values + bad_bound + bad_rule > 0 &&
		    bad_small + bad_values + bad_bound + bad_rule < 3)
			show_line("bad line", cells, sup, n);
	}
	T_OK(lines > 1000, "brute force: %d random lines with suppressed cells", lines);
	T_EQ_INT(bad_small, 0, "no published cell is 1 to k-1");
	T_EQ_INT(bad_values, 0, "every suppressed cell has more than one possible value");
	T_EQ_INT(bad_bound, 0, "every suppressed cell could be k or more (where the total is)");
	T_EQ_INT(bad_rule, 0, "the sum rule holds, or every non-zero cell is suppressed");
}

/* Suppression in a whole document: columns, and cells other tables would give away. */
static void
test_suppress_doc(const struct mp_stats_layout *l)
{
	struct mp_stats *s = mp_stats_new(l, YEAR, 5);
	char buf[512], err[256];
	char *doc;
	int i, ok = 1;

	/*
	 * 30 cases: 2 housing (leiden residents, incident in katwijk), 22
	 * education (leiden/leiden), both with remark and origin; 6 unclassified.
	 * 3 closed (2 mediation, 1 withdrawn), 27 open.
	 */
	for (i = 0; i < 30 && ok; i++) {
		char cid[23];

		snprintf(cid, sizeof cid, "SUPPRESSxxxxxxxxxxx%03u", (unsigned)i % 1000);
		snprintf(buf, sizeof buf,
		    "{\"v\":1,\"case\":\"%s\",\"seq\":1,\"type\":\"created\","
		    "\"month\":\"2026-02\",\"channel\":\"web\",\"anonymous\":false}",
		    cid);
		ok &= add_text(s, buf, err, sizeof err) == 0;
		if (i < 24) {
			snprintf(buf, sizeof buf,
			    "{\"v\":1,\"case\":\"%s\",\"seq\":2,\"type\":"
			    "\"classified\",\"month\":\"2026-02\",\"grounds\":[\"origin\"],\"domain\":"
			    "\"%s\",\"manifestation\":\"remark\",\"incident_municipality\":\"%s\","
			    "\"residence_municipality\":\"leiden\"}",
			    cid, i < 2 ? "housing" : "education", i < 2 ? "katwijk" : "leiden");
			ok &= add_text(s, buf, err, sizeof err) == 0;
		}
		if (i < 3) {
			snprintf(buf, sizeof buf,
			    "{\"v\":1,\"case\":\"%s\",\"seq\":%d,\"type\":\"status\","
			    "\"month\":\"2026-03\",\"status\":\"closed\",\"closure\":\"%s\"}",
			    cid, 3, i < 2 ? "mediation" : "withdrawn");
			ok &= add_text(s, buf, err, sizeof err) == 0;
		}
	}
	T_OK(ok, "30 cases fold (%s)", ok ? "" : err);
	doc = mp_stats_document(s, "test.example/log", 64, root0, 1);
	T_OK(doc != NULL, "their document is made");
	if (doc == NULL)
		goto out;
	T_EQ_INT(header(doc, "provisional"), 1, "it says it is provisional");
	T_EQ_INT(cell(doc, "municipality", "leiden", 1), -1,
	    "leiden: 2 residents with incident elsewhere is null");
	T_EQ_INT(cell(doc, "municipality", "leiderdorp", 1), -1,
	    "with no other non-zero cell in the column, the first zero keeps it company");
	T_EQ_INT(cell(doc, "municipality", "leiden", 0), 22, "leiden: 22 both here is published");
	T_EQ_INT(cell(doc, "municipality", "katwijk", 2), -1, "katwijk: 2 non-residents is null");
	T_EQ_INT(cell(doc, "municipality", "leiden", 2), -1, "and a zero of its column with it");
	T_EQ_INT(total(doc, "municipality", 1), 2, "column totals are published");
	T_EQ_INT(cell(doc, "closure", "mediation", -1), -1, "closure: 2 mediations are null");
	T_EQ_INT(cell(doc, "closure", "withdrawn", -1), -1, "closure: 1 withdrawal is null");
	T_EQ_INT(cell(doc, "closure", "open", -1), -1,
	    "closure: the sum rule takes 'open' too (2 + 1 - 1 < 5)");
	T_EQ_INT(cell(doc, "status", "closed", -1), -1,
	    "status: closed (3) is null, as 'open' is the cases not closed");
	T_EQ_INT(cell(doc, "status", "received", -1), -1,
	    "status: received (27) hides it, since total - received = closed");
	T_EQ_INT(cell(doc, "domain", "housing", -1), -1, "domain: 2 housing is null");
	T_EQ_INT(cell(doc, "domain", "not_classified", -1), -1,
	    "domain: the smallest other cell, 6 unclassified, hides it");
	T_EQ_INT(cell(doc, "domain", "education", -1), 22, "domain: 22 education is published");
	T_EQ_INT(cell(doc, "manifestation", "not_classified", -1), -1,
	    "manifestation: 6 unclassified is null too, else housing = 30 - 22 - 6");
	T_EQ_INT(
	    cell(doc, "manifestation", "remark", -1), -1, "manifestation: remark hides that one");
	T_EQ_INT(cell(doc, "ground", "not_classified", -1), -1, "ground: unclassified is null too");
	T_EQ_INT(cell(doc, "ground", "origin", -1), -1, "ground: and origin with it");
	T_EQ_INT(total(doc, "ground", -1), 30, "totals are never suppressed");
	T_EQ_INT(header(doc, "cases"), 30, "nor the number of cases");
	free(doc);
out:
	mp_stats_free(s);
}

/* ---- the document's bytes, layout, compare ---- */

struct lines {
	char text[4096];
	int n;
};

static void
collect(void *arg, const char *line)
{
	struct lines *ls = arg;
	size_t len = strlen(ls->text);

	ls->n++;
	snprintf(ls->text + len, sizeof ls->text - len, "%s\n", line);
}

static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n;
	char *out;

	if (at == NULL)
		return NULL;
	n = strlen(s) - strlen(from) + strlen(to) + 1;
	if ((out = malloc(n)) == NULL)
		return NULL;
	snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return out;
}

/* Compare a with a copy of itself where from is replaced by to; the lines go to ls. */
static int
changed(const char *a, const char *from, const char *to, struct lines *ls)
{
	char *ch = replace(a, from, to);
	int n;

	memset(ls, 0, sizeof *ls);
	n = ch != NULL ? mp_stats_compare(ch, a, collect, ls) : -9;
	free(ch);
	return n;
}

static void
test_document(const struct mp_stats_layout *l)
{
	static const char head[] =
	    "{\n \"v\": 1,\n \"origin\": \"test.example/log\",\n"
	    " \"year\": 2026,\n \"provisional\": false,\n \"threshold\": 5,\n \"tree_size\": 42,\n"
	    " \"root\": \"AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\n \"cases\": 8,\n";
	char *a = hand_doc(l, YEAR, 5, 0), *b = hand_doc(l, YEAR, 5, 1), *c = NULL, *e, *ch;
	struct mp_stats_layout *dl = NULL;
	struct mp_stats *s;
	struct lines ls;
	int n;

	T_OK(a != NULL && b != NULL, "two folds of the same log");
	if (a == NULL || b == NULL)
		goto out;
	T_OK(strcmp(a, b) == 0,
	    "give the same bytes, in log order or one case after another "
	    "(and with other hash keys)");
	T_OK(strncmp(a, head, strlen(head)) == 0,
	    "the header's members come in the documented order and form");
	T_OK(a[strlen(a) - 1] == '\n' && a[strlen(a) - 2] == '}',
	    "the document ends with a newline");
	T_OK(
	    strstr(a,
	        "\"tables\": {\n  \"municipality\": {\n   \"columns\": [\"resident_incident_here\", "
	        "\"resident_incident_elsewhere\", \"nonresident_incident_here\"],\n   \"rows\": {\n"
	        "    \"leiden\": [") != NULL,
	    "tables start with municipality and its columns");

	/* The auditor's layout, read from the document, gives the same document. */
	dl = mp_stats_layout_doc(a, strlen(a));
	T_OK(dl != NULL, "the layout is read back from the document");
	if ((s = mp_stats_new(dl, YEAR, 5)) != NULL && fold_hand(s, 0) == 0)
		c = mp_stats_document(s, "test.example/log", 42, root0, 0);
	mp_stats_free(s);
	T_OK(c != NULL && strcmp(a, c) == 0, "folding with it gives the same bytes");
	T_OK(mp_stats_layout_doc(a, strlen(a) - 40) == NULL, "a truncated document has no layout");
	T_OK(mp_stats_layout_doc("{}", 2) == NULL, "{} has no layout");

	/* Compare: equal, a changed cell, a changed header. */
	memset(&ls, 0, sizeof ls);
	T_EQ_INT(mp_stats_compare(a, c, collect, &ls), 0, "a document equals its recomputation");
	T_EQ_INT(changed(a, "\"antisemitism\": 0,", "\"antisemitism\": 1,", &ls), 1,
	    "one changed cell is one difference");
	T_EQ_STR(ls.text, "ground/antisemitism: published 1, recomputed 0\n",
	    "... named with both values");
	T_EQ_INT(changed(a, "\"tree_size\": 42,", "\"tree_size\": 43,", &ls), 1,
	    "a changed tree size is a difference");
	T_EQ_STR(ls.text, "tree_size: published 43, recomputed 42\n", "... named so");
	T_EQ_INT(changed(a, "\"housing\": null", "\"housing\": 2", &ls), 1,
	    "a published cell the recomputation suppresses is a difference");
	T_EQ_STR(ls.text, "domain/housing: published 2, recomputed null\n", "... shown as null");
	n = changed(a, "\"katwijk\": [", "\"wassenaar\": [", &ls);
	T_OK(n >= 2 &&
	        strstr(ls.text,
	            "municipality/wassenaar/resident_incident_elsewhere: "
	            "published null, recomputed absent\n") != NULL &&
	        strstr(ls.text,
	            "municipality/katwijk/resident_incident_elsewhere: published absent, recomputed null\n") !=
	            NULL,
	    "a renamed row is a row only one side has");
	ch = replace(a, "\"threshold\": 5,", "\"threshold\": 5, \"extra\": 1,");
	T_EQ_INT(ch != NULL ? mp_stats_compare(ch, a, NULL, NULL) : -9, -1,
	    "a document with an unknown member is not compared");
	free(ch);
	T_EQ_INT(mp_stats_compare("[]", a, NULL, NULL), -1, "nor something that is not a document");

	/* Hostile documents: every truncation, and values out of range. */
	n = 0;
	for (size_t i = 0; i + 1 < strlen(a); i++) {
		e = strndup(a, i);
		if (mp_stats_layout_doc(e, i) != NULL || mp_stats_compare(e, a, NULL, NULL) != -1)
			n++;
		free(e);
	}
	T_EQ_INT(n, 0, "no truncation of a document is read as one");
	{
		static const struct {
			const char *from, *to, *why;
		} bad[] = {
			{ "\"v\": 1", "\"v\": 2", "v 2" },
			{ "\"year\": 2026", "\"year\": \"2026\"", "a year as text" },
			{ "\"year\": 2026", "\"year\": 0", "year 0" },
			{ "\"threshold\": 5", "\"threshold\": 0", "threshold 0" },
			{ "\"cases\": 8", "\"cases\": null", "null cases" },
			{ "\"cases\": 8", "\"cases\": -8", "negative cases" },
			{ "\"provisional\": false", "\"provisional\": 0",
			    "provisional as a number" },
			{ "\"origin\": \"test.example/log\"", "\"origin\": \"test example\"",
			    "an origin with a space" },
			{ "\"tree_size\": 42", "\"tree_size\": -1", "a negative tree size" },
			{ "\"root\": \"", "\"root\": \"x", "a root that is not 32 bytes" },
			{ "\"total\": 8", "\"total\": null", "a suppressed total" },
			{ "\"origin\": null", "\"origin\": -3", "a negative cell" },
			{ "\"origin\": null", "\"origin\": 1.5", "a fractional cell" },
			{ "\"origin\": null", "\"Origin\": null", "a row that is not a code" },
			{ "\"not_classified\"", "\"unclassified\"",
			    "a table without its not_classified row" },
			{ "\"anonymous\"", "\"anon\"", "anonymity with other rows" },
			{ "\"katwijk\": [", "\"elsewhere\": [",
			    "elsewhere as a served municipality" },
			{ "\"resident_incident_here\",", "\"here\",", "another column name" },
			{ "\"katwijk\": [0, ", "\"katwijk\": [", "a row of two cells" },
			{ "\"origin\": null", "\"origin\": null, \"origin\": null",
			    "a row named twice" },
			{ "\"kind\": {", "\"kinds\": {", "an unknown table" },
			{ "\"open\":", "\"total\": 0, \"open\":", "a row named total" },
		};
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			ch = replace(a, bad[i].from, bad[i].to);
			T_OK(ch != NULL && mp_stats_layout_doc(ch, strlen(ch)) == NULL &&
			        mp_stats_compare(ch, a, NULL, NULL) == -1 &&
			        mp_stats_csv(ch, NULL, NULL) == NULL,
			    "not a document: %s", bad[i].why);
			free(ch);
		}
	}
	e = malloc(200001);
	memset(e, '[', 200000);
	e[200000] = '\0';
	T_OK(mp_stats_layout_doc(e, 200000) == NULL && mp_stats_compare(e, a, NULL, NULL) == -1,
	    "deep nesting is refused, not a crash");
	free(e);
out:
	mp_stats_layout_free(dl);
	free(a);
	free(b);
	free(c);
}

/* ---- CSV ---- */

static void
test_csv(const struct mp_stats_layout *l, const struct mp_policy *p)
{
	char *doc = hand_doc(l, YEAR, 5, 0), *csv = NULL, *en = NULL, *codes = NULL, *line, *end;
	int nlines = 0, bad_shape = 0, fields;
	const char *q;

	if (doc == NULL)
		return;
	csv = mp_stats_csv(doc, p, "nl");
	en = mp_stats_csv(doc, p, "en");
	codes = mp_stats_csv(doc, NULL, NULL);
	T_OK(csv != NULL && en != NULL && codes != NULL, "the document becomes CSV");
	if (csv == NULL || en == NULL || codes == NULL)
		goto out;
	T_OK(memcmp(csv,
	         "\xef\xbb\xbfyear;provisional;table;code;label;column;column_label;value;"
	         "suppressed\r\n",
	         75) == 0,
	    "it starts with the byte order mark and the header row");
	for (line = csv + 3; *line; line = end + 2) {
		if ((end = strstr(line, "\r\n")) == NULL) {
			bad_shape++;
			break;
		}
		fields = 1;
		for (q = line; q < end; q++) {
			if (*q == '\n' || *q == '\r')
				bad_shape++;
			fields += *q == ';';
		}
		if (fields != 9)
			bad_shape++;
		nlines++;
	}
	T_EQ_INT(bad_shape, 0, "every line ends in CRLF and has 9 fields");
	/* Header, 13 municipalities x 3 + 3 totals, then rows + total of each other table. */
	T_EQ_INT(nlines,
	    1 + 13 * 3 + 3 + (16 + 1) + (16 + 1) + (10 + 1) + (5 + 1) + (6 + 1) + (9 + 1) +
	        (2 + 1) + (2 + 1),
	    "one line per cell and per total");
	T_OK(strstr(csv, "\r\n2026;0;domain;housing;Huisvesting;cases;Aantal zaken;;1\r\n") != NULL,
	    "a suppressed cell: Dutch label, empty value, suppressed 1");
	T_OK(strstr(csv, "\r\n2026;0;ground;origin;Herkomst/huidskleur (ras);cases;") != NULL,
	    "ground labels from the policy");
	T_OK(strstr(csv, "\r\n2026;0;status;received;Ontvangen;cases;Aantal zaken;") != NULL,
	    "a status label is the first sentence of the policy's");
	T_OK(strstr(csv, "\r\n2026;0;ground;total;Totaal;cases;Aantal zaken;8;0\r\n") != NULL,
	    "each table's total is a line");
	T_OK(strstr(csv,
	         "\r\n2026;0;municipality;leiden;Leiden;nonresident_incident_here;"
	         "Geen inwoner, voorval in de gemeente;") != NULL,
	    "municipality columns have labels");
	T_OK(strstr(en, "\r\n2026;0;domain;housing;Housing;cases;Cases;;1\r\n") != NULL,
	    "English labels with lang en");
	T_OK(strstr(codes, "\r\n2026;0;domain;housing;housing;cases;cases;;1\r\n") != NULL,
	    "without a policy the labels are the codes");
	T_OK(mp_stats_csv("{}", p, "nl") == NULL, "no CSV from something that is not a document");
out:
	free(doc);
	free(csv);
	free(en);
	free(codes);
}

/* ---- merge ---- */

static char *
doc_with(const struct mp_stats_layout *l, const char *origin, int year, int k, int ncases,
    const char *incident, const char *first_ground)
{
	struct mp_stats *s = mp_stats_new(l, year, k);
	char buf[512], cid[23], *doc = NULL;
	int i, ok = s != NULL;

	for (i = 0; ok && i < ncases; i++) {
		snprintf(cid, sizeof cid, "MERGE%.5sxxxxxxxxx%03u", origin, (unsigned)i % 1000);
		snprintf(buf, sizeof buf,
		    "{\"v\":1,\"case\":\"%s\",\"seq\":1,\"type\":\"created\","
		    "\"month\":\"%d-05\",\"channel\":\"web\",\"anonymous\":false}",
		    cid, year);
		ok = add_text(s, buf, NULL, 0) == 0;
		snprintf(buf, sizeof buf,
		    "{\"v\":1,\"case\":\"%s\",\"seq\":2,\"type\":\"classified\","
		    "\"month\":\"%d-05\",\"grounds\":[\"%s\"],\"incident_municipality\":\"%s\","
		    "\"residence_municipality\":\"%s\"}",
		    cid, year, i == 0 ? first_ground : "origin", incident, incident);
		ok = ok && add_text(s, buf, NULL, 0) == 0;
	}
	if (ok)
		doc = mp_stats_document(s, origin, (uint64_t)ncases * 2, root0, 0);
	mp_stats_free(s);
	return doc;
}

/* The line of a policy section that starts with prefix, without its newline (malloc'ed). */
static char *
policy_line(const char *section, const char *prefix)
{
	const char *at, *end;
	size_t n = strlen(prefix);

	for (at = section; at != NULL && *at != '\0';
	     at = strchr(at, '\n') ? strchr(at, '\n') + 1 : NULL) {
		if (strncmp(at, prefix, n) != 0)
			continue;
		end = strchr(at, '\n');
		return strndup(at, end != NULL ? (size_t)(end - at) : strlen(at));
	}
	return NULL;
}

static void
test_merge(const struct mp_stats_layout *l, const struct mp_policy *p)
{
	struct mp_policy *p2 = NULL;
	struct mp_stats_layout *l2 = NULL;
	const char *def = mp_default_policy(), *docs[3];
	char *text = NULL, *a, *b, *c, *d, *m = NULL, err[256] = "";
	char *lei, *els, *unk, *was = NULL, *was2 = NULL;
	const char *from, *to;
	json_t *j;

	(void)p;
	/*
	 * A second service with another municipality list: leiden and wassenaar
	 * (leiden's line with the name changed, so that every language has a
	 * label), whose Dutch label needs quoting and must not compute in a
	 * spreadsheet.
	 */
	from = strstr(def, "[municipalities]\n");
	to = from != NULL ? strstr(from, "\n[") : NULL;
	lei = policy_line(from, "leiden ");
	els = policy_line(from, "elsewhere ");
	unk = policy_line(from, "unknown ");
	if (to != NULL && lei != NULL && els != NULL && unk != NULL &&
	    (was = replace(lei, "leiden ", "wassenaar ")) != NULL &&
	    (was2 = replace(was, "nl: Leiden", "nl: =Was\"se;naar")) != NULL &&
	    (text = malloc(strlen(def) + 1024)) != NULL)
		snprintf(text, strlen(def) + 1024, "%.*s[municipalities]\n%s\n%s\n%s\n%s%s",
		    (int)(from - def), def, lei, was2, els, unk, to);
	free(lei);
	free(els);
	free(unk);
	free(was);
	free(was2);
	T_OK(text != NULL && mp_policy_parse(&p2, text, strlen(text), err, sizeof err) == 0 &&
	        (l2 = mp_stats_layout_policy(p2)) != NULL,
	    "a second service's policy (%s)", err);
	free(text);
	text = NULL;
	if (l2 == NULL)
		goto out;

	/* a: age 1 (suppressed) and origin 11 (its complement); b: origin 9 (published). */
	a = doc_with(l, "leiden.example/log", YEAR, 5, 12, "leiden", "age");
	b = doc_with(l2, "wassenaar.example/log", YEAR, 3, 9, "wassenaar", "origin");
	c = doc_with(l, "other.example/log", YEAR + 1, 5, 3, "leiden", "origin");
	d = doc_with(l2, "leiden.example/log", YEAR, 3, 4, "leiden", "origin");
	docs[0] = a;
	docs[1] = b;
	m = mp_stats_merge(docs, 2, err, sizeof err);
	T_OK(m != NULL, "two services' documents of one year merge (%s)", err);
	if (m == NULL)
		goto free_docs;
	j = json_loads(m, 0, NULL);
	T_OK(json_array_size(json_object_get(j, "origins")) == 2 &&
	        strcmp(json_string_value(json_array_get(json_object_get(j, "origins"), 1)),
	            "wassenaar.example/log") == 0,
	    "origin becomes the list origins, in order");
	T_OK(json_array_size(json_object_get(j, "sources")) == 2 &&
	        json_integer_value(json_object_get(
	            json_array_get(json_object_get(j, "sources"), 1), "tree_size")) == 18,
	    "each source keeps its tree size and root");
	T_OK(json_object_get(j, "origin") == NULL && json_object_get(j, "tree_size") == NULL,
	    "and the single-service members are gone");
	json_decref(j);
	T_EQ_INT(header(m, "threshold"), 5, "the threshold is the largest");
	T_EQ_INT(header(m, "cases"), 21, "cases add up");
	T_EQ_INT(cell(b, "ground", "origin", -1), 9, "b publishes origin");
	T_EQ_INT(cell(m, "ground", "origin", -1), -1, "a cell suppressed in any input is null");
	T_EQ_INT(cell(m, "channel", "web", -1), 12 + 9, "a cell is the sum (12 + 9)");
	T_EQ_INT(cell(m, "anonymity", "named", -1), 21, "in every table");
	T_EQ_INT(cell(m, "municipality", "leiden", 0), 12, "leiden from the first service");
	T_EQ_INT(cell(m, "municipality", "wassenaar", 0), 9, "wassenaar from the second");
	T_EQ_INT(cell(m, "municipality", "katwijk", 0), 0, "rows are the union");
	T_EQ_INT(total(m, "municipality", 0), 21, "column totals add up");
	{
		struct mp_stats_layout *ml = mp_stats_layout_doc(m, strlen(m));
		char *csv = mp_stats_csv(m, p, "nl"), *csv2;

		T_OK(ml != NULL && csv != NULL, "a merged document has a layout and a CSV");
		csv2 = mp_stats_csv(m, p2, "nl");
		T_OK(csv2 != NULL &&
		        strstr(csv2,
		            ";municipality;wassenaar;\"'=Was\"\"se;naar\";resident_incident_here;") !=
		            NULL,
		    "a label with ; and \" is quoted, and one starting with = cannot compute");
		free(csv2);
		mp_stats_layout_free(ml);
		free(csv);
	}
	T_OK(strstr(m, "\"wassenaar\"") > strstr(m, "\"alphen_aan_den_rijn\""),
	    "rows first seen in a later document come after the earlier ones");

	docs[1] = c;
	T_OK(mp_stats_merge(docs, 2, err, sizeof err) == NULL && strstr(err, "2027") != NULL,
	    "documents of different years are refused (%s)", err);
	docs[1] = a;
	T_OK(mp_stats_merge(docs, 2, err, sizeof err) == NULL && strstr(err, "leiden.example/log"),
	    "the same service twice is refused (%s)", err);
	docs[1] = d;
	T_OK(mp_stats_merge(docs, 2, err, sizeof err) == NULL,
	    "two documents with one origin are refused (%s)", err);
	docs[0] = m;
	docs[1] = c;
	text = mp_stats_merge(docs, 1, err, sizeof err);
	T_OK(text != NULL &&
	        strstr(text,
	            "\"origins\": [\"leiden.example/log\", "
	            "\"wassenaar.example/log\"]") != NULL,
	    "a merged document merges again, origins kept");
	free(text);
	docs[1] = "{\"v\":1}";
	T_OK(mp_stats_merge(docs, 2, err, sizeof err) == NULL && strstr(err, "document 2") != NULL,
	    "a broken document is named (%s)", err);
	T_OK(mp_stats_merge(docs, 0, err, sizeof err) == NULL, "nothing to merge is an error");
free_docs:
	free(a);
	free(b);
	free(c);
	free(d);
out:
	free(m);
	mp_stats_layout_free(l2);
	mp_policy_free(p2);
}

/* ---- size ---- */

/*
 * Many cases: the table grows, and the count stays right.  MP_STATS_CASES
 * sets how many (default 100000); with 1000000 this is the benchmark in
 * docs/STATISTICS.md: `MP_STATS_CASES=1000000 /usr/bin/time -f '%M KiB'
 * build/tests/test_stats`.
 */
static void
test_many(const struct mp_stats_layout *l)
{
	const char *env = getenv("MP_STATS_CASES");
	long n = env != NULL ? strtol(env, NULL, 10) : 100000, i, want = 0;
	struct mp_stats *s = mp_stats_new(l, YEAR, 5);
	char buf[256], cid[23], err[256] = "", *doc = NULL;
	struct timespec t0, t1;
	int ok = s != NULL;

	if (n < 1 || n > 100000000)
		n = 100000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; ok && i < n; i++) {
		snprintf(cid, sizeof cid, "many%018lu", (unsigned long)i % 1000000000000000000UL);
		snprintf(buf, sizeof buf,
		    "{\"v\":1,\"case\":\"%s\",\"seq\":1,\"type\":\"created\","
		    "\"month\":\"%s\",\"channel\":\"web\",\"anonymous\":true}",
		    cid, i % 4 == 0 ? "2025-12" : "2026-01");
		ok = add_text(s, buf, err, sizeof err) == 0;
		want += i % 4 != 0;
	}
	for (i = 0; ok && i < n; i++) {
		snprintf(cid, sizeof cid, "many%018lu", (unsigned long)i % 1000000000000000000UL);
		snprintf(buf, sizeof buf,
		    "{\"v\":1,\"case\":\"%s\",\"seq\":2,\"type\":\"status\","
		    "\"month\":\"2026-02\",\"status\":\"intake\"}",
		    cid);
		ok = add_text(s, buf, err, sizeof err) == 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	T_OK(ok, "%ld cases, 2 events each, fold (%s)", n, err);
	printf("# %ld events (made and folded) in %.2f s\n", 2 * n,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (ok)
		doc = mp_stats_document(s, "test.example/log", (uint64_t)(2 * n), root0, 0);
	T_OK(doc != NULL && header(doc, "cases") == want, "3 in 4 of them are of 2026");
	T_OK(doc != NULL && cell(doc, "status", "intake", -1) == want,
	    "and all of those are in intake");
	free(doc);
	mp_stats_free(s);
}

int
main(void)
{
	struct mp_policy *p = NULL;
	struct mp_stats_layout *l = NULL;
	const char *def = mp_default_policy();
	char err[256] = "";

	make_ids();
	T_OK(mp_policy_parse(&p, def, strlen(def), err, sizeof err) == 0, "the default policy (%s)",
	    err);
	if (p == NULL)
		return t_done();
	l = mp_stats_layout_policy(p);
	T_OK(l != NULL, "its statistics layout");
	if (l == NULL)
		goto out;
	T_OK(mp_stats_new(l, 0, 5) == NULL && mp_stats_new(l, YEAR, 0) == NULL &&
	        mp_stats_new(NULL, YEAR, 5) == NULL,
	    "no statistics for year 0, threshold 0 or no layout");
	test_hand(l);
	test_strict(l);
	test_suppress();
	test_suppress_doc(l);
	test_document(l);
	test_csv(l, p);
	test_merge(l, p);
	test_many(l);
out:
	mp_stats_layout_free(l);
	mp_policy_free(p);
	return t_done();
}
