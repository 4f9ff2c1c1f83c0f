/*
 * meldpunt collective: many near-identical reports about one public event,
 * handled together (docs/CASEWORK.md, "Collective reports").  The answer
 * to all their reporters is sealed here, one envelope per reporter, and
 * sent in batches, so that thousands of cases take seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework.h"
#include "cli.h"
#include "client.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_wipe.h"
#include "util.h"

#define NAME_MAX_CP 100
#define LINK_BATCH 20000              /* ids per POST .../cases (the route's limit) */
#define SEND_BATCH 2000               /* messages per POST .../messages */
#define SEND_BYTES (12 * 1024 * 1024) /* and bytes, well under the route's 16 MiB */
#define REF_LOOKUPS 20                /* more references than this: page through the list */
#define CASES_FILE_MAX (16 * 1024 * 1024)

static const char coll_usage[] = "meldpunt collective create --name NAME\n"
                                 "       meldpunt collective list\n"
                                 "       meldpunt collective show ID\n"
                                 "       meldpunt collective add ID [CASE...] [--from-file F]\n"
                                 "       meldpunt collective status ID STATUS [--closure CODE]\n"
                                 "       meldpunt collective reply ID [--text T | --file F]\n"
                                 "       (each also takes --json " MP_CLIENT_USAGE ")";

static const char create_usage[] =
    "meldpunt collective create --name NAME [--json] " MP_CLIENT_USAGE;
static const char list_usage[] = "meldpunt collective list [--json] " MP_CLIENT_USAGE;
static const char show_usage[] = "meldpunt collective show ID [--json] " MP_CLIENT_USAGE;
static const char add_usage[] =
    "meldpunt collective add ID [CASE...] [--from-file F] [--json] " MP_CLIENT_USAGE;
static const char status_usage[] =
    "meldpunt collective status ID STATUS [--closure CODE] [--json] " MP_CLIENT_USAGE;
static const char reply_usage[] =
    "meldpunt collective reply ID [--text T | --file F] [--json] " MP_CLIENT_USAGE;

#define ID_HELP "  ID             the collective's reference (C2026-0001) or its id\n"

static const char create_help[] =
    "Start a collective: a group for many reports about one public event (a\n"
    "statement on television, a poster).  Prints its reference and id.\n"
    "\n"
    "  --name NAME    what the event is (1 to 100 characters), seen by caseworkers\n"
    "                 only; name the event, never a person\n"
    "  --json         print the server's answer\n";

static const char list_help[] =
    "List the collectives, newest first: reference, day created, number of\n"
    "cases, id and name.\n"
    "\n"
    "  --json         print the server's answer\n";

static const char show_help[] =
    "Show a collective and its cases (oldest first): reference, status, whether\n"
    "the reporter has a follow-up token (and so gets collective replies), and id.\n"
    "\n" ID_HELP "  --json         print the server's answer\n";

static const char add_help[] =
    "Link cases to a collective.  A case already in it is skipped; a case in\n"
    "another collective is refused (and then none of that batch is linked).\n"
    "\n" ID_HELP "  CASE...        the cases: references (2026-0042) or ids\n"
    "  --from-file F  also the cases in F (- for standard input): one per line, the\n"
    "                 first word of each line; empty lines, lines starting with #\n"
    "                 and the next: line are skipped, so a page of meldpunt cases\n"
    "                 works too (--limit 500 for the longest page)\n"
    "  --json         print the collective as the server answers it\n";

static const char status_help[] =
    "Move every case of the collective to STATUS, where the policy allows the\n"
    "move from the case's own status; the others stay where they are and are\n"
    "counted by status.\n"
    "\n" ID_HELP "  STATUS          the new status\n"
    "  --closure CODE  how the cases ended; required for closed\n"
    "  --json          print the server's answer\n";

static const char reply_help[] =
    "Answer every reporter of the collective at once: the message is sealed here\n"
    "to each reporter (and every caseworker and recovery key), one envelope per\n"
    "case.  Cases without a follow-up token cannot be answered and are counted.\n"
    "\n" ID_HELP "  --text T       the message (1 to 10000 characters)\n"
    "  --file F       read it from F (- for standard input); without --text or\n"
    "                 --file it is read from standard input\n"
    "  --json         print {\"sent\", \"no_token\", \"members\"}\n";

/* "C2026-0001 "name"" for a summary. */
static void
print_name(const json_t *s)
{
	mp_print_line(stdout, cw_str(s, "ref", "?"));
	fputs(" \"", stdout);
	mp_print_line(stdout, cw_str(s, "name", ""));
	putchar('"');
}

static json_int_t
int_or(const json_t *o, const char *key, json_int_t def)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* ---- create, list, show ---- */

static int
coll_create(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	const char *name = NULL;
	int json = 0;
	struct mp_opt opts[] = {
		{ "name", &name, NULL },
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	json_t *body = NULL, *resp = NULL;
	size_t ncp = 0;
	const char *p;
	long status;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, create_usage)) != 0)
		return cw_opts_exit(r, create_usage, create_help);
	if (name == NULL)
		return usage_error(create_usage, "--name is required: name the event");
	if (mp_utf8_check(name, strlen(name), &ncp) != 0 || ncp < 1 || ncp > NAME_MAX_CP)
		return usage_error(create_usage, "--name must be 1 to %d characters", NAME_MAX_CP);
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return usage_error(create_usage, "--name must be one line of text");
	if ((body = json_pack("{s:s}", "name", name)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if ((rc = cw_open_client(&c, &co)) != 0)
		goto out;
	rc = EXIT_USER;
	if (mp_client_request(c, "POST", "/api/v1/collectives", body, &status, &resp) != 0)
		goto out;
	if (json) {
		if (cw_print_json(resp) != 0)
			goto out;
	} else {
		fputs("collective ", stdout);
		print_name(resp);
		fputs(" created (id ", stdout);
		mp_print_line(stdout, cw_str(resp, "id", "?"));
		fputs(")\n", stdout);
	}
	rc = 0;
out:
	json_decref(body);
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

static int
coll_list(int argc, char **argv)
{
	static const char *const head[] = { "REF", "CREATED", "CASES", "ID", "NAME" };
	struct mp_client_opts co = { NULL, NULL };
	int json = 0;
	struct mp_opt opts[] = {
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	struct cw_table t;
	json_t *resp = NULL, *list, *s;
	const char *row[5];
	char(*counts)[24] = NULL;
	size_t i, n;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, list_usage)) != 0)
		return cw_opts_exit(r, list_usage, list_help);
	if (cw_table_init(&t, 5) != 0)
		return EXIT_USER;
	if ((rc = cw_open_client(&c, &co)) != 0)
		goto out;
	rc = EXIT_USER;
	if (cw_get_list(c, "/api/v1/collectives", "collectives", &resp, &list) != 0)
		goto out;
	if (json) {
		rc = cw_print_json(resp) == 0 ? 0 : EXIT_USER;
		goto out;
	}
	if ((n = json_array_size(list)) == 0)
		fprintf(stderr, "meldpunt: no collectives\n");
	if (n > 0 && (counts = calloc(n, sizeof *counts)) == NULL) {
		err1("out of memory");
		goto out;
	}
	json_array_foreach(list, i, s) {
		snprintf(
		    counts[i], sizeof counts[i], "%" JSON_INTEGER_FORMAT, int_or(s, "cases", 0));
		row[0] = cw_str(s, "ref", "-");
		row[1] = cw_str(s, "created", "-");
		row[2] = counts[i];
		row[3] = cw_str(s, "id", "-");
		row[4] = cw_str(s, "name", "");
		if (cw_table_add(&t, row) != 0)
			goto out;
	}
	cw_table_print(&t, cw_tty() && n > 0 ? head : NULL);
	rc = 0;
out:
	free(counts);
	cw_table_free(&t);
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

/* GET /api/v1/collectives/{id}: the summary and its members. */
static int
get_collective(struct mp_client *c, const char *id, json_t **coll)
{
	char path[80];
	json_t *members;

	*coll = NULL;
	if (cw_path(path, sizeof path, "/api/v1/collectives/", id, "") != 0)
		return EXIT_USER;
	return cw_get_list(c, path, "members", coll, &members);
}

/* "N received, M intake" counts of statuses, in the order first met. */
static int
print_status_counts(const json_t *list, const char *key)
{
	json_t *counts = json_object(), *m, *v;
	const char *st;
	size_t i, k = 0;

	if (counts == NULL)
		return -1;
	json_array_foreach(list, i, m) {
		st = cw_str(m, key, "?");
		v = json_object_get(counts, st);
		if (json_object_set_new(
		        counts, st, json_integer(v ? json_integer_value(v) + 1 : 1)) != 0) {
			json_decref(counts);
			return -1;
		}
	}
	json_object_foreach(counts, st, v) {
		printf("%s%" JSON_INTEGER_FORMAT " ", k++ ? ", " : "", json_integer_value(v));
		mp_print_line(stdout, st);
	}
	json_decref(counts);
	return 0;
}

static int
coll_show(int argc, char **argv)
{
	static const char *const head[] = { "REF", "STATUS", "TOKEN", "ID" };
	struct mp_client_opts co = { NULL, NULL };
	int json = 0;
	struct mp_opt opts[] = {
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	struct cw_table t;
	json_t *summary = NULL, *coll = NULL, *members, *m;
	const char *row[4];
	char *pos[1];
	size_t i, n, with_token = 0;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, show_usage)) != 0)
		return cw_opts_exit(r, show_usage, show_help);
	if (npos != 1)
		return usage_error(show_usage, "which collective? give its reference or id");
	if (cw_collective_arg(pos[0]) == CW_ARG_BAD)
		return cw_collective_arg_error(show_usage, pos[0]);
	if (cw_table_init(&t, 4) != 0)
		return EXIT_USER;
	if ((rc = cw_open_client(&c, &co)) != 0 ||
	    (rc = cw_resolve_collective(c, pos[0], &summary)) != 0 ||
	    (rc = get_collective(c, cw_str(summary, "id", ""), &coll)) != 0)
		goto out;
	rc = EXIT_USER;
	if (json) {
		rc = cw_print_json(coll) == 0 ? 0 : EXIT_USER;
		goto out;
	}
	members = json_object_get(coll, "members");
	n = json_array_size(members);
	json_array_foreach(members, i, m) {
		with_token += json_is_string(json_object_get(m, "reporter_box"));
		row[0] = cw_str(m, "ref", "-");
		row[1] = cw_str(m, "status", "-");
		row[2] = json_is_string(json_object_get(m, "reporter_box")) ? "yes" : "no";
		row[3] = cw_str(m, "id", "-");
		if (cw_table_add(&t, row) != 0)
			goto out;
	}
	fputs("Collective ", stdout);
	print_name(coll);
	printf("  (id %s)\n", cw_str(summary, "id", "?"));
	fputs("  Created:  ", stdout);
	mp_print_line(stdout, cw_str(coll, "created", "-"));
	printf("\n  Cases:    %zu", n);
	if (n > 0) {
		fputs(" (", stdout);
		if (print_status_counts(members, "status") != 0) {
			err1("out of memory");
			goto out;
		}
		printf("); %zu with a follow-up token", with_token);
	}
	printf("\n");
	if (n > 0) {
		putchar('\n');
		cw_table_print(&t, cw_tty() ? head : NULL);
	}
	rc = 0;
out:
	cw_table_free(&t);
	json_decref(summary);
	json_decref(coll);
	mp_client_close(c);
	return rc;
}

/* ---- add ---- */

/* The cases named, as given: ids and references, in order. */
struct names {
	char **v;
	size_t n, cap;
};

static int
names_add(struct names *l, const char *s, size_t len)
{
	char **bigger;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		if ((bigger = realloc(l->v, l->cap * sizeof *bigger)) == NULL)
			return -1;
		l->v = bigger;
	}
	if ((l->v[l->n] = strndup(s, len)) == NULL)
		return -1;
	l->n++;
	return 0;
}

static void
names_free(struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* The first word of each line of the file; usage errors name the line. */
static int
read_names(struct names *l, const char *path)
{
	char *buf = NULL, *line, *end, *w;
	size_t len = 0, lineno = 0, wl;
	int rc = EXIT_USER;

	if (mp_read_file(path, CASES_FILE_MAX, &buf, &len) != 0)
		goto out;
	for (line = buf; line < buf + len; line = end + 1) {
		lineno++;
		if ((end = memchr(line, '\n', (size_t)(buf + len - line))) == NULL)
			end = buf + len;
		for (w = line; w < end && (*w == ' ' || *w == '\t' || *w == '\r'); w++)
			;
		/* Comments, and the cursor line that ends a page of meldpunt cases. */
		if (w == end || *w == '#' || ((size_t)(end - w) >= 5 && memcmp(w, "next:", 5) == 0))
			continue;
		for (wl = 0; w + wl < end && w[wl] != ' ' && w[wl] != '\t' && w[wl] != '\r'; wl++)
			;
		if (names_add(l, w, wl) != 0) {
			err1("out of memory");
			goto out;
		}
		if (cw_case_arg(l->v[l->n - 1]) == CW_ARG_BAD) {
			fputs("meldpunt: ", stderr);
			fputs(strcmp(path, "-") == 0 ? "standard input" : path, stderr);
			fprintf(stderr, ", line %zu: '", lineno);
			mp_print_line(stderr, l->v[l->n - 1]);
			fputs("' is neither a case id nor a reference\n", stderr);
			goto out;
		}
	}
	rc = 0;
out:
	mp_secret_free(buf);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Many references: page through all cases once (500 at a time) rather than
 * one request per reference, and replace each reference in l by its id.
 */
static int
resolve_many(struct mp_client *c, struct names *l)
{
	char path[128], *next = NULL, *id;
	json_t *resp = NULL, *cs, *map = NULL;
	const char *ref;
	size_t i;
	long status;
	int rc = EXIT_USER;

	if ((map = json_object()) == NULL) {
		err1("out of memory");
		goto out;
	}
	for (;;) {
		snprintf(path, sizeof path, "/api/v1/cases?limit=500");
		if (next != NULL && cw_add_query(path, sizeof path, "after", next) != 0)
			goto out;
		json_decref(resp);
		resp = NULL;
		if (mp_client_request(c, "GET", path, NULL, &status, &resp) != 0)
			goto out;
		json_array_foreach(json_object_get(resp, "cases"), i, cs) {
			if (mp_id_ok(cw_str(cs, "id", "")) &&
			    json_object_set(
			        map, cw_str(cs, "ref", ""), json_object_get(cs, "id")) != 0) {
				err1("out of memory");
				goto out;
			}
		}
		free(next);
		next = NULL;
		ref = cw_str(resp, "next", NULL);
		if (ref == NULL || *ref == '\0')
			break;
		if ((next = strdup(ref)) == NULL) {
			err1("out of memory");
			goto out;
		}
	}
	for (i = 0; i < l->n; i++) {
		if (cw_case_arg(l->v[i]) != CW_ARG_REF)
			continue;
		if ((ref = cw_str(map, l->v[i], NULL)) == NULL) {
			err1("no case with reference %s", l->v[i]);
			goto out;
		}
		if ((id = strdup(ref)) == NULL) {
			err1("out of memory");
			goto out;
		}
		free(l->v[i]);
		l->v[i] = id;
	}
	rc = 0;
out:
	free(next);
	json_decref(resp);
	json_decref(map);
	return rc;
}

/* Every name to an id (in place), then sorted and without repeats. */
static int
resolve_all(struct mp_client *c, struct names *l)
{
	char id[CW_ID_LEN + 1], *dup;
	size_t i, j, refs = 0;
	int rc;

	for (i = 0; i < l->n; i++)
		refs += cw_case_arg(l->v[i]) == CW_ARG_REF;
	if (refs > REF_LOOKUPS) {
		if ((rc = resolve_many(c, l)) != 0)
			return rc;
	} else {
		for (i = 0; i < l->n; i++) {
			if (cw_case_arg(l->v[i]) != CW_ARG_REF)
				continue;
			if ((rc = cw_resolve_case(c, l->v[i], id)) != 0)
				return rc;
			if ((dup = strdup(id)) == NULL) {
				err1("out of memory");
				return EXIT_USER;
			}
			free(l->v[i]);
			l->v[i] = dup;
		}
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, cmp_str);
	for (i = j = 0; i < l->n; i++) {
		if (j > 0 && strcmp(l->v[j - 1], l->v[i]) == 0) {
			free(l->v[i]);
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
	return 0;
}

static int
coll_add(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	const char *file = NULL;
	int json = 0;
	struct mp_opt opts[] = {
		{ "from-file", &file, NULL },
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	struct names l = { NULL, 0, 0 };
	json_t *summary = NULL, *body = NULL, *ids = NULL, *resp = NULL;
	char **pos = NULL, path[96];
	size_t i, first, done = 0;
	json_int_t before, after;
	long status;
	int npos, k, r, rc = EXIT_USER;

	if ((pos = calloc((size_t)argc + 1, sizeof *pos)) == NULL) {
		err1("out of memory");
		return EXIT_USER;
	}
	if ((r = mp_opts_parse(argc, argv, opts, pos, argc, &npos, add_usage)) != 0) {
		rc = cw_opts_exit(r, add_usage, add_help);
		goto out;
	}
	rc = EXIT_USAGE;
	if (npos < 1) {
		usage_error(add_usage, "which collective? give its reference or id");
		goto out;
	}
	if (cw_collective_arg(pos[0]) == CW_ARG_BAD) {
		cw_collective_arg_error(add_usage, pos[0]);
		goto out;
	}
	if (npos < 2 && file == NULL) {
		usage_error(add_usage, "which cases? name them, or give --from-file");
		goto out;
	}
	for (k = 1; k < npos; k++) {
		if (cw_case_arg(pos[k]) == CW_ARG_BAD) {
			cw_case_arg_error(add_usage, pos[k]);
			goto out;
		}
	}
	rc = EXIT_USER;
	for (k = 1; k < npos; k++) {
		if (names_add(&l, pos[k], strlen(pos[k])) != 0) {
			err1("out of memory");
			goto out;
		}
	}
	if (file != NULL && (rc = read_names(&l, file)) != 0)
		goto out;
	if (l.n == 0) {
		err1("no cases named in %s", file);
		rc = EXIT_USER;
		goto out;
	}
	if ((rc = cw_open_client(&c, &co)) != 0 ||
	    (rc = cw_resolve_collective(c, pos[0], &summary)) != 0 ||
	    (rc = resolve_all(c, &l)) != 0)
		goto out;
	rc = EXIT_USER;
	before = int_or(summary, "cases", 0);
	if (cw_path(path, sizeof path, "/api/v1/collectives/", cw_str(summary, "id", ""),
	        "/cases") != 0)
		goto out;
	/* Each batch is linked in one transaction; 20,000 at most per request. */
	for (first = 0; first < l.n; first += LINK_BATCH) {
		json_decref(body);
		json_decref(resp);
		resp = NULL;
		if ((ids = json_array()) == NULL ||
		    (body = json_pack("{s:o}", "add", ids)) == NULL) {
			err1("out of memory");
			goto out;
		}
		for (i = first; i < l.n && i < first + LINK_BATCH; i++) {
			if (json_array_append_new(ids, json_string(l.v[i])) != 0) {
				err1("out of memory");
				goto out;
			}
		}
		if (mp_client_request(c, "POST", path, body, &status, &resp) != 0) {
			if (done > 0)
				err1(
				    "%zu cases were linked before this error; the other %zu were not",
				    done, l.n - done);
			goto out;
		}
		done = i;
	}
	after = int_or(resp, "cases", before);
	if (json) {
		rc = cw_print_json(resp) == 0 ? 0 : EXIT_USER;
		goto out;
	}
	printf("linked %" JSON_INTEGER_FORMAT " case%s to ", after - before,
	    after - before == 1 ? "" : "s");
	print_name(summary);
	if ((json_int_t)l.n > after - before)
		printf("; %" JSON_INTEGER_FORMAT " %s in it already",
		    (json_int_t)l.n - (after - before),
		    (json_int_t)l.n - (after - before) == 1 ? "was" : "were");
	printf("; it now has %" JSON_INTEGER_FORMAT "\n", after);
	rc = 0;
out:
	free(pos);
	names_free(&l);
	json_decref(summary);
	json_decref(body);
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

/* ---- status ---- */

static int
coll_status(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	const char *closure = NULL;
	int json = 0;
	struct mp_opt opts[] = {
		{ "closure", &closure, NULL },
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	json_t *summary = NULL, *body = NULL, *resp = NULL, *skipped;
	char *pos[2], path[96];
	long status;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 2, &npos, status_usage)) != 0)
		return cw_opts_exit(r, status_usage, status_help);
	if (npos != 2)
		return usage_error(status_usage, "give the collective and the new status");
	if (cw_collective_arg(pos[0]) == CW_ARG_BAD)
		return cw_collective_arg_error(status_usage, pos[0]);
	if (*pos[1] == '\0' || (closure != NULL && *closure == '\0') ||
	    mp_utf8_check(pos[1], strlen(pos[1]), NULL) != 0 ||
	    (closure != NULL && mp_utf8_check(closure, strlen(closure), NULL) != 0))
		return usage_error(status_usage, "the status and closure code must be codes");
	if ((body = cw_status_body(pos[1], closure)) == NULL)
		goto out;
	if ((rc = cw_open_client(&c, &co)) != 0 ||
	    (rc = cw_resolve_collective(c, pos[0], &summary)) != 0)
		goto out;
	rc = EXIT_USER;
	if (cw_path(path, sizeof path, "/api/v1/collectives/", cw_str(summary, "id", ""),
	        "/status") != 0)
		goto out;
	if (mp_client_request(c, "POST", path, body, &status, &resp) != 0)
		goto out;
	if (json) {
		rc = cw_print_json(resp) == 0 ? 0 : EXIT_USER;
		goto out;
	}
	skipped = json_object_get(resp, "skipped");
	printf("moved %" JSON_INTEGER_FORMAT " case%s of ", int_or(resp, "moved", 0),
	    int_or(resp, "moved", 0) == 1 ? "" : "s");
	print_name(summary);
	fputs(" to ", stdout);
	mp_print_line(stdout, pos[1]);
	if (json_array_size(skipped) > 0) {
		printf("; %zu stayed where they were (", json_array_size(skipped));
		if (print_status_counts(skipped, "status") != 0) {
			err1("out of memory");
			goto out;
		}
		putchar(')');
	}
	putchar('\n');
	rc = 0;
out:
	json_decref(summary);
	json_decref(body);
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

/* ---- reply ---- */

/* Roughly how many bytes an envelope adds to a request body. */
static size_t
envelope_bytes(const json_t *env)
{
	return json_string_length(json_object_get(env, "ct")) + 160 +
	    json_array_size(json_object_get(env, "recipients")) * 150;
}

/* After a failed batch: what was sent and what was not (at most `reachable` in all). */
static void
partial(size_t sent, size_t reachable)
{
	if (sent > 0)
		err1("%zu reporters were answered before this error; the other %zu were not "
		     "(running the reply again answers those %zu a second time)",
		    sent, reachable - sent, sent);
}

/* POST one batch of messages; adds the server's count to *sent. */
static int
send_batch(struct mp_client *c, const char *path, json_t *msgs, size_t *sent)
{
	json_t *body = NULL, *resp = NULL;
	long status;
	int rc = -1;

	if ((body = json_pack("{s:O}", "messages", msgs)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (mp_client_request(c, "POST", path, body, &status, &resp) != 0)
		goto out;
	*sent += (size_t)int_or(resp, "sent", (json_int_t)json_array_size(msgs));
	json_array_clear(msgs);
	rc = 0;
out:
	json_decref(body);
	json_decref(resp);
	return rc;
}

static int
coll_reply(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	const char *opt_text = NULL, *opt_file = NULL;
	int json = 0;
	struct mp_opt opts[] = {
		{ "text", &opt_text, NULL },
		{ "file", &opt_file, NULL },
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	struct mp_box_pk *rcpt = NULL;
	json_t *summary = NULL, *coll = NULL, *keys = NULL, *msgs = NULL;
	json_t *env = NULL, *m, *out = NULL;
	const json_t *rb;
	char *text = NULL, *pt = NULL, *pos[1], path[96];
	const char *case_id;
	size_t i, n = 0, members, no_token = 0, sent = 0, bytes = 0;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, reply_usage)) != 0)
		return cw_opts_exit(r, reply_usage, reply_help);
	if (npos != 1)
		return usage_error(reply_usage, "which collective? give its reference or id");
	if (cw_collective_arg(pos[0]) == CW_ARG_BAD)
		return cw_collective_arg_error(reply_usage, pos[0]);
	if (opt_text != NULL && opt_file != NULL)
		return usage_error(reply_usage, "give --text or --file, not both");
	if ((rc = cw_read_text(&text, opt_text, opt_file, "reply")) != 0)
		goto out;
	if ((rc = cw_open_client(&c, &co)) != 0 ||
	    (rc = cw_resolve_collective(c, pos[0], &summary)) != 0 ||
	    (rc = get_collective(c, cw_str(summary, "id", ""), &coll)) != 0 ||
	    (rc = cw_get_keys(c, &keys)) != 0)
		goto out;
	rc = EXIT_USER;
	/* rcpt[0] is each reporter in turn; the caseworkers and recovery key follow. */
	if ((rcpt = calloc(MP_ENVELOPE_MAX_RECIPIENTS, sizeof *rcpt)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if ((rc = cw_staff_recipients(keys, rcpt + 1, &n)) != 0)
		goto out;
	rc = EXIT_USER;
	if (n + 1 > MP_ENVELOPE_MAX_RECIPIENTS) {
		err1("more than %d recipients", MP_ENVELOPE_MAX_RECIPIENTS);
		goto out;
	}
	/* One plaintext for all: the same words to every reporter, each under its own key K. */
	if ((pt = cw_message_plaintext(text, mp_client_identity(c)->name)) == NULL)
		goto out;
	if ((msgs = json_array()) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (cw_path(path, sizeof path, "/api/v1/collectives/", cw_str(summary, "id", ""),
	        "/messages") != 0)
		goto out;
	members = json_array_size(json_object_get(coll, "members"));
	json_array_foreach(json_object_get(coll, "members"), i, m)
		no_token += !json_is_string(json_object_get(m, "reporter_box"));
	json_array_foreach(json_object_get(coll, "members"), i, m) {
		rb = json_object_get(m, "reporter_box");
		case_id = cw_str(m, "id", "");
		if (!json_is_string(rb))
			continue;
		if (!mp_id_ok(case_id) ||
		    mp_b64u_decode_exact(
		        rcpt[0].pk, 32, json_string_value(rb), json_string_length(rb)) != 0) {
			err1("the server sent a malformed member of the collective");
			goto out;
		}
		env = mp_envelope_seal(
		    "message", case_id, (const uint8_t *)pt, strlen(pt), rcpt, n + 1);
		if (env == NULL) {
			err1("cannot seal the reply");
			goto out;
		}
		if (json_array_size(msgs) >= SEND_BATCH ||
		    bytes + envelope_bytes(env) > SEND_BYTES) {
			if (send_batch(c, path, msgs, &sent) != 0) {
				partial(sent, members - no_token);
				goto out;
			}
			bytes = 0;
		}
		bytes += envelope_bytes(env);
		if (json_array_append_new(
		        msgs, json_pack("{s:s, s:o}", "case", case_id, "envelope", env)) != 0) {
			env = NULL;
			err1("out of memory");
			goto out;
		}
		env = NULL;
	}
	if (json_array_size(msgs) > 0 && send_batch(c, path, msgs, &sent) != 0) {
		partial(sent, members - no_token);
		goto out;
	}
	if (json) {
		out = json_pack("{s:I, s:I, s:I}", "sent", (json_int_t)sent, "no_token",
		    (json_int_t)no_token, "members", (json_int_t)members);
		rc = out != NULL && cw_print_json(out) == 0 ? 0 : EXIT_USER;
		goto out;
	}
	printf("answered %zu reporter%s of ", sent, sent == 1 ? "" : "s");
	print_name(summary);
	if (no_token > 0)
		printf("; %zu case%s without a follow-up token could not be answered", no_token,
		    no_token == 1 ? "" : "s");
	putchar('\n');
	if (members == 0)
		fprintf(stderr, "meldpunt: the collective has no cases yet\n");
	rc = 0;
out:
	mp_wipe_free(pt); /* the plaintext */
	json_decref(env);
	json_decref(msgs);
	json_decref(out);
	json_decref(summary);
	json_decref(coll);
	json_decref(keys);
	free(rcpt);
	mp_secret_free(text);
	mp_client_close(c);
	return rc;
}

static const struct mp_subcmd coll_cmds[] = {
	{ "create", coll_create, create_help },
	{ "list", coll_list, list_help },
	{ "show", coll_show, show_help },
	{ "add", coll_add, add_help },
	{ "status", coll_status, status_help },
	{ "reply", coll_reply, reply_help },
};

int
cmd_collective(int argc, char **argv)
{
	return mp_subcmd_run("collective", coll_cmds, sizeof coll_cmds / sizeof coll_cmds[0],
	    coll_usage, MP_CLIENT_HELP, argc, argv);
}
