/*
 * The caseworker's case commands: cases, case show|reply|note|status|
 * classify.  They run on the caseworker's own device and never need the
 * server's instance directory: requests are signed with the personal key
 * (client.c) and envelopes are opened and sealed here, so plaintext never
 * leaves this process except on the caseworker's own screen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework.h"
#include "cli.h"
#include "client.h"
#include "mp_b64.h"
#include "mp_envelope.h"
#include "mp_keyfile.h"
#include "mp_token.h"
#include "util.h"

#define LIMIT_MAX 500

/* Open results: the item could not be opened, or opened to something that is not an item. */
#define OPEN_NO_KEY -1
#define OPEN_MALFORMED -2

static const char malformed[] = "[opened, but it is not a well-formed item]";
static const char purged_text[] = "[removed by the retention purge]";

/* ---- cases ---- */

static const char cases_usage[] =
    "meldpunt cases [--status S] [--overdue] [--collective ID] [--ground CODE] [--limit N]\n"
    "                [--after CURSOR] [--json] " MP_CLIENT_USAGE;

static const char cases_help[] =
    "List cases, newest first, one line each: reference, day received, status,\n"
    "the day it is due (OVERDUE once that day has passed and the case is still\n"
    "open), channel, anonymous or named, its collective, and its id.  A CASE for\n"
    "the other commands is the reference or the id.  When more cases follow, a\n"
    "last line gives the cursor for the next page.  A heading line is printed\n"
    "only on a terminal.\n"
    "\n"
    "  --status S         only cases with this status (received, intake, ...)\n"
    "  --overdue          only open cases past their due day\n"
    "  --collective ID    only the cases of this collective (its id or C2026-0001)\n"
    "  --ground CODE      only cases classified with this ground (origin, ...)\n"
    "  --limit N          at most N cases (1 to 500; the server's default is 50)\n"
    "  --after CURSOR     the page after CURSOR (from the previous page)\n"
    "  --json             print the server's answer as JSON\n" MP_CLIENT_HELP;

#define CASE_COLS 8
#define DUE_CELL 32

/*
 * The collectives' references by id (GET /api/v1/collectives), to show
 * C2026-0001 rather than an id; NULL when there are none or the list
 * cannot be had (the id is shown then).
 */
static json_t *
collective_list(struct mp_client *c)
{
	json_t *resp = NULL, *list = NULL;
	long status;

	if (mp_client_request(c, "GET", "/api/v1/collectives", NULL, &status, &resp) == 0 &&
	    json_is_array(json_object_get(resp, "collectives")))
		list = json_incref(json_object_get(resp, "collectives"));
	json_decref(resp);
	return list;
}

/* The reference of collective id in list, or the id itself. */
static const char *
collective_ref(const json_t *list, const char *id)
{
	const json_t *s;
	size_t i;

	json_array_foreach(list, i, s)
		if (strcmp(cw_str(s, "id", ""), id) == 0)
			return cw_str(s, "ref", id);
	return id;
}

/* The due cell: "-" once closed, the day, and OVERDUE after it. */
static void
due_cell(char out[DUE_CELL], const json_t *cs)
{
	const char *due = cw_str(cs, "due", "-");

	if (strcmp(cw_str(cs, "status", ""), "closed") == 0)
		snprintf(out, DUE_CELL, "-");
	else
		snprintf(out, DUE_CELL, "%.12s%s", due,
		    json_is_true(json_object_get(cs, "overdue")) ? " OVERDUE" : "");
}

static int
print_cases(struct mp_client *c, const json_t *cases)
{
	static const char *const head[CASE_COLS] = { "REF", "RECEIVED", "STATUS", "DUE", "CHANNEL",
		"REPORTER", "COLLECTIVE", "ID" };
	const char *row[CASE_COLS], *coll;
	struct cw_table t;
	json_t *colls = NULL, *cs;
	char(*due)[DUE_CELL] = NULL;
	size_t i, n = json_array_size(cases);
	int rc = -1;

	if (cw_table_init(&t, CASE_COLS) != 0)
		return -1;
	if (n > 0 && (due = calloc(n, sizeof *due)) == NULL) {
		err1("out of memory");
		goto out;
	}
	json_array_foreach(cases, i, cs) {
		if (json_is_string(json_object_get(cs, "collective")) && colls == NULL &&
		    (colls = collective_list(c)) == NULL)
			break;
	}
	json_array_foreach(cases, i, cs) {
		due_cell(due[i], cs);
		coll = cw_str(cs, "collective", NULL);
		row[0] = cw_str(cs, "ref", "-");
		row[1] = cw_str(cs, "received", "-");
		row[2] = cw_str(cs, "status", "-");
		row[3] = due[i];
		row[4] = cw_str(cs, "channel", "-");
		row[5] = json_is_true(json_object_get(cs, "anonymous")) ? "anonymous" : "named";
		row[6] = coll != NULL ? collective_ref(colls, coll) : "-";
		row[7] = cw_str(cs, "id", "-");
		if (cw_table_add(&t, row) != 0)
			goto out;
	}
	cw_table_print(&t, cw_tty() && n > 0 ? head : NULL);
	rc = 0;
out:
	free(due);
	json_decref(colls);
	cw_table_free(&t);
	return rc;
}

int
cmd_cases(int argc, char **argv)
{
	const char *status_opt = NULL, *limit = NULL, *after = NULL, *coll = NULL, *ground = NULL;
	struct mp_client_opts co = { NULL, NULL };
	int json = 0, overdue = 0;
	struct mp_opt opts[] = {
		{ "status", &status_opt, NULL },
		{ "overdue", NULL, &overdue },
		{ "collective", &coll, NULL },
		{ "ground", &ground, NULL },
		{ "limit", &limit, NULL },
		{ "after", &after, NULL },
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	json_t *resp = NULL, *cases, *next, *summary = NULL;
	char path[4096] = "/api/v1/cases", *end;
	long lim;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, cases_usage)) != 0)
		return mp_opts_exit(r, cases_usage, cases_help);
	if (limit != NULL) {
		errno = 0;
		lim = strtol(limit, &end, 10);
		if (errno != 0 || end == limit || *end != '\0' || lim < 1 || lim > LIMIT_MAX ||
		    limit[0] < '0' || limit[0] > '9')
			return usage_error(
			    cases_usage, "--limit must be a number from 1 to %d", LIMIT_MAX);
	}
	if (coll != NULL && cw_collective_arg(coll) == CW_ARG_BAD)
		return usage_error(cases_usage,
		    "--collective takes a collective's id or its "
		    "reference (like C2026-0001)");
	if ((status_opt != NULL && cw_add_query(path, sizeof path, "status", status_opt) != 0) ||
	    (overdue && cw_add_query(path, sizeof path, "overdue", "1") != 0) ||
	    (ground != NULL && cw_add_query(path, sizeof path, "ground", ground) != 0) ||
	    (limit != NULL && cw_add_query(path, sizeof path, "limit", limit) != 0) ||
	    (after != NULL && cw_add_query(path, sizeof path, "after", after) != 0))
		return usage_error(cases_usage, "the options are too long");
	if ((rc = cw_open_client(&c, &co)) != 0)
		goto out;
	rc = EXIT_USER;
	if (coll != NULL) {
		if (cw_collective_arg(coll) == CW_ARG_REF) {
			if (cw_resolve_collective(c, coll, &summary) != 0)
				goto out;
			coll = cw_str(summary, "id", "");
		}
		if (cw_add_query(path, sizeof path, "collective", coll) != 0)
			goto out;
	}
	if (cw_get_list(c, path, "cases", &resp, &cases) != 0)
		goto out;
	next = json_object_get(resp, "next");
	if (json) {
		if (cw_print_json(resp) != 0)
			goto out;
	} else {
		if (json_array_size(cases) == 0)
			fprintf(stderr, "meldpunt: no cases\n");
		if (print_cases(c, cases) != 0)
			goto out;
		if (json_is_string(next) && json_string_length(next) > 0) {
			fputs("next: ", stdout);
			mp_print_line(stdout, json_string_value(next));
			putchar('\n');
		}
	}
	rc = 0;
out:
	json_decref(summary);
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

/* ---- case ---- */

#define CASE_ARG_HELP \
	"  CASE           the case's reference (2026-0042) or its id (22 characters)\n"

static const char case_usage[] =
    "meldpunt case show CASE [--json]\n"
    "       meldpunt case reply CASE [--text TEXT | --file FILE] [--json]\n"
    "       meldpunt case note CASE [--text TEXT | --file FILE] [--json]\n"
    "       meldpunt case status CASE STATUS [--closure CODE] [--json]\n"
    "       meldpunt case classify CASE --grounds a,b --domain D --manifestation M\n"
    "                --incident CODE --residence CODE [--json]\n"
    "       (each also takes " MP_CLIENT_USAGE ")";

static const char show_usage[] = "meldpunt case show CASE [--json] " MP_CLIENT_USAGE;
static const char reply_usage[] =
    "meldpunt case reply CASE [--text TEXT | --file FILE] [--json] " MP_CLIENT_USAGE;
static const char note_usage[] =
    "meldpunt case note CASE [--text TEXT | --file FILE] [--json] " MP_CLIENT_USAGE;
static const char status_usage[] =
    "meldpunt case status CASE STATUS [--closure CODE] [--json] " MP_CLIENT_USAGE;
static const char classify_usage[] =
    "meldpunt case classify CASE --grounds a,b --domain D --manifestation M\n"
    "                --incident CODE --residence CODE [--json] " MP_CLIENT_USAGE;

static const char show_help[] =
    "Show a case: its state (status, due day, channel, classification,\n"
    "collective), the report and the messages and internal notes (oldest first),\n"
    "opened here with your box key, and its history.  An item that was not\n"
    "sealed to your key is shown as \"[cannot be opened with this key]\" (a\n"
    "colleague can share it with you: meldpunt share).\n"
    "\n" CASE_ARG_HELP
    "  --json         print {\"case\": ..., \"report\": ..., \"messages\": [...]} instead,\n"
    "                 with the report and messages opened (null where they do not\n"
    "                 open); the case includes its history\n";

static const char reply_help[] =
    "Send a message to the reporter of a case, through the follow-up token.  It is\n"
    "sealed here to the reporter and to every active caseworker and recovery key,\n"
    "so that colleagues can read the conversation too.\n"
    "\n" CASE_ARG_HELP "  --text TEXT    the message (1 to 10000 characters)\n"
    "  --file FILE    read the message from FILE (- for standard input)\n"
    "  --json         print the server's answer\n"
    "Without --text or --file the message is read from standard input.\n";

static const char note_help[] =
    "Add an internal note to a case: sealed here to every active caseworker and\n"
    "recovery key, never to the reporter, who never sees it.\n"
    "\n" CASE_ARG_HELP "  --text TEXT    the note (1 to 10000 characters)\n"
    "  --file FILE    read the note from FILE (- for standard input)\n"
    "  --json         print the server's answer\n"
    "Without --text or --file the note is read from standard input.\n";

static const char status_help[] =
    "Move a case to another status: received, intake, registration_only,\n"
    "in_progress, referred or closed (the policy lists the moves allowed).\n"
    "\n" CASE_ARG_HELP "  STATUS          the new status\n"
    "  --closure CODE  how the case ended; required for closed (advice_information,\n"
    "                  mediation, assistance_procedure, policy_influence, referral,\n"
    "                  own_investigation, registration_only, withdrawn)\n"
    "  --json          print the case as the server answers it\n";

static const char classify_help[] =
    "Classify a case for the registration and the yearly figures: all five are\n"
    "required, with codes of the policy.  A case may be classified again; each\n"
    "classification is an event in its history.\n"
    "\n" CASE_ARG_HELP CW_CLASS_HELP
    "  --json                print the case as the server answers it\n";

/* The one CASE argument of show, reply, note and classify: 0, or EXIT_USAGE (printed). */
static int
one_case(int npos, char *const *pos, const char *usage)
{
	if (npos != 1)
		return usage_error(usage, "which case? give its reference or id");
	if (cw_case_arg(pos[0]) == CW_ARG_BAD)
		return cw_case_arg_error(usage, pos[0]);
	return 0;
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
	cw_pad(mp_text_width(label) + 1, 24);
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
	mp_print_text(stdout, cw_str(rep, "description", ""), "    ");
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
	int d = strcmp(cw_str(x->m, "date", ""), cw_str(y->m, "date", ""));

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
	const char *kind = cw_str(json_object_get(m, "envelope"), "kind", "");
	const char *from = cw_str(m, "from", "?");
	const char *author = cw_str(pt, "author", NULL);

	putchar('\n');
	fputs("  ", stdout);
	mp_print_line(stdout, cw_str(m, "date", "?"));
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
		fputs(cw_cannot_open, stdout);
	else if (r != 0 || !json_is_string(json_object_get(pt, "text")))
		fputs(malformed, stdout);
	else
		mp_print_text(stdout, json_string_value(json_object_get(pt, "text")), "    ");
	putchar('\n');
}

/* The state of the case, above the report. */
static void
print_case_head(const json_t *cas, const char *id, const json_t *colls)
{
	const json_t *v = json_object_get(cas, "classification");
	const char *due = cw_str(cas, "due", NULL), *coll = cw_str(cas, "collective", NULL);
	const char *closure = cw_str(cas, "closure", NULL);
	char today[11];
	long late;

	printf("Case ");
	mp_print_line(stdout, cw_str(cas, "ref", "-"));
	printf("  (id %s)\n", id);
	print_field("Received", json_object_get(cas, "received"));
	if (json_object_get(cas, "channel") != NULL)
		print_field("Channel", json_object_get(cas, "channel"));
	print_label("Status");
	mp_print_line(stdout, cw_str(cas, "status", "-"));
	if (closure != NULL) {
		fputs(" (", stdout);
		mp_print_line(stdout, closure);
		putchar(')');
	}
	putchar('\n');
	if (due != NULL) {
		print_label("Due");
		mp_print_line(stdout, due);
		if (json_is_true(json_object_get(cas, "overdue"))) {
			cw_today(today);
			late = cw_days_between(due, today);
			if (late > 0)
				printf("  OVERDUE by %ld day%s", late, late == 1 ? "" : "s");
			else
				fputs("  OVERDUE", stdout);
		}
		putchar('\n');
	}
	if (json_object_get(cas, "updated") != NULL)
		print_field("Last change", json_object_get(cas, "updated"));
	print_field_str(
	    "Reporter", json_is_true(json_object_get(cas, "anonymous")) ? "anonymous" : "named");
	if (json_is_string(json_object_get(cas, "reporter_box")))
		print_field_str("Follow-up token", "yes (case reply reaches the reporter)");
	else if (json_is_true(json_object_get(cas, "purged")))
		print_field_str("Follow-up token", "no reporter key any more (purged)");
	else
		print_field_str("Follow-up token", "no (the reporter cannot be answered here)");
	print_label("Classification");
	if (json_is_object(v))
		cw_print_class(stdout, v);
	else
		fputs("not yet (meldpunt case classify)", stdout);
	putchar('\n');
	if (coll != NULL) {
		print_label("Collective");
		mp_print_line(stdout, collective_ref(colls, coll));
		putchar('\n');
	}
	if (json_is_true(json_object_get(cas, "purged")))
		print_field_str("Contents", "removed by the retention purge");
}

/* The name of the key with this kid in keys, or NULL. */
static const char *
key_name(const json_t *keys, const char *kid)
{
	char k[MP_KID_TEXT_LEN + 1];
	uint8_t pk[32];
	const json_t *b;
	const char *box;
	size_t i;

	json_array_foreach(keys, i, b) {
		box = cw_str(b, "box", "");
		if (mp_b64u_decode_exact(pk, 32, box, strlen(box)) != 0)
			continue;
		mp_kid(k, pk);
		if (strcmp(k, kid) == 0)
			return cw_str(b, "name", NULL);
	}
	return NULL;
}

/* The fields of an event that its own line does not show already, as "key value; ...". */
static void
print_event_rest(const json_t *ev, const char *const *shown)
{
	const char *key, *const *s;
	const json_t *v;
	int skip;

	json_object_foreach((json_t *)ev, key, v) {
		skip = strcmp(key, "date") == 0 || strcmp(key, "type") == 0;
		for (s = shown; !skip && *s != NULL; s++)
			skip = strcmp(key, *s) == 0;
		if (skip || json_is_null(v))
			continue;
		fputs("  ", stdout);
		mp_print_line(stdout, key);
		putchar(' ');
		print_value(v);
	}
}

static void
print_history(const json_t *hist, const json_t *colls, const json_t *keys)
{
	static const char *const none[] = { NULL };
	static const char *const created[] = { "channel", NULL };
	static const char *const status[] = { "status", "closure", NULL };
	static const char *const classified[] = { "grounds", "domain", "manifestation",
		"incident_municipality", "residence_municipality", NULL };
	static const char *const collective[] = { "collective", NULL };
	static const char *const shared[] = { "kid", NULL };
	const char *type, *s, *const *shown;
	const json_t *ev;
	size_t i, same;

	if (json_array_size(hist) == 0)
		return;
	printf("\nHistory\n");
	for (i = 0; i < json_array_size(hist); i += same) {
		ev = json_array_get(hist, i);
		type = cw_str(ev, "type", "?");
		/* Sharing adds one event per item: a run of them on one day is one line. */
		for (same = 1; strcmp(type, "shared") == 0 && i + same < json_array_size(hist) &&
		     json_equal(json_array_get(hist, i + same), (json_t *)ev);
		     same++)
			;
		fputs("  ", stdout);
		mp_print_line(stdout, cw_str(ev, "date", "?"));
		fputs("  ", stdout);
		mp_print_line(stdout, type);
		cw_pad(mp_text_width(type), 12);
		shown = none;
		if (strcmp(type, "created") == 0) {
			shown = created;
			fputs("by ", stdout);
			mp_print_line(stdout, cw_str(ev, "channel", "?"));
		} else if (strcmp(type, "status") == 0) {
			shown = status;
			mp_print_line(stdout, cw_str(ev, "status", "?"));
			if ((s = cw_str(ev, "closure", NULL)) != NULL) {
				fputs(" (", stdout);
				mp_print_line(stdout, s);
				putchar(')');
			}
		} else if (strcmp(type, "classified") == 0) {
			shown = classified;
			cw_print_class(stdout, ev);
		} else if (strcmp(type, "collective") == 0) {
			shown = collective;
			s = cw_str(ev, "collective", "?");
			mp_print_line(stdout, collective_ref(colls, s));
		} else if (strcmp(type, "shared") == 0) {
			shown = shared;
			s = cw_str(ev, "kid", "?");
			if (same == 1)
				fputs("an item with ", stdout);
			else
				printf("%zu items with ", same);
			if (key_name(keys, s) != NULL) {
				mp_print_line(stdout, key_name(keys, s));
				fputs(" (kid ", stdout);
				mp_print_line(stdout, s);
				putchar(')');
			} else {
				fputs("kid ", stdout);
				mp_print_line(stdout, s);
			}
		} else if (strcmp(type, "purged") == 0) {
			fputs("report and messages removed", stdout);
		}
		print_event_rest(ev, shown);
		putchar('\n');
	}
}

/* 1 if the case's history has an event of this type. */
static int
has_event(const json_t *cas, const char *type)
{
	const json_t *ev;
	size_t i;

	json_array_foreach(json_object_get(cas, "history"), i, ev)
		if (strcmp(cw_str(ev, "type", ""), type) == 0)
			return 1;
	return 0;
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
	json_t *head = NULL, *colls = NULL, *keys = NULL, *report;
	struct item *items = NULL;
	char *pos[1], id[CW_ID_LEN + 1];
	size_t i, n;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, show_usage)) != 0)
		return cw_opts_exit(r, show_usage, show_help);
	if ((r = one_case(npos, pos, show_usage)) != 0)
		return r;
	if ((rc = cw_open_client(&c, &co)) != 0)
		goto out;
	if ((rc = cw_resolve_case(c, pos[0], id)) != 0 || (rc = cw_get_case(c, id, &cas)) != 0)
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
	report = json_object_get(cas, "report");
	r = open_item(&rep, report, id, report_kinds, me);

	if (json) {
		if ((head = json_deep_copy(cas)) == NULL || (list = json_array()) == NULL) {
			err1("out of memory");
			goto out;
		}
		json_object_del(head, "report");
		json_object_del(head, "messages");
		for (i = 0; i < n; i++) {
			(void)open_item(
			    &pt, json_object_get(items[i].m, "envelope"), id, message_kinds, me);
			if (json_array_append_new(list, message_json(items[i].m, pt)) != 0) {
				err1("out of memory");
				goto out;
			}
			json_decref(pt);
			pt = NULL;
		}
		out = json_pack("{s:O, s:O?, s:O}", "case", head, "report", rep, "messages", list);
		if (out == NULL || cw_print_json(out) != 0) {
			err1("cannot print the case");
			goto out;
		}
	} else {
		/* Names for what the history and head show only by id; both are optional. */
		if (json_is_string(json_object_get(cas, "collective")) ||
		    has_event(cas, "collective"))
			colls = collective_list(c);
		if (has_event(cas, "shared"))
			(void)cw_get_keys(c, &keys);
		print_case_head(cas, id, colls);
		putchar('\n');
		if (r == 0)
			print_report(rep);
		else if ((report == NULL || json_is_null(report)) &&
		    json_is_true(json_object_get(cas, "purged")))
			printf("Report\n  %s\n", purged_text);
		else
			printf("Report\n  %s\n", r == OPEN_NO_KEY ? cw_cannot_open : malformed);
		if (n > 0)
			printf("\nMessages and notes (%zu)\n", n);
		for (i = 0; i < n; i++) {
			r = open_item(
			    &pt, json_object_get(items[i].m, "envelope"), id, message_kinds, me);
			print_message(items[i].m, pt, r);
			json_decref(pt); /* wiped on free (mp_cli_harden) */
			pt = NULL;
		}
		print_history(json_object_get(cas, "history"), colls, keys);
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
	json_decref(colls);
	json_decref(keys);
	free(items);
	mp_client_close(c);
	return rc;
}

/*
 * case reply and case note: one sealed message to the case.  A reply goes
 * to the reporter and every caseworker and recovery key; a note to the
 * caseworkers and recovery key only (PROTOCOL.md section 3).
 */
static int
case_send(int argc, char **argv, const char *kind)
{
	int is_note = strcmp(kind, "note") == 0;
	const char *usage = is_note ? note_usage : reply_usage;
	const char *what = is_note ? "note" : "reply";
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
	json_t *cas = NULL, *keys = NULL, *env = NULL, *body = NULL, *resp = NULL;
	const json_t *rb;
	char *text = NULL, *pos[1], path[80], id[CW_ID_LEN + 1];
	uint8_t pk[32];
	size_t n = 0;
	long status;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, usage)) != 0)
		return cw_opts_exit(r, usage, is_note ? note_help : reply_help);
	if ((r = one_case(npos, pos, usage)) != 0)
		return r;
	if (opt_text != NULL && opt_file != NULL)
		return usage_error(usage, "give --text or --file, not both");
	/* The text first: a mistake in it should not cost a passphrase. */
	if ((rc = cw_read_text(&text, opt_text, opt_file, what)) != 0)
		goto out;
	if ((rc = cw_open_client(&c, &co)) != 0)
		goto out;
	if ((rc = cw_resolve_case(c, pos[0], id)) != 0)
		goto out;
	rc = EXIT_USER;
	if ((rcpt = calloc(MP_ENVELOPE_MAX_RECIPIENTS, sizeof *rcpt)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (!is_note) {
		if ((rc = cw_get_case(c, id, &cas)) != 0)
			goto out;
		rc = EXIT_USER;
		rb = json_object_get(cas, "reporter_box");
		if (!json_is_string(rb)) {
			err1(
			    "this case has no follow-up token; the reporter cannot be reached this "
			    "way");
			goto out;
		}
		if (mp_b64u_decode_exact(pk, 32, json_string_value(rb), json_string_length(rb)) !=
		    0) {
			err1("the server sent a malformed reporter key");
			goto out;
		}
		(void)cw_add_recipient(rcpt, &n, pk);
	}
	if ((rc = cw_get_keys(c, &keys)) != 0 || (rc = cw_staff_recipients(keys, rcpt, &n)) != 0)
		goto out;
	rc = EXIT_USER;
	if ((env = cw_seal_message(kind, id, text, mp_client_identity(c)->name, rcpt, n)) == NULL)
		goto out;
	if ((body = json_pack("{s:O}", "envelope", env)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (cw_path(path, sizeof path, "/api/v1/cases/", id, "/messages") != 0)
		goto out;
	if (mp_client_request(c, "POST", path, body, &status, &resp) != 0)
		goto out;
	if (json) {
		if (cw_print_json(resp) != 0)
			goto out;
	} else {
		printf("%s\n", is_note ? "note added" : "reply sent");
	}
	rc = 0;
out:
	json_decref(env);
	json_decref(body);
	json_decref(resp);
	json_decref(cas);
	json_decref(keys);
	free(rcpt);
	mp_secret_free(text);
	mp_client_close(c);
	return rc;
}

/* "case <ref>: <status>" or the JSON of a case summary the server answered. */
static int
print_summary(const json_t *resp, const char *id, int json, const char *status)
{
	if (json)
		return cw_print_json(resp) == 0 ? 0 : EXIT_USER;
	fputs("case ", stdout);
	mp_print_line(stdout, cw_str(resp, "ref", id));
	fputs(": ", stdout);
	if (status != NULL) {
		mp_print_line(stdout, cw_str(resp, "status", status));
	} else {
		fputs("classified ", stdout);
		cw_print_class(stdout, json_object_get(resp, "classification"));
	}
	putchar('\n');
	return 0;
}

static int
case_status(int argc, char **argv)
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
	json_t *body = NULL, *resp = NULL;
	char *pos[2], path[80], id[CW_ID_LEN + 1];
	const char *st;
	long status;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 2, &npos, status_usage)) != 0)
		return cw_opts_exit(r, status_usage, status_help);
	if (npos != 2)
		return usage_error(status_usage, "give the case and the new status");
	if (cw_case_arg(pos[0]) == CW_ARG_BAD)
		return cw_case_arg_error(status_usage, pos[0]);
	st = pos[1];
	if (*st == '\0' || (closure != NULL && *closure == '\0'))
		return usage_error(status_usage, "the status and closure code cannot be empty");
	if (mp_utf8_check(st, strlen(st), NULL) != 0 ||
	    (closure != NULL && mp_utf8_check(closure, strlen(closure), NULL) != 0))
		return usage_error(status_usage, "the status and closure code must be UTF-8");
	if ((body = cw_status_body(st, closure)) == NULL)
		goto out;
	if ((rc = cw_open_client(&c, &co)) != 0 || (rc = cw_resolve_case(c, pos[0], id)) != 0)
		goto out;
	rc = EXIT_USER;
	if (cw_path(path, sizeof path, "/api/v1/cases/", id, "/status") != 0)
		goto out;
	if (mp_client_request(c, "POST", path, body, &status, &resp) != 0)
		goto out;
	rc = print_summary(resp, id, json, st);
out:
	json_decref(body);
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

static int
case_classify(int argc, char **argv)
{
	struct mp_client_opts co = { NULL, NULL };
	struct cw_class k = { NULL, NULL, NULL, NULL, NULL };
	int json = 0;
	struct mp_opt opts[] = {
		CW_CLASS_OPTS(k),
		{ "json", NULL, &json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	json_t *cls = NULL, *policy = NULL, *resp = NULL;
	char *pos[1], path[96], id[CW_ID_LEN + 1];
	long status;
	int npos, r, rc = EXIT_USER;

	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, classify_usage)) != 0)
		return cw_opts_exit(r, classify_usage, classify_help);
	if ((r = one_case(npos, pos, classify_usage)) != 0)
		return r;
	if ((rc = cw_class_json(&k, classify_usage, &cls)) != 0)
		goto out;
	if (cls == NULL)
		return usage_error(classify_usage, "give the classification: " CW_CLASS_USAGE);
	if ((rc = cw_open_client(&c, &co)) != 0 || (rc = cw_resolve_case(c, pos[0], id)) != 0)
		goto out;
	/* The policy names the codes allowed; checked here to list them on a typo. */
	if ((rc = cw_get_policy(c, &policy)) != 0 || (rc = cw_class_check(policy, cls)) != 0)
		goto out;
	rc = EXIT_USER;
	if (cw_path(path, sizeof path, "/api/v1/cases/", id, "/classification") != 0)
		goto out;
	if (mp_client_request(c, "POST", path, cls, &status, &resp) != 0)
		goto out;
	if (!json_is_object(json_object_get(resp, "classification")) &&
	    json_object_set(resp, "classification", cls) != 0) {
		err1("out of memory");
		goto out;
	}
	rc = print_summary(resp, id, json, NULL);
out:
	json_decref(cls);
	json_decref(policy);
	json_decref(resp);
	mp_client_close(c);
	return rc;
}

static int
case_reply(int argc, char **argv)
{
	return case_send(argc, argv, "message");
}

static int
case_note(int argc, char **argv)
{
	return case_send(argc, argv, "note");
}

static const struct mp_subcmd case_cmds[] = {
	{ "show", case_show, show_help },
	{ "reply", case_reply, reply_help },
	{ "note", case_note, note_help },
	{ "status", case_status, status_help },
	{ "classify", case_classify, classify_help },
};

int
cmd_case(int argc, char **argv)
{
	return mp_subcmd_run("case", case_cmds, sizeof case_cmds / sizeof case_cmds[0], case_usage,
	    MP_CLIENT_HELP, argc, argv);
}
