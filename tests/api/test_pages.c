/*
 * The residents' pages (docs/PAGES.md) over real HTTP: a report made
 * without JavaScript reaches a caseworker, field errors keep what was typed,
 * the follow-up pages show the status and take messages, languages are
 * negotiated, and every page is small, strict (CSP, no cookie, nothing
 * inline) and never puts the token in a URL.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "casework.h"
#include "harness.h"

#define FORM "application/x-www-form-urlencoded"
#define PAGE_BUDGET (50 * 1024)
#define FORM_DESC "CANARY-FORM-DESCRIPTION-5e21 the shop would not serve us"
#define FORM_LOC "CANARY-FORM-LOCATION-77d0"

void test_pages(void);

static const char *const LANGS[] = { "nl", "en", "pl", "tr", "uk", "ar" };
#define NLANGS (sizeof LANGS / sizeof LANGS[0])

/* Bytes of the two static files, counted into every page's weight. */
static size_t static_bytes;
/* The report made through the form, for the follow-up tests. */
static char form_token[MP_TOKEN_TEXT_LEN + 1], form_case[64];

/*
 * A request to a page.  On the pages' routes an error is a small HTML
 * page by design; the harness's audit of the API's JSON error form is
 * undone for those (its header checks still count).
 */
static int
page_req(struct resp *r, const char *method, const char *target, const char *ctype,
    const char *body, const char *accept_language)
{
	const char *hv[2] = { NULL, NULL };
	struct req q = { method, target, ctype, body, body ? strlen(body) : 0, hv };
	unsigned before = AUDIT.bad_errors;
	const char *ct;
	char al[256];
	int rc;

	if (accept_language != NULL) {
		snprintf(al, sizeof al, "Accept-Language: %s", accept_language);
		hv[0] = al;
	}
	rc = http(r, &q);
	ct = resp_header(r, "Content-Type");
	if (ct != NULL && strncasecmp(ct, "text/html", 9) == 0 && AUDIT.bad_errors > before) {
		AUDIT.bad_errors = before;
		if (before == 0)
			AUDIT.first_bad_error[0] = '\0';
	}
	return rc;
}

static int
get_page(struct resp *r, const char *target, const char *accept_language)
{
	return page_req(r, "GET", target, NULL, NULL, accept_language);
}

static int
post_form(struct resp *r, const char *target, const char *body)
{
	return page_req(r, "POST", target, FORM, body, NULL);
}

/* Header and body bytes of an answer, about as they cross the wire. */
static size_t
wire_bytes(const struct resp *r)
{
	size_t n = r->len + 20, i;

	for (i = 0; i < r->nhdrs; i++)
		n += strlen(r->hdrs[i].name) + strlen(r->hdrs[i].value) + 4;
	return n;
}

/* 1 if s holds a {placeholder} left unfilled. */
static int
has_placeholder(const char *s)
{
	const char *p, *q;

	for (p = s; (p = strchr(p, '{')) != NULL; p++) {
		for (q = p + 1; (*q >= 'a' && *q <= 'z') || *q == '_'; q++)
			;
		if (q > p + 1 && *q == '}')
			return 1;
	}
	return 0;
}

/* 1 if a tag in s has an event-handler attribute (on...=) or a style attribute. */
static int
has_inline_code(const char *s)
{
	const char *p;

	for (p = s; (p = strpbrk(p, " \n")) != NULL; p++) {
		if (strncmp(p + 1, "style=", 6) == 0)
			return 1;
		if (p[1] == 'o' && p[2] == 'n' && isalpha((unsigned char)p[3])) {
			const char *q = p + 3;
			while (isalpha((unsigned char)*q))
				q++;
			if (*q == '=' && q[1] == '"')
				return 1;
		}
	}
	return 0;
}

/* Every visible form control has a <label for> (groups: each choice). */
static int
labels_ok(const char *body, char *why, size_t whylen)
{
	static const char *const tags[] = { "<input ", "<textarea ", "<select " };
	const char *p, *id, *end;
	char want[128];
	size_t i, n;

	for (i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		for (p = body; (p = strstr(p, tags[i])) != NULL; p++) {
			end = strchr(p, '>');
			if (end == NULL)
				return 0;
			if (strncmp(p, "<input type=\"hidden\"", 20) == 0)
				continue;
			if ((id = strstr(p, " id=\"")) == NULL || id > end) {
				snprintf(why, whylen, "a control without an id: %.60s", p);
				return 0;
			}
			id += 5;
			n = strcspn(id, "\"");
			snprintf(want, sizeof want, "<label for=\"%.*s\">", (int)n, id);
			if (strstr(body, want) == NULL) {
				snprintf(why, whylen, "no %s", want);
				return 0;
			}
		}
	}
	return 1;
}

/*
 * What every answer of a page route is: HTML in UTF-8 under the strict
 * CSP, no cookie, no redirect, script only from app.js, no inline style or
 * handler, landmarks, and no text or placeholder missing from a catalog.
 */
static int
page_shape(const struct resp *r, const char *lang, char *why, size_t whylen)
{
	static const char *const csp_parts[] = {
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"frame-ancestors 'none'",
		"form-action 'self'",
		"base-uri 'none'",
	};
	const char *ct = resp_header(r, "Content-Type"),
	           *csp = resp_header(r, "Content-Security-Policy"), *p;
	char want[64];
	size_t i, scripts = 0;

	if (ct == NULL || strcasecmp(ct, "text/html; charset=utf-8") != 0)
		return snprintf(why, whylen, "Content-Type %s", ct ? ct : "(none)"), 0;
	if (csp == NULL || strstr(csp, "unsafe") != NULL)
		return snprintf(why, whylen, "CSP %s", csp ? csp : "(none)"), 0;
	for (i = 0; i < sizeof csp_parts / sizeof csp_parts[0]; i++)
		if (strstr(csp, csp_parts[i]) == NULL)
			return snprintf(why, whylen, "CSP without %s", csp_parts[i]), 0;
	if (resp_header(r, "Set-Cookie") != NULL || resp_header(r, "Location") != NULL)
		return snprintf(why, whylen, "a Set-Cookie or Location header"), 0;
	if (strncmp(r->body, "<!doctype html>", 15) != 0)
		return snprintf(why, whylen, "no doctype"), 0;
	snprintf(want, sizeof want, "<html lang=\"%s\" dir=\"%s\">", lang,
	    strcmp(lang, "ar") == 0 ? "rtl" : "ltr");
	if (strstr(r->body, want) == NULL)
		return snprintf(why, whylen, "not %s", want), 0;
	if (strstr(r->body, "<main id=\"main\"") == NULL || strstr(r->body, "<header") == NULL ||
	    strstr(r->body, "<footer") == NULL || strstr(r->body, "href=\"#main\"") == NULL ||
	    strstr(r->body, "<nav ") == NULL)
		return snprintf(why, whylen, "a landmark or the skip link is missing"), 0;
	for (p = r->body; (p = strstr(p, "<script")) != NULL; p++, scripts++)
		if (strncmp(p, "<script src=\"/static/app.js\" defer></script>", 44) != 0)
			return snprintf(why, whylen, "a script other than app.js: %.60s", p), 0;
	if (scripts != 1 || has_inline_code(r->body))
		return snprintf(why, whylen, "%zu scripts, or inline style or handlers", scripts),
		       0;
	if (strstr(r->body, "[[") != NULL || has_placeholder(r->body))
		return snprintf(why, whylen, "a catalog key or a placeholder is missing: %.80s",
		           strstr(r->body, "[[") ? strstr(r->body, "[[") : "{...}"),
		       0;
	snprintf(want, sizeof want, "href=\"/accessibility?lang=%s\"", lang);
	if (strstr(r->body, want) == NULL)
		return snprintf(why, whylen, "no link to the accessibility statement"), 0;
	return labels_ok(r->body, why, whylen);
}

static void
expect_page(const struct resp *r, long status, const char *lang, const char *name)
{
	char why[300] = "";

	if (!ok(r->status == status && page_shape(r, lang, why, sizeof why),
	        "%s -> %ld, an HTML page in %s (CSP, no cookie, nothing inline, landmarks, labels)",
	        name, status, lang)) {
		diag("%s", why);
		diag_resp(r);
	}
}

/* The text of the element with this id (up to the next '<'), malloc'ed, or NULL. */
static char *
element_text(const char *body, const char *id)
{
	char at[64];
	const char *p, *e;

	snprintf(at, sizeof at, "id=\"%s\"", id);
	if ((p = strstr(body, at)) == NULL || (p = strchr(p, '>')) == NULL ||
	    (e = strchr(++p, '<')) == NULL)
		return NULL;
	return strndup(p, (size_t)(e - p));
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* The token appears only as the receipt's text or the message form's hidden field. */
static int
token_only_in_text(const char *body, const char *token)
{
	char shown[64], hidden[96];

	snprintf(shown, sizeof shown, ">%s<", token);
	snprintf(hidden, sizeof hidden, "name=\"token\" value=\"%s\"", token);
	return count(body, token) == count(body, shown) + count(body, hidden);
}

/* The "received" label of the policy in lang, from GET /api/v1/policy (malloc'ed). */
static char *
received_label(const char *lang)
{
	struct resp r;
	json_t *st, *v;
	char *l = NULL;
	size_t i;

	http_get(&r, "/api/v1/policy");
	st = json_object_get(r.json, "statuses");
	json_array_foreach(st, i, v)
		if (jstr(v, "code") && strcmp(jstr(v, "code"), "received") == 0 &&
		    jstr(json_object_get(v, "labels"), lang))
			l = strdup(jstr(json_object_get(v, "labels"), lang));
	resp_free(&r);
	return l;
}

/* The id of the newest case ("" when there is none). */
static void
newest_case(char out[64])
{
	struct resp r;
	const char *id;

	signed_req(&r, anna, "GET", "/api/v1/cases?limit=1", NULL);
	id = jstr(json_array_get(json_object_get(r.json, "cases"), 0), "id");
	snprintf(out, 64, "%s", id ? id : "");
	resp_free(&r);
}

/* The case of a token among the newest: its reporter_box is the key the token derives. */
static int
case_of_token(const char *token, char out[64])
{
	uint8_t t[MP_TOKEN_BYTES], pk[32], sk[32];
	char want[64];
	const char *id;
	struct resp r, c;
	json_t *v;
	size_t i;

	out[0] = '\0';
	if (mp_token_parse(t, token, strlen(token)) != 0 ||
	    mp_token_reporter_keypair(pk, sk, t) != 0)
		return -1;
	b64u(want, sizeof want, pk, sizeof pk);
	signed_req(&r, anna, "GET", "/api/v1/cases?limit=20", NULL);
	json_array_foreach(json_object_get(r.json, "cases"), i, v) {
		if ((id = jstr(v, "id")) == NULL || cw_get(&c, id) != 0) {
			resp_free(&c);
			continue;
		}
		if (jstr(c.json, "reporter_box") && strcmp(jstr(c.json, "reporter_box"), want) == 0)
			snprintf(out, 64, "%s", id);
		resp_free(&c);
	}
	resp_free(&r);
	return out[0] ? 0 : -1;
}

/* The QR code of a receipt, drawn and decoded with rsvg-convert and zbarimg; malloc'ed. */
static char *
decode_qr(const char *body)
{
	const char *s = strstr(body, "<svg"), *e = s ? strstr(s, "</svg>") : NULL;
	char svg[PATHLEN], png[PATHLEN], *out = NULL;
	FILE *f;

	if (e == NULL)
		return NULL;
	snprintf(svg, sizeof svg, "%s/receipt-qr.svg", I.dir);
	snprintf(png, sizeof png, "%s/receipt-qr.png", I.dir);
	if ((f = fopen(svg, "w")) == NULL)
		return NULL;
	fwrite(s, 1, (size_t)(e - s) + 6, f);
	fclose(f);
	{
		const char *draw[] = { "/usr/bin/rsvg-convert", "-w", "400", "-o", png, svg, NULL };
		const char *read[] = { "/usr/bin/zbarimg", "--raw", "-q", png, NULL };

		if (run_cmd(NULL, NULL, draw) != 0 || run_cmd(&out, NULL, read) != 0) {
			free(out);
			out = NULL;
		}
	}
	unlink(svg);
	unlink(png);
	if (out != NULL)
		out[strcspn(out, "\r\n")] = '\0';
	return out;
}

static void
test_static_files(void)
{
	static const struct {
		const char *path, *type;
	} files[] = {
		{ "/static/app.css", "text/css; charset=utf-8" },
		{ "/static/app.js", "text/javascript; charset=utf-8" },
	};
	struct resp r;
	size_t i;

	static_bytes = 0;
	for (i = 0; i < 2; i++) {
		get_page(&r, files[i].path, NULL);
		if (!ok(r.status == 200 && resp_header(&r, "Content-Type") &&
		            strcasecmp(resp_header(&r, "Content-Type"), files[i].type) == 0 &&
		            r.len > 100,
		        "GET %s -> 200 %s", files[i].path, files[i].type))
			diag_resp(&r);
		static_bytes += wire_bytes(&r);
		resp_free(&r);
	}
	get_page(&r, "/static/other.js", NULL);
	expect_page(&r, 404, "nl", "GET /static/other.js");
	resp_free(&r);
	diag("app.css and app.js: %zu bytes on the wire", static_bytes);
}

static void
test_languages(void)
{
	static const struct {
		const char *target, *accept, *want, *name;
	} cases[] = {
		{ "/", NULL, "nl", "no Accept-Language: Dutch" },
		{ "/", "tr-TR,tr;q=0.9,en;q=0.5", "tr", "Accept-Language tr-TR first" },
		{ "/", "de, uk;q=0.3, pl;q=0.4", "pl", "the highest q among known languages" },
		{ "/", "de-DE, fr", "nl", "no known language: Dutch" },
		{ "/", "en;q=0, ar;q=0.1", "ar", "q=0 means not wanted" },
		{ "/?lang=uk", "en", "uk", "?lang= before Accept-Language" },
		{ "/?lang=xx", "en-GB", "en", "an unknown ?lang= is passed over" },
		{ "/f?lang=ar", NULL, "ar", "the follow-up page in Arabic" },
		{ "/accessibility", "PL", "pl", "the statement in Polish (case-insensitive tag)" },
	};
	char want[64], why[300];
	struct resp r;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		get_page(&r, cases[i].target, cases[i].accept);
		expect_page(&r, 200, cases[i].want, cases[i].name);
		resp_free(&r);
	}
	for (i = 0; i < NLANGS; i++) {
		snprintf(want, sizeof want, "/?lang=%s", LANGS[i]);
		get_page(&r, want, NULL);
		snprintf(want, sizeof want, "href=\"?lang=%s\" lang=\"%s\" hreflang=\"%s\"",
		    LANGS[i], LANGS[i], LANGS[i]);
		why[0] = '\0';
		if (!ok(r.status == 200 && page_shape(&r, LANGS[i], why, sizeof why) &&
		            count(r.body, "hreflang=") == NLANGS && strstr(r.body, want) &&
		            count(r.body, "aria-current=\"true\"") == 1,
		        "GET /?lang=%s: the form in %s, a switcher with all %zu languages, this one current",
		        LANGS[i], LANGS[i], NLANGS))
			diag("%s", why);
		resp_free(&r);
	}
}

/* Every GET page in every language stays under the budget with its CSS and JS. */
static void
test_weight(void)
{
	static const char *const paths[] = { "/", "/f", "/accessibility" };
	char target[64];
	size_t i, j, n, worst = 0;
	const char *worst_at = "";
	struct resp r;
	int good = 1;

	for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
		for (j = 0; j < NLANGS; j++) {
			snprintf(target, sizeof target, "%s?lang=%s", paths[i], LANGS[j]);
			get_page(&r, target, NULL);
			n = wire_bytes(&r) + static_bytes;
			if (n > worst) {
				worst = n;
				worst_at = paths[i];
			}
			good &= r.status == 200 && n < PAGE_BUDGET;
			resp_free(&r);
		}
	if (!ok(good,
	        "every page in every language, with app.css and app.js, is under 50 KB "
	        "(largest %zu bytes, %s)",
	        worst, worst_at))
		diag("the budget is %d bytes", PAGE_BUDGET);
}

/* A report through the form, as a browser without JavaScript sends it. */
static void
test_report_form(void)
{
	char *body = NULL, *tok = NULL, *qr = NULL, *want = NULL, *label = NULL;
	char before[64], after[64], id[64];
	json_t *pt = NULL;
	struct resp r, c;

	memset(&r, 0, sizeof r);
	canary_add(CANARY_TEXT, "CANARY-FORM-DESCRIPTION-5e21");
	canary_add(CANARY_TEXT, FORM_LOC);
	newest_case(before);
	if (asprintf(&body,
	        "lang=pl&description=%s%%0D%%0Asecond+line&role=witness&wish=advice"
	        "&location=%s&incident_municipality=leiden&grounds=origin&grounds=religion"
	        "&domain=commercial_services&manifestation=refusal&contact=anonymous"
	        "&contact_email=ignored%%40example.org",
	        "CANARY-FORM-DESCRIPTION-5e21+the+shop+would+"
	        "not+serve+us",
	        FORM_LOC) < 0)
		abort();
	post_form(&r, "/report", body);
	expect_page(&r, 200, "pl", "POST /report (url-encoded, lang=pl)");
	tok = element_text(r.body, "token");
	if (!ok(tok && strlen(tok) == MP_TOKEN_TEXT_LEN && tok[4] == '-',
	        "the receipt shows the token in its groups (%s)", tok ? tok : "none"))
		goto out;
	canary_add(CANARY_TOKEN, tok);
	snprintf(form_token, sizeof form_token, "%s", tok);
	ok(strstr(r.body, "CANARY-FORM") == NULL && strstr(r.body, "ignored@example") == NULL,
	    "the receipt echoes nothing of the report");
	ok(token_only_in_text(r.body, tok) && resp_header(&r, "Location") == NULL,
	    "the token is on the receipt only as text: in no link, form action or header");
	ok(strstr(r.body, "id=\"qr\"") && strstr(r.body, "role=\"img\" aria-label=\"Kod QR") &&
	        strstr(r.body, "id=\"print\""),
	    "the receipt has the QR code, named in the page's "
	    "language, and a print button");
	if (asprintf(&want, "%s/f#%s", I.base, tok) < 0)
		abort();
	qr = decode_qr(r.body);
	if (!ok(qr && strcmp(qr, want) == 0,
	        "the receipt's QR code decodes to <public url>/f#<token>"))
		diag("decoded %s, want %s", qr ? qr : "nothing", want);
	ok(wire_bytes(&r) + static_bytes < PAGE_BUDGET,
	    "the receipt with its QR code is under "
	    "50 KB with app.css and app.js (%zu bytes)",
	    wire_bytes(&r) + static_bytes);
	resp_free(&r);

	newest_case(after);
	if (!ok(case_of_token(tok, id) == 0 && strcmp(id, after) == 0 && strcmp(after, before) != 0,
	        "the form made a case, the newest, whose reporter key is the token's"))
		goto out;
	snprintf(form_case, sizeof form_case, "%s", id);
	cw_get(&c, id);
	pt = open_env(json_object_get(c.json, "report"), id, anna->box_pk, anna->box_sk);
	resp_free(&c);
	if (!ok(pt && jstr(pt, "language") && !strcmp(jstr(pt, "language"), "pl") &&
	            jstr(pt, "role") && !strcmp(jstr(pt, "role"), "witness") &&
	            json_array_size(json_object_get(pt, "grounds")) == 2 &&
	            !strcmp(json_string_value(json_array_get(json_object_get(pt, "grounds"), 1)),
	                "religion") &&
	            jstr(pt, "description") &&
	            !strcmp(jstr(pt, "description"), FORM_DESC "\nsecond line"),
	        "the opened report holds the form's fields (language, role, both grounds, the text "
	        "with its line break as \\n)"))
		diag("%s", pt ? dump(pt) : "(not opened)");
	ok(pt && json_object_get(pt, "contact") == NULL &&
	        json_object_get(pt, "counterparty") == NULL,
	    "\"anonymous\" drops the contact fields; empty fields are left out");

	/* The follow-up page, by typing the token as a person would. */
	{
		char typed[64], *b2 = NULL, *st;
		size_t i;

		for (i = 0; tok[i] && i + 1 < sizeof typed; i++)
			typed[i] = tok[i] == '-' ? '+' : (char)tolower((unsigned char)tok[i]);
		typed[i] = '\0';
		if (asprintf(&b2, "token=%s&lang=en", typed) < 0)
			abort();
		post_form(&r, "/f", b2);
		free(b2);
		expect_page(
		    &r, 200, "en", "POST /f with the token typed in lower case with spaces");
		label = received_label("pl");
		st = element_text(r.body, "status");
		if (!ok(st && label && strcmp(st, label) == 0 &&
		            strstr(r.body, "id=\"status\" class=\"status\" lang=\"pl\""),
		        "the status page shows the plain label in the report's language (pl), so marked"))
			diag("got %s, want %s", st ? st : "none", label ? label : "?");
		ok(strstr(r.body, "id=\"message-form\"") && strstr(r.body, "id=\"no-messages\"") &&
		        token_only_in_text(r.body, tok),
		    "it has the message form, no messages yet, and "
		    "the token only in the form's hidden field");
		free(st);
		resp_free(&r);
	}
out:
	resp_free(&r); /* a check that failed early leaves the last answer here */
	json_decref(pt);
	free(label);
	free(want);
	free(qr);
	free(tok);
	free(body);
}

/* Errors by the fields, in the page's language, with everything typed kept. */
static void
test_field_errors(void)
{
	static const char *const must[] = {
		"id=\"error-summary\"",
		"<a href=\"#description\">Describe what happened.</a>",
		"id=\"description-error\">Describe what happened.<",
		"aria-describedby=\"description-hint description-error\" aria-invalid=\"true\"",
		"id=\"occurred_on-error\"",
		"value=\"2999-01-01\"",
		"id=\"contact_email-error\"",
		"value=\"not-an-address\"",
		"value=\"&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39; CANARY-FORM-LOCATION-77d0\"",
		"name=\"grounds\" value=\"age\" checked",
		"<option value=\"housing\" selected>",
		"name=\"contact\" value=\"contact\" checked",
		"name=\"role\" value=\"victim\" checked",
		"<title>Error: ",
	};
	char *typed = NULL, *tx, before[64], after[64];
	struct resp r;
	size_t i;
	int missing = 0;

	newest_case(before);

	post_form(&r, "/report",
	    "lang=en&description=&occurred_on=2999-01-01&role=victim"
	    "&location=%3Cb%3E%22x%22+%26+%27y%27+CANARY-FORM-LOCATION-77d0&grounds=age"
	    "&domain=housing&contact=contact&contact_email=not-an-address");
	expect_page(&r, 400, "en",
	    "POST /report with an empty description, a future date, a bad "
	    "e-mail address");
	for (i = 0; i < sizeof must / sizeof must[0]; i++)
		if (strstr(r.body, must[i]) == NULL && missing++ < 3)
			diag("missing: %s", must[i]);
	ok(missing == 0,
	    "each error is next to its field (aria-invalid, aria-describedby), listed "
	    "in a summary, in English, and every typed value and choice is kept and escaped");
	ok(strstr(r.body, "<main id=\"main\" tabindex=\"-1\">\n<div id=\"error-summary\"") != NULL,
	    "the error summary comes first in <main>");
	resp_free(&r);

	/* The description itself survives an error elsewhere. */
	post_form(&r, "/report",
	    "lang=nl&description=CANARY-FORM-DESCRIPTION-5e21+kept%0D%0Aline+2"
	    "&contact=contact&contact_phone=abc");
	tx = element_text(r.body, "description");
	if (asprintf(&typed, "\n%s", "CANARY-FORM-DESCRIPTION-5e21 kept\nline 2") < 0)
		abort();
	if (!ok(r.status == 400 && tx && strcmp(tx, typed) == 0 &&
	            strstr(r.body, "id=\"contact_phone-error\""),
	        "a bad phone number: the description comes back as typed, the error in Dutch by the "
	        "phone field"))
		diag_resp(&r);
	free(tx);
	free(typed);
	resp_free(&r);

	post_form(&r, "/report", "lang=tr&description=x&contact=contact&contact_name=A");
	ok(r.status == 400 && strstr(r.body, "id=\"contact_email-error\""),
	    "\"contact me\" with neither e-mail nor phone is an error, not a silent anonymous report");
	resp_free(&r);
	post_form(&r, "/report", "lang=en&description=x&incident_municipality=atlantis");
	ok(r.status == 400 && strstr(r.body, "id=\"incident_municipality-error\""),
	    "a code outside the policy is an error by its field (the API's validator)");
	resp_free(&r);
	tx = repeat("a", 10001);
	if (asprintf(&typed, "lang=en&description=%s", tx) < 0)
		abort();
	post_form(&r, "/report", typed);
	ok(r.status == 400 &&
	        strstr(r.body, "Use no more than <bdi dir=\"ltr\">10000</bdi> characters."),
	    "a description of 10001 characters: the error names the limit");
	resp_free(&r);
	free(tx);
	free(typed);
	newest_case(after);
	ok(strcmp(before, after) == 0, "no rejected form made a case");
}

/* The body is read strictly; anything a browser would not send is refused whole. */
static void
test_strict_forms(void)
{
	static const struct {
		const char *body, *name;
	} bad[] = {
		{ "description=x%zz", "a % without two hex digits" },
		{ "description=x%4", "a % cut short" },
		{ "description=x%FF", "invalid UTF-8" },
		{ "description=x%00y", "a NUL" },
		{ "description=x&description=y", "a field twice" },
		{ "description=x&evil=1", "an unknown field" },
		{ "description=x&", "an empty pair" },
		{ "description", "a pair without =" },
		{ "description=a b", "a raw space" },
		{ "description=caf\xc3\xa9", "raw UTF-8 bytes" },
	};
	char before[64], after[64];
	struct resp r;
	size_t i;

	newest_case(before);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		post_form(&r, "/report", bad[i].body);
		if (!ok(r.status == 400 && strstr(r.body, "id=\"error-summary\""),
		        "POST /report with %s -> 400, the form again with an error", bad[i].name))
			diag_resp(&r);
		resp_free(&r);
	}
	newest_case(after);
	ok(strcmp(before, after) == 0, "none of them made a case");
	page_req(&r, "POST", "/report", "application/json", "{\"description\":\"x\"}", NULL);
	expect_page(&r, 415, "nl", "POST /report as application/json");
	resp_free(&r);
	page_req(&r, "POST", "/report", "multipart/form-data; boundary=x",
	    "--x\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nx\r\n--x--\r\n",
	    NULL);
	expect_page(&r, 415, "nl", "POST /report as multipart/form-data");
	resp_free(&r);
	page_req(&r, "POST", "/report", FORM "; charset=UTF-8", "lang=en&description=", NULL);
	ok(r.status == 400 && strstr(r.body, "id=\"description-error\""),
	    "the form type with charset=UTF-8 is read like the bare type");
	resp_free(&r);
	page_req(&r, "POST", "/api/v1/reports", FORM, "description=x", NULL);
	expect_error(&r, 415, "unsupported_media_type", NULL, "the API still takes only JSON");
	resp_free(&r);
}

static void
test_error_pages(void)
{
	char *big;
	struct resp r;

	get_page(&r, "/no-such-page", "uk");
	expect_page(&r, 404, "uk", "GET /no-such-page (Accept-Language uk)");
	resp_free(&r);
	page_req(&r, "DELETE", "/", NULL, NULL, NULL);
	expect_page(&r, 405, "nl", "DELETE /");
	ok(resp_header(&r, "Allow") && strcmp(resp_header(&r, "Allow"), "GET") == 0,
	    "405 on a page names what is allowed (Allow: GET)");
	resp_free(&r);
	get_page(&r, "/report", NULL);
	expect_page(&r, 405, "nl", "GET /report");
	resp_free(&r);
	big = repeat("a", 200 * 1024);
	memcpy(big, "description=", 12);
	post_form(&r, "/report", big);
	expect_page(&r, 413, "nl", "POST /report of 200 KiB");
	resp_free(&r);
	free(big);
	get_page(&r, "/api/v1/no-such-thing", NULL);
	expect_error(&r, 404, "not_found", NULL, "an unknown API path keeps its JSON error");
	resp_free(&r);
}

static void
test_followup_pages(void)
{
	char unknown[MP_TOKEN_TEXT_LEN + 1], *b = NULL, *big;
	uint8_t t[MP_TOKEN_BYTES], pk[32], sk[32];
	const char *tok = form_token, *id = form_case;
	struct resp r, c;

	get_page(&r, "/f", "en");
	expect_page(&r, 200, "en", "GET /f");
	ok(strstr(r.body, "<form method=\"post\" action=\"/f\" id=\"followup-form\"") &&
	        strstr(r.body, "id=\"token-input\" name=\"token\""),
	    "the follow-up page posts the typed token (never a GET with it in the URL)");
	resp_free(&r);

	mp_token_new(t);
	mp_token_format(unknown, t);
	if (asprintf(&b, "token=%s&lang=en", unknown) < 0)
		abort();
	post_form(&r, "/f", b);
	free(b);
	expect_page(&r, 404, "en", "POST /f with a well-formed unknown token");
	ok(strstr(r.body, "id=\"token-error\">There is no report with this code.") &&
	        strstr(r.body, unknown),
	    "it says so by the field and keeps the typed token");
	resp_free(&r);
	post_form(&r, "/f", "token=ABCD-EFGH&lang=nl");
	expect_page(&r, 400, "nl", "POST /f with a malformed token");
	ok(strstr(r.body, "id=\"token-error\"") != NULL, "the error is by the token field");
	resp_free(&r);
	post_form(&r, "/f", "token=&lang=tr");
	expect_page(&r, 400, "tr", "POST /f with no token");
	resp_free(&r);

	/* A case from the form, a reply from the caseworker, then the reporter's message. */
	if (!ok(tok[0] != '\0' && id[0] != '\0', "the form's case is there to follow"))
		return;
	if (!ok(mp_token_parse(t, tok, strlen(tok)) == 0 &&
	            mp_token_reporter_keypair(pk, sk, t) == 0,
	        "the token gives the reporter's key"))
		return;
	b = envelope_body(seal_item("message", id, "Dank u. <b>Wij bellen u</b> & schrijven.", pk));
	cw_post(&c, id, "messages", b);
	free(b);
	ok(c.status == 201, "the caseworker answers the case");
	resp_free(&c);
	ok(cw_move(id, "intake", NULL) == 200, "and takes it up");

	if (asprintf(&b,
	        "token=%s&lang=ar&text=CANARY-FORM-MESSAGE-0b7e+%%D9%%85%%D8%%B1%%D8%%AD%%D8%%A8"
	        "%%D8%%A7",
	        tok) < 0)
		abort();
	canary_add(CANARY_TEXT, "CANARY-FORM-MESSAGE-0b7e");
	post_form(&r, "/f/message", b);
	free(b);
	expect_page(&r, 200, "ar", "POST /f/message");
	if (!ok(strstr(r.body, "id=\"confirmation\"") &&
	            count(r.body, "<li class=\"message") == 2 &&
	            strstr(r.body, "<li class=\"message from-caseworker\"") &&
	            strstr(r.body, "Dank u. &lt;b&gt;Wij bellen u&lt;/b&gt; &amp; schrijven.") &&
	            strstr(r.body, "<li class=\"message from-reporter\"") &&
	            strstr(r.body,
	                "CANARY-FORM-MESSAGE-0b7e \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7"),
	        "the page confirms, and lists the caseworker's reply (escaped) and the new message"))
		diag_resp(&r);
	ok(token_only_in_text(r.body, tok), "the token is only in the hidden field");
	resp_free(&r);
	cw_followup(&c, tok);
	ok(json_array_size(json_object_get(c.json, "messages")) == 2 && jstr(c.json, "status") &&
	        strcmp(jstr(c.json, "status"), "intake") == 0,
	    "the API's follow-up sees the same two messages and the new status");
	resp_free(&c);

	if (asprintf(&b, "token=%s&lang=en&text=", tok) < 0)
		abort();
	post_form(&r, "/f/message", b);
	free(b);
	expect_page(&r, 400, "en", "POST /f/message with no text");
	ok(strstr(r.body, "id=\"text-error\">Write your message first.") &&
	        count(r.body, "<li class=\"message") == 2,
	    "the error is by the text box; nothing sent");
	resp_free(&r);
	big = repeat("m", 10001);
	if (asprintf(&b, "token=%s&lang=en&text=%s", tok, big) < 0)
		abort();
	post_form(&r, "/f/message", b);
	free(b);
	ok(r.status == 400 && strstr(r.body, "id=\"text-error\"") && strstr(r.body, big),
	    "a message of 10001 characters is refused and comes back to be shortened");
	resp_free(&r);
	free(big);
	if (asprintf(&b, "token=%s&lang=en&text=hello", unknown) < 0)
		abort();
	post_form(&r, "/f/message", b);
	free(b);
	expect_page(&r, 404, "en", "POST /f/message with an unknown token");
	resp_free(&r);
	cw_followup(&c, tok);
	ok(json_array_size(json_object_get(c.json, "messages")) == 2,
	    "the refused messages stored "
	    "nothing");
	resp_free(&c);

	/* A long thread: the page lists the newest 50 and says how many it leaves out. */
	{
		int posted = 0;

		for (int i = 0; i < 51; i++) {
			char text[64];

			snprintf(text, sizeof text, "Bericht nummer %d van de lange draad.", i + 1);
			b = envelope_body(seal_item("message", id, text, pk));
			cw_post(&c, id, "messages", b);
			posted += c.status == 201;
			resp_free(&c);
			free(b);
		}
		ok(posted == 51, "51 more answers from the caseworker: 53 messages in all");
	}
	if (asprintf(&b, "token=%s&lang=en", tok) < 0)
		abort();
	post_form(&r, "/f", b);
	free(b);
	expect_page(&r, 200, "en", "POST /f on a case of 53 messages");
	if (!ok(count(r.body, "<li class=\"message") == 50 &&
	            strstr(r.body,
	                "<p id=\"earlier\" class=\"hint\">Earlier messages not shown "
	                "here: <bdi dir=\"ltr\">3</bdi>.</p>") &&
	            strstr(r.body, "Bericht nummer 51 van de lange draad.") &&
	            strstr(r.body, "Bericht nummer 2 van de lange draad.") &&
	            !strstr(r.body, "Bericht nummer 1 van de lange draad.") &&
	            !strstr(r.body, "CANARY-FORM-MESSAGE-0b7e") && !strstr(r.body, "Wij bellen u"),
	        "the page lists the newest 50 messages and says 3 earlier ones are not shown"))
		diag("%zu messages on the page", count(r.body, "<li class=\"message"));
	resp_free(&r);
	cw_followup(&c, tok);
	ok(json_array_size(json_object_get(c.json, "messages")) == 53,
	    "the API's follow-up still answers with all 53");
	resp_free(&c);
}

void
test_pages(void)
{
	test_static_files();
	test_languages();
	test_weight();
	test_report_form();
	test_field_errors();
	test_strict_forms();
	test_error_pages();
	test_followup_pages();
}
