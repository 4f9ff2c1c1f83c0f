/*
 * meldpunt audit: an auditor's check, from outside the server, that the
 * transparency log only ever grew and that a year's published statistics
 * follow from the events in it (PROTOCOL.md sections 5 and 6, docs/AUDIT.md).
 *
 * Nothing the server says is taken on trust except through the verifier
 * key the auditor was given: checkpoints and statistics documents must be
 * signed by it, every leaf is hashed here, every opened event is committed
 * here, and the statistics are folded here by the same mp_stats code the
 * server runs.  Each step prints what matched or exactly what did not, and
 * the audit goes on after a failure so that one run shows every problem.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "mp_b64.h"
#include "mp_merkle.h"
#include "mp_note.h"
#include "mp_stats.h"
#include "util.h"

#define PAGE 1000 /* leaves or events per request: the server's page */
#define NOTE_MAX (64 * 1024)
#define DOC_MAX (16 * 1024 * 1024)
#define SIG_FILE_MAX 1024
#define JSON_PAGE_MAX (64 * 1024 * 1024)
/* 8 GiB of leaves; a meldpunt logs thousands of events a year, so more is no log of ours. */
#define LEAVES_MAX ((uint64_t)1 << 28)
#define SHOWN_MAX 20 /* problems of one kind printed in full per step */
#define LINE_MAX_LEN 1024
#define WHY_LEN 512

static const char audit_usage[] =
    "meldpunt audit --key VERIFIER --year YYYY [--url URL] [--auditor-key FILE]\n"
    "                [--state FILE] [--stats FILE] [--json]";

static const char audit_help[] =
    "Audit a meldpunt's transparency log and its statistics of one year, as an\n"
    "outsider: only the log's verifier key is trusted.  Five steps, each printed\n"
    "as lines beginning \"ok\" or \"FAIL\":\n"
    "  checkpoint    the server's latest checkpoint is signed by the verifier key\n"
    "  consistency   it extends the checkpoint this auditor saw before (kept in the\n"
    "                state file); otherwise the log was rewritten: a fork\n"
    "  leaves        every leaf, hashed here, gives the checkpoint's root\n"
    "  events        every opened event is there, in order, and matches its leaf\n"
    "  statistics    the year's document is signed by the log key, names a tree\n"
    "                the log contains, and recomputing it from the events gives\n"
    "                the same cells\n"
    "The last line says whether the audit passed.  Exit status 0 when everything\n"
    "matched, 1 when anything did not (or could not be checked), 2 on bad usage.\n"
    "\n"
    "  --key VERIFIER      the log's verifier key (ORIGIN+HASH+KEY, as `meldpunt\n"
    "                      init` printed it), or a file that holds it\n"
    "  --year YYYY         the year whose statistics are audited\n"
    "  --url URL           the server (default: $MELDPUNT_URL, else " MP_DEFAULT_URL ")\n"
    "  --auditor-key FILE  your auditor key file (default: $MELDPUNT_KEY), to open the\n"
    "                      events; its passphrase is asked on the terminal, or taken\n"
    "                      from $MELDPUNT_PASSPHRASE\n"
    "  --state FILE        the checkpoint seen before (default:\n"
    "                      $XDG_STATE_HOME/meldpunt/audit/ORIGIN.checkpoint, else\n"
    "                      ~/.local/state/meldpunt/audit/ORIGIN.checkpoint)\n"
    "  --stats FILE        audit this statistics document (signature in FILE.sig)\n"
    "                      instead of the one the server publishes now\n"
    "  --json              print the result as one JSON object\n";

/* The statistics document under audit, read before the leaves are streamed. */
struct doc {
	char *text;
	size_t len;
	char what[PATH_MAX + 32]; /* "FILE" or "the server's document", for messages */
	uint8_t sig[crypto_sign_BYTES];
	char why[WHY_LEN]; /* why it could not be had or read, else "" */
	/* What it names: */
	json_t *j;
	const char *origin;
	int year, threshold, provisional;
	uint64_t tree_size;
	uint8_t root[MP_HASH_LEN];
	/* Filled while auditing: */
	uint8_t leaves_root[MP_HASH_LEN]; /* root of the first tree_size leaves fetched */
	int have_leaves_root;
	struct mp_stats_layout *layout;
	struct mp_stats *stats;
	uint64_t folded;
	unsigned long fold_errors;
	json_t *fold_lines; /* the first SHOWN_MAX of them */
};

struct audit {
	const char *base; /* the server URL without a trailing '/' */
	size_t baselen;
	struct mp_verifier v;
	int year, json;
	struct mp_client *client; /* signed requests: the opened events */
	CURL *curl;               /* unsigned requests: the public routes */
	char errbuf[CURL_ERROR_SIZE];

	char *note; /* the verified checkpoint */
	size_t notelen;
	uint64_t size;
	uint8_t root[MP_HASH_LEN];
	uint8_t (*leaves)[MP_HASH_LEN];
	uint64_t nleaves;    /* fetched, from index 0 */
	uint64_t first_hole; /* the first leaf the server did not serve, or UINT64_MAX */
	struct doc doc;

	const char *step; /* the step being reported */
	int step_ok;
	json_t *lines, *steps; /* --json */
	char failed[128];      /* names of the steps that failed */
};

/* ---- reporting ---- */

static void textf(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A message into out: one cut short (a long path) still says what happened. */
static void
textf(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

static void vreport(struct audit *a, int ok, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void report(struct audit *a, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(struct audit *a, unsigned long *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
vreport(struct audit *a, int ok, const char *fmt, va_list ap)
{
	char text[LINE_MAX_LEN];
	json_t *s;

	vsnprintf(text, sizeof text, fmt, ap);
	if (!ok)
		a->step_ok = 0;
	if (a->json) {
		/* Server text in a line may not be UTF-8; the line is kept all the same. */
		if ((s = json_string(text)) == NULL)
			s = json_string("(a line that is not UTF-8)");
		json_array_append_new(a->lines, s);
		return;
	}
	printf("%-4s %s: ", ok ? "ok" : "FAIL", a->step);
	mp_print_line(stdout, text); /* it may quote the server: no terminal controls */
	putchar('\n');
}

static void
report(struct audit *a, int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(a, ok, fmt, ap);
	va_end(ap);
}

/*
 * A failure that may come thousands of times (a rewritten log): the first
 * SHOWN_MAX of a kind are printed, all are counted in *count for the
 * step's summary line.
 */
static void
problem(struct audit *a, unsigned long *count, const char *fmt, ...)
{
	va_list ap;

	a->step_ok = 0;
	if (++*count > SHOWN_MAX)
		return;
	va_start(ap, fmt);
	vreport(a, 0, fmt, ap);
	va_end(ap);
}

static void
step_begin(struct audit *a, const char *name)
{
	a->step = name;
	a->step_ok = 1;
	if (a->json)
		a->lines = json_array();
}

static int
step_end(struct audit *a)
{
	size_t n = strlen(a->failed);

	if (a->json) {
		json_array_append_new(a->steps,
		    json_pack("{s:s, s:b, s:o}", "step", a->step, "ok", a->step_ok, "lines",
		        a->lines ? a->lines : json_array()));
		a->lines = NULL;
	}
	if (!a->step_ok)
		snprintf(a->failed + n, sizeof a->failed - n, "%s%s", n ? ", " : "", a->step);
	fflush(stdout);
	return a->step_ok ? 0 : -1;
}

static const char *
hash_b64(char out[MP_B64_LEN(MP_HASH_LEN)], const uint8_t h[MP_HASH_LEN])
{
	if (mp_b64_encode(out, MP_B64_LEN(MP_HASH_LEN), h, MP_HASH_LEN) != 0)
		out[0] = '\0';
	return out;
}

/* ---- unsigned requests to the public routes ---- */

/*
 * GET path (beginning with '/') from the server, unsigned: its bytes go to
 * *b (b->max bounds them).  0 for a 200 answer; -1 with why saying what
 * failed: the server cannot be reached, or its status and error message.
 */
static int
get_public(struct audit *a, const char *path, struct mp_answer *b, char *why, size_t whylen)
{
	char url[4096];
	const char *msg;
	json_t *j;
	long status = 0;
	int n;
	CURLcode cc;

	b->len = 0;
	b->too_large = 0;
	if (b->buf == NULL)
		b->cap = 0; /* a buffer handed on to its new owner */
	n = snprintf(url, sizeof url, "%.*s%s", (int)a->baselen, a->base, path);
	if (n < 0 || (size_t)n >= sizeof url) {
		textf(why, whylen, "the URL is too long");
		return -1;
	}
	curl_easy_reset(a->curl); /* keeps the connection for the next page */
	if (mp_client_setup(a->curl, url, a->errbuf) != 0 ||
	    curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, mp_answer_write) != CURLE_OK ||
	    curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, b) != CURLE_OK) {
		textf(why, whylen, "cannot set up a request");
		return -1;
	}
	if ((cc = curl_easy_perform(a->curl)) != CURLE_OK) {
		if (b->too_large)
			textf(why, whylen, "GET %s: the answer is larger than %zu bytes", path,
			    b->max);
		else
			textf(why, whylen, "GET %s: %s", path,
			    a->errbuf[0] ? a->errbuf : curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
	/* An empty answer is still a string. */
	if (b->buf == NULL && (b->buf = calloc(1, 1)) == NULL) {
		textf(why, whylen, "out of memory");
		return -1;
	}
	b->cap = b->cap ? b->cap : 1;
	if (status == 200)
		return 0;
	j = json_loadb(b->buf, b->len, 0, NULL);
	msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	textf(why, whylen, "GET %s: HTTP %ld%s%s", path, status, msg ? ", " : "", msg ? msg : "");
	json_decref(j);
	return -1;
}

/* GET path as a JSON object; 0, or -1 with why. */
static int
get_json(struct audit *a, const char *path, json_t **out, char *why, size_t whylen)
{
	struct mp_answer b = { NULL, 0, 0, JSON_PAGE_MAX, 0 };
	int rc = -1;

	*out = NULL;
	if (get_public(a, path, &b, why, whylen) != 0)
		goto out;
	*out = json_loadb(b.buf, b.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		textf(why, whylen, "GET %s: the answer is not a JSON object", path);
		goto out;
	}
	rc = 0;
out:
	free(b.buf);
	return rc;
}

/* A JSON array of b64u hashes into h[0..*n); 0, or -1 if it is not one. */
static int
hashes_parse(const json_t *arr, uint8_t (*h)[MP_HASH_LEN], size_t max, size_t *n)
{
	const json_t *s;
	const char *t;
	size_t i;

	*n = 0;
	if (!json_is_array(arr) || json_array_size(arr) > max)
		return -1;
	json_array_foreach(arr, i, s) {
		if ((t = json_string_value(s)) == NULL ||
		    mp_b64u_decode_exact(h[i], MP_HASH_LEN, t, strlen(t)) != 0)
			return -1;
	}
	*n = json_array_size(arr);
	return 0;
}

/* A non-negative integer member of o; 0, or -1 if it is absent or is none. */
static int
json_u64(const json_t *o, const char *name, uint64_t *v)
{
	const json_t *j = json_object_get(o, name);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

/* ---- the state file ---- */

/* $XDG_STATE_HOME/meldpunt/audit/<origin>.checkpoint, else under ~/.local/state.  0 or -1. */
static int
default_state_path(char *out, size_t outlen, const char *origin)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char name[MP_ORIGIN_MAX + 1];
	size_t i;
	int n;

	/* An origin is a URL-like name: keep it readable, but never a path of its own. */
	for (i = 0; origin[i] != '\0' && i < MP_ORIGIN_MAX; i++) {
		char c = origin[i];
		int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || (c == '.' && i > 0);
		name[i] = safe ? c : '_';
	}
	name[i] = '\0';
	/* XDG says a relative XDG_STATE_HOME is to be ignored. */
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/meldpunt/audit/%s.checkpoint", xdg, name);
	else if (home != NULL && home[0] == '/')
		n = snprintf(
		    out, outlen, "%s/.local/state/meldpunt/audit/%s.checkpoint", home, name);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Create the missing parent directories of path, mode 0700: they say whom one audits. */
static int
make_parents(const char *path)
{
	char dir[PATH_MAX];
	size_t i, n = strlen(path);

	if (n >= sizeof dir)
		return -1;
	memcpy(dir, path, n + 1);
	for (i = 1; i < n; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
		dir[i] = '/';
	}
	return 0;
}

/*
 * Replace path with text, mode 0600, by a rename, so that a crash leaves
 * either the old checkpoint or the new one, never half of one.  0 or -1.
 */
static int
save_file(const char *path, const char *text, size_t len, char *why, size_t whylen)
{
	char tmp[PATH_MAX];
	int n;

	n = snprintf(tmp, sizeof tmp, "%s.new", path);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		textf(why, whylen, "the path %s is too long", path);
		return -1;
	}
	if (make_parents(path) != 0) {
		textf(
		    why, whylen, "cannot create the directories of %s: %s", path, strerror(errno));
		return -1;
	}
	/* What a crash left behind; mp_write_file_new never overwrites. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		textf(why, whylen, "cannot remove %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (mp_write_file_new(tmp, text, len) != 0) {
		textf(why, whylen, "cannot write %s", tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		textf(why, whylen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- step a: the checkpoint ---- */

static int
step_checkpoint(struct audit *a)
{
	struct mp_answer b = { NULL, 0, 0, NOTE_MAX, 0 };
	char why[WHY_LEN], r64[MP_B64_LEN(MP_HASH_LEN)];

	step_begin(a, "checkpoint");
	if (get_public(a, "/api/v1/log/checkpoint", &b, why, sizeof why) != 0) {
		report(a, 0, "cannot fetch the checkpoint: %s", why);
		goto out;
	}
	if (mp_checkpoint_open(b.buf, b.len, &a->v, &a->size, a->root, why, sizeof why) != 0) {
		report(a, 0, "the server's checkpoint does not verify with the key of %s: %s",
		    a->v.origin, why);
		goto out;
	}
	a->note = b.buf;
	a->notelen = b.len;
	b.buf = NULL;
	report(a, 1, "signed by the log key of %s; tree size %llu, root %s", a->v.origin,
	    (unsigned long long)a->size, hash_b64(r64, a->root));
out:
	free(b.buf);
	return step_end(a);
}

/* ---- step b: consistency with the checkpoint seen before ---- */

/* Is the tree (m, root_m) a prefix of the checkpoint's?  0 yes, 1 fork, -1 no proof. */
static int
prefix_check(
    struct audit *a, uint64_t m, const uint8_t root_m[MP_HASH_LEN], char *why, size_t whylen)
{
	uint8_t proof[MP_PROOF_MAX][MP_HASH_LEN];
	char path[128];
	json_t *resp = NULL;
	uint64_t from, to;
	size_t n;
	int rc = -1;

	snprintf(path, sizeof path, "/api/v1/log/consistency?from=%llu&to=%llu",
	    (unsigned long long)m, (unsigned long long)a->size);
	if (get_json(a, path, &resp, why, whylen) != 0)
		goto out;
	if (json_u64(resp, "from", &from) != 0 || json_u64(resp, "to", &to) != 0 || from != m ||
	    to != a->size ||
	    hashes_parse(json_object_get(resp, "hashes"), proof, MP_PROOF_MAX, &n) != 0) {
		textf(why, whylen, "GET %s: not a consistency proof from %llu to %llu", path,
		    (unsigned long long)m, (unsigned long long)a->size);
		goto out;
	}
	rc = mp_merkle_verify_consistency(
	         m, a->size, root_m, a->root, (const uint8_t(*)[MP_HASH_LEN])proof, n) == 0
	    ? 0
	    : 1;
out:
	json_decref(resp);
	return rc;
}

static int
step_consistency(struct audit *a, const char *state)
{
	char why[WHY_LEN], evidence[PATH_MAX], r64[MP_B64_LEN(MP_HASH_LEN)],
	    o64[MP_B64_LEN(MP_HASH_LEN)];
	uint8_t old_root[MP_HASH_LEN];
	unsigned long long m, n = (unsigned long long)a->size;
	char *old = NULL;
	size_t oldlen = 0;
	uint64_t old_size;
	struct stat st;
	int r, forked = 0;

	step_begin(a, "consistency");
	if (lstat(state, &st) != 0 && errno == ENOENT) {
		if (save_file(state, a->note, a->notelen, why, sizeof why) != 0)
			report(a, 0,
			    "first audit of this log, but the checkpoint cannot be kept: %s", why);
		else
			report(a, 1,
			    "first audit of this log: nothing seen before to compare with; "
			    "tree size %llu kept in %s",
			    n, state);
		goto out;
	}
	if (mp_read_file(state, NOTE_MAX, &old, &oldlen) != 0) {
		report(a, 0, "cannot read the checkpoint seen before from %s", state);
		goto out;
	}
	/* A state file is only as good as its signature: it may be another log's. */
	if (mp_checkpoint_open(old, oldlen, &a->v, &old_size, old_root, why, sizeof why) != 0) {
		report(a, 0,
		    "the checkpoint kept in %s does not verify with the key of %s (%s); "
		    "if it belongs to another log, pass --state",
		    state, a->v.origin, why);
		goto out;
	}
	m = (unsigned long long)old_size;
	if (n < m) {
		forked = 1;
		report(
		    a, 0, "fork: the log shrank from tree size %llu (seen before) to %llu", m, n);
	} else if (n == m) {
		forked = memcmp(old_root, a->root, MP_HASH_LEN) != 0;
		if (forked)
			report(a, 0,
			    "fork: two checkpoints of tree size %llu with different roots "
			    "(seen before %s, now %s)",
			    n, hash_b64(o64, old_root), hash_b64(r64, a->root));
		else
			report(a, 1, "the same checkpoint as seen before (tree size %llu)", n);
	} else {
		/* The empty tree is a prefix of every tree: there is no proof to ask for. */
		if ((r = m == 0 ? 0 : prefix_check(a, old_size, old_root, why, sizeof why)) < 0) {
			report(a, 0, "cannot check tree size %llu (seen before) against %llu: %s",
			    m, n, why);
			goto out;
		}
		forked = r != 0;
		if (forked)
			report(a, 0,
			    "fork: the checkpoint of tree size %llu is not consistent with "
			    "the one of tree size %llu seen before (the consistency proof fails)",
			    n, m);
		else if (save_file(state, a->note, a->notelen, why, sizeof why) != 0)
			report(a, 0,
			    "tree size %llu extends %llu seen before, but the checkpoint "
			    "cannot be kept: %s",
			    n, m, why);
		else
			report(a, 1,
			    "tree size %llu extends tree size %llu seen before; kept in %s", n, m,
			    state);
	}
	/* Two signed checkpoints that conflict are the proof; keep the new one beside the old. */
	if (forked) {
		r = snprintf(evidence, sizeof evidence, "%s.fork-%llu", state, n);
		if (r > 0 && (size_t)r < sizeof evidence &&
		    save_file(evidence, a->note, a->notelen, why, sizeof why) == 0)
			report(a, 0,
			    "both signed checkpoints are evidence: %s (seen before) and %s "
			    "(now); the state file was left as it was",
			    state, evidence);
	}
out:
	mp_secret_free(old);
	return step_end(a);
}

/* ---- the statistics document, read before the leaves stream by ---- */

static void
doc_clear(struct doc *d)
{
	free(d->text);
	json_decref(d->j);
	json_decref(d->fold_lines);
	mp_stats_free(d->stats);
	mp_stats_layout_free(d->layout);
}

/* A .sig: b64 of the 64-byte signature and a newline.  0 or -1. */
static int
sig_parse(struct doc *d, const char *text, size_t len)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	return mp_b64_decode_exact(d->sig, sizeof d->sig, text, len) == 0 ? 0 : -1;
}

/* What the document names: origin, year, threshold, tree size, root.  0, or -1 with d->why. */
static int
doc_parse(struct doc *d)
{
	const char *root;

	d->j = json_loadb(d->text, d->len, JSON_REJECT_DUPLICATES, NULL);
	root = json_string_value(json_object_get(d->j, "root"));
	d->origin = json_string_value(json_object_get(d->j, "origin"));
	d->year = (int)json_integer_value(json_object_get(d->j, "year"));
	d->threshold = (int)json_integer_value(json_object_get(d->j, "threshold"));
	d->provisional = json_is_true(json_object_get(d->j, "provisional"));
	if (!json_is_object(d->j) || json_integer_value(json_object_get(d->j, "v")) != 1 ||
	    d->origin == NULL || d->year < MP_YEAR_MIN || d->year > MP_YEAR_MAX ||
	    d->threshold < 1 || json_u64(d->j, "tree_size", &d->tree_size) != 0 || root == NULL ||
	    mp_b64u_decode_exact(d->root, sizeof d->root, root, strlen(root)) != 0) {
		textf(d->why, sizeof d->why, "%s is not a statistics document", d->what);
		return -1;
	}
	return 0;
}

/* Read --stats FILE and FILE.sig.  0, or -1 with d->why. */
static int
doc_read(struct doc *d, const char *file)
{
	char sigpath[PATH_MAX], *t = NULL;
	size_t tlen = 0;
	int n, rc = -1;

	textf(d->what, sizeof d->what, "%s", file);
	if (mp_read_file(file, DOC_MAX, &t, &tlen) != 0) {
		textf(d->why, sizeof d->why, "cannot read %s", file);
		goto out;
	}
	if ((d->text = malloc(tlen + 1)) == NULL) {
		textf(d->why, sizeof d->why, "out of memory");
		goto out;
	}
	memcpy(d->text, t, tlen + 1);
	d->len = tlen;
	mp_secret_free(t);
	t = NULL;
	if (doc_parse(d) != 0)
		goto out;
	n = snprintf(sigpath, sizeof sigpath, "%s.sig", file);
	if (n < 0 || (size_t)n >= sizeof sigpath ||
	    mp_read_file(sigpath, SIG_FILE_MAX, &t, &tlen) != 0) {
		textf(d->why, sizeof d->why, "cannot read the signature %s.sig", file);
		goto out;
	}
	if (sig_parse(d, t, tlen) != 0) {
		textf(
		    d->why, sizeof d->why, "%s.sig is not a signature (base64 of 64 bytes)", file);
		goto out;
	}
	rc = 0;
out:
	mp_secret_free(t);
	return rc;
}

/* GET /api/v1/stats/YEAR and its signature at the tree size it names.  0, or -1 with d->why. */
static int
doc_fetch(struct audit *a, struct doc *d)
{
	struct mp_answer b = { NULL, 0, 0, DOC_MAX, 0 };
	char path[128], why[WHY_LEN];
	int rc = -1;

	textf(d->what, sizeof d->what, "the statistics document of %d", a->year);
	snprintf(path, sizeof path, "/api/v1/stats/%d", a->year);
	if (get_public(a, path, &b, why, sizeof why) != 0) {
		textf(d->why, sizeof d->why, "cannot fetch the statistics: %s", why);
		goto out;
	}
	d->text = b.buf;
	d->len = b.len;
	b.buf = NULL;
	if (doc_parse(d) != 0)
		goto out;
	/* The signature of exactly this tree size: a newer one would be over other bytes. */
	b.max = SIG_FILE_MAX;
	snprintf(path, sizeof path, "/api/v1/stats/%d.sig?size=%llu", a->year,
	    (unsigned long long)d->tree_size);
	if (get_public(a, path, &b, why, sizeof why) != 0) {
		textf(d->why, sizeof d->why, "cannot fetch the signature: %s", why);
		goto out;
	}
	if (sig_parse(d, b.buf, b.len) != 0) {
		textf(d->why, sizeof d->why, "GET %s: not a signature (base64 of 64 bytes)", path);
		goto out;
	}
	rc = 0;
out:
	free(b.buf);
	return rc;
}

/* Get the document and make ready to fold its year; d->why says what failed. */
static void
doc_load(struct audit *a, const char *file)
{
	struct doc *d = &a->doc;

	if ((file != NULL ? doc_read(d, file) : doc_fetch(a, d)) != 0)
		return;
	if ((d->fold_lines = json_array()) == NULL ||
	    (d->layout = mp_stats_layout_doc(d->text, d->len)) == NULL ||
	    (d->stats = mp_stats_new(d->layout, d->year, d->threshold)) == NULL)
		textf(d->why, sizeof d->why, "%s does not name the rows of every table", d->what);
}

/* ---- step c: the leaves ---- */

/*
 * The leaves [start, end) as the server serves them: 0 with *arr (a new
 * reference, up to end - start b64u strings), or -1 with the failure
 * reported.
 */
static int
leaves_page(struct audit *a, uint64_t start, uint64_t end, json_t **arr)
{
	char path[128], why[WHY_LEN];
	json_t *resp = NULL;
	uint64_t got;
	int rc = -1;

	*arr = NULL;
	snprintf(path, sizeof path, "/api/v1/log/leaves?start=%llu&end=%llu",
	    (unsigned long long)start, (unsigned long long)end);
	if (get_json(a, path, &resp, why, sizeof why) != 0) {
		report(a, 0, "cannot fetch leaves %llu to %llu: %s", (unsigned long long)start,
		    (unsigned long long)end - 1, why);
		goto out;
	}
	*arr = json_incref(json_object_get(resp, "leaves"));
	if (json_u64(resp, "start", &got) != 0 || got != start || !json_is_array(*arr) ||
	    json_array_size(*arr) > end - start) {
		report(a, 0, "GET %s: not the page of leaves asked for", path);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		json_decref(*arr);
		*arr = NULL;
	}
	json_decref(resp);
	return rc;
}

/*
 * Leaf index, in order: kept for the events step and hashed into the
 * running root.  A missing leaf (s NULL) holds its place with zeros, so
 * that the leaves after it keep their indexes; the root cannot match then.
 */
static int
leaf_add(struct audit *a, struct mp_merkle_acc *acc, uint64_t index, const json_t *s,
    unsigned long *missing)
{
	uint8_t h[MP_HASH_LEN];
	const char *t = json_string_value(s);

	if (s == NULL) {
		if (a->first_hole == UINT64_MAX)
			a->first_hole = index;
		problem(a, missing, "leaf %llu is missing", (unsigned long long)index);
		memset(h, 0, sizeof h);
	} else if (t == NULL ||
	    mp_b64u_decode_exact(a->leaves[index], MP_HASH_LEN, t, strlen(t)) != 0) {
		report(a, 0, "leaf %llu is not b64u of 32 bytes", (unsigned long long)index);
		return -1;
	} else {
		mp_merkle_leaf(h, a->leaves[index], MP_HASH_LEN);
	}
	mp_merkle_acc_add(acc, h);
	a->nleaves = acc->n;
	/* The statistics name an earlier tree: remember its root on the way past. */
	if (acc->n == a->doc.tree_size) {
		mp_merkle_acc_root(acc, a->doc.leaves_root);
		a->doc.have_leaves_root = 1;
	}
	return 0;
}

static int
step_leaves(struct audit *a)
{
	struct mp_merkle_acc *acc = NULL;
	uint8_t root[MP_HASH_LEN];
	char r64[MP_B64_LEN(MP_HASH_LEN)];
	json_t *arr = NULL, *one = NULL;
	uint64_t start, end, i;
	unsigned long missing = 0;
	size_t k;

	step_begin(a, "leaves");
	a->first_hole = UINT64_MAX;
	if (a->size > LEAVES_MAX ||
	    (a->size > 0 && (a->leaves = calloc((size_t)a->size, MP_HASH_LEN)) == NULL) ||
	    (acc = malloc(sizeof *acc)) == NULL) {
		report(a, 0, "cannot hold %llu leaves in memory", (unsigned long long)a->size);
		goto out;
	}
	mp_merkle_acc_init(acc);
	if (a->doc.tree_size == 0) {
		mp_merkle_acc_root(acc, a->doc.leaves_root);
		a->doc.have_leaves_root = 1;
	}
	for (start = 0; start < a->size; start = end) {
		end = a->size - start > PAGE ? start + PAGE : a->size;
		json_decref(arr);
		if (leaves_page(a, start, end, &arr) != 0)
			goto out;
		k = json_array_size(arr);
		/*
		 * The answer holds no indexes, and a page below the log's size is
		 * whole unless leaves are gone: a short one is asked again leaf by
		 * leaf, so that the missing ones are named and the rest keep their
		 * places.
		 */
		for (i = start; i < end; i++) {
			if (k < end - start) {
				json_decref(one);
				if (leaves_page(a, i, i + 1, &one) != 0)
					goto out;
			}
			if (leaf_add(a, acc, i,
			        k < end - start ? json_array_get(one, 0)
			                        : json_array_get(arr, (size_t)(i - start)),
			        &missing) != 0)
				goto out;
		}
	}
	if (missing > 0) {
		report(a, 0,
		    "%lu of the checkpoint's %llu leaves are missing: the root cannot be "
		    "recomputed",
		    missing, (unsigned long long)a->size);
		goto out;
	}
	mp_merkle_acc_root(acc, root);
	if (memcmp(root, a->root, MP_HASH_LEN) != 0)
		report(a, 0, "the %llu leaves served hash to root %s, not to the checkpoint's root",
		    (unsigned long long)a->size, hash_b64(r64, root));
	else
		report(a, 1, "all %llu leaves, hashed here, give the checkpoint's root",
		    (unsigned long long)a->size);
out:
	json_decref(arr);
	json_decref(one);
	free(acc);
	return step_end(a);
}

/* ---- step d: the opened events ---- */

struct event_count {
	unsigned long missing, changed, disorder, malformed, unleafed, total_missing;
	uint64_t checked;
};

/* Events [from, to) never came: one line for the run. */
static void
missing(struct audit *a, struct event_count *c, uint64_t from, uint64_t to)
{
	c->total_missing += to - from;
	if (to - from == 1)
		problem(a, &c->missing, "event %llu is missing", (unsigned long long)from);
	else
		problem(a, &c->missing, "events %llu to %llu are missing (%llu events)",
		    (unsigned long long)from, (unsigned long long)to - 1,
		    (unsigned long long)(to - from));
}

/* Fold one event into the statistics; a refusal is the statistics step's to report. */
static void
fold(struct doc *d, uint64_t index, const uint8_t *ev, size_t len)
{
	char err[256], line[LINE_MAX_LEN];

	if (d->stats == NULL || index >= d->tree_size)
		return;
	if (mp_stats_add(d->stats, ev, len, err, sizeof err) == 0) {
		d->folded++;
		return;
	}
	if (++d->fold_errors <= SHOWN_MAX) {
		snprintf(line, sizeof line, "event %llu cannot be counted: %s",
		    (unsigned long long)index, err);
		json_array_append_new(d->fold_lines, json_string(line));
	}
}

/* One opened event {"index","salt","event"}; *want is the index expected next. */
static void
check_event(struct audit *a, struct event_count *c, const json_t *e, uint64_t *want, uint8_t **ev,
    size_t *evcap)
{
	uint8_t salt[MP_SALT_LEN], commit[MP_HASH_LEN];
	const char *s = json_string_value(json_object_get(e, "salt"));
	const char *t = json_string_value(json_object_get(e, "event"));
	unsigned long long ix;
	uint64_t idx;
	size_t tlen, len;
	uint8_t *bigger;

	if (json_u64(e, "index", &idx) != 0 || s == NULL || t == NULL) {
		problem(a, &c->malformed, "an event after %llu has no index, salt or event bytes",
		    (unsigned long long)*want);
		return;
	}
	ix = (unsigned long long)idx;
	if (idx < *want || idx >= a->size) {
		problem(a, &c->disorder,
		    "event %llu comes out of order (expected %llu next, "
		    "below tree size %llu)",
		    ix, (unsigned long long)*want, (unsigned long long)a->size);
		return;
	}
	if (idx > *want)
		missing(a, c, *want, idx);
	*want = idx + 1;
	tlen = strlen(t);
	/* b64u decodes to fewer bytes than its text; one more keeps an empty event a buffer. */
	if (tlen + 1 > *evcap) {
		if ((bigger = realloc(*ev, tlen + 1)) == NULL) {
			problem(a, &c->malformed, "event %llu: out of memory", ix);
			return;
		}
		*ev = bigger;
		*evcap = tlen + 1;
	}
	if (mp_b64u_decode_exact(salt, sizeof salt, s, strlen(s)) != 0 ||
	    mp_b64u_decode(*ev, *evcap, &len, t, tlen) != 0) {
		problem(a, &c->malformed, "event %llu: its salt or bytes are not b64u", ix);
		return;
	}
	/* A leaf the server did not serve was kept as zeros: no commitment is all zeros. */
	if (idx >= a->nleaves ||
	    (idx >= a->first_hole && sodium_is_zero(a->leaves[idx], MP_HASH_LEN))) {
		c->unleafed++; /* the leaves step said why */
		a->step_ok = 0;
	} else {
		mp_log_commit(commit, salt, *ev, len);
		if (sodium_memcmp(commit, a->leaves[idx], MP_HASH_LEN) != 0)
			problem(a, &c->changed,
			    "event %llu does not match its leaf: changed after "
			    "it was logged",
			    ix);
		else
			c->checked++;
	}
	/* The server counted what it serves; the statistics step checks that arithmetic. */
	fold(&a->doc, idx, *ev, len);
}

/* ", N what" for a summary line, or "" when N is 0. */
static const char *
count_text(char out[64], unsigned long n, const char *what)
{
	if (n == 0)
		return "";
	textf(out, 64, ", %lu %s", n, what);
	return out;
}

static int
step_events(struct audit *a)
{
	struct event_count c;
	char t[5][64];
	const json_t *arr, *e;
	json_t *resp = NULL;
	char path[128];
	uint64_t start, end, want = 0;
	uint8_t *ev = NULL;
	size_t i, evcap = 0;
	long status;
	int r;

	memset(&c, 0, sizeof c);
	step_begin(a, "events");
	for (start = 0; start<a->size; start = want> start ? want : end) {
		end = a->size - start > PAGE ? start + PAGE : a->size;
		snprintf(path, sizeof path, "/api/v1/audit/events?start=%llu&end=%llu",
		    (unsigned long long)start, (unsigned long long)end);
		json_decref(resp);
		resp = NULL;
		if ((r = mp_client_request(a->client, "GET", path, NULL, &status, &resp)) != 0) {
			report(a, 0, "cannot fetch events %llu to %llu (%s)",
			    (unsigned long long)start, (unsigned long long)end - 1,
			    r > 0 ? "the server refused; see above" : "see above");
			goto out;
		}
		if (!json_is_array(arr = json_object_get(resp, "events"))) {
			report(a, 0, "GET %s: the answer holds no events", path);
			goto out;
		}
		json_array_foreach(arr, i, e)
			check_event(a, &c, e, &want, &ev, &evcap);
	}
	if (want < a->size)
		missing(a, &c, want, a->size);
	if (c.missing > SHOWN_MAX || c.changed > SHOWN_MAX || c.disorder > SHOWN_MAX ||
	    c.malformed > SHOWN_MAX)
		report(a, 0, "only the first %d problems of each kind are shown", SHOWN_MAX);
	if (a->step_ok)
		report(a, 1, "all %llu events opened; each is in its place and matches its leaf",
		    (unsigned long long)a->size);
	else
		report(a, 0, "%llu of %llu events check out%s%s%s%s%s",
		    (unsigned long long)c.checked, (unsigned long long)a->size,
		    count_text(t[0], c.total_missing, "missing"),
		    count_text(t[1], c.changed, "changed"),
		    count_text(t[2], c.disorder, "out of order"),
		    count_text(t[3], c.malformed, "malformed"),
		    count_text(t[4], c.unleafed, "without a leaf to compare with"));
out:
	free(ev);
	json_decref(resp);
	return step_end(a);
}

/* ---- step e: the statistics ---- */

static void
say_difference(void *arg, const char *line)
{
	report(arg, 0, "%s", line);
}

static int
step_stats(struct audit *a)
{
	struct doc *d = &a->doc;
	char r64[MP_B64_LEN(MP_HASH_LEN)], *mine = NULL;
	const json_t *s;
	size_t i;
	int n;

	step_begin(a, "statistics");
	if (d->why[0] != '\0') {
		report(a, 0, "%s", d->why);
		goto out;
	}
	if (crypto_sign_verify_detached(d->sig, (const uint8_t *)d->text, d->len, a->v.pk) != 0)
		report(
		    a, 0, "the signature of %s is not by the log key of %s", d->what, a->v.origin);
	else
		report(a, 1, "%s is signed by the log key of %s", d->what, a->v.origin);
	if (d->year != a->year)
		report(a, 0, "%s is for %d, not %d", d->what, d->year, a->year);
	if (strcmp(d->origin, a->v.origin) != 0)
		report(a, 0, "%s names the log %s, not %s", d->what, d->origin, a->v.origin);
	if (d->tree_size > a->size) {
		report(a, 0, "it names tree size %llu, beyond the checkpoint's %llu",
		    (unsigned long long)d->tree_size, (unsigned long long)a->size);
		goto out;
	}
	if (a->first_hole < d->tree_size)
		report(a, 0, "its root cannot be checked: leaf %llu is missing",
		    (unsigned long long)a->first_hole);
	else if (!d->have_leaves_root)
		report(a, 0, "its root cannot be checked: the first %llu leaves were not fetched",
		    (unsigned long long)d->tree_size);
	else if (memcmp(d->leaves_root, d->root, MP_HASH_LEN) != 0)
		report(a, 0, "its root is not the root of the first %llu leaves (%s)",
		    (unsigned long long)d->tree_size, hash_b64(r64, d->leaves_root));
	else
		report(a, 1, "its tree size %llu and root match the first %llu leaves of the log",
		    (unsigned long long)d->tree_size, (unsigned long long)d->tree_size);
	json_array_foreach(d->fold_lines, i, s)
		report(a, 0, "%s", json_string_value(s));
	if (d->fold_errors > SHOWN_MAX)
		report(a, 0, "... and %lu more events that cannot be counted",
		    d->fold_errors - SHOWN_MAX);
	/* Differences over a partial fold would only repeat what the events step said. */
	if (d->folded + d->fold_errors < d->tree_size) {
		report(a, 0,
		    "it cannot be recomputed: only %llu of the %llu events it counts were "
		    "opened",
		    (unsigned long long)(d->folded + d->fold_errors),
		    (unsigned long long)d->tree_size);
		goto out;
	}
	/* Compared with the document's own root: a wrong root is reported above, once. */
	if ((mine = mp_stats_document(
	         d->stats, d->origin, d->tree_size, d->root, d->provisional)) == NULL) {
		report(a, 0, "out of memory recomputing the statistics");
		goto out;
	}
	if ((n = mp_stats_compare(d->text, mine, say_difference, a)) < 0)
		report(a, 0, "%s cannot be compared cell by cell", d->what);
	else if (n > 0)
		report(a, 0, "recomputed from the first %llu events, %d cells differ from %s",
		    (unsigned long long)d->tree_size, n, d->what);
	else
		report(a, 1, "recomputed from the first %llu events: every cell matches",
		    (unsigned long long)d->tree_size);
out:
	free(mine);
	return step_end(a);
}

/* ---- the command ---- */

static void
print_json(struct audit *a, int ok, const char *summary)
{
	char r64[MP_B64_LEN(MP_HASH_LEN)];
	json_t *j;

	j = json_pack("{s:b, s:s, s:I, s:s, s:i, s:O, s:s}", "ok", ok, "origin", a->v.origin,
	    "tree_size", (json_int_t)a->size, "root", a->note ? hash_b64(r64, a->root) : "", "year",
	    a->year, "steps", a->steps, "summary", summary);
	if (j == NULL || json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
		err1("cannot print the result as JSON");
	putchar('\n');
	json_decref(j);
}

int
cmd_audit(int argc, char **argv)
{
	const char *url = NULL, *key = NULL, *year = NULL, *akey = NULL, *state = NULL,
	           *stats = NULL;
	struct audit a;
	struct mp_opt opts[] = {
		{ "url", &url, NULL },
		{ "key", &key, NULL },
		{ "year", &year, NULL },
		{ "auditor-key", &akey, NULL },
		{ "state", &state, NULL },
		{ "stats", &stats, NULL },
		{ "json", NULL, &a.json },
		{ NULL, NULL, NULL },
	};
	char statebuf[PATH_MAX], summary[256];
	int npos, r, ok, rc = EXIT_USER;

	memset(&a, 0, sizeof a);
	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, audit_usage)) != 0)
		return mp_opts_exit(r, audit_usage, audit_help);
	if (key == NULL)
		return usage_error(
		    audit_usage, "--key VERIFIER is required: the log's verifier key");
	if (mp_year_arg(year, &a.year) != 0)
		return usage_error(
		    audit_usage, "--year takes a year from %d to %d", MP_YEAR_MIN, MP_YEAR_MAX);
	if ((rc = mp_verifier_arg(&a.v, key, audit_usage)) != 0)
		return rc;
	rc = EXIT_USER;
	if (url == NULL && (url = getenv("MELDPUNT_URL")) != NULL && *url == '\0')
		url = NULL;
	if (url == NULL)
		url = MP_DEFAULT_URL;
	if (akey == NULL && (akey = getenv("MELDPUNT_KEY")) != NULL && *akey == '\0')
		akey = NULL;
	if (akey == NULL)
		return usage_error(audit_usage,
		    "no auditor key file: pass --auditor-key FILE or "
		    "set MELDPUNT_KEY");
	if (state == NULL) {
		if (default_state_path(statebuf, sizeof statebuf, a.v.origin) != 0) {
			err1(
			    "no place for the state file: set XDG_STATE_HOME or HOME, or pass --state");
			goto out;
		}
		state = statebuf;
	}
	/* The URL is checked and the passphrase asked before anything is fetched. */
	if (mp_client_open(&a.client, url, akey) != 0)
		goto out;
	a.base = url;
	a.baselen = strlen(url);
	while (a.baselen > 0 && url[a.baselen - 1] == '/')
		a.baselen--;
	if ((a.curl = curl_easy_init()) == NULL) {
		err1("cannot start libcurl");
		goto out;
	}
	if (a.json && (a.steps = json_array()) == NULL) {
		err1("out of memory");
		goto out;
	}

	/*
	 * The statistics first: the current year's grow with the log, and a
	 * document fetched after the checkpoint could name a larger tree.
	 */
	doc_load(&a, stats);
	if (step_checkpoint(&a) == 0) {
		step_consistency(&a, state);
		step_leaves(&a);
		step_events(&a);
		step_stats(&a);
	}
	ok = a.failed[0] == '\0';
	if (ok)
		textf(summary, sizeof summary,
		    "audit passed: %s at tree size %llu, statistics "
		    "of %d",
		    a.v.origin, (unsigned long long)a.size, a.year);
	else if (a.note == NULL)
		textf(summary, sizeof summary,
		    "audit FAILED: checkpoint (nothing else can be "
		    "checked without a verified checkpoint)");
	else
		textf(summary, sizeof summary, "audit FAILED: %s", a.failed);
	if (a.json)
		print_json(&a, ok, summary);
	else
		printf("%s\n", summary);
	rc = ok ? 0 : EXIT_USER;
out:
	mp_client_close(a.client);
	if (a.curl != NULL)
		curl_easy_cleanup(a.curl);
	free(a.note);
	free(a.leaves);
	doc_clear(&a.doc);
	json_decref(a.steps);
	return rc;
}
