/*
 * meldpunt stats: a year's published statistics (PROTOCOL.md section 6,
 * docs/STATISTICS.md), fetched from the public route and checked against
 * the log's verifier key; and the documents of several services merged
 * into one, each checked against its own service's key first.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "mp_b64.h"
#include "mp_note.h"
#include "mp_policy.h"
#include "mp_stats.h"
#include "util.h"

#define DOC_MAX (16 * 1024 * 1024) /* a national document is tens of KiB */
#define SIG_MAX 1024               /* b64 of 64 bytes and a newline */
#define MERGE_MAX 512              /* documents in one merge: more than the country's services */

static const char stats_usage[] =
    "meldpunt stats --year YYYY [--url URL] [--key VERIFIER] [--out FILE]\n"
    "                [--csv | --json] [--lang LANG]\n"
    "       meldpunt stats merge --key VERIFIER [--key VERIFIER ...] [--csv] [--lang LANG]\n"
    "                FILE...";

static const char merge_usage[] =
    "meldpunt stats merge --key VERIFIER [--key VERIFIER ...] [--csv] [--lang LANG] FILE...";

static const char stats_help[] =
    "Fetch a year's statistics from the server (GET /api/v1/stats/YYYY, a public\n"
    "route) and print them as a table, as CSV or as the document itself.  Cells\n"
    "below the policy's threshold, and cells that would give them away, are\n"
    "suppressed: the table shows them as '-', the CSV as an empty value.\n"
    "Figures of the current year are provisional: they grow until the year ends.\n"
    "\n"
    "  --year YYYY     the year\n"
    "  --url URL       the server (default: $MELDPUNT_URL, else " MP_DEFAULT_URL ")\n"
    "  --key VERIFIER  the log's verifier key (ORIGIN+HASH+KEY, as `meldpunt init`\n"
    "                  printed it), or a file that holds it: the document must be\n"
    "                  signed by it and name its origin, else nothing is printed\n"
    "                  and the exit status is 1.  Without --key nothing is checked.\n"
    "  --out FILE      also write the document to FILE and its signature to\n"
    "                  FILE.sig (neither may exist), for `stats merge` or `audit\n"
    "                  --stats`\n"
    "  --csv           CSV for a spreadsheet: UTF-8, ';' between fields, CRLF, one\n"
    "                  cell a line (docs/STATISTICS.md)\n"
    "  --json          the signed document, byte for byte\n"
    "  --lang LANG     the language of the CSV's labels (default nl)\n"
    "\n"
    "meldpunt stats merge adds the documents of several services of one year into\n"
    "one, printed as a document (or with --csv, as CSV).  Each FILE's signature is\n"
    "read from FILE.sig and must be by the --key whose origin the document names;\n"
    "give one --key per service.  A cell suppressed in any document is suppressed\n"
    "in the sum.\n"
    "\n"
    "Exit status: 0 success, 1 error (one line on stderr), 2 bad usage.\n";

/* A document as read or fetched: its exact bytes and what its header names. */
struct doc {
	const char *name; /* a file name or "the server's statistics of YYYY", for messages */
	char *text;       /* malloc'ed, NUL-terminated */
	size_t len;
	uint8_t sig[crypto_sign_BYTES];
	int have_sig;
	char origin[MP_ORIGIN_MAX + 1]; /* "" for a merged document */
	int year;
	uint64_t tree_size;
};

static void
doc_free(struct doc *d)
{
	free(d->text);
	d->text = NULL;
}

/*
 * Check that d->text is a statistics document and read its header.  The
 * library's reader decides what a document is; this only picks out the
 * members the command itself needs.  0, or -1 (printed).
 */
static int
doc_header(struct doc *d)
{
	struct mp_stats_layout *l = NULL;
	json_t *j = NULL;
	const char *origin;
	int rc = -1;

	if (strlen(d->text) != d->len || (l = mp_stats_layout_doc(d->text, d->len)) == NULL ||
	    (j = json_loadb(d->text, d->len, JSON_REJECT_DUPLICATES, NULL)) == NULL) {
		err1("%s is not a statistics document", d->name);
		goto out;
	}
	d->year = (int)json_integer_value(json_object_get(j, "year"));
	d->tree_size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
	origin = json_string_value(json_object_get(j, "origin"));
	/* Checked by the reader: printable, at most MP_ORIGIN_MAX bytes; absent when merged. */
	snprintf(d->origin, sizeof d->origin, "%s", origin != NULL ? origin : "");
	rc = 0;
out:
	json_decref(j);
	mp_stats_layout_free(l);
	return rc;
}

/* A signature as served and stored: b64 of 64 bytes, then a newline.  0 or -1. */
static int
sig_parse(struct doc *d, const char *text, size_t len)
{
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (mp_b64_decode_exact(d->sig, sizeof d->sig, text, len) != 0)
		return -1;
	d->have_sig = 1;
	return 0;
}

/* The document is signed by v's key and names v's origin.  0, or -1 (printed). */
static int
doc_verify(const struct doc *d, const struct mp_verifier *v)
{
	if (d->origin[0] == '\0') {
		err1("%s is a merged document: only a service's own document is signed", d->name);
		return -1;
	}
	if (strcmp(d->origin, v->origin) != 0) {
		err1("%s names the log %s, not %s (the key's)", d->name, d->origin, v->origin);
		return -1;
	}
	if (!d->have_sig ||
	    crypto_sign_verify_detached(d->sig, (const uint8_t *)d->text, d->len, v->pk) != 0) {
		err1("%s: the signature does not verify with the key of %s", d->name, v->origin);
		return -1;
	}
	return 0;
}

/* The default policy, for CSV labels; lang must be one of its languages. */
static int
labels_open(struct mp_policy **p, const char *lang, const char *usage)
{
	const char *def = mp_default_policy();
	char err[256];

	*p = NULL;
	if (mp_policy_parse(p, def, strlen(def), err, sizeof err) != 0) {
		err1("the built-in policy does not load: %s", err);
		return EXIT_USER;
	}
	if (mp_policy_lang(*p, lang) < 0) {
		mp_policy_free(*p);
		*p = NULL;
		return usage_error(usage, "--lang '%s' is not a language of the policy", lang);
	}
	return 0;
}

static int
print_csv(const char *doc, const struct mp_policy *p, const char *lang)
{
	char *csv = mp_stats_csv(doc, p, lang);

	if (csv == NULL) {
		err1("cannot make CSV of the document (out of memory?)");
		return EXIT_USER;
	}
	fputs(csv, stdout);
	free(csv);
	return 0;
}

/* ---- the readable table ---- */

static void
print_count(const json_t *v, int width)
{
	if (json_is_integer(v))
		printf("%*lld", width, (long long)json_integer_value(v));
	else
		printf("%*s", width, "-");
}

/* The codes and origin were checked by the library's reader: printable ASCII.  0 or -1. */
static int
print_table(const char *doc)
{
	static const char *const tables[] = { "municipality", "ground", "domain", "manifestation",
		"channel", "status", "closure", "anonymity", "kind" };
	json_t *j = json_loads(doc, 0, NULL), *t, *v;
	const char *code;
	size_t i, c;

	if (j == NULL) {
		err1("out of memory");
		return -1;
	}
	printf("Statistics %lld of %s%s, tree size %lld\n",
	    (long long)json_integer_value(json_object_get(j, "year")),
	    json_string_value(json_object_get(j, "origin")),
	    json_is_true(json_object_get(j, "provisional")) ? " (provisional: the year is not over)"
	                                                    : "",
	    (long long)json_integer_value(json_object_get(j, "tree_size")));
	printf("%lld case%s.  '-': suppressed, below %lld or giving such a cell away.\n",
	    (long long)json_integer_value(json_object_get(j, "cases")),
	    json_integer_value(json_object_get(j, "cases")) == 1 ? "" : "s",
	    (long long)json_integer_value(json_object_get(j, "threshold")));
	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		t = json_object_get(json_object_get(j, "tables"), tables[i]);
		if (i == 0) {
			printf("\n%-24s %10s %10s %12s\n", "municipality", "resident", "resident",
			    "non-resident");
			printf("%-24s %10s %10s %12s\n", "", "here", "elsewhere", "here");
		} else {
			printf("\n%s\n", tables[i]);
		}
		json_object_foreach(json_object_get(t, "rows"), code, v) {
			printf("  %-22s", code);
			if (i == 0) {
				for (c = 0; c < 3; c++)
					print_count(json_array_get(v, c), c < 2 ? 11 : 13);
			} else {
				print_count(v, 9);
			}
			putchar('\n');
		}
		printf("  %-22s", "total");
		if (i == 0) {
			for (c = 0; c < 3; c++)
				print_count(json_array_get(json_object_get(t, "totals"), c),
				    c < 2 ? 11 : 13);
		} else {
			print_count(json_object_get(t, "total"), 9);
		}
		putchar('\n');
	}
	json_decref(j);
	return 0;
}

/* ---- fetching ---- */

/* libcurl's progress callback: stop a body that grows past its bound. */
static int
past_bound(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const curl_off_t *max = arg;

	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	return dlnow > *max;
}

/*
 * GET base + path, unsigned (the statistics are public).  The body goes
 * to *body (malloc'ed, NUL-terminated) and *len: at most max bytes, and
 * only for a 200 answer.  0, or -1 (printed).
 */
static int
get_public(CURL *curl, const char *base, const char *path, size_t max, char **body, size_t *len)
{
	curl_off_t bound = (curl_off_t)max;
	char url[4096], errbuf[CURL_ERROR_SIZE] = "", *buf = NULL;
	size_t blen = 0;
	FILE *f = NULL;
	long status = 0;
	int n, rc = -1;
	CURLcode cc;

	*body = NULL;
	*len = 0;
	n = snprintf(url, sizeof url, "%s%s", base, path);
	if (n < 0 || (size_t)n >= sizeof url) {
		err1("the URL is too long");
		goto out;
	}
	if ((f = open_memstream(&buf, &blen)) == NULL) {
		err1("out of memory");
		goto out;
	}
	curl_easy_reset(curl);
	if (mp_client_setup(curl, url, errbuf) != 0 ||
	    /* libcurl's own writer appends to the memory stream. */
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, f) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, bound) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, past_bound) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &bound) != CURLE_OK) {
		err1("cannot set up the request to %s", url);
		goto out;
	}
	cc = curl_easy_perform(curl);
	if (fclose(f) != 0) {
		f = NULL;
		err1("out of memory");
		goto out;
	}
	f = NULL;
	if (cc == CURLE_FILESIZE_EXCEEDED || cc == CURLE_ABORTED_BY_CALLBACK || blen > max) {
		err1("GET %s: the answer is larger than %zu bytes", url, max);
		goto out;
	}
	if (cc != CURLE_OK) {
		err1("cannot reach the server at %s: %s", base,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		json_t *j = json_loadb(buf, blen, 0, NULL);
		const char *msg = json_string_value(
		    json_object_get(json_object_get(j, "error"), "message"));

		fprintf(
		    stderr, "meldpunt: GET %s: HTTP %ld%s", url, status, msg != NULL ? ": " : "");
		if (msg != NULL)
			mp_print_line(stderr, msg);
		fputc('\n', stderr);
		json_decref(j);
		goto out;
	}
	*body = buf;
	*len = blen;
	buf = NULL;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

/* The server's URL without a trailing '/'; NULL (printed) if it is not one. */
static char *
base_url(const char *url)
{
	size_t n, i;
	char *b;

	if (url == NULL && (url = getenv("MELDPUNT_URL")) != NULL && *url == '\0')
		url = NULL;
	if (url == NULL)
		url = MP_DEFAULT_URL;
	n = strlen(url);
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f ||
		    url[i] == '?' || url[i] == '#')
			break;
	if (i < n || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    n > 2048) {
		err1("'%s' is not a server URL (http:// or https://, host, perhaps a path)", url);
		return NULL;
	}
	while (n > 0 && url[n - 1] == '/')
		n--;
	if ((b = strndup(url, n)) == NULL)
		err1("out of memory");
	return b;
}

/* Write the document to file and its signature to file.sig; neither is overwritten. */
static int
save(const char *file, const struct doc *d, const char *sig, size_t siglen)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s.sig", file);

	if (n < 0 || (size_t)n >= sizeof path) {
		err1("%s: the name is too long", file);
		return -1;
	}
	/* Both are checked first, so that a refusal leaves nothing half written. */
	if (access(file, F_OK) == 0 || access(path, F_OK) == 0) {
		err1("%s or %s already exists; not overwriting it", file, path);
		return -1;
	}
	if (mp_write_file_new(file, d->text, d->len) != 0)
		return -1;
	if (mp_write_file_new(path, sig, siglen) != 0) {
		unlink(file);
		return -1;
	}
	return 0;
}

static int
stats_fetch(int argc, char **argv)
{
	const char *year_s = NULL, *url = NULL, *key = NULL, *out = NULL, *lang = NULL;
	int csv = 0, js = 0;
	struct mp_opt opts[] = {
		{ "year", &year_s, NULL },
		{ "url", &url, NULL },
		{ "key", &key, NULL },
		{ "out", &out, NULL },
		{ "lang", &lang, NULL },
		{ "csv", NULL, &csv },
		{ "json", NULL, &js },
		{ NULL, NULL, NULL },
	};
	struct doc d = { 0 };
	struct mp_verifier v;
	struct mp_policy *p = NULL;
	char path[128], name[64], *base = NULL, *sig = NULL;
	size_t siglen = 0;
	CURL *curl = NULL;
	int npos, r, year = 0, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, stats_usage)) != 0)
		return mp_opts_exit(r, stats_usage, stats_help);
	if (mp_year_arg(year_s, &year) != 0)
		return usage_error(stats_usage, "--year YYYY is required");
	if (csv && js)
		return usage_error(stats_usage, "--csv and --json go one at a time");
	if (lang == NULL)
		lang = "nl";
	if (csv && (r = labels_open(&p, lang, stats_usage)) != 0)
		return r;
	if (key != NULL && (r = mp_verifier_arg(&v, key, stats_usage)) != 0)
		goto out_r;
	if ((base = base_url(url)) == NULL)
		goto out;
	if ((curl = curl_easy_init()) == NULL) {
		err1("cannot start libcurl");
		goto out;
	}
	snprintf(name, sizeof name, "the statistics of %d", year);
	d.name = name;
	snprintf(path, sizeof path, "/api/v1/stats/%d", year);
	if (get_public(curl, base, path, DOC_MAX, &d.text, &d.len) != 0 || doc_header(&d) != 0)
		goto out;
	if (d.year != year) {
		err1("the server answered with the statistics of %d, not %d", d.year, year);
		goto out;
	}
	if (d.origin[0] == '\0') {
		err1("the server answered with a merged document, not its own statistics");
		goto out;
	}
	if (key != NULL || out != NULL) {
		/* The signature of exactly this tree size: a newer one is over other bytes. */
		snprintf(path, sizeof path, "/api/v1/stats/%d.sig?size=%llu", year,
		    (unsigned long long)d.tree_size);
		if (get_public(curl, base, path, SIG_MAX, &sig, &siglen) != 0)
			goto out;
		if (sig_parse(&d, sig, siglen) != 0) {
			err1("GET %s%s: not a signature (base64 of 64 bytes)", base, path);
			goto out;
		}
	}
	if (key != NULL && doc_verify(&d, &v) != 0)
		goto out;
	if (out != NULL && save(out, &d, sig, siglen) != 0)
		goto out;
	if (js)
		fwrite(d.text, 1, d.len, stdout);
	else if (csv && print_csv(d.text, p, lang) != 0)
		goto out;
	else if (!csv && print_table(d.text) != 0)
		goto out;
	if (key == NULL)
		fprintf(stderr, "meldpunt: the signature was not checked: give --key VERIFIER\n");
	rc = 0;
out:
	r = rc;
out_r:
	if (curl != NULL)
		curl_easy_cleanup(curl);
	doc_free(&d);
	free(sig);
	free(base);
	mp_policy_free(p);
	return r;
}

/* ---- merge ---- */

/* Read file and file.sig.  0, or -1 (printed). */
static int
doc_read(struct doc *d, const char *file)
{
	char path[4096], *t = NULL;
	size_t tlen = 0;
	int n, rc = -1;

	d->name = file;
	if (mp_read_file(file, DOC_MAX, &t, &tlen) != 0)
		goto out;
	if ((d->text = malloc(tlen + 1)) == NULL) {
		err1("out of memory");
		goto out;
	}
	memcpy(d->text, t, tlen + 1);
	d->len = tlen;
	mp_secret_free(t);
	t = NULL;
	if (doc_header(d) != 0)
		goto out;
	n = snprintf(path, sizeof path, "%s.sig", file);
	if (n < 0 || (size_t)n >= sizeof path || mp_read_file(path, SIG_MAX, &t, &tlen) != 0)
		goto out;
	if (sig_parse(d, t, tlen) != 0) {
		err1("%s is not a signature (base64 of 64 bytes)", path);
		goto out;
	}
	rc = 0;
out:
	mp_secret_free(t);
	return rc;
}

static int
stats_merge(int argc, char **argv)
{
	const char *lang = NULL, **texts = NULL;
	int csv = 0;
	struct mp_opt opts[] = {
		{ "lang", &lang, NULL },
		{ "csv", NULL, &csv },
		{ NULL, NULL, NULL },
	};
	struct mp_verifier *keys = NULL;
	struct mp_policy *p = NULL;
	struct doc *docs = NULL;
	char **rest = NULL, *files[MERGE_MAX], *merged = NULL, err[512];
	size_t i, k, nkeys = 0;
	int nrest = 0, nfiles = 0, only_pos = 0, r, rc = EXIT_USER;

	/*
	 * --key may be given once per service, which the common option parser
	 * refuses; so the keys are taken out first, the rest parsed as usual.
	 */
	if ((rest = calloc((size_t)argc + 1, sizeof *rest)) == NULL ||
	    (keys = calloc((size_t)argc + 1, sizeof *keys)) == NULL) {
		err1("out of memory");
		goto out;
	}
	rest[nrest++] = argv[0];
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i], *kv = NULL;

		if (!only_pos && strcmp(a, "--") == 0)
			only_pos = 1;
		if (!only_pos && strcmp(a, "--key") == 0) {
			if (i + 1 == (size_t)argc) {
				rc = usage_error(merge_usage, "option --key needs a value");
				goto out;
			}
			kv = argv[++i];
		} else if (!only_pos && strncmp(a, "--key=", 6) == 0) {
			kv = a + 6;
		} else {
			rest[nrest++] = argv[i];
			/* --lang's value is copied with it, whatever it looks like. */
			if (!only_pos && strcmp(a, "--lang") == 0 && i + 1 < (size_t)argc)
				rest[nrest++] = argv[++i];
			continue;
		}
		if ((r = mp_verifier_arg(&keys[nkeys], kv, merge_usage)) != 0) {
			rc = r;
			goto out;
		}
		nkeys++;
	}
	if ((r = mp_opts_parse(nrest, rest, opts, files, MERGE_MAX, &nfiles, merge_usage)) != 0) {
		rc = mp_opts_exit(r, stats_usage, stats_help);
		goto out;
	}
	if (nkeys == 0 || nfiles == 0) {
		rc = usage_error(merge_usage, "at least one --key and one FILE are needed");
		goto out;
	}
	if (lang == NULL)
		lang = "nl";
	if (csv && (r = labels_open(&p, lang, merge_usage)) != 0) {
		rc = r;
		goto out;
	}
	if ((docs = calloc((size_t)nfiles, sizeof *docs)) == NULL ||
	    (texts = calloc((size_t)nfiles, sizeof *texts)) == NULL) {
		err1("out of memory");
		goto out;
	}
	for (i = 0; i < (size_t)nfiles; i++) {
		if (doc_read(&docs[i], files[i]) != 0)
			goto out;
		if (docs[i].origin[0] == '\0') {
			err1(
			    "%s is a merged document: merge the services' own documents", files[i]);
			goto out;
		}
		for (k = 0; k < nkeys && strcmp(keys[k].origin, docs[i].origin) != 0; k++)
			;
		if (k == nkeys) {
			err1("%s names the log %s, and no --key is for it", files[i],
			    docs[i].origin);
			goto out;
		}
		if (doc_verify(&docs[i], &keys[k]) != 0)
			goto out;
		if (docs[i].year != docs[0].year) {
			err1("%s is of %d, %s of %d: merge the documents of one year", files[i],
			    docs[i].year, files[0], docs[0].year);
			goto out;
		}
		texts[i] = docs[i].text;
	}
	if ((merged = mp_stats_merge(texts, (size_t)nfiles, err, sizeof err)) == NULL) {
		err1("cannot merge: %s", err);
		goto out;
	}
	if (csv) {
		if (print_csv(merged, p, lang) != 0)
			goto out;
	} else {
		fputs(merged, stdout);
	}
	rc = 0;
out:
	for (i = 0; docs != NULL && i < (size_t)nfiles; i++)
		doc_free(&docs[i]);
	free(docs);
	free(texts);
	free(rest);
	free(keys);
	free(merged);
	mp_policy_free(p);
	return rc;
}

int
cmd_stats(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "merge") == 0)
		return stats_merge(argc - 1, argv + 1);
	return stats_fetch(argc, argv);
}
