/* Helpers shared by the caseworker's commands; see casework.h for the contracts. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "casework.h"
#include "cli.h"
#include "client.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_wipe.h"
#include "util.h"

const char cw_cannot_open[] = "[cannot be opened with this key]";

/* "YYYY-N..." with four digits, a dash and 4 to 9 digits. */
static int
ref_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 9 || n > 14 || s[4] != '-')
		return 0;
	for (i = 0; i < n; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

int
cw_case_arg(const char *arg)
{
	if (mp_id_ok(arg))
		return CW_ARG_ID;
	return ref_ok(arg) ? CW_ARG_REF : CW_ARG_BAD;
}

int
cw_collective_arg(const char *arg)
{
	if (mp_id_ok(arg))
		return CW_ARG_ID;
	return (arg[0] == 'C' || arg[0] == 'c') && ref_ok(arg + 1) ? CW_ARG_REF : CW_ARG_BAD;
}

int
cw_case_arg_error(const char *usage, const char *arg)
{
	return usage_error(usage,
	    "'%s' is neither a case id (22 characters) nor a reference "
	    "(like 2026-0042)",
	    arg);
}

int
cw_collective_arg_error(const char *usage, const char *arg)
{
	return usage_error(usage,
	    "'%s' is neither a collective id nor a reference (like "
	    "C2026-0001)",
	    arg);
}

int
cw_opts_exit(int r, const char *usage, const char *help)
{
	if (r != MP_OPTS_HELP)
		return EXIT_USAGE;
	printf("usage: %s\n\n%s%s", usage, help, MP_CLIENT_HELP);
	return 0;
}

int
cw_open_client(struct mp_client **c, const struct mp_client_opts *o)
{
	int r = mp_client_open_opts(c, o);

	if (r == -2)
		return EXIT_USAGE;
	return r == 0 ? 0 : EXIT_USER;
}

const char *
cw_str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : def;
}

int
cw_print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		return -1;
	putchar('\n');
	return 0;
}

int
cw_add_query(char *path, size_t size, const char *key, const char *value)
{
	size_t len = strlen(path);
	char *v;
	int n;

	if (len >= size || (v = mp_url_escape(value)) == NULL)
		return -1;
	n = snprintf(path + len, size - len, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, v);
	free(v);
	return (n < 0 || (size_t)n >= size - len) ? -1 : 0;
}

int
cw_path(char *path, size_t size, const char *prefix, const char *id, const char *suffix)
{
	int n = snprintf(path, size, "%s%s%s", prefix, id, suffix);

	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int
cw_resolve_case(struct mp_client *c, const char *arg, char id[CW_ID_LEN + 1])
{
	char path[128] = "/api/v1/cases";
	json_t *resp = NULL, *cs;
	const char *got;
	long status;
	int rc = EXIT_USER;

	if (cw_case_arg(arg) == CW_ARG_ID) {
		memcpy(id, arg, CW_ID_LEN + 1);
		return 0;
	}
	if (cw_add_query(path, sizeof path, "ref", arg) != 0 ||
	    cw_add_query(path, sizeof path, "limit", "1") != 0) {
		err1("'%s' is not a case reference", arg);
		goto out;
	}
	if (mp_client_request(c, "GET", path, NULL, &status, &resp) != 0)
		goto out;
	cs = json_array_get(json_object_get(resp, "cases"), 0);
	/* A server that ignored ?ref= answers the newest case: only the same ref will do. */
	if (cs == NULL || strcmp(cw_str(cs, "ref", ""), arg) != 0) {
		err1("no case with reference %s", arg);
		goto out;
	}
	got = cw_str(cs, "id", "");
	if (!mp_id_ok(got)) {
		err1("the server sent a malformed case id for %s", arg);
		goto out;
	}
	memcpy(id, got, CW_ID_LEN + 1);
	rc = 0;
out:
	json_decref(resp);
	return rc;
}

int
cw_resolve_collective(struct mp_client *c, const char *arg, json_t **summary)
{
	json_t *resp = NULL, *list, *s;
	const char *key;
	size_t i;
	int rc = EXIT_USER;

	*summary = NULL;
	if (cw_get_list(c, "/api/v1/collectives", "collectives", &resp, &list) != 0)
		goto out;
	key = cw_collective_arg(arg) == CW_ARG_ID ? "id" : "ref";
	json_array_foreach(list, i, s) {
		if (strcasecmp(cw_str(s, key, ""), arg) == 0 && mp_id_ok(cw_str(s, "id", ""))) {
			*summary = json_incref(s);
			rc = 0;
			goto out;
		}
	}
	err1("no collective %s (meldpunt collective list shows them)", arg);
out:
	json_decref(resp);
	return rc;
}

int
cw_get(struct mp_client *c, const char *path, json_t **out)
{
	long status;

	*out = NULL;
	if (mp_client_request(c, "GET", path, NULL, &status, out) != 0) {
		json_decref(*out);
		*out = NULL;
		return EXIT_USER;
	}
	return 0;
}

int
cw_get_list(struct mp_client *c, const char *path, const char *name, json_t **resp, json_t **list)
{
	*list = NULL;
	if (cw_get(c, path, resp) != 0)
		return EXIT_USER;
	if (!json_is_array(json_object_get(*resp, name))) {
		err1("the server's answer has no list of %s", name);
		json_decref(*resp);
		*resp = NULL;
		return EXIT_USER;
	}
	*list = json_object_get(*resp, name);
	return 0;
}

int
cw_get_case(struct mp_client *c, const char *id, json_t **cas)
{
	char path[64];

	*cas = NULL;
	if (cw_path(path, sizeof path, "/api/v1/cases/", id, "") != 0)
		return EXIT_USER;
	return cw_get(c, path, cas);
}

int
cw_get_keys(struct mp_client *c, json_t **keys)
{
	json_t *resp, *list;

	*keys = NULL;
	if (cw_get_list(c, "/api/v1/keys", "keys", &resp, &list) != 0)
		return EXIT_USER;
	*keys = json_incref(list);
	json_decref(resp);
	return 0;
}

int
cw_get_policy(struct mp_client *c, json_t **policy)
{
	return cw_get(c, "/api/v1/policy", policy);
}

int
cw_policy_code(const json_t *policy, const char *list, const char *what, const char *code)
{
	const json_t *l = json_object_get(policy, list), *e;
	size_t i;

	if (!json_is_array(l)) {
		err1("the server's policy has no list of %s", list);
		return EXIT_USER;
	}
	json_array_foreach(l, i, e)
		if (strcmp(cw_str(e, "code", ""), code) == 0)
			return 0;
	fputs("meldpunt: '", stderr);
	mp_print_line(stderr, code);
	fprintf(stderr, "' is not a %s code; use one of: ", what);
	json_array_foreach(l, i, e) {
		if (i > 0)
			fputs(", ", stderr);
		mp_print_line(stderr, cw_str(e, "code", "?"));
	}
	fputc('\n', stderr);
	return EXIT_USER;
}

int
cw_add_recipient(struct mp_box_pk *rcpt, size_t *n, const uint8_t pk[32])
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (memcmp(rcpt[i].pk, pk, 32) == 0)
			return 0;
	if (*n >= MP_ENVELOPE_MAX_RECIPIENTS)
		return -1;
	memcpy(rcpt[(*n)++].pk, pk, 32);
	return 0;
}

int
cw_staff_recipients(const json_t *keys, struct mp_box_pk *rcpt, size_t *n)
{
	const char *role, *box;
	uint8_t pk[32];
	const json_t *k;
	size_t i;
	int caseworkers = 0;

	json_array_foreach(keys, i, k) {
		role = cw_str(k, "role", "");
		if (strcmp(role, "caseworker") != 0 && strcmp(role, "recovery") != 0)
			continue;
		box = cw_str(k, "box", "");
		if (mp_b64u_decode_exact(pk, 32, box, strlen(box)) != 0) {
			err1("the server sent a malformed key bundle");
			return EXIT_USER;
		}
		if (cw_add_recipient(rcpt, n, pk) != 0) {
			err1("more than %d recipients", MP_ENVELOPE_MAX_RECIPIENTS);
			return EXIT_USER;
		}
		caseworkers += strcmp(role, "caseworker") == 0;
	}
	if (caseworkers == 0) {
		err1("the server lists no active caseworker key");
		return EXIT_USER;
	}
	return 0;
}

int
cw_read_text(char **text, const char *opt_text, const char *opt_file, const char *what)
{
	char *t = NULL;
	size_t len = 0, ncp = 0;
	int rc = EXIT_USER;

	*text = NULL;
	if (opt_text != NULL) {
		len = strlen(opt_text);
		if (len > CW_TEXT_FILE_MAX) {
			err1("the %s is longer than %d characters", what, CW_TEXT_MAX_CP);
			goto out;
		}
		if ((t = sodium_malloc(len + 1)) == NULL) {
			err1("out of memory");
			goto out;
		}
		memcpy(t, opt_text, len + 1);
		/* The copy is what is used; the argument need not stay in memory. */
		sodium_memzero((char *)opt_text, len);
	} else {
		if (opt_file == NULL && isatty(STDIN_FILENO))
			fprintf(stderr, "Type the %s; end it with Ctrl-D on a line of its own.\n",
			    what);
		if (mp_read_file(opt_file != NULL ? opt_file : "-", CW_TEXT_FILE_MAX, &t, &len) !=
		    0)
			goto out;
	}
	while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r'))
		t[--len] = '\0';
	if (mp_utf8_check(t, len, &ncp) != 0) {
		err1("the %s is not valid UTF-8 text", what);
		goto out;
	}
	if (ncp < 1) {
		err1("the %s is empty", what);
		goto out;
	}
	if (ncp > CW_TEXT_MAX_CP) {
		err1("the %s is longer than %d characters", what, CW_TEXT_MAX_CP);
		goto out;
	}
	*text = t;
	t = NULL;
	rc = 0;
out:
	mp_secret_free(t);
	return rc;
}

char *
cw_message_plaintext(const char *text, const char *author)
{
	json_t *msg;
	char *pt = NULL;

	msg = json_pack("{s:s, s:s, s:s}", "text", text, "from", "caseworker", "author", author);
	if (msg == NULL || (pt = json_dumps(msg, JSON_COMPACT)) == NULL)
		err1("out of memory");
	json_decref(msg); /* wipes jansson's copy (mp_cli_harden) */
	return pt;
}

json_t *
cw_seal_message(const char *kind, const char *case_id, const char *text, const char *author,
    const struct mp_box_pk *rcpt, size_t n)
{
	json_t *env = NULL;
	char *pt;

	if ((pt = cw_message_plaintext(text, author)) == NULL)
		return NULL;
	if ((env = mp_envelope_seal(kind, case_id, (const uint8_t *)pt, strlen(pt), rcpt, n)) ==
	    NULL)
		err1("cannot seal the %s", kind);
	mp_wipe_free(pt);
	return env;
}

json_t *
cw_status_body(const char *status, const char *closure)
{
	json_t *body = closure != NULL
	    ? json_pack("{s:s, s:s}", "status", status, "closure", closure)
	    : json_pack("{s:s}", "status", status);

	if (body == NULL)
		err1("out of memory");
	return body;
}

int
cw_class_json(const struct cw_class *k, const char *usage, json_t **out)
{
	const char *opt[5] = { k->grounds, k->domain, k->manifestation, k->incident, k->residence };
	const char *p, *end;
	json_t *cls = NULL, *grounds = NULL, *g;
	size_t i, len, given = 0;
	char code[64];
	int rc = EXIT_USER;

	*out = NULL;
	for (i = 0; i < 5; i++)
		given += opt[i] != NULL;
	if (given == 0)
		return 0;
	if (given < 5)
		return usage_error(usage,
		    "a classification needs all five of --grounds, --domain, "
		    "--manifestation, --incident and --residence");
	if ((grounds = json_array()) == NULL) {
		err1("out of memory");
		goto out;
	}
	for (p = k->grounds;; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof code) {
			rc = usage_error(usage,
			    "--grounds takes codes separated by commas, like "
			    "origin,religion");
			goto out;
		}
		memcpy(code, p, len);
		code[len] = '\0';
		json_array_foreach(grounds, i, g) {
			if (strcmp(json_string_value(g), code) == 0) {
				rc = usage_error(usage, "--grounds names %s twice", code);
				goto out;
			}
		}
		if (json_array_append_new(grounds, json_string(code)) != 0) {
			err1("out of memory");
			goto out;
		}
		if (*end == '\0')
			break;
	}
	for (i = 1; i < 5; i++) {
		if (*opt[i] == '\0' || mp_utf8_check(opt[i], strlen(opt[i]), NULL) != 0) {
			rc = usage_error(usage, "the classification codes cannot be empty");
			goto out;
		}
	}
	cls = json_pack("{s:O, s:s, s:s, s:s, s:s}", "grounds", grounds, "domain", k->domain,
	    "manifestation", k->manifestation, "incident_municipality", k->incident,
	    "residence_municipality", k->residence);
	if (cls == NULL) {
		err1("out of memory");
		goto out;
	}
	*out = cls;
	rc = 0;
out:
	json_decref(grounds);
	return rc;
}

int
cw_class_check(const json_t *policy, const json_t *cls)
{
	const json_t *g;
	size_t i;

	json_array_foreach(json_object_get(cls, "grounds"), i, g)
		if (cw_policy_code(policy, "grounds", "ground", json_string_value(g)) != 0)
			return EXIT_USER;
	if (cw_policy_code(policy, "domains", "domain", cw_str(cls, "domain", "")) != 0 ||
	    cw_policy_code(
	        policy, "manifestations", "manifestation", cw_str(cls, "manifestation", "")) != 0 ||
	    cw_policy_code(policy, "municipalities", "municipality",
	        cw_str(cls, "incident_municipality", "")) != 0 ||
	    cw_policy_code(policy, "municipalities", "municipality",
	        cw_str(cls, "residence_municipality", "")) != 0)
		return EXIT_USER;
	return 0;
}

void
cw_print_class(FILE *f, const json_t *cls)
{
	static const char *const keys[] = { "domain", "manifestation", "incident_municipality",
		"residence_municipality" };
	static const char *const names[] = { "", "", "incident ", "residence " };
	const json_t *g;
	size_t i;

	json_array_foreach(json_object_get(cls, "grounds"), i, g) {
		if (i > 0)
			fputs(", ", f);
		mp_print_line(f, json_is_string(g) ? json_string_value(g) : "?");
	}
	for (i = 0; i < 4; i++) {
		fputs("; ", f);
		fputs(names[i], f);
		mp_print_line(f, cw_str(cls, keys[i], "-"));
	}
}

void
cw_today(char out[11])
{
	struct tm tm;
	time_t now = time(NULL);

	/* The instance's days are Amsterdam days unless the caseworker says otherwise. */
	if (getenv("TZ") == NULL)
		(void)setenv("TZ", "Europe/Amsterdam", 1);
	tzset();
	if (localtime_r(&now, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		memcpy(out, "1970-01-01", 11);
}

static int
parse_day(const char *s, time_t *t)
{
	struct tm tm;
	int y, m, d;
	char tail;

	if (s == NULL || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	*t = timegm(&tm);
	return *t == (time_t)-1 ? -1 : 0;
}

long
cw_days_between(const char *a, const char *b)
{
	time_t ta, tb;

	if (parse_day(a, &ta) != 0 || parse_day(b, &tb) != 0)
		return 0;
	return (long)((tb - ta) / 86400);
}

int
cw_tty(void)
{
	return isatty(STDOUT_FILENO);
}

void
cw_pad(size_t have, size_t want)
{
	for (; have < want; have++)
		putchar(' ');
}

int
cw_table_init(struct cw_table *t, size_t ncols)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	if ((t->width = calloc(ncols, sizeof *t->width)) == NULL) {
		err1("out of memory");
		return -1;
	}
	return 0;
}

static void
widen(struct cw_table *t, const char *const *row)
{
	size_t j, w;

	for (j = 0; j < t->ncols; j++) {
		w = mp_text_width(row[j] != NULL ? row[j] : "-");
		if (w > t->width[j])
			t->width[j] = w;
	}
}

int
cw_table_add(struct cw_table *t, const char *const *row)
{
	const char **bigger;
	size_t cap;

	if (t->nrows == t->cap) {
		cap = t->cap ? t->cap * 2 : 64;
		if ((bigger = realloc(t->cells, cap * t->ncols * sizeof *bigger)) == NULL) {
			err1("out of memory");
			return -1;
		}
		t->cells = bigger;
		t->cap = cap;
	}
	memcpy(t->cells + t->nrows * t->ncols, row, t->ncols * sizeof *row);
	t->nrows++;
	widen(t, row);
	return 0;
}

static void
print_row(const struct cw_table *t, const char *const *row)
{
	const char *s;
	size_t j;

	for (j = 0; j < t->ncols; j++) {
		s = row[j] != NULL ? row[j] : "-";
		mp_print_line(stdout, s);
		if (j + 1 < t->ncols)
			cw_pad(mp_text_width(s), t->width[j] + 2);
	}
	putchar('\n');
}

void
cw_table_print(struct cw_table *t, const char *const *head)
{
	size_t i;

	if (head != NULL) {
		widen(t, head);
		print_row(t, head);
	}
	for (i = 0; i < t->nrows; i++)
		print_row(t, t->cells + i * t->ncols);
}

void
cw_table_free(struct cw_table *t)
{
	free(t->cells);
	free(t->width);
	memset(t, 0, sizeof *t);
}
