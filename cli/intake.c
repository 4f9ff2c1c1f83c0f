/*
 * meldpunt intake: a report taken by phone, at the desk, by e-mail or by
 * post.  The caseworker writes it down; this process builds the report
 * object, chooses the case id, seals the report to every caseworker and
 * recovery key and sends only the envelope (docs/CASEWORK.md, "Intake").
 * With --followup the person gets a follow-up token, shown here once.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "casework.h"
#include "cli.h"
#include "client.h"
#include "mp_envelope.h"
#include "mp_instance.h"
#include "mp_store.h"
#include "mp_wipe.h"
#include "util.h"

/* server/qr.c (linked from libmeldpunt): the URL as an SVG QR code, malloc'ed, or NULL. */
char *qr_svg(const char *text);

#define NAME_MAX_CP 100
#define EMAIL_MAX 254
#define PHONE_MAX 32
#define FREE_TEXT_MAX_CP 200

static const char intake_usage[] =
    "meldpunt intake --channel phone|email|post|walk_in [--text T | --file F]\n"
    "                [--language L] [--followup [--qr FILE]] [--contact-name N]\n"
    "                [--contact-email E] [--contact-phone P] [--preferred email|phone]\n"
    "                [--role R] [--wish W] [--occurred-on DAY] [--location TEXT]\n"
    "                [--counterparty TEXT] [--grounds a,b --domain D --manifestation M\n"
    "                --incident CODE --residence CODE]\n"
    "                [--json] " MP_CLIENT_USAGE;

static const char intake_help[] =
    "Take in a report that came by phone, at the desk, by e-mail or by post.  What\n"
    "the person told you is sealed here, on your machine, to every active\n"
    "caseworker and recovery key; the server only stores the sealed report.\n"
    "Prints the new case's reference and id.\n"
    "\n"
    "  --channel C           how it came in: phone, email, post or walk_in\n"
    "  --text T              what happened, in the person's words (1 to 10000\n"
    "                        characters)\n"
    "  --file F              read it from F (- for standard input); without --text\n"
    "                        or --file it is read from standard input\n"
    "  --language L          the language to answer in (default nl)\n"
    "  --followup            make a follow-up token for the person: shown once, in\n"
    "                        large print on a terminal, to read out or hand over;\n"
    "                        with it they follow the case and exchange messages\n"
    "  --qr FILE             with --followup: also write the follow-up link as a QR\n"
    "                        code in SVG to FILE (new file, mode 0600), to print\n"
    "  --contact-name N      contact details, only when the person wants them used;\n"
    "  --contact-email E     without any, the report is anonymous\n"
    "  --contact-phone P\n"
    "  --preferred email|phone\n"
    "  --role R              victim, witness or professional\n"
    "  --wish W              register, advice or assistance\n"
    "  --occurred-on DAY     when it happened (YYYY-MM-DD)\n"
    "  --location TEXT       where it happened (at most 200 characters)\n"
    "  --counterparty TEXT   the other party (at most 200 characters)\n"
    "A classification (all five, or none; it also goes into the report):\n" CW_CLASS_HELP
    "  --json                print the server's answer (with the token) as JSON\n" MP_CLIENT_HELP;

struct intake {
	const char *channel, *text, *file, *language, *qr;
	const char *name, *email, *phone, *preferred;
	const char *role, *wish, *occurred_on, *location, *counterparty;
	struct cw_class cls;
	int followup, json;
};

/* Free text from an option: UTF-8, at most max code points, no control characters. */
static int
text_ok(const char *s, size_t max)
{
	size_t ncp = 0;
	const unsigned char *p;

	if (mp_utf8_check(s, strlen(s), &ncp) != 0 || ncp < 1 || ncp > max)
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* local@domain.tld without spaces, <, > or " (the server's rule for web reports). */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *dot, *p;

	if (strlen(s) > EMAIL_MAX || at == NULL || at == s || strchr(at + 1, '@') != NULL)
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == '<' || *p == '>' || *p == '"' || *p == 0x7f)
			return 0;
	dot = strrchr(at + 1, '.');
	return dot != NULL && dot > at + 1 && dot[1] != '\0';
}

/* Digits and " +-().", at least three digits. */
static int
phone_ok(const char *s)
{
	int digits = 0;
	const char *p;

	if (strlen(s) > PHONE_MAX)
		return 0;
	for (p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (strchr(" +-().", *p) == NULL)
			return 0;
	}
	return digits >= 3;
}

/* The checks that need no server: bad usage, before any passphrase is asked. */
static int
check_options(const struct intake *in)
{
	const char *u = intake_usage;
	char today[11];

	if (in->channel == NULL)
		return usage_error(u, "--channel is required (phone, email, post or walk_in)");
	if (strcmp(in->channel, "web") == 0)
		return usage_error(u,
		    "web reports come in through the form; --channel is phone, "
		    "email, post or walk_in");
	if (in->text != NULL && in->file != NULL)
		return usage_error(u, "give --text or --file, not both");
	if (in->qr != NULL && !in->followup)
		return usage_error(u, "--qr needs --followup (it draws the follow-up link)");
	if (in->name != NULL && !text_ok(in->name, NAME_MAX_CP))
		return usage_error(u, "--contact-name must be 1 to %d characters", NAME_MAX_CP);
	if (in->email != NULL && !email_ok(in->email))
		return usage_error(u, "--contact-email must be an e-mail address");
	if (in->phone != NULL && !phone_ok(in->phone))
		return usage_error(u, "--contact-phone must be a phone number (digits and +-(). )");
	if (in->preferred != NULL) {
		if (strcmp(in->preferred, "email") != 0 && strcmp(in->preferred, "phone") != 0)
			return usage_error(u, "--preferred is email or phone");
		if ((strcmp(in->preferred, "email") == 0 && in->email == NULL) ||
		    (strcmp(in->preferred, "phone") == 0 && in->phone == NULL))
			return usage_error(
			    u, "--preferred %s needs --contact-%s", in->preferred, in->preferred);
	}
	if (in->occurred_on != NULL) {
		cw_today(today);
		if (!mp_day_ok(in->occurred_on) || strcmp(in->occurred_on, "1900-01-01") < 0 ||
		    strcmp(in->occurred_on, today) > 0)
			return usage_error(u,
			    "--occurred-on must be a day YYYY-MM-DD, not in the "
			    "future");
	}
	if ((in->location != NULL && !text_ok(in->location, FREE_TEXT_MAX_CP)) ||
	    (in->counterparty != NULL && !text_ok(in->counterparty, FREE_TEXT_MAX_CP)))
		return usage_error(u,
		    "--location and --counterparty take 1 to %d characters on "
		    "one line",
		    FREE_TEXT_MAX_CP);
	if (in->qr != NULL && access(in->qr, F_OK) == 0) {
		err1("%s already exists; not overwriting it", in->qr);
		return EXIT_USER;
	}
	return 0;
}

/* Codes that only the policy knows: checked here, as the server cannot see inside the report. */
static int
check_codes(const json_t *policy, const struct intake *in, const json_t *cls)
{
	if (cw_policy_code(policy, "channels", "channel", in->channel) != 0 ||
	    cw_policy_code(policy, "languages", "language", in->language) != 0 ||
	    (in->role != NULL && cw_policy_code(policy, "roles", "role", in->role) != 0) ||
	    (in->wish != NULL && cw_policy_code(policy, "wishes", "wish", in->wish) != 0) ||
	    (cls != NULL && cw_class_check(policy, cls) != 0))
		return EXIT_USER;
	return 0;
}

/* Set key to a string s when s is given; -1 out of memory. */
static int
set_opt(json_t *o, const char *key, const char *s)
{
	return s == NULL ? 0 : json_object_set_new(o, key, json_string(s));
}

/*
 * The report object as a web report has it (API.md), plus "received".
 * The classification's codes stand in for the reporter's own view.
 */
static json_t *
report_object(const struct intake *in, const char *text, const json_t *cls)
{
	json_t *rep = NULL, *contact = NULL;
	const char *key;
	json_t *v;
	char today[11];
	int ok = 0;

	cw_today(today);
	if ((rep = json_object()) == NULL || (contact = json_object()) == NULL)
		goto out;
	if (set_opt(rep, "description", text) != 0 || set_opt(rep, "language", in->language) != 0 ||
	    set_opt(rep, "received", today) != 0 || set_opt(rep, "role", in->role) != 0 ||
	    set_opt(rep, "wish", in->wish) != 0 ||
	    set_opt(rep, "occurred_on", in->occurred_on) != 0 ||
	    set_opt(rep, "location", in->location) != 0 ||
	    set_opt(rep, "counterparty", in->counterparty) != 0)
		goto out;
	json_object_foreach((json_t *)cls, key, v)
		if (json_object_set(rep, key, v) != 0)
			goto out;
	if (set_opt(contact, "name", in->name) != 0 || set_opt(contact, "email", in->email) != 0 ||
	    set_opt(contact, "phone", in->phone) != 0 ||
	    set_opt(contact, "preferred", in->preferred) != 0)
		goto out;
	if (json_object_size(contact) > 0 && json_object_set(rep, "contact", contact) != 0)
		goto out;
	ok = 1;
out:
	json_decref(contact);
	if (!ok) {
		json_decref(rep);
		rep = NULL;
	}
	return rep;
}

/*
 * A 5x7 font of the token's alphabet (Crockford base32), for reading a
 * token off the screen at the desk.  '#' is a dark pixel.
 */
struct glyph {
	char c;
	const char *rows[7];
};

static const struct glyph font[] = {
	{ '0', { " ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### " } },
	{ '1', { "  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### " } },
	{ '2', { " ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####" } },
	{ '3', { "#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### " } },
	{ '4', { "   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # " } },
	{ '5', { "#####", "#    ", "#### ", "    #", "    #", "#   #", " ### " } },
	{ '6', { "  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### " } },
	{ '7', { "#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   " } },
	{ '8', { " ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### " } },
	{ '9', { " ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  " } },
	{ 'A', { " ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #" } },
	{ 'B', { "#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### " } },
	{ 'C', { " ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### " } },
	{ 'D', { "#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### " } },
	{ 'E', { "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####" } },
	{ 'F', { "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    " } },
	{ 'G', { " ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####" } },
	{ 'H', { "#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #" } },
	{ 'J', { "  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  " } },
	{ 'K', { "#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #" } },
	{ 'M', { "#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #" } },
	{ 'N', { "#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #" } },
	{ 'P', { "#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    " } },
	{ 'Q', { " ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #" } },
	{ 'R', { "#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #" } },
	{ 'S', { " ####", "#    ", "#    ", " ### ", "    #", "    #", "#### " } },
	{ 'T', { "#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  " } },
	{ 'V', { "#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  " } },
	{ 'W', { "#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # " } },
	{ 'X', { "#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #" } },
	{ 'Y', { "#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  " } },
	{ 'Z', { "#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####" } },
};
#define NGLYPHS (sizeof font / sizeof font[0])
#define GROUPS_PER_LINE 3

static const struct glyph *
glyph(char c)
{
	size_t i;

	for (i = 0; i < NGLYPHS; i++)
		if (font[i].c == c)
			return &font[i];
	return NULL;
}

/* The token's groups in large letters, three groups to a line of 77 columns. */
static void
print_big(const char *token)
{
	const char *groups[8], *p;
	const struct glyph *g;
	size_t ngroups = 0, first, i, j, k, row;

	for (p = token; *p && ngroups < 8; p = strchr(p, '-') + 1) {
		groups[ngroups++] = p;
		if (strchr(p, '-') == NULL)
			break;
	}
	for (first = 0; first < ngroups; first += GROUPS_PER_LINE) {
		for (row = 0; row < 7; row++) {
			fputs("  ", stdout);
			for (i = first; i < ngroups && i < first + GROUPS_PER_LINE; i++) {
				if (i > first)
					fputs("    ", stdout);
				for (j = 0; groups[i][j] != '\0' && groups[i][j] != '-'; j++) {
					g = glyph(groups[i][j]);
					if (j > 0)
						putchar(' ');
					for (k = 0; k < 5; k++)
						fputs(g != NULL && g->rows[row][k] == '#'
						        ? "\xe2\x96\x88"
						        : " ",
						    stdout);
				}
			}
			putchar('\n');
		}
		putchar('\n');
	}
}

/* The token as it goes over the phone: the groups with more room between them. */
static void
print_spaced(const char *token)
{
	const char *p;

	for (p = token; *p; p++) {
		if (*p == '-')
			fputs("   ", stdout);
		else
			putchar(*p);
	}
}

/* The token's symbols only: Crockford base32 and dashes (the server's text, checked). */
static int
token_text_ok(const char *t)
{
	for (; *t; t++)
		if (*t != '-' && glyph(*t) == NULL)
			return 0;
	return 1;
}

static int
write_qr(const char *path, const char *url)
{
	char *svg;
	int rc;

	if ((svg = qr_svg(url)) == NULL) {
		err1("cannot draw the QR code");
		return -1;
	}
	rc = mp_write_file_new(path, svg, strlen(svg));
	/* The picture holds the token as surely as the text does. */
	sodium_memzero(svg, strlen(svg));
	free(svg);
	return rc;
}

static int
print_answer(const json_t *resp, const struct intake *in, const json_t *cls)
{
	const char *token = cw_str(resp, "token", NULL), *url = cw_str(resp, "followup_url", NULL);

	if (in->json)
		return cw_print_json(resp) == 0 ? 0 : EXIT_USER;
	fputs("case ", stdout);
	mp_print_line(stdout, cw_str(resp, "ref", "?"));
	fputs(" taken in by ", stdout);
	mp_print_line(stdout, in->channel);
	fputs(" (id ", stdout);
	mp_print_line(stdout, cw_str(resp, "id", "?"));
	fputs(")\n", stdout);
	if (cls != NULL) {
		fputs("classified: ", stdout);
		cw_print_class(stdout, cls);
		putchar('\n');
	}
	if (!in->followup)
		return 0;
	if (token == NULL || !token_text_ok(token)) {
		err1("the server sent no follow-up token");
		return EXIT_USER;
	}
	printf("\nFollow-up token: give it to the person now; it is not shown again and\n"
	       "nobody can look it up later.\n\n    %s\n\n",
	    token);
	if (cw_tty()) {
		print_big(token);
		fputs("  to read out:  ", stdout);
		print_spaced(token);
		putchar('\n');
	}
	if (url != NULL) {
		fputs("\nFollow-up page: ", stdout);
		mp_print_line(stdout, url);
		putchar('\n');
	}
	if (in->qr != NULL) {
		if (url == NULL || write_qr(in->qr, url) != 0) {
			err1("the case was taken in, but the QR code was not written");
			return EXIT_USER;
		}
		printf("QR code of the follow-up page written to %s\n", in->qr);
	}
	return 0;
}

static void
wipe_arg(const char *s)
{
	if (s != NULL)
		sodium_memzero((char *)s, strlen(s));
}

int
cmd_intake(int argc, char **argv)
{
	struct intake in;
	struct mp_client_opts co = { NULL, NULL };
	struct mp_opt opts[] = {
		{ "channel", &in.channel, NULL },
		{ "text", &in.text, NULL },
		{ "file", &in.file, NULL },
		{ "language", &in.language, NULL },
		{ "followup", NULL, &in.followup },
		{ "qr", &in.qr, NULL },
		{ "contact-name", &in.name, NULL },
		{ "contact-email", &in.email, NULL },
		{ "contact-phone", &in.phone, NULL },
		{ "preferred", &in.preferred, NULL },
		{ "role", &in.role, NULL },
		{ "wish", &in.wish, NULL },
		{ "occurred-on", &in.occurred_on, NULL },
		{ "location", &in.location, NULL },
		{ "counterparty", &in.counterparty, NULL },
		CW_CLASS_OPTS(in.cls),
		{ "json", NULL, &in.json },
		MP_CLIENT_OPTS(co),
		{ NULL, NULL, NULL },
	};
	struct mp_client *c = NULL;
	struct mp_box_pk *rcpt = NULL;
	json_t *cls = NULL, *policy = NULL, *keys = NULL, *rep = NULL, *env = NULL;
	json_t *body = NULL, *resp = NULL;
	char *text = NULL, *pt = NULL, id[MP_ID_LEN + 1];
	size_t n = 0;
	long status;
	int npos, r, rc = EXIT_USER;

	memset(&in, 0, sizeof in);
	if ((r = mp_opts_parse(argc, argv, opts, NULL, 0, &npos, intake_usage)) != 0)
		return mp_opts_exit(r, intake_usage, intake_help);
	if (in.language == NULL)
		in.language = "nl";
	if ((rc = check_options(&in)) != 0 ||
	    (rc = cw_class_json(&in.cls, intake_usage, &cls)) != 0)
		goto out;
	/* The text first: a mistake in it should not cost a passphrase. */
	if ((rc = cw_read_text(&text, in.text, in.file, "report")) != 0)
		goto out;
	if ((rc = cw_open_client(&c, &co)) != 0)
		goto out;
	if ((rc = cw_get_policy(c, &policy)) != 0 || (rc = check_codes(policy, &in, cls)) != 0)
		goto out;
	rc = EXIT_USER;
	if ((rcpt = calloc(MP_ENVELOPE_MAX_RECIPIENTS, sizeof *rcpt)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if ((rc = cw_get_keys(c, &keys)) != 0 || (rc = cw_staff_recipients(keys, rcpt, &n)) != 0)
		goto out;
	rc = EXIT_USER;
	/* The id is ours to choose: it is bound into the envelope's AD before the server sees it. */
	mp_new_id(id);
	if ((rep = report_object(&in, text, cls)) == NULL ||
	    (pt = json_dumps(rep, JSON_COMPACT)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if ((env = mp_envelope_seal("report", id, (const uint8_t *)pt, strlen(pt), rcpt, n)) ==
	    NULL) {
		err1("cannot seal the report");
		goto out;
	}
	body = json_pack("{s:s, s:s, s:O, s:s, s:b, s:b}", "id", id, "channel", in.channel,
	    "envelope", env, "language", in.language, "anonymous",
	    in.name == NULL && in.email == NULL && in.phone == NULL, "followup", in.followup);
	if (body == NULL || (cls != NULL && json_object_set(body, "classification", cls) != 0)) {
		err1("out of memory");
		goto out;
	}
	if (mp_client_request(c, "POST", "/api/v1/cases", body, &status, &resp) != 0)
		goto out;
	rc = print_answer(resp, &in, cls);
out:
	/* What the person said about themselves need not stay in this process's arguments. */
	wipe_arg(in.name);
	wipe_arg(in.email);
	wipe_arg(in.phone);
	wipe_arg(in.location);
	wipe_arg(in.counterparty);
	mp_wipe_free(pt);  /* the report's plaintext */
	json_decref(rep);  /* wiped on free (mp_cli_harden) */
	json_decref(resp); /* holds the token */
	json_decref(body);
	json_decref(env);
	json_decref(keys);
	json_decref(policy);
	json_decref(cls);
	free(rcpt);
	mp_secret_free(text);
	mp_client_close(c);
	return rc;
}
