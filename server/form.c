/*
 * Forms as browsers send them (application/x-www-form-urlencoded), read
 * strictly, and the report form turned into the API's report object, so that
 * a report made without JavaScript passes the very same validator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "mp_wipe.h"

#define FORM_PAIRS_MAX 64
#define FORM_KEY_MAX 32

/* The report form: field name, the API's name for it, the longest text (0: a code). */
static const struct field {
	const char *form;
	const char *api;
	size_t max;
} report_fields[] = {
	{ "description", "description", TEXT_MAX },
	{ "role", "role", 0 },
	{ "wish", "wish", 0 },
	{ "occurred_on", "occurred_on", 0 },
	{ "location", "location", 200 },
	{ "incident_municipality", "incident_municipality", 0 },
	{ "residence_municipality", "residence_municipality", 0 },
	{ "domain", "domain", 0 },
	{ "manifestation", "manifestation", 0 },
	{ "counterparty", "counterparty", 200 },
}, contact_fields[] = {
	{ "contact_name", "name", 100 },
	{ "contact_email", "email", 254 },
	{ "contact_phone", "phone", 32 },
	{ "contact_preferred", "preferred", 0 },
};
#define NREPORT (sizeof report_fields / sizeof report_fields[0])
#define NCONTACT (sizeof contact_fields / sizeof contact_fields[0])

const char *const form_report_names[] = {
	"lang",
	"description",
	"role",
	"wish",
	"occurred_on",
	"location",
	"incident_municipality",
	"residence_municipality",
	"grounds",
	"domain",
	"manifestation",
	"counterparty",
	"contact",
	"contact_name",
	"contact_email",
	"contact_phone",
	"contact_preferred",
	"pow", /* a proof of work, during a flood (limit.c) */
	NULL,
};
const char *const form_report_repeatable[] = { "grounds", NULL };

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode one name or value: "+" is a space, "%" takes exactly two hex
 * digits, other bytes must be printable ASCII (a browser encodes the rest).
 * Line ends become "\n", as a textarea means them.  The result is valid
 * UTF-8 without NUL, or NULL.
 */
static char *
decode(const unsigned char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, o = 0, k, w;
	int hi, lo;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				goto fail;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '=') {
			out[o++] = (char)s[i];
		} else {
			goto fail;
		}
	}
	out[o] = '\0';
	for (i = k = 0; i < o; i++) {
		if (out[i] == '\r') {
			out[k++] = '\n';
			if (i + 1 < o && out[i + 1] == '\n')
				i++;
		} else {
			out[k++] = out[i];
		}
	}
	out[k] = '\0';
	for (i = 0; i < k; i += w)
		if (out[i] == '\0' || (w = utf8_char((const unsigned char *)out + i, k - i)) == 0)
			goto fail;
	return out;
fail:
	mp_wipe_free(out);
	return NULL;
}

static int
listed(const char *const *names, const char *s)
{
	for (; names != NULL && *names != NULL; names++)
		if (strcmp(*names, s) == 0)
			return 1;
	return 0;
}

int
form_parse(struct form *f, const uint8_t *body, size_t len, const char *const *allowed,
    const char *const *repeatable)
{
	const uint8_t *p = body, *end, *amp, *eq;
	struct form_pair *v;
	char *key = NULL, *val = NULL;

	memset(f, 0, sizeof *f);
	/* A request without a body has none at all: body is NULL then. */
	if (len == 0)
		return 0;
	end = body + len;
	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL || eq == p ||
		    (size_t)(eq - p) > 3 * FORM_KEY_MAX || f->n == FORM_PAIRS_MAX)
			goto fail;
		if ((key = decode(p, (size_t)(eq - p))) == NULL ||
		    (val = decode(eq + 1, (size_t)(amp - eq - 1))) == NULL)
			goto fail;
		if (!listed(allowed, key) || (form_get(f, key) != NULL && !listed(repeatable, key)))
			goto fail;
		if ((v = realloc(f->v, (f->n + 1) * sizeof *v)) == NULL)
			goto fail;
		f->v = v;
		v[f->n].key = key;
		v[f->n].val = val;
		f->n++;
		key = val = NULL;
		/* A trailing "&" would leave an empty pair: refused like any other. */
		if (amp < end && amp + 1 == end)
			goto fail;
		p = amp + 1;
	}
	return 0;
fail:
	mp_wipe_free(key);
	mp_wipe_free(val);
	form_free(f);
	return -1;
}

void
form_free(struct form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		mp_wipe_free(f->v[i].key);
		mp_wipe_free(f->v[i].val);
	}
	free(f->v);
	memset(f, 0, sizeof *f);
}

const char *
form_get(const struct form *f, const char *key)
{
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++)
		if (strcmp(f->v[i].key, key) == 0)
			return f->v[i].val;
	return NULL;
}

int
form_has(const struct form *f, const char *key, const char *val)
{
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++)
		if (strcmp(f->v[i].key, key) == 0 && strcmp(f->v[i].val, val) == 0)
			return 1;
	return 0;
}

size_t
form_max(const char *name)
{
	size_t i;

	for (i = 0; i < NREPORT; i++)
		if (strcmp(report_fields[i].form, name) == 0)
			return report_fields[i].max;
	for (i = 0; i < NCONTACT; i++)
		if (strcmp(contact_fields[i].form, name) == 0)
			return contact_fields[i].max;
	return 0;
}

/* Only white space: left empty, as far as the report is concerned. */
static int
blank(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return 0;
	return 1;
}

static int
add_texts(json_t *o, const struct form *f, const struct field *fields, size_t n)
{
	const char *v;
	size_t i;

	for (i = 0; i < n; i++)
		if (!blank(v = form_get(f, fields[i].form)) &&
		    json_object_set_new(o, fields[i].api, json_string(v)) != 0)
			return -1;
	return 0;
}

/* The API's report object for the form; NULL when out of memory. */
static json_t *
report_json(const struct form *f, const char *lang)
{
	json_t *o = json_object(), *g = NULL, *c = NULL;
	size_t i;

	if (o == NULL || json_object_set_new(o, "language", json_string(lang)) != 0 ||
	    add_texts(o, f, report_fields, NREPORT) != 0)
		goto fail;
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].key, "grounds") != 0 || blank(f->v[i].val))
			continue;
		if ((g == NULL && (g = json_array()) == NULL) ||
		    json_array_append_new(g, json_string(f->v[i].val)) != 0)
			goto fail;
	}
	if (g != NULL && json_object_set_new(o, "grounds", g) != 0) {
		g = NULL;
		goto fail;
	}
	g = NULL;
	/* Contact details count only when the reporter chose to be contacted. */
	if (form_has(f, "contact", "contact")) {
		if ((c = json_object()) == NULL || add_texts(c, f, contact_fields, NCONTACT) != 0 ||
		    json_object_set_new(o, "contact", c) != 0) {
			c = NULL;
			goto fail;
		}
	}
	return o;
fail:
	json_decref(g);
	json_decref(c);
	json_decref(o);
	return NULL;
}

static void
add_error(struct form_errors *errs, const char *field, const char *key, size_t max)
{
	struct form_error *e;

	if (errs->n == FORM_ERRORS_MAX)
		return;
	e = &errs->v[errs->n++];
	snprintf(e->field, sizeof e->field, "%s", field);
	e->key = key;
	e->max = max;
}

static int
has_error(const struct form_errors *errs, const char *field)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		if (strcmp(errs->v[i].field, field) == 0)
			return 1;
	return 0;
}

/* The API's name of a field ("contact.email") as the form names it ("contact_email"). */
static void
form_name(char *out, size_t outlen, const char *api)
{
	if (strncmp(api, "contact.", 8) == 0)
		snprintf(out, outlen, "contact_%.20s", api + 8);
	else if (strcmp(api, "language") == 0 || strcmp(api, "contact") == 0)
		out[0] = '\0'; /* not a field the reporter fills in */
	else
		snprintf(out, outlen, "%.30s", api);
}

/* A validator's verdict on one field, worded for the form. */
static void
api_to_form(struct form_errors *errs, const struct form *f, const struct api_err *e)
{
	char field[32];
	const char *v;
	size_t max;

	form_name(field, sizeof field, e->field);
	v = form_get(f, field);
	max = form_max(field);
	if (field[0] == '\0' || strcmp(e->code, "unknown_field") == 0)
		add_error(errs, "", "error.form", 0);
	else if (strcmp(field, "description") == 0 && strcmp(e->code, "missing_field") == 0)
		add_error(errs, field, "error.description.missing", 0);
	else if (max > 0 && v != NULL && utf8_len(v) > max)
		add_error(errs, field, "error.too_long", max);
	else if (strcmp(field, "occurred_on") == 0)
		add_error(errs, field, "error.date", 0);
	else if (strcmp(field, "contact_email") == 0)
		add_error(errs, field, "error.email", 0);
	else if (strcmp(field, "contact_phone") == 0)
		add_error(errs, field, "error.phone", 0);
	else if (strcmp(field, "contact_preferred") == 0 && v != NULL &&
	    (strcmp(v, "email") == 0 || strcmp(v, "phone") == 0))
		add_error(errs, field, "error.preferred", 0);
	else if (max == 0)
		add_error(errs, field, "error.choice", 0);
	else
		add_error(errs, "", "error.form", 0);
}

/* Take the field the validator named out of o, so the next run finds the next error. */
static void
drop(json_t *o, const char *api)
{
	json_t *c;

	if (strncmp(api, "contact.", 8) == 0) {
		if ((c = json_object_get(o, "contact")) != NULL)
			json_object_del(c, api + 8);
	} else if (strcmp(api, "description") == 0) {
		/* The one required field: a stand-in lets the check go on to the others. */
		json_object_set_new(o, api, json_string("-"));
	} else {
		json_object_del(o, api);
	}
}

int
form_report(const struct mp_policy *p, const struct form *f, const char *lang, json_t **out,
    struct form_errors *errs)
{
	const char *contact = form_get(f, "contact");
	struct api_err e;
	char field[32];
	json_t *o;
	size_t i;

	*out = NULL;
	memset(errs, 0, sizeof *errs);
	errs->status = 400;
	if ((o = report_json(f, lang)) == NULL) {
		errs->status = 503;
		add_error(errs, "", "error.unavailable", 0);
		return -1;
	}
	if (contact != NULL && strcmp(contact, "anonymous") != 0 && strcmp(contact, "contact") != 0)
		add_error(errs, "contact", "error.choice", 0);
	/* Asking to be contacted without a way to do it would leave the reporter waiting. */
	if (form_has(f, "contact", "contact") && blank(form_get(f, "contact_email")) &&
	    blank(form_get(f, "contact_phone")))
		add_error(errs, "contact_email", "error.contact_missing", 0);
	/* The API's validator stops at the first error; the form shows them all. */
	for (i = 0; i < FORM_ERRORS_MAX && report_validate(p, o, &e) != 0; i++) {
		form_name(field, sizeof field, e.field);
		if (field[0] != '\0' && has_error(errs, field))
			break;
		api_to_form(errs, f, &e);
		if (field[0] == '\0')
			break;
		drop(o, e.field);
	}
	if (errs->n > 0) {
		json_decref(o);
		return -1;
	}
	*out = o;
	return 0;
}

int
form_submit(struct server *srv, const struct form *f, const char *lang, struct receipt *r,
    struct form_errors *errs)
{
	struct api_err e = { 500, "unavailable", "", "", 0, "" };
	json_t *o = NULL;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (form_report(srv->in->policy, f, lang, &o, errs) != 0)
		goto out;
	if (report_submit(srv, o, r, &e) != 0) {
		if (e.status == 400) {
			api_to_form(errs, f, &e);
		} else {
			/* Nothing was stored; the page keeps what was typed so it can be sent again. */
			errs->status = e.status == 500 ? 503 : e.status;
			add_error(
			    errs, "", errs->status == 503 ? "error.unavailable" : "error.form", 0);
		}
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}
