/*
 * The caseworker's commands: keygen, cases, case show|reply|status.  They
 * run on the caseworker's own device and never need the server's instance
 * directory: requests are signed with the personal key (client.c) and
 * envelopes are opened and sealed here, so plaintext never leaves this
 * process except on the caseworker's own screen.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_keyfile.h"
#include "mp_wipe.h"
#include "util.h"

#define CASE_ID_BYTES 16
#define CASE_ID_LEN 22
#define TEXT_MAX_CP 10000
/* A reply read from a file or stdin: 10000 code points of up to 4 bytes, and some slack. */
#define TEXT_FILE_MAX (64 * 1024)
#define LIMIT_MAX 500

/* Open results: the item could not be opened, or opened to something that is not an item. */
#define OPEN_NO_KEY -1
#define OPEN_MALFORMED -2

static const char cannot_open[] = "[cannot be opened with this key]";
static const char malformed[] = "[opened, but it is not a well-formed item]";

/* ---- keygen ---- */

static const char keygen_usage[] =
    "meldpunt keygen --name NAME --out FILE [--role caseworker|auditor|admin|recovery]";

static const char keygen_help[] =
    "Make your personal keys: a signing key (it signs your requests to the server)\n"
    "and a separate box key (it opens reports and messages sealed to you).  Both\n"
    "are written to FILE, encrypted under a passphrase (Argon2id and\n"
    "XChaCha20-Poly1305); FILE is created with mode 0600 and never overwritten.\n"
    "The public key bundle is printed on standard output, and how an admin\n"
    "registers it on the server (meldpunt key add) on standard error.\n"
    "\n"
    "  --name NAME   your name as colleagues see it (1 to 100 characters)\n"
    "  --out FILE    the key file to create\n"
    "  --role ROLE   caseworker (default), auditor, admin, or recovery (the offline\n"
    "                key every envelope is also sealed to; keep it on paper or in\n"
    "                a safe)\n"
    "\n"
    "The passphrase (at least 8 characters) is asked twice on the terminal.\n"
    "Environment:\n"
    "  MELDPUNT_PASSPHRASE   the passphrase, asked once, for scripts and tests\n"
    "  MELDPUNT_KDF_FAST=1   weak Argon2id limits (the minimum operations and\n"
    "                        8 MiB) so that tests and demos run fast; NEVER for a\n"
    "                        real key: a stolen file would give up its passphrase\n"
    "                        far more easily\n";

/* Print s for a POSIX shell: in single quotes, each ' as '\''. */
static void
print_shell_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* The line the admin runs on the server to register the bundle. */
static void
print_key_add_hint(const struct mp_identity *id, const char *out)
{
	char sign[MP_B64U_LEN(32)], box[MP_B64U_LEN(32)];

	if (mp_b64u_encode(box, sizeof box, id->box_pk, 32) != 0 ||
	    mp_b64u_encode(sign, sizeof sign, id->sign_pk, 32) != 0)
		return;
	fprintf(stderr, "meldpunt: wrote %s; keep it and its passphrase safe.\n", out);
	fprintf(stderr, "meldpunt: the admin registers this key on the server with:\n");
	fprintf(stderr, "  meldpunt key add --dir DIR --role %s --name ", id->role);
	print_shell_quoted(stderr, id->name);
	if (id->has_sign)
		fprintf(stderr, " --sign %s", sign);
	fprintf(stderr, " --box %s\n", box);
}

int
cmd_keygen(int argc, char **argv)
{
	const char *name = NULL, *out = NULL, *role = NULL, *fast;
	struct mp_opt opts[] = {
		{ "name", &name, NULL },
		{ "out", &out, NULL },
		{ "role", &role, NULL },
		{ NULL, NULL, NULL },
	};
	struct mp_identity *id = NULL;
	char *pass = NULL, *file = NULL, *bundle = NULL;
	unsigned long long ops = 0;
	size_t plen = 0, mem = 0, ncp = 0, i;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, keygen_usage)) != 0) {
		if (r == MP_OPTS_HELP) {
			printf("usage: %s\n\n%s", keygen_usage, keygen_help);
			return 0;
		}
		return EXIT_USAGE;
	}
	if (name == NULL || out == NULL)
		return usage_error(keygen_usage, "--name and --out are required");
	if (role == NULL)
		role = "caseworker";
	if (!mp_role_ok(role))
		return usage_error(keygen_usage, "--role must be caseworker, auditor, admin or "
		    "recovery");
	if (mp_utf8_check(name, strlen(name), &ncp) != 0 || ncp < 1 || ncp > MP_NAME_MAX)
		return usage_error(keygen_usage, "--name must be 1 to %d characters of UTF-8",
		    MP_NAME_MAX);
	for (i = 0; name[i]; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return usage_error(keygen_usage, "--name must not hold control characters");
	}
	/* Fail before the passphrase is typed; the O_EXCL open below still decides. */
	if (access(out, F_OK) == 0) {
		err1("%s already exists; not overwriting it", out);
		goto out;
	}
	fast = getenv("MELDPUNT_KDF_FAST");
	if (fast != NULL && strcmp(fast, "1") == 0) {
		ops = crypto_pwhash_OPSLIMIT_MIN;
		mem = 8 * 1024 * 1024;
	}
	if ((id = mp_identity_new(name, role)) == NULL) {
		err1("cannot make new keys");
		goto out;
	}
	if (mp_passphrase_read(&pass, &plen, "New passphrase for the key file: ", MP_PASS_NEW) != 0)
		goto out;
	if ((file = mp_keyfile_seal(id, pass, plen, ops, mem)) == NULL) {
		err1("cannot encrypt the key file (out of memory?)");
		goto out;
	}
	if ((bundle = mp_identity_bundle(id)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (mp_write_file_new(out, file, strlen(file)) != 0)
		goto out;
	printf("%s\n", bundle);
	print_key_add_hint(id, out);
	rc = 0;
out:
	mp_secret_free(pass);
	mp_identity_free(id);
	free(file); /* holds only the sealed form */
	free(bundle);
	return rc;
}

/* ---- shared by the commands that talk to the server ---- */

/* A case id as the protocol makes them: 16 bytes, b64u, 22 symbols. */
static int
case_id_ok(const char *id)
{
	uint8_t buf[CASE_ID_BYTES];

	return strlen(id) == CASE_ID_LEN && mp_b64u_decode_exact(buf, sizeof buf, id, CASE_ID_LEN) == 0;
}

/* mp_client_open_opts' result as an exit status. */
static int
open_client(struct mp_client **c, const struct mp_client_opts *o)
{
	int r = mp_client_open_opts(c, o);

	if (r == -2)
		return EXIT_USAGE;
	return r == 0 ? 0 : EXIT_USER;
}

/* The string member key of o, or def. */
static const char *
str_or(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : def;
}

/* JSON for a reader, on stdout, two-space indented. */
static int
print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		return -1;
	putchar('\n');
	return 0;
}

/* GET /api/v1/cases/{id}; 0 with *cas set, else an exit status (printed). */
static int
get_case(struct mp_client *c, const char *id, json_t **cas)
{
	char path[64];
	long status;
	int n;

	n = snprintf(path, sizeof path, "/api/v1/cases/%s", id);
	if (n < 0 || (size_t)n >= sizeof path)
		return EXIT_USER;
	if (mp_client_request(c, "GET", path, NULL, &status, cas) != 0) {
		json_decref(*cas);
		*cas = NULL;
		return EXIT_USER;
	}
	return 0;
}

/* ---- cases ---- */

static const char cases_usage[] =
    "meldpunt cases [--status S] [--limit N] [--after CURSOR] [--json] " MP_CLIENT_USAGE;

static const char cases_help[] =
    "List cases, newest first: one line per case with its reference, the day it\n"
    "was received, its status, whether it is anonymous or named, and its id (for\n"
    "meldpunt case).  When there are more, a last line gives the cursor for the\n"
    "next page.\n"
    "\n"
    "  --status S      only cases with this status (received, intake, ...)\n"
    "  --limit N       at most N cases (1 to 500; the server's default is 50)\n"
    "  --after CURSOR  the page after CURSOR (from the previous page)\n"
    "  --json          print the server's answer as JSON\n" MP_CLIENT_HELP;

/* Append "&key=escaped value" (or "?key=...") to path. */
static int
add_query(char *path, size_t size, const char *key, const char *value)
{
	size_t len = strlen(path);
	char *v;
	int n;

	if ((v = mp_url_escape(value)) == NULL)
		return -1;
	n = snprintf(path + len, size - len, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, v);
	free(v);
	return (n < 0 || (size_t)n >= size - len) ? -1 : 0;
}

static void
pad(size_t have, size_t want)
{
	for (; have < want; have++)
		putchar(' ');
}

#define CASE_COLS 4

/* The columns of one case before its id: ref, received, status, anonymous or named. */
static void
case_columns(const char *col[CASE_COLS], const json_t *cs)
{
	col[0] = str_or(cs, "ref", "-");
	col[1] = str_or(cs, "received", "-");
	col[2] = str_or(cs, "status", "-");
	col[3] = json_is_true(json_object_get(cs, "anonymous")) ? "anonymous" : "named";
}

/* The cases as aligned columns; values come from the server, so they are shown safely. */
static void
print_cases(const json_t *cases)
{
	size_t i, j, w[CASE_COLS] = { 0 };
	const char *col[CASE_COLS];
	json_t *cs;

	json_array_foreach(cases, i, cs) {
		case_columns(col, cs);
		for (j = 0; j < CASE_COLS; j++)
			if (mp_text_width(col[j]) > w[j])
				w[j] = mp_text_width(col[j]);
	}
	json_array_foreach(cases, i, cs) {
		case_columns(col, cs);
		for (j = 0; j < CASE_COLS; j++) {
			mp_print_line(stdout, col[j]);
			pad(mp_text_width(col[j]), w[j] + 2);
		}
		mp_print_line(stdout, str_or(cs, "id", "-"));
		putchar('\n');
	}
}

int
cmd_cases(int argc, char **argv)
{
	const char *status_opt = NULL, *limit = NULL, *after = NULL;
	struct mp_client_opts co = { NULL, NULL };
	int json = 0;
	struct mp_opt opts[] = {
		{ "status", &status_opt, NULL },
		{ "limit", &limit, NULL },
		{ "after", &after, NULL },
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	json_t *resp = NULL, *cases, *next;
	char path[4096] = "/api/v1/cases", *end;
	long status, lim;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, cases_usage)) != 0) {
		if (r == MP_OPTS_HELP) {
			printf("usage: %s\n\n%s", cases_usage, cases_help);
			return 0;
		}
		return EXIT_USAGE;
	}
	if (limit != NULL) {
		errno = 0;
		lim = strtol(limit, &end, 10);
		if (errno != 0 || end == limit || *end != '\0' || lim < 1 || lim > LIMIT_MAX ||
		    limit[0] < '0' || limit[0] > '9')
			return usage_error(cases_usage, "--limit must be a number from 1 to %d",
			    LIMIT_MAX);
	}
	if ((status_opt != NULL && add_query(path, sizeof path, "status", status_opt) != 0) ||
	    (limit != NULL && add_query(path, sizeof path, "limit", limit) != 0) ||
	    (after != NULL && add_query(path, sizeof path, "after", after) != 0))
		return usage_error(cases_usage, "the options are too long");
	if ((rc = open_client(&c, &co)) != 0)
		goto out;
	rc = EXIT_USER;
	if (mp_client_request(c, "GET", path, NULL, &status, &resp) != 0)
		goto out;
	cases = json_object_get(resp, "cases");
	next = json_object_get(resp, "next");
	if (!json_is_array(cases)) {
		err1("the server's answer has no list of cases");
		goto out;
	}
	if (json) {
		if (print_json(resp) != 0)
			goto out;
	} else {
		if (json_array_size(cases) == 0)
			fprintf(stderr, "meldpunt: no cases\n");
		print_cases(cases);
		if (json_is_string(next) && json_string_length(next) > 0) {
			fputs("next: ", stdout);
			mp_print_line(stdout, json_string_value(next));
			putchar('\n');
		}
	}
	rc = 0;
out:
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

/* ---- case ---- */

static const char case_usage[] =
    "meldpunt case show ID [--json] " MP_CLIENT_USAGE "\n"
    "       meldpunt case reply ID [--text TEXT | --file FILE] " MP_CLIENT_USAGE "\n"
    "       meldpunt case status ID STATUS [--closure CODE] " MP_CLIENT_USAGE;

static const char show_usage[] = "meldpunt case show ID [--json] " MP_CLIENT_USAGE;
static const char reply_usage[] =
    "meldpunt case reply ID [--text TEXT | --file FILE] " MP_CLIENT_USAGE;
static const char status_usage[] =
    "meldpunt case status ID STATUS [--closure CODE] " MP_CLIENT_USAGE;

static const char show_help[] =
    "Show a case: its state, the report and the messages (oldest first), opened\n"
    "here with your box key.  Internal notes are marked as such; an item that was\n"
    "not sealed to your key is shown as " "\"[cannot be opened with this key]\".\n"
    "\n"
    "  ID       the case id (22 characters, from meldpunt cases)\n"
    "  --json   print {\"case\": ..., \"report\": ..., \"messages\": [...]} instead, with\n"
    "           the report and messages opened (null where they do not open)\n";

static const char reply_help[] =
    "Send a message to the reporter of a case, through the follow-up token.  It is\n"
    "sealed here to the reporter and to every active caseworker and recovery key,\n"
    "so that colleagues can read the conversation too.\n"
    "\n"
    "  ID           the case id\n"
    "  --text TEXT  the message (1 to 10000 characters)\n"
    "  --file FILE  read the message from FILE (- for standard input)\n"
    "Without --text or --file the message is read from standard input.\n";

static const char status_help[] =
    "Move a case to another status: received, intake, registration_only,\n"
    "in_progress, referred or closed (the policy lists the moves allowed).\n"
    "\n"
    "  ID              the case id\n"
    "  STATUS          the new status\n"
    "  --closure CODE  how the case ended; required for closed (advice_information,\n"
    "                  mediation, assistance_procedure, policy_influence, referral,\n"
    "                  own_investigation, registration_only, withdrawn)\n";

static void
print_case_help(const char *usage, const char *help)
{
	printf("usage: %s\n\n%s%s", usage, help, MP_CLIENT_HELP);
}

/*
 * Open an envelope of the case with the caseworker's key and parse its
 * plaintext.  The envelope's kind must be one of kinds (a NULL-terminated
 * list): the kind is bound into the AD, and a server must not pass a
 * message off as the report.  0 with *obj set, or OPEN_NO_KEY /
 * OPEN_MALFORMED.  The plaintext buffer is wiped before this returns;
 * jansson's copy is wiped when *obj is freed (mp_cli_harden: mp_wipe_json).
 */
static int
open_item(json_t **obj, const json_t *env, const char *case_id, const char *const *kinds,
    const struct mp_identity *id)
{
	const char *kind = json_string_value(json_object_get(env, "kind"));
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	json_t *o = NULL;
	int ok = 0, rc = OPEN_NO_KEY;

	*obj = NULL;
	for (; kind != NULL && *kinds != NULL; kinds++)
		if (strcmp(kind, *kinds) == 0)
			ok = 1;
	if (!ok)
		goto out;
	if (mp_envelope_open(&pt, &ptlen, env, case_id, id->box_pk, id->box_sk) != 0)
		goto out;
	rc = OPEN_MALFORMED;
	/* No json_error_t: it would keep a piece of the plaintext on the stack. */
	o = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o))
		goto out;
	*obj = o;
	o = NULL;
	rc = 0;
out:
	mp_envelope_free(pt, ptlen);
	json_decref(o);
	return rc;
}

/* A JSON value on one line for a reader: strings as they are, lists joined by ", ". */
static void
print_value(const json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;

	if (v == NULL) { /* a field the server left out */
		fputs("-", stdout);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		mp_print_line(stdout, json_string_value(v));
		break;
	case JSON_INTEGER:
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("yes", stdout);
		break;
	case JSON_FALSE:
		fputs("no", stdout);
		break;
	case JSON_NULL:
		fputs("-", stdout);
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) {
			if (i > 0)
				fputs(", ", stdout);
			print_value(e);
		}
		break;
	case JSON_OBJECT:
		i = 0;
		json_object_foreach((json_t *)v, key, e) {
			if (e == NULL || json_is_null(e))
				continue;
			if (i++ > 0)
				fputs("; ", stdout);
			mp_print_line(stdout, key);
			fputs(": ", stdout);
			print_value(e);
		}
		break;
	}
}

/* "  Label:<pad>" (a label may be a field name from a report, so it is shown safely) */
static void
print_label(const char *label)
{
	fputs("  ", stdout);
	mp_print_line(stdout, label);
	putchar(':');
	pad(mp_text_width(label) + 1, 24);
}

static void
print_field(const char *label, const json_t *v)
{
	print_label(label);
	print_value(v);
	putchar('\n');
}

static void
print_field_str(const char *label, const char *s)
{
	print_label(label);
	mp_print_line(stdout, s);
	putchar('\n');
}

struct label {
	const char *key, *label;
};

/* The report object's fields (API.md), in the order a caseworker reads them. */
static const struct label report_labels[] = {
	{ "received", "Received" },
	{ "language", "Language" },
	{ "role", "Reporter's role" },
	{ "wish", "Wish" },
	{ "occurred_on", "Occurred on" },
	{ "location", "Location" },
	{ "incident_municipality", "Incident municipality" },
	{ "residence_municipality", "Residence municipality" },
	{ "grounds", "Grounds" },
	{ "domain", "Domain" },
	{ "manifestation", "Manifestation" },
	{ "counterparty", "Other party" },
	{ NULL, NULL },
};

static const struct label contact_labels[] = {
	{ "name", "Contact name" },
	{ "email", "Contact e-mail" },
	{ "phone", "Contact phone" },
	{ "preferred", "Preferred contact" },
	{ NULL, NULL },
};

static int
known_key(const struct label *l, const char *key)
{
	for (; l->key != NULL; l++)
		if (strcmp(l->key, key) == 0)
			return 1;
	return 0;
}

static void
print_report(const json_t *rep)
{
	const struct label *l;
	const char *key;
	json_t *v, *contact = json_object_get(rep, "contact");

	printf("Report\n");
	for (l = report_labels; l->key != NULL; l++)
		if ((v = json_object_get(rep, l->key)) != NULL && !json_is_null(v))
			print_field(l->label, v);
	if (json_is_object(contact) && json_object_size(contact) > 0) {
		for (l = contact_labels; l->key != NULL; l++)
			if ((v = json_object_get(contact, l->key)) != NULL && !json_is_null(v))
				print_field(l->label, v);
		json_object_foreach(contact, key, v)
			if (!known_key(contact_labels, key))
				print_field(key, v);
	} else {
		print_field_str("Contact", "none (anonymous)");
	}
	/* Fields this version does not know yet are shown too, not dropped. */
	json_object_foreach((json_t *)rep, key, v) {
		if (!known_key(report_labels, key) && strcmp(key, "contact") != 0 &&
		    strcmp(key, "description") != 0)
			print_field(key, v);
	}
	printf("  Description:\n    ");
	mp_print_text(stdout, str_or(rep, "description", ""), "    ");
	putchar('\n');
}

/* A message of the case in display order: by day, the server's order within a day. */
struct item {
	const json_t *m;
	size_t idx;
};

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int d = strcmp(str_or(x->m, "date", ""), str_or(y->m, "date", ""));

	if (d != 0)
		return d;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static const char *const report_kinds[] = { "report", NULL };
static const char *const message_kinds[] = { "message", "note", NULL };

/* One message, opened, as {"id","from","date","kind","text","author"}. */
static json_t *
message_json(const json_t *m, const json_t *pt)
{
	const json_t *env = json_object_get(m, "envelope");

	return json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(m, "id"),
	    "from", json_object_get(m, "from"), "date", json_object_get(m, "date"), "kind",
	    json_object_get(env, "kind"), "text", json_object_get(pt, "text"), "author",
	    json_object_get(pt, "author"));
}

static void
print_message(const json_t *m, const json_t *pt, int r)
{
	const char *kind = str_or(json_object_get(m, "envelope"), "kind", "");
	const char *from = str_or(m, "from", "?");
	const char *author = str_or(pt, "author", NULL);

	putchar('\n');
	fputs("  ", stdout);
	mp_print_line(stdout, str_or(m, "date", "?"));
	if (strcmp(kind, "note") == 0) {
		fputs("  internal note", stdout);
		if (author != NULL) {
			fputs(" by ", stdout);
			mp_print_line(stdout, author);
		}
	} else {
		fputs("  from ", stdout);
		mp_print_line(stdout, strcmp(from, "reporter") == 0 ? "the reporter" : from);
		if (author != NULL && strcmp(from, "reporter") != 0) {
			fputs(" ", stdout);
			mp_print_line(stdout, author);
		}
	}
	fputs("\n    ", stdout);
	if (r == OPEN_NO_KEY)
		fputs(cannot_open, stdout);
	else if (r != 0 || !json_is_string(json_object_get(pt, "text")))
		fputs(malformed, stdout);
	else
		mp_print_text(stdout, json_string_value(json_object_get(pt, "text")), "    ");
	putchar('\n');
}

static void
print_case_head(const json_t *cas, const char *id)
{
	const json_t *v;

	printf("Case ");
	mp_print_line(stdout, str_or(cas, "ref", "-"));
	printf("  (id %s)\n", id);
	print_field("Received", json_object_get(cas, "received"));
	print_field("Status", json_object_get(cas, "status"));
	print_field_str("Reporter", json_is_true(json_object_get(cas, "anonymous")) ?
	    "anonymous" : "named");
	print_field_str("Follow-up token", json_is_string(json_object_get(cas, "reporter_box")) ?
	    "yes" : "no");
	if ((v = json_object_get(cas, "classification")) != NULL && !json_is_null(v))
		print_field("Classification", v);
	if ((v = json_object_get(cas, "collective")) != NULL && !json_is_null(v) &&
	    !json_is_false(v))
		print_field("Collective", v);
}

static int
case_show(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	int json = 0;
	struct mp_opt opts[] = {
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	const struct mp_identity *me;
	json_t *cas = NULL, *rep = NULL, *msgs, *pt = NULL, *out = NULL, *list = NULL;
	json_t *head = NULL;
	struct item *items = NULL;
	char *pos[1];
	const char *id;
	size_t i, n;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, show_usage)) != 0) {
		if (r == MP_OPTS_HELP) {
			print_case_help(show_usage, show_help);
			return 0;
		}
		return EXIT_USAGE;
	}
	if (npos != 1)
		return usage_error(show_usage, "which case? give its id");
	if (!case_id_ok(id = pos[0]))
		return usage_error(show_usage, "'%s' is not a case id (22 characters)", id);
	if ((rc = open_client(&c, &co)) != 0)
		goto out;
	if ((rc = get_case(c, id, &cas)) != 0)
		goto out;
	rc = EXIT_USER;
	me = mp_client_identity(c);
	msgs = json_object_get(cas, "messages");
	n = json_is_array(msgs) ? json_array_size(msgs) : 0;
	if (n > 0 && (items = calloc(n, sizeof *items)) == NULL) {
		err1("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		items[i].m = json_array_get(msgs, i);
		items[i].idx = i;
	}
	if (n > 0)
		qsort(items, n, sizeof *items, item_cmp);
	r = open_item(&rep, json_object_get(cas, "report"), id, report_kinds, me);

	if (json) {
		if ((head = json_deep_copy(cas)) == NULL || (list = json_array()) == NULL) {
			err1("out of memory");
			goto out;
		}
		json_object_del(head, "report");
		json_object_del(head, "messages");
		for (i = 0; i < n; i++) {
			open_item(&pt, json_object_get(items[i].m, "envelope"), id, message_kinds, me);
			if (json_array_append_new(list, message_json(items[i].m, pt)) != 0) {
				err1("out of memory");
				goto out;
			}
			json_decref(pt);
			pt = NULL;
		}
		out = json_pack("{s:O, s:O?, s:O}", "case", head, "report", rep, "messages", list);
		if (out == NULL || print_json(out) != 0) {
			err1("cannot print the case");
			goto out;
		}
	} else {
		print_case_head(cas, id);
		putchar('\n');
		if (r == 0)
			print_report(rep);
		else
			printf("Report\n  %s\n", r == OPEN_NO_KEY ? cannot_open : malformed);
		if (n > 0)
			printf("\nMessages (%zu)\n", n);
		for (i = 0; i < n; i++) {
			r = open_item(&pt, json_object_get(items[i].m, "envelope"), id, message_kinds,
			    me);
			print_message(items[i].m, pt, r);
			json_decref(pt); /* wiped on free (mp_cli_harden) */
			pt = NULL;
		}
	}
	rc = 0;
out:
	/* Each json_decref wipes what it frees: the opened report and messages included. */
	json_decref(pt);
	json_decref(out);
	json_decref(list);
	json_decref(head);
	json_decref(rep);
	json_decref(cas);
	free(items);
	mp_client_close(c);
	return rc;
}

/*
 * The reply text: --text, or the contents of --file, or standard input;
 * trailing line ends dropped (an editor or `echo` adds one).  sodium_malloc'ed
 * into *text.  0, or an exit status (printed).
 */
static int
reply_text(char **text, const char *opt_text, const char *opt_file)
{
	char *t = NULL;
	size_t len = 0, ncp = 0;
	int rc = EXIT_USER;

	*text = NULL;
	if (opt_text != NULL) {
		len = strlen(opt_text);
		if (len > TEXT_FILE_MAX) {
			err1("the reply is longer than %d characters", TEXT_MAX_CP);
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
			fprintf(stderr, "Type the reply; end it with Ctrl-D on a line of its own.\n");
		if (mp_read_file(opt_file != NULL ? opt_file : "-", TEXT_FILE_MAX, &t, &len) != 0)
			goto out;
	}
	while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r'))
		t[--len] = '\0';
	if (mp_utf8_check(t, len, &ncp) != 0) {
		err1("the reply is not valid UTF-8 text");
		goto out;
	}
	if (ncp < 1) {
		err1("the reply is empty");
		goto out;
	}
	if (ncp > TEXT_MAX_CP) {
		err1("the reply is longer than %d characters", TEXT_MAX_CP);
		goto out;
	}
	*text = t;
	t = NULL;
	rc = 0;
out:
	mp_secret_free(t);
	return rc;
}

/* Append pk to rcpt[0..*n) unless it is there already. */
static int
add_recipient(struct mp_box_pk *rcpt, size_t *n, const uint8_t pk[32])
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

/*
 * Recipients of a message to the reporter (PROTOCOL.md section 3): the
 * reporter's box key and every active caseworker and recovery key.
 */
static int
reply_recipients(struct mp_client *c, const json_t *cas, struct mp_box_pk *rcpt, size_t *n)
{
	const json_t *rb = json_object_get(cas, "reporter_box");
	json_t *resp = NULL, *keys, *k;
	uint8_t pk[32];
	const char *role, *box;
	long status;
	size_t i;
	int rc = EXIT_USER;

	*n = 0;
	if (rb == NULL || json_is_null(rb)) {
		err1("this case has no follow-up token; the reporter cannot be reached this way");
		goto out;
	}
	if (!json_is_string(rb) || mp_b64u_decode_exact(pk, 32, json_string_value(rb),
	    json_string_length(rb)) != 0) {
		err1("the server sent a malformed reporter key");
		goto out;
	}
	add_recipient(rcpt, n, pk);
	if (mp_client_request(c, "GET", "/api/v1/keys", NULL, &status, &resp) != 0)
		goto out;
	keys = json_object_get(resp, "keys");
	if (!json_is_array(keys)) {
		err1("the server's answer has no list of keys");
		goto out;
	}
	json_array_foreach(keys, i, k) {
		role = str_or(k, "role", "");
		if (strcmp(role, "caseworker") != 0 && strcmp(role, "recovery") != 0)
			continue;
		box = str_or(k, "box", "");
		if (mp_b64u_decode_exact(pk, 32, box, strlen(box)) != 0) {
			err1("the server sent a malformed key bundle");
			goto out;
		}
		if (add_recipient(rcpt, n, pk) != 0) {
			err1("more than %d recipients", MP_ENVELOPE_MAX_RECIPIENTS);
			goto out;
		}
	}
	if (*n < 2) {
		err1("the server lists no active caseworker key");
		goto out;
	}
	rc = 0;
out:
	json_decref(resp);
	return rc;
}

static int
case_reply(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	const char *opt_text = NULL, *opt_file = NULL;
	struct mp_opt opts[] = {
		{ "text", &opt_text, NULL },
		{ "file", &opt_file, NULL },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	struct mp_box_pk *rcpt = NULL;
	json_t *cas = NULL, *msg = NULL, *env = NULL, *body = NULL, *resp = NULL;
	char *text = NULL, *pt = NULL, *pos[1], path[80];
	const char *id;
	size_t n = 0;
	long status;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, reply_usage)) != 0) {
		if (r == MP_OPTS_HELP) {
			print_case_help(reply_usage, reply_help);
			return 0;
		}
		return EXIT_USAGE;
	}
	if (npos != 1)
		return usage_error(reply_usage, "which case? give its id");
	if (!case_id_ok(id = pos[0]))
		return usage_error(reply_usage, "'%s' is not a case id (22 characters)", id);
	if (opt_text != NULL && opt_file != NULL)
		return usage_error(reply_usage, "give --text or --file, not both");
	/* The text first: a mistake in it should not cost a passphrase. */
	if ((rc = reply_text(&text, opt_text, opt_file)) != 0)
		goto out;
	if ((rc = open_client(&c, &co)) != 0)
		goto out;
	if ((rc = get_case(c, id, &cas)) != 0)
		goto out;
	if ((rcpt = calloc(MP_ENVELOPE_MAX_RECIPIENTS, sizeof *rcpt)) == NULL) {
		err1("out of memory");
		rc = EXIT_USER;
		goto out;
	}
	if ((rc = reply_recipients(c, cas, rcpt, &n)) != 0)
		goto out;
	rc = EXIT_USER;
	msg = json_pack("{s:s, s:s, s:s}", "text", text, "from", "caseworker", "author",
	    mp_client_identity(c)->name);
	if (msg == NULL || (pt = json_dumps(msg, JSON_COMPACT)) == NULL) {
		err1("out of memory");
		goto out;
	}
	env = mp_envelope_seal("message", id, (const uint8_t *)pt, strlen(pt), rcpt, n);
	if (env == NULL) {
		err1("cannot seal the reply");
		goto out;
	}
	if ((body = json_pack("{s:O}", "envelope", env)) == NULL) {
		err1("out of memory");
		goto out;
	}
	r = snprintf(path, sizeof path, "/api/v1/cases/%s/messages", id);
	if (r < 0 || (size_t)r >= sizeof path)
		goto out;
	if (mp_client_request(c, "POST", path, body, &status, &resp) != 0)
		goto out;
	printf("reply sent\n");
	rc = 0;
out:
	mp_wipe_free(pt); /* the message's plaintext */
	json_decref(msg);
	json_decref(env);
	json_decref(body);
	json_decref(resp);
	json_decref(cas);
	free(rcpt);
	mp_secret_free(text);
	mp_client_close(c);
	return rc;
}

static int
case_status(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	const char *closure = NULL;
	struct mp_opt opts[] = {
		{ "closure", &closure, NULL },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	json_t *body = NULL, *resp = NULL;
	char *pos[2], path[80];
	const char *id, *st;
	long status;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 2, &npos, status_usage)) != 0) {
		if (r == MP_OPTS_HELP) {
			print_case_help(status_usage, status_help);
			return 0;
		}
		return EXIT_USAGE;
	}
	if (npos != 2)
		return usage_error(status_usage, "give the case id and the new status");
	if (!case_id_ok(id = pos[0]))
		return usage_error(status_usage, "'%s' is not a case id (22 characters)", id);
	st = pos[1];
	if (*st == '\0' || (closure != NULL && *closure == '\0'))
		return usage_error(status_usage, "the status and closure code cannot be empty");
	if (mp_utf8_check(st, strlen(st), NULL) != 0 ||
	    (closure != NULL && mp_utf8_check(closure, strlen(closure), NULL) != 0))
		return usage_error(status_usage, "the status and closure code must be UTF-8");
	body = closure != NULL ?
	    json_pack("{s:s, s:s}", "status", st, "closure", closure) :
	    json_pack("{s:s}", "status", st);
	if (body == NULL) {
		err1("out of memory");
		goto out;
	}
	r = snprintf(path, sizeof path, "/api/v1/cases/%s/status", id);
	if (r < 0 || (size_t)r >= sizeof path)
		goto out;
	if ((rc = open_client(&c, &co)) != 0)
		goto out;
	rc = EXIT_USER;
	if (mp_client_request(c, "POST", path, body, &status, &resp) != 0)
		goto out;
	fputs("case ", stdout);
	mp_print_line(stdout, str_or(resp, "ref", id));
	fputs(": ", stdout);
	mp_print_line(stdout, str_or(resp, "status", st));
	putchar('\n');
	rc = 0;
out:
	json_decref(body);
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

int
cmd_case(int argc, char **argv)
{
	const char *sub;

	if (argc < 2)
		return usage_error(case_usage, "show, reply or status?");
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		printf("usage: %s\n\n", case_usage);
		printf("meldpunt case show:\n%s\n", show_help);
		printf("meldpunt case reply:\n%s\n", reply_help);
		printf("meldpunt case status:\n%s\n", status_help);
		printf("Every case command also takes:\n%s", MP_CLIENT_HELP);
		return 0;
	}
	if (strcmp(sub, "show") == 0)
		return case_show(argc - 1, argv + 1);
	if (strcmp(sub, "reply") == 0)
		return case_reply(argc - 1, argv + 1);
	if (strcmp(sub, "status") == 0)
		return case_status(argc - 1, argv + 1);
	return usage_error(case_usage, "unknown case command '%s'", sub);
}
