/*
 * The residents' pages (docs/PAGES.md): the report form, the receipt, the
 * follow-up pages, the accessibility statement and the error pages, server
 * rendered so that all of it works without JavaScript.  Texts come from the
 * language's catalog; labels of codes from the policy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

#define HTML_TYPE "text/html; charset=utf-8"
#define VARS_MAX 4
/*
 * The status page lists at most the newest 50 messages: 50 of 10,000
 * characters, each escaped to at most 6 bytes, is 3 MB, well inside
 * HTML_MAX however long a thread grows (20 messages a day from its reporter).
 */
#define PAGE_MESSAGES 50

struct page {
	struct server *srv;
	const struct mp_policy *pol;
	const struct ui_catalog *ui;
	const char *lang; /* the page's language code (from the policy) */
	int rtl;
	char pow[32]; /* during a flood: the challenge the report form carries */
	int pow_bits;
	struct html h;
};

static const char *const followup_names[] = { "token", "lang", NULL };
static const char *const message_names[] = { "token", "text", "lang", NULL };

/* --- language ------------------------------------------------------------------ */

/* q of an Accept-Language entry's parameters in thousandths (1000 when absent, -1 if malformed). */
static int
qvalue(const char *s, const char *end)
{
	int q = 0, scale = 100;

	while (s < end && (*s == ' ' || *s == ';'))
		s++;
	if (s == end)
		return 1000;
	if (end - s < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=')
		return -1;
	s += 2;
	if (*s == '1' || *s == '0')
		q = (*s++ - '0') * 1000;
	else
		return -1;
	if (s < end && *s == '.')
		for (s++; s < end && *s >= '0' && *s <= '9' && scale > 0; s++, scale /= 10)
			q += (*s - '0') * scale;
	while (s < end && *s == ' ')
		s++;
	return s == end && q <= 1000 ? q : -1;
}

/* The policy language an Accept-Language header prefers most, or -1. */
static int
accept_language(const struct mp_policy *pol, const char *h)
{
	char primary[9];
	int best = -1, bestq = 0, q, li;
	size_t i = 0, n, start, semi, end;

	while (h != NULL && h[i] != '\0') {
		start = i;
		end = start + strcspn(h + start, ",");
		semi = start + strcspn(h + start, ";,");
		while (start < semi && h[start] == ' ')
			start++;
		/* "nl-BE" counts as "nl": the pages come in languages, not regions. */
		for (n = 0; start + n < semi && h[start + n] != '-' && h[start + n] != ' ' &&
		     n < sizeof primary - 1;
		     n++)
			primary[n] = (char)(h[start + n] >= 'A' && h[start + n] <= 'Z'
			        ? h[start + n] + 32
			        : h[start + n]);
		primary[n] = '\0';
		q = qvalue(h + semi, h + end);
		if (q > bestq && (li = mp_policy_lang(pol, primary)) >= 0) {
			best = li;
			bestq = q;
		}
		i = h[end] != '\0' ? end + 1 : end;
	}
	return best;
}

/* The page's language: the form's lang, then ?lang=, then Accept-Language, then Dutch. */
static int
pick_lang(const struct mp_policy *pol, struct request *rq, const char *form_lang)
{
	int li;

	if ((li = mp_policy_lang(pol, form_lang)) >= 0 ||
	    (li = mp_policy_lang(pol, request_query(rq, "lang"))) >= 0 ||
	    (li = accept_language(pol, request_header(rq, "Accept-Language"))) >= 0)
		return li;
	return mp_policy_lang(pol, default_language(pol));
}

/* Start a page in the request's language; -1 with e set when there are no texts for it. */
static int
page_open(struct page *p, struct server *srv, struct request *rq, const char *form_lang,
    struct api_err *e)
{
	const struct mp_code *l;
	int li;

	memset(p, 0, sizeof *p);
	p->srv = srv;
	p->pol = srv->in->policy;
	li = pick_lang(p->pol, rq, form_lang);
	if (srv->ui == NULL || li < 0 || (p->ui = ui_lang(srv->ui, li)) == NULL)
		return api_error(e, 503, "unavailable", NULL, "the pages have no texts");
	l = &p->pol->lists[MP_LANGUAGES].v[li];
	p->lang = l->code;
	p->rtl = l->rtl;
	p->pow_bits = limit_form_challenge(srv->limits, rq, p->pow, sizeof p->pow);
	html_init(&p->h);
	return 0;
}

/* --- texts ----------------------------------------------------------------------- */

static const char *
T(const struct page *p, const char *key)
{
	return ui_catalog_get(p->ui, key);
}

/* The value of the placeholder whose name starts at name (ends at '}'), or NULL. */
static const char *
var(const struct page *p, const char *name, const char *const *names, const char *const *vals,
    size_t n)
{
	static const char *const org[][2] = {
		{ "org_name", "org.name" },
		{ "org_email", "org.email" },
		{ "org_phone", "org.phone" },
	};
	size_t len = (size_t)(strchr(name, '}') - name), i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
			return vals[i];
	for (i = 0; i < sizeof org / sizeof org[0]; i++)
		if (strlen(org[i][0]) == len && strncmp(org[i][0], name, len) == 0)
			return T(p, org[i][1]);
	return NULL;
}

/*
 * The text of key, escaped, with its {placeholders} filled: from the
 * (name, value) pairs after key (NULL-terminated), and the org_* ones from
 * the catalog.  A key the catalog lacks shows as [[key]], for tests to find.
 */
static void say(struct page *p, const char *key, ...) __attribute__((sentinel));

static void
say(struct page *p, const char *key, ...)
{
	const char *names[VARS_MAX], *vals[VARS_MAX], *t = T(p, key), *s, *e, *v;
	size_t n = 0;
	va_list ap;

	if (t == NULL) {
		html_f(&p->h, "[[%s]]", key);
		return;
	}
	va_start(ap, key);
	while (n < VARS_MAX && (names[n] = va_arg(ap, const char *)) != NULL)
		vals[n++] = va_arg(ap, const char *);
	va_end(ap);
	for (s = t; (e = strchr(s, '{')) != NULL; s = strchr(e, '}') + 1) {
		html_escn(&p->h, s, (size_t)(e - s));
		/*
		 * Isolated, so that a date or an address keeps its order inside
		 * right-to-left text (2026-11-23 would otherwise read 23-11-2026).
		 * Texts used in a title or an attribute have no placeholders.
		 */
		if ((v = var(p, e + 1, names, vals, n)) != NULL)
			html_f(&p->h,
			    strncmp(e, "{org_name}", 10) == 0 ? "<bdi>%s</bdi>"
			                                      : "<bdi dir=\"ltr\">%s</bdi>",
			    v);
		else
			html_escn(&p->h, e, (size_t)(strchr(e, '}') - e) + 1);
	}
	html_esc(&p->h, s);
}

/* key's text as the whole content of one element: <tag>text</tag> and a line end. */
static void
say_in(struct page *p, const char *tag, const char *key)
{
	html_f(&p->h, "<%s>", tag);
	say(p, key, NULL);
	html_f(&p->h, "</%s>\n", tag);
}

static const char *
label(const struct page *p, enum mp_list_id list, size_t i)
{
	return mp_policy_label(p->pol, &p->pol->lists[list].v[i], p->lang);
}

/* --- layout ----------------------------------------------------------------------- */

/*
 * The head, the skip link, the header with the language switcher, and the
 * start of <main>.  switch_to is the path the language links go to: "" for
 * the page itself (a GET page), else a GET page that fits (for answers to POST).
 */
static void
page_begin(struct page *p, const char *title_key, int has_errors, const char *switch_to)
{
	const struct mp_list *langs = &p->pol->lists[MP_LANGUAGES];
	size_t i;

	html_f(&p->h,
	    "<!doctype html>\n<html lang=\"%s\" dir=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	    p->lang, p->rtl ? "rtl" : "ltr");
	if (has_errors) {
		say(p, "error.title_prefix", NULL);
		html_f(&p->h, ": ");
	}
	say(p, title_key, NULL);
	html_f(&p->h, " – ");
	say(p, "org.name", NULL);
	html_f(&p->h,
	    "</title>\n<link rel=\"stylesheet\" href=\"/static/app.css\">\n"
	    "<script src=\"/static/app.js\" defer></script>\n</head>\n<body>\n"
	    "<a class=\"skip\" href=\"#main\">");
	say(p, "skip", NULL);
	html_f(&p->h,
	    "</a>\n<header class=\"site\">\n<div class=\"bar\">\n"
	    "<a class=\"brand\" href=\"/?lang=%s\">",
	    p->lang);
	say(p, "org.name", NULL);
	html_f(&p->h, "</a>\n<nav class=\"langs\" aria-label=\"");
	say(p, "nav.languages", NULL);
	html_f(&p->h, "\">\n<ul>\n");
	for (i = 0; i < langs->n; i++) {
		const struct mp_code *l = &langs->v[i];
		html_f(&p->h, "<li><a href=\"%s?lang=%s\" lang=\"%s\" hreflang=\"%s\" dir=\"%s\"",
		    switch_to, l->code, l->code, l->code, l->rtl ? "rtl" : "ltr");
		if (strcmp(l->code, p->lang) == 0)
			html_f(&p->h, " aria-current=\"true\"");
		html_f(&p->h, ">%s</a></li>\n", l->labels[0]);
	}
	html_f(&p->h, "</ul>\n</nav>\n</div>\n</header>\n<main id=\"main\" tabindex=\"-1\">\n");
}

static void
page_end(struct page *p)
{
	html_f(
	    &p->h, "</main>\n<footer class=\"site\">\n<ul>\n<li><a href=\"/?lang=%s\">", p->lang);
	say(p, "footer.report", NULL);
	html_f(&p->h, "</a></li>\n<li><a href=\"/f?lang=%s\">", p->lang);
	say(p, "footer.followup", NULL);
	html_f(&p->h, "</a></li>\n<li><a href=\"/accessibility?lang=%s\">", p->lang);
	say(p, "footer.accessibility", NULL);
	html_f(&p->h, "</a></li>\n</ul>\n<p>");
	say(p, "footer.other_ways", NULL);
	html_f(&p->h, "</p>\n</footer>\n</body>\n</html>\n");
}

/* The button that sends a form, and the form's end. */
static void
submit_button(struct page *p, const char *id, const char *key)
{
	html_f(&p->h, "<button type=\"submit\" id=\"%s\" class=\"button\">", id);
	say(p, key, NULL);
	html_f(&p->h, "</button>\n</form>\n");
}

/* Hand the page to the reply; the body is wiped when sent (it may hold a token or a report). */
static int
page_reply(struct page *p, struct reply *out, unsigned status, struct api_err *e)
{
	char *body = html_done(&p->h);

	if (body == NULL)
		return api_error(e, 503, "unavailable", NULL, "the page could not be made");
	out->status = status;
	out->body = body;
	out->ctype = HTML_TYPE;
	return 0;
}

/* A page that answers GET, drawn in the negotiated language. */
static int
get_page(struct server *srv, struct request *rq, struct reply *out, struct api_err *e,
    void (*draw)(struct page *))
{
	struct page p;

	if (page_open(&p, srv, rq, NULL, e) != 0)
		return -1;
	draw(&p);
	return page_reply(&p, out, 200, e);
}

/*
 * A form post that another site's page made the browser send (Fetch
 * Metadata: only "cross-site" is refused; browsers without it pass).  The
 * pages have no cookie to protect, but such a post would file reports or
 * messages from each visitor's own address, past the limits per client, or
 * show a stranger the status page of the sender's case.
 */
static int
cross_site(struct request *rq, struct api_err *e)
{
	const char *s = request_header(rq, "Sec-Fetch-Site");

	if (s == NULL || strcasecmp(s, "cross-site") != 0)
		return 0;
	return api_error(e, 403, "forbidden", NULL, "forms are sent from this site's own pages");
}

/* --- form pieces ------------------------------------------------------------------- */

static const struct form_error *
error_for(const struct form_errors *errs, const char *field)
{
	size_t i;

	for (i = 0; errs != NULL && i < errs->n; i++)
		if (strcmp(errs->v[i].field, field) == 0)
			return &errs->v[i];
	return NULL;
}

static void
say_error(struct page *p, const struct form_error *fe)
{
	char max[24], example[11];

	snprintf(max, sizeof max, "%zu", fe->max);
	mp_today(example);
	/* max is the minutes to wait, for error.limit. */
	say(p, fe->key, "max", max, "example", example, "minutes", max, NULL);
}

/* The id a summary link takes the reader to: the field, or a group's first choice. */
static void
anchor(char *out, size_t outlen, const struct page *p, const char *field)
{
	static const struct {
		const char *field;
		enum mp_list_id list;
	} groups[] = {
		{ "role", MP_ROLES },
		{ "wish", MP_WISHES },
		{ "grounds", MP_GROUNDS },
	};
	size_t i;

	for (i = 0; i < sizeof groups / sizeof groups[0]; i++)
		if (strcmp(field, groups[i].field) == 0) {
			snprintf(
			    out, outlen, "%s-%s", field, p->pol->lists[groups[i].list].v[0].code);
			return;
		}
	if (strcmp(field, "contact") == 0)
		snprintf(out, outlen, "contact-anonymous");
	else if (strcmp(field, "contact_preferred") == 0)
		snprintf(out, outlen, "contact_preferred-email");
	else if (strcmp(field, "token") == 0)
		snprintf(out, outlen, "token-input");
	else
		snprintf(out, outlen, "%s", field);
}

/* The list of errors first in <main>, each linked to its field. */
static void
error_summary(struct page *p, const struct form_errors *errs)
{
	char id[80];
	size_t i;

	if (errs == NULL || errs->n == 0)
		return;
	html_f(&p->h,
	    "<div id=\"error-summary\" class=\"error-summary\" role=\"alert\" "
	    "tabindex=\"-1\">\n<h2>");
	say(p, "error.summary", NULL);
	html_f(&p->h, "</h2>\n<ul>\n");
	for (i = 0; i < errs->n; i++) {
		if (errs->v[i].field[0] == '\0') {
			html_f(&p->h, "<li>");
		} else {
			anchor(id, sizeof id, p, errs->v[i].field);
			html_f(&p->h, "<li><a href=\"#%s\">", id);
		}
		say_error(p, &errs->v[i]);
		html_f(&p->h, errs->v[i].field[0] == '\0' ? "</li>\n" : "</a></li>\n");
	}
	html_f(&p->h, "</ul>\n</div>\n");
}

/* A page's start: its errors first (errs may be NULL), then its title again as the heading. */
static void
page_top(
    struct page *p, const char *title_key, const struct form_errors *errs, const char *switch_to)
{
	page_begin(p, title_key, errs != NULL && errs->n > 0, switch_to);
	error_summary(p, errs);
	say_in(p, "h1", title_key);
}

/* The hint and error lines of a field, and the attributes that tie them to its input. */
struct described {
	char by[80];
	int invalid;
};

static void
field_notes(struct page *p, const struct form_errors *errs, const char *name, const char *hint_key,
    struct described *d)
{
	const struct form_error *fe = error_for(errs, name);
	int n = 0;

	d->by[0] = '\0';
	d->invalid = fe != NULL;
	if (hint_key != NULL) {
		html_f(&p->h, "<p class=\"hint\" id=\"%s-hint\">", name);
		say(p, hint_key, NULL);
		html_f(&p->h, "</p>\n");
		n = snprintf(d->by, sizeof d->by, "%s-hint", name);
	}
	if (fe != NULL) {
		html_f(&p->h, "<p class=\"error\" id=\"%s-error\">", name);
		say_error(p, fe);
		html_f(&p->h, "</p>\n");
		snprintf(d->by + n, sizeof d->by - (size_t)n, "%s%s-error", n ? " " : "", name);
	}
}

static void
described_attrs(struct page *p, const struct described *d)
{
	if (d->by[0] != '\0')
		html_f(&p->h, " aria-describedby=\"%s\"", d->by);
	if (d->invalid)
		html_f(&p->h, " aria-invalid=\"true\"");
}

static void
field_open(struct page *p, const struct form_errors *errs, const char *name, const char *label_key,
    int required)
{
	html_f(&p->h,
	    error_for(errs, name) ? "<div class=\"field invalid\">\n" : "<div class=\"field\">\n");
	html_f(&p->h, "<label for=\"%s\">", name);
	say(p, label_key, NULL);
	if (required) {
		html_f(&p->h, " <span class=\"required\">");
		say(p, "form.required", NULL);
		html_f(&p->h, "</span>");
	}
	html_f(&p->h, "</label>\n");
}

/* A one-line input: type text, email, tel or date. */
static void
input(struct page *p, const struct form *f, const struct form_errors *errs, const char *name,
    const char *type, const char *label_key, const char *hint_key, const char *autocomplete)
{
	const char *v = form_get(f, name);
	size_t max = form_max(name);
	struct described d;
	char today[11];

	field_open(p, errs, name, label_key, 0);
	field_notes(p, errs, name, hint_key, &d);
	html_f(&p->h, "<input type=\"%s\" id=\"%s\" name=\"%s\" value=\"%s\"", type, name, name,
	    v ? v : "");
	if (max > 0)
		html_f(&p->h, " maxlength=\"%zu\"", max);
	if (strcmp(type, "date") == 0) {
		mp_today(today);
		html_f(&p->h, " max=\"%s\"", today);
	} else {
		html_f(&p->h, " dir=\"auto\"");
	}
	html_f(&p->h, " autocomplete=\"%s\"", autocomplete ? autocomplete : "off");
	described_attrs(p, &d);
	html_f(&p->h, ">\n</div>\n");
}

static void
textarea(struct page *p, const char *name, const char *value, const struct form_errors *errs,
    const char *label_key, const char *hint_key, size_t max, int rows)
{
	struct described d;

	field_open(p, errs, name, label_key, 1);
	field_notes(p, errs, name, hint_key, &d);
	html_f(&p->h,
	    "<textarea id=\"%s\" name=\"%s\" rows=\"%d\" maxlength=\"%zu\" dir=\"auto\" "
	    "required",
	    name, name, rows, max);
	described_attrs(p, &d);
	/* A newline right after the tag would be eaten by the parser; text keeps its own. */
	html_f(&p->h, ">\n%s</textarea>\n</div>\n", value ? value : "");
}

static void
select_list(struct page *p, const struct form *f, const struct form_errors *errs, const char *name,
    enum mp_list_id list, const char *label_key)
{
	const struct mp_list *l = &p->pol->lists[list];
	const char *v = form_get(f, name);
	struct described d;
	size_t i;

	field_open(p, errs, name, label_key, 0);
	field_notes(p, errs, name, NULL, &d);
	html_f(&p->h, "<select id=\"%s\" name=\"%s\"", name, name);
	described_attrs(p, &d);
	html_f(&p->h, ">\n<option value=\"\">");
	say(p, "form.choose", NULL);
	html_f(&p->h, "</option>\n");
	for (i = 0; i < l->n; i++) {
		html_f(&p->h, "<option value=\"%s\"", l->v[i].code);
		if (v != NULL && strcmp(v, l->v[i].code) == 0)
			html_f(&p->h, " selected");
		html_f(&p->h, ">%s</option>\n", label(p, list, i));
	}
	html_f(&p->h, "</select>\n</div>\n");
}

struct choice {
	const char *value;
	const char *text;     /* shown as is (escaped) */
	const char *help_key; /* a line under it, or NULL */
};

/* Radio buttons or check boxes in a fieldset whose legend asks the question. */
static void
choices(struct page *p, const struct form *f, const struct form_errors *errs, const char *name,
    const char *type, const char *legend_key, const char *hint_key, const struct choice *c,
    size_t n, const char *checked_default)
{
	const char *v = form_get(f, name);
	struct described d;
	size_t i;
	int on;

	html_f(&p->h, "<fieldset id=\"%s\" class=\"choices%s\">\n<legend>", name,
	    error_for(errs, name) ? " invalid" : "");
	say(p, legend_key, NULL);
	html_f(&p->h, "</legend>\n");
	field_notes(p, errs, name, hint_key, &d);
	for (i = 0; i < n; i++) {
		on = strcmp(type, "checkbox") == 0 ? form_has(f, name, c[i].value)
		    : v != NULL
		    ? strcmp(v, c[i].value) == 0
		    : checked_default != NULL && strcmp(checked_default, c[i].value) == 0;
		html_f(&p->h,
		    "<div class=\"choice\">\n<input type=\"%s\" id=\"%s-%s\" name=\"%s\" "
		    "value=\"%s\"",
		    type, name, c[i].value, name, c[i].value);
		if (on)
			html_f(&p->h, " checked");
		if (c[i].help_key != NULL && T(p, c[i].help_key) != NULL) {
			html_f(&p->h, " aria-describedby=\"%s-%s-hint%s%s\"", name, c[i].value,
			    d.by[0] ? " " : "", d.by);
			if (d.invalid)
				html_f(&p->h, " aria-invalid=\"true\"");
		} else {
			described_attrs(p, &d);
		}
		html_f(&p->h, ">\n<label for=\"%s-%s\">%s</label>\n", name, c[i].value, c[i].text);
		if (c[i].help_key != NULL && T(p, c[i].help_key) != NULL) {
			html_f(&p->h, "<p class=\"hint\" id=\"%s-%s-hint\">", name, c[i].value);
			say(p, c[i].help_key, NULL);
			html_f(&p->h, "</p>\n");
		}
		html_f(&p->h, "</div>\n");
	}
	html_f(&p->h, "</fieldset>\n");
}

/* Choices from a policy list; help lines from the catalog as form.<name>.<code>.help. */
static void
list_choices(struct page *p, const struct form *f, const struct form_errors *errs, const char *name,
    const char *type, enum mp_list_id list, const char *legend_key, const char *hint_key,
    int with_help)
{
	const struct mp_list *l = &p->pol->lists[list];
	struct choice *c = calloc(l->n ? l->n : 1, sizeof *c);
	char(*keys)[96] = calloc(l->n ? l->n : 1, sizeof *keys);
	size_t i;

	if (c == NULL || keys == NULL) {
		p->h.failed = 1;
		goto out;
	}
	for (i = 0; i < l->n; i++) {
		c[i].value = l->v[i].code;
		c[i].text = label(p, list, i);
		if (with_help) {
			snprintf(keys[i], sizeof keys[i], "form.%s.%s.help", name, l->v[i].code);
			c[i].help_key = keys[i];
		}
	}
	choices(p, f, errs, name, type, legend_key, hint_key, c, l->n, NULL);
out:
	free(c);
	free(keys);
}

/* --- the report form ------------------------------------------------------------------- */

static void
contact_part(struct page *p, const struct form *f, const struct form_errors *errs)
{
	const struct choice contact[] = {
		{ "anonymous", T(p, "form.contact.anonymous"), "form.contact.anonymous.help" },
		{ "contact", T(p, "form.contact.contact"), NULL },
	}, preferred[] = {
		{ "email", T(p, "form.contact_preferred.email"), NULL },
		{ "phone", T(p, "form.contact_preferred.phone"), NULL },
	};

	/*
	 * The contact details sit inside the contact question: the style sheet
	 * hides them while "anonymous" is chosen, and a browser without that
	 * shows them with a hint that they are only for who wants contact.
	 */
	html_f(&p->h, "<div class=\"contact\">\n");
	choices(
	    p, f, errs, "contact", "radio", "form.contact.legend", NULL, contact, 2, "anonymous");
	html_f(&p->h, "<fieldset id=\"contact-fields\" class=\"contact-fields\">\n<legend>");
	say(p, "form.contact.fields.legend", NULL);
	html_f(&p->h, "</legend>\n<p class=\"hint\">");
	say(p, "form.contact.fields.hint", NULL);
	html_f(&p->h, "</p>\n");
	input(p, f, errs, "contact_name", "text", "form.contact_name.label", NULL, "name");
	input(p, f, errs, "contact_email", "email", "form.contact_email.label", NULL, "email");
	input(p, f, errs, "contact_phone", "tel", "form.contact_phone.label", NULL, "tel");
	choices(p, f, errs, "contact_preferred", "radio", "form.contact_preferred.legend", NULL,
	    preferred, 2, NULL);
	html_f(&p->h, "</fieldset>\n</div>\n");
}

/*
 * During a flood only: the challenge, for app.js to solve when the form is
 * sent (docs/ABUSE.md), and the line where it tells how that goes.  Without
 * JavaScript the field goes empty and the report counts against the few
 * taken without a proof.
 */
static void
pow_part(struct page *p)
{
	if (p->pow[0] == '\0')
		return;
	html_f(&p->h,
	    "<input type=\"hidden\" name=\"pow\" id=\"pow\" value=\"\" "
	    "data-challenge=\"%s\" data-bits=\"%d\">\n"
	    "<p id=\"pow-status\" class=\"pow-status\" role=\"status\" data-working=\"",
	    p->pow, p->pow_bits);
	say(p, "pow.working", NULL);
	html_f(&p->h, "\" data-done=\"");
	say(p, "pow.done", NULL);
	html_f(&p->h, "\" data-failed=\"");
	say(p, "pow.failed", NULL);
	html_f(&p->h, "\"></p>\n");
}

static void
form_page(
    struct page *p, const struct form *f, const struct form_errors *errs, const char *switch_to)
{
	page_top(p, "form.title", errs, switch_to);
	html_f(&p->h, "<p class=\"intro\">");
	say(p, "form.intro", NULL);
	html_f(&p->h, "</p>\n");
	html_f(&p->h,
	    "<form method=\"post\" action=\"/report\" id=\"report-form\" "
	    "accept-charset=\"utf-8\" novalidate>\n"
	    "<input type=\"hidden\" name=\"lang\" value=\"%s\">\n",
	    p->lang);
	textarea(p, "description", form_get(f, "description"), errs, "form.description.label",
	    "form.description.hint", form_max("description"), 8);

	say_in(p, "h2", "form.details.heading");
	input(p, f, errs, "occurred_on", "date", "form.occurred_on.label", "form.occurred_on.hint",
	    NULL);
	input(p, f, errs, "location", "text", "form.location.label", "form.location.hint", NULL);
	select_list(p, f, errs, "incident_municipality", MP_MUNICIPALITIES,
	    "form.incident_municipality.label");
	input(p, f, errs, "counterparty", "text", "form.counterparty.label",
	    "form.counterparty.hint", NULL);
	list_choices(p, f, errs, "grounds", "checkbox", MP_GROUNDS, "form.grounds.legend",
	    "form.grounds.hint", 0);
	select_list(p, f, errs, "domain", MP_DOMAINS, "form.domain.label");
	select_list(p, f, errs, "manifestation", MP_MANIFESTATIONS, "form.manifestation.label");

	say_in(p, "h2", "form.about.heading");
	list_choices(p, f, errs, "role", "radio", MP_ROLES, "form.role.legend", NULL, 0);
	select_list(p, f, errs, "residence_municipality", MP_MUNICIPALITIES,
	    "form.residence_municipality.label");
	list_choices(p, f, errs, "wish", "radio", MP_WISHES, "form.wish.legend", NULL, 1);
	contact_part(p, f, errs);

	html_f(&p->h, "<p class=\"privacy\">");
	say(p, "form.privacy", NULL);
	html_f(&p->h, "</p>\n");
	pow_part(p);
	submit_button(p, "submit", "form.submit");
	page_end(p);
}

static void
blank_form(struct page *p)
{
	form_page(p, NULL, NULL, "");
}

int
h_page_form(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	return get_page(srv, rq, out, e, blank_form);
}

/* --- the receipt ------------------------------------------------------------------------ */

static void
receipt_page(struct page *p, const struct receipt *r)
{
	char followup[sizeof p->srv->in->public_url + 4];
	const char *gt;

	snprintf(followup, sizeof followup, "%s/f", p->srv->in->public_url);
	page_top(p, "receipt.title", NULL, "/f");
	html_f(&p->h, "<p>");
	say(p, "receipt.thanks", "date", r->received, NULL);
	html_f(&p->h,
	    "</p>\n<section class=\"receipt\" aria-labelledby=\"code-heading\">\n"
	    "<h2 id=\"code-heading\">");
	say(p, "receipt.code.heading", NULL);
	/* The token's own dashes group it; it reads left to right in every language. */
	html_f(&p->h,
	    "</h2>\n<p id=\"token\" class=\"token\" dir=\"ltr\" translate=\"no\">%s</p>\n"
	    "<div id=\"qr\" class=\"qr\">",
	    r->token);
	/* The image names itself: its start tag (role="img" from qr_svg) gets the label. */
	if ((gt = strchr(r->svg, '>')) != NULL) {
		html_markup(&p->h, r->svg, (size_t)(gt - r->svg));
		html_f(&p->h, " aria-label=\"");
		say(p, "receipt.qr.label", NULL);
		html_f(&p->h, "\"");
		html_markup(&p->h, gt, strlen(gt));
	}
	html_f(&p->h, "</div>\n<p>");
	say(p, "receipt.qr.help", NULL);
	html_f(&p->h, "</p>\n<p>");
	say(p, "receipt.code.help", NULL);
	html_f(&p->h, "</p>\n<p>");
	/* For who cannot scan: where to type the code (the address holds no token). */
	say(p, "receipt.address", "url", followup, NULL);
	html_f(&p->h, "</p>\n<p class=\"warning\"><strong>");
	say(p, "receipt.lost", NULL);
	html_f(&p->h, "</strong></p>\n<p>");
	say(p, "receipt.keep", NULL);
	html_f(&p->h,
	    "</p>\n<p class=\"actions\"><button type=\"button\" id=\"print\" "
	    "class=\"button\" hidden>");
	say(p, "receipt.print", NULL);
	html_f(&p->h, "</button></p>\n</section>\n<h2>");
	say(p, "receipt.next.heading", NULL);
	html_f(&p->h, "</h2>\n<p>");
	say(p, "receipt.next", NULL);
	html_f(&p->h, "</p>\n<p class=\"no-print\"><a href=\"/f?lang=%s\">", p->lang);
	say(p, "receipt.followup", NULL);
	html_f(&p->h, "</a></p>\n");
	page_end(p);
}

int
h_page_report(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct form_errors errs;
	struct receipt r;
	struct form f;
	struct page p;
	int rc = -1, parsed;

	if (cross_site(rq, e) != 0)
		return -1;
	memset(&r, 0, sizeof r);
	memset(&errs, 0, sizeof errs);
	parsed = form_parse(&f, rq->body, rq->len, form_report_names, form_report_repeatable) == 0;
	if (page_open(&p, srv, rq, parsed ? form_get(&f, "lang") : NULL, e) != 0)
		goto out;
	if (!parsed) {
		errs.status = 400;
		errs.n = 1;
		errs.v[0].key = "error.form";
		form_page(&p, NULL, &errs, "/");
		rc = page_reply(&p, out, errs.status, e);
	} else if (form_submit(srv, &f, p.lang, &r, &errs) != 0) {
		/* Everything typed comes back, each error next to its field. */
		form_page(&p, &f, &errs, "/");
		rc = page_reply(&p, out, errs.status, e);
	} else {
		receipt_page(&p, &r);
		rc = page_reply(&p, out, 200, e);
	}
out:
	receipt_clear(&r);
	form_free(&f);
	return rc;
}

/* --- follow-up ------------------------------------------------------------------------------ */

/* "Your message has been sent." */
static void
sent_note(struct page *p)
{
	html_f(&p->h, "<p id=\"confirmation\" class=\"confirmation\" role=\"status\">");
	say(p, "status.sent", NULL);
	html_f(&p->h, "</p>\n");
}

/* The page to type (or, with app.js, to scan) the token; token and error come back on a retry. */
static void
entry_page(struct page *p, const char *token, const struct form_errors *errs, const char *switch_to,
    int sent)
{
	struct described d;

	page_top(p, "followup.title", errs, switch_to);
	if (sent) {
		sent_note(p);
	}
	html_f(&p->h, "<p>");
	say(p, "followup.intro", NULL);
	html_f(&p->h,
	    "</p>\n<form method=\"post\" action=\"/f\" id=\"followup-form\" "
	    "accept-charset=\"utf-8\" novalidate>\n"
	    "<input type=\"hidden\" name=\"lang\" value=\"%s\">\n",
	    p->lang);
	html_f(&p->h,
	    error_for(errs, "token") ? "<div class=\"field invalid\">\n"
	                             : "<div class=\"field\">\n");
	html_f(&p->h, "<label for=\"token-input\">");
	say(p, "followup.token.label", NULL);
	html_f(&p->h, "</label>\n");
	field_notes(p, errs, "token", "followup.token.hint", &d);
	html_f(&p->h,
	    "<input type=\"text\" id=\"token-input\" name=\"token\" value=\"%s\" "
	    "class=\"token-input\" autocomplete=\"off\" autocapitalize=\"characters\" "
	    "spellcheck=\"false\" dir=\"ltr\"",
	    token ? token : "");
	described_attrs(p, &d);
	html_f(&p->h, ">\n</div>\n");
	submit_button(p, "followup-submit", "followup.submit");
	say_in(p, "p", "followup.lost");
	page_end(p);
}

static void
blank_entry(struct page *p)
{
	entry_page(p, NULL, NULL, "", 0);
}

int
h_page_followup(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	return get_page(srv, rq, out, e, blank_entry);
}

static void
one_error(struct form_errors *errs, unsigned status, const char *field, const char *key)
{
	memset(errs, 0, sizeof *errs);
	errs->status = status;
	errs->n = 1;
	snprintf(errs->v[0].field, sizeof errs->v[0].field, "%s", field);
	errs->v[0].key = key;
}

/* A follow-up error worded for the reporter; the status the page answers with. */
static void
followup_error(struct form_errors *errs, const struct api_err *e)
{
	if (strcmp(e->code, "token_malformed") == 0)
		one_error(errs, 400, "token", "followup.error.malformed");
	else if (strcmp(e->code, "token_unknown") == 0)
		one_error(errs, 404, "token", "followup.error.unknown");
	else if (strcmp(e->code, "conflict") == 0)
		one_error(errs, 409, "text", "followup.error.closed");
	else if (strcmp(e->code, "rate_limited") == 0)
		one_error(errs, 429, "text", "followup.error.day_limit");
	else
		one_error(errs, e->status == 500 ? 503 : e->status, "", "error.unavailable");
}

/* The form that sends the reporter's message for token; text (may be NULL) in its box. */
static void
message_form(struct page *p, const char *token, const char *text, const struct form_errors *errs)
{
	html_f(&p->h,
	    "<form method=\"post\" action=\"/f/message\" id=\"message-form\" "
	    "accept-charset=\"utf-8\" novalidate>\n"
	    "<input type=\"hidden\" name=\"token\" value=\"%s\">\n"
	    "<input type=\"hidden\" name=\"lang\" value=\"%s\">\n",
	    token ? token : "", p->lang);
	textarea(p, "text", text, errs, "status.text.label", NULL, TEXT_MAX, 6);
	submit_button(p, "message-submit", "status.send");
}

/*
 * The status page: the label (in the report's own language), the messages,
 * and a form to write one.  text and errs come back after a refused message;
 * sent marks one that went through.
 */
static void
status_page(struct page *p, const char *token, const json_t *answer, const char *text,
    const struct form_errors *errs, int sent)
{
	const char *rlang = json_string_value(json_object_get(answer, "language")), *from;
	const json_t *msgs = json_object_get(answer, "messages"), *m;
	const struct mp_code *rl = mp_policy_find(p->pol, MP_LANGUAGES, rlang);
	size_t i, skip;
	char count[24];

	page_top(p, "status.title", errs, "/f");
	if (sent) {
		sent_note(p);
	}
	html_f(&p->h, "<h2>");
	say(p, "status.status", NULL);
	/* The label is in the report's language, which may not be the page's. */
	html_f(&p->h,
	    "</h2>\n<p id=\"status\" class=\"status\" lang=\"%s\" dir=\"%s\">%s</p>\n"
	    "<p class=\"updated\">",
	    rl ? rl->code : p->lang, rl && rl->rtl ? "rtl" : "ltr",
	    json_string_value(json_object_get(answer, "status_label")));
	say(p, "status.updated", "date", json_string_value(json_object_get(answer, "updated")),
	    NULL);
	html_f(&p->h, "</p>\n");
	say_in(p, "h2", "status.messages");
	if (json_array_size(msgs) == 0) {
		html_f(&p->h, "<p id=\"no-messages\">");
		say(p, "status.none", NULL);
		html_f(&p->h, "</p>\n");
	} else {
		/* The newest PAGE_MESSAGES: a page a phone can take, however long the thread. */
		skip = json_array_size(msgs);
		skip = skip > PAGE_MESSAGES ? skip - PAGE_MESSAGES : 0;
		if (skip > 0) {
			snprintf(count, sizeof count, "%zu", skip);
			html_f(&p->h, "<p id=\"earlier\" class=\"hint\">");
			say(p, "status.earlier", "count", count, NULL);
			html_f(&p->h, "</p>\n");
		}
		html_f(&p->h, "<ol id=\"messages\" class=\"messages\">\n");
		json_array_foreach(msgs, i, m) {
			if (i < skip)
				continue;
			from = json_string_value(json_object_get(m, "from"));
			from = from && strcmp(from, "reporter") == 0 ? "reporter" : "caseworker";
			html_f(&p->h, "<li class=\"message from-%s\">\n<p class=\"meta\">", from);
			say(p,
			    strcmp(from, "reporter") == 0 ? "status.from_reporter"
			                                  : "status.from_caseworker",
			    "date", json_string_value(json_object_get(m, "date")), NULL);
			html_f(&p->h, "</p>\n<p class=\"text\" dir=\"auto\">%s</p>\n</li>\n",
			    json_string_value(json_object_get(m, "text")));
		}
		html_f(&p->h, "</ol>\n");
	}
	say_in(p, "h2", "status.write");
	message_form(p, token, text, errs);
	html_f(&p->h, "<p class=\"hint\">");
	say(p, "status.close_hint", NULL);
	html_f(&p->h, "</p>\n");
	page_end(p);
}

/* Parse a follow-up form and open its page; -1 with e set when not even a page can be made. */
static int
followup_open(struct page *p, struct form *f, int *parsed, struct server *srv, struct request *rq,
    const char *const *names, struct api_err *e)
{
	*parsed = form_parse(f, rq->body, rq->len, names, NULL) == 0;
	return page_open(p, srv, rq, *parsed ? form_get(f, "lang") : NULL, e);
}

/* POST /f: the token from the form (typed, or put there by app.js from the QR code's fragment). */
int
h_page_status(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct form_errors errs;
	struct api_err fe = { 500, "unavailable", "", "", 0, "" };
	const char *token;
	json_t *answer = NULL;
	struct form f;
	struct page p;
	int rc = -1, parsed;

	if (cross_site(rq, e) != 0)
		return -1;
	memset(&errs, 0, sizeof errs);
	if (followup_open(&p, &f, &parsed, srv, rq, followup_names, e) != 0)
		goto out;
	token = parsed ? form_get(&f, "token") : NULL;
	if (!parsed) {
		one_error(&errs, 400, "", "error.form");
		entry_page(&p, NULL, &errs, "/f", 0);
	} else if (token == NULL || *token == '\0') {
		one_error(&errs, 400, "token", "followup.error.missing");
		entry_page(&p, NULL, &errs, "/f", 0);
	} else if (followup_view(srv, token, &answer, &fe) != 0) {
		followup_error(&errs, &fe);
		entry_page(&p, token, &errs, "/f", 0);
	} else {
		errs.status = 200;
		status_page(&p, token, answer, NULL, NULL, 0);
	}
	rc = page_reply(&p, out, errs.status, e);
out:
	json_decref(answer);
	form_free(&f);
	return rc;
}

/* POST /f/message: the reporter's message, then the status page again. */
int
h_page_message(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	struct form_errors errs;
	struct api_err fe = { 500, "unavailable", "", "", 0, "" };
	const char *token, *text;
	json_t *answer = NULL;
	struct form f;
	struct page p;
	size_t n;
	int rc = -1, parsed, sent = 0;

	if (cross_site(rq, e) != 0)
		return -1;
	if (followup_open(&p, &f, &parsed, srv, rq, message_names, e) != 0)
		goto out;
	token = parsed ? form_get(&f, "token") : NULL;
	text = parsed ? form_get(&f, "text") : NULL;
	memset(&errs, 0, sizeof errs);
	errs.status = 200;
	if (token == NULL || *token == '\0') {
		one_error(&errs, 400, parsed ? "token" : "",
		    parsed ? "followup.error.missing" : "error.form");
		entry_page(&p, NULL, &errs, "/f", 0);
		goto reply;
	}
	n = text ? utf8_len(text) : 0;
	if (n == 0) {
		one_error(&errs, 400, "text", "error.message.missing");
	} else if (n > TEXT_MAX) {
		one_error(&errs, 400, "text", "error.too_long");
		errs.v[0].max = TEXT_MAX;
	} else if (followup_post(srv, token, text, &fe) != 0) {
		followup_error(&errs, &fe);
	} else {
		sent = 1;
	}
	/*
	 * The page after a message shows it; a refused one stays in the box to
	 * send again.  A stored message is confirmed even when the thread cannot be
	 * shown now, so that no one sends it twice.
	 */
	if (followup_view(srv, token, &answer, &fe) != 0) {
		if (!sent)
			followup_error(&errs, &fe);
		entry_page(&p, token, &errs, "/f", sent);
	} else {
		status_page(&p, token, answer, sent ? NULL : text, &errs, sent);
	}
reply:
	rc = page_reply(&p, out, errs.status, e);
	if (errs.status == 429)
		out->retry = fe.retry;
out:
	json_decref(answer);
	form_free(&f);
	return rc;
}

/* --- the accessibility statement ------------------------------------------------------------ */

static void
statement(struct page *p)
{
	static const char *const parts[][2] = {
		{ NULL, "a11y.intro" },
		{ NULL, "a11y.standard" },
		{ "a11y.features.heading", "a11y.features" },
		{ NULL, "a11y.features.errors" },
		{ NULL, "a11y.features.nojs" },
		{ "a11y.how.heading", "a11y.how" },
		{ NULL, "a11y.audit" },
		{ "a11y.problems.heading", "a11y.problems" },
		{ NULL, "a11y.other_ways" },
		{ NULL, "a11y.date" },
	};
	size_t i;

	page_top(p, "a11y.title", NULL, "");
	for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		if (parts[i][0] != NULL)
			say_in(p, "h2", parts[i][0]);
		say_in(p, "p", parts[i][1]);
	}
	page_end(p);
}

int
h_page_accessibility(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	return get_page(srv, rq, out, e, statement);
}

/* --- static files and error pages ---------------------------------------------------------- */

int
h_static(struct server *srv, struct request *rq, struct reply *out, struct api_err *e)
{
	const char *q = strchr(rq->uri, '?'), *end = q ? q : rq->uri + strlen(rq->uri), *name;
	char file[32];

	(void)srv;
	/* Only the routes of the files lead here; the query is ignored. */
	for (name = end; name > rq->uri && name[-1] != '/'; name--)
		;
	if ((size_t)(end - name) >= sizeof file)
		return api_error(e, 404, "not_found", NULL, "no such file");
	memcpy(file, name, (size_t)(end - name));
	file[end - name] = '\0';
	if ((out->text = embedded_static(file)) == NULL)
		return api_error(e, 404, "not_found", NULL, "no such file");
	out->status = 200;
	out->ctype = strstr(file, ".css") ? "text/css; charset=utf-8"
	                                  : "text/javascript; charset=utf-8";
	return 0;
}

/* A refused message: the text stays in its box, to send again later. */
static void
message_page(struct page *p, const char *token, const char *text, const struct form_errors *errs)
{
	page_begin(p, "status.title", 1, "/f");
	error_summary(p, errs);
	say_in(p, "h1", "status.write");
	message_form(p, token, text, errs);
	page_end(p);
}

/*
 * 429 on a form's POST: the same form again, everything typed in it, and
 * how long to wait (docs/ABUSE.md).  NULL when rq is no such POST.
 */
static char *
limit_page(struct server *srv, struct request *rq, const struct api_err *e)
{
	const struct route *r = rq->route;
	const char *const *names;
	struct form_errors errs;
	struct api_err none;
	struct form f;
	struct page p;
	char *page = NULL;
	int parsed;

	if (r == NULL || strcmp(r->method, "POST") != 0)
		return NULL;
	if (r->fn == h_page_report)
		names = form_report_names;
	else if (r->fn == h_page_status)
		names = followup_names;
	else if (r->fn == h_page_message)
		names = message_names;
	else
		return NULL;
	parsed = form_parse(&f, rq->body, rq->len, names,
	             r->fn == h_page_report ? form_report_repeatable : NULL) == 0;
	if (page_open(&p, srv, rq, parsed ? form_get(&f, "lang") : NULL, &none) != 0)
		goto out;
	one_error(&errs, 429, "", "error.limit");
	errs.v[0].max = e->retry > 0 ? (e->retry + 59) / 60 : 1;
	if (r->fn == h_page_report)
		form_page(&p, parsed ? &f : NULL, &errs, "/");
	else if (r->fn == h_page_status)
		entry_page(&p, parsed ? form_get(&f, "token") : NULL, &errs, "/f", 0);
	else
		message_page(&p, parsed ? form_get(&f, "token") : NULL,
		    parsed ? form_get(&f, "text") : NULL, &errs);
	page = html_done(&p.h);
out:
	form_free(&f);
	return page;
}

char *
page_error(struct server *srv, struct request *rq, const struct api_err *e)
{
	const char *title = "error.page.title", *text;
	struct api_err none;
	struct page p;
	char *page;

	if (e->status == 429 && (page = limit_page(srv, rq, e)) != NULL)
		return page;
	if (page_open(&p, srv, rq, NULL, &none) != 0)
		return NULL;
	switch (e->status) {
	case 404:
		title = "error.page.not_found.title";
		text = "error.page.not_found";
		break;
	case 413:
		text = "error.page.too_large";
		break;
	case 429:
	case 503:
		text = "error.page.busy";
		break;
	default:
		text = "error.page.other";
		break;
	}
	page_top(&p, title, NULL, "/");
	say_in(&p, "p", text);
	html_f(&p.h, "<p><a href=\"/?lang=%s\">", p.lang);
	say(&p, "error.page.home", NULL);
	html_f(&p.h, "</a></p>\n");
	page_end(&p);
	return html_done(&p.h);
}
