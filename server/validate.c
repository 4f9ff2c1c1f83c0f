/*
 * The report, checked once at the edge against the policy: a table of
 * fields and their checks, so a handler only ever sees a valid report.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

enum check { FREE_TEXT, CODE, DAY_PAST, CODES, CONTACT };

struct field {
	const char *name;
	enum check check;
	size_t min, max;      /* FREE_TEXT: code points */
	enum mp_list_id list; /* CODE, CODES */
	int required;
};

static const struct field report_fields[] = {
	{ "language", CODE, 0, 0, MP_LANGUAGES, 0 },
	{ "role", CODE, 0, 0, MP_ROLES, 0 },
	{ "wish", CODE, 0, 0, MP_WISHES, 0 },
	{ "description", FREE_TEXT, 1, TEXT_MAX, 0, 1 },
	{ "occurred_on", DAY_PAST, 0, 0, 0, 0 },
	{ "location", FREE_TEXT, 0, 200, 0, 0 },
	{ "incident_municipality", CODE, 0, 0, MP_MUNICIPALITIES, 0 },
	{ "residence_municipality", CODE, 0, 0, MP_MUNICIPALITIES, 0 },
	{ "grounds", CODES, 0, 0, MP_GROUNDS, 0 },
	{ "domain", CODE, 0, 0, MP_DOMAINS, 0 },
	{ "manifestation", CODE, 0, 0, MP_MANIFESTATIONS, 0 },
	{ "counterparty", FREE_TEXT, 0, 200, 0, 0 },
	{ "contact", CONTACT, 0, 0, 0, 0 },
};
#define NFIELDS (sizeof report_fields / sizeof report_fields[0])

static const char *const contact_fields[] = { "name", "email", "phone", "preferred", NULL };

/* Something@domain.tld with no spaces or control characters. */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *p;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL)
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '"')
			return 0;
	p = strrchr(at + 1, '.');
	return p != NULL && p > at + 1 && p[1] != '\0';
}

static int
phone_ok(const char *s)
{
	int digits = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (!strchr(" +-().", *s))
			return 0;
	}
	return digits >= 3;
}

static int
check_contact(const json_t *c, struct api_err *e)
{
	const char *name, *email, *phone, *pref;

	if (json_is_null(c))
		return 0;
	if (!json_is_object(c))
		return api_error(e, 400, "invalid_field", "contact", "contact must be an object");
	if (only_fields(c, contact_fields, "contact.", e) != 0)
		return -1;
	if (text_field(c, "name", 0, 100, 0, &name, e) != 0 ||
	    text_field(c, "email", 0, 254, 0, &email, e) != 0 ||
	    text_field(c, "phone", 0, 32, 0, &phone, e) != 0 ||
	    text_field(c, "preferred", 0, 16, 0, &pref, e) != 0) {
		char sub[sizeof e->field];
		memcpy(sub, e->field, sizeof sub);
		sub[40] = '\0'; /* field names here are short; keeps the result in bounds */
		snprintf(e->field, sizeof e->field, "contact.%.40s", sub);
		return -1;
	}
	if (email != NULL && *email != '\0' && !email_ok(email))
		return api_error(e, 400, "invalid_field", "contact.email",
		    "contact.email must be an e-mail address");
	if (phone != NULL && *phone != '\0' && !phone_ok(phone))
		return api_error(e, 400, "invalid_field", "contact.phone",
		    "contact.phone must be a telephone number");
	if (pref != NULL) {
		const char *given = strcmp(pref, "email") == 0 ? email
		    : strcmp(pref, "phone") == 0               ? phone
		                                               : NULL;
		if (strcmp(pref, "email") != 0 && strcmp(pref, "phone") != 0)
			return api_error(e, 400, "invalid_field", "contact.preferred",
			    "contact.preferred must be email or phone");
		if (given == NULL || *given == '\0')
			return api_error(e, 400, "invalid_field", "contact.preferred",
			    "contact.preferred must name a way of contact that is given");
	}
	return 0;
}

static int
check_code(const struct mp_policy *p, const struct field *f, const json_t *v, const char *name,
    struct api_err *e)
{
	if (!json_is_string(v) || mp_policy_find(p, f->list, json_string_value(v)) == NULL)
		return api_error(
		    e, 400, "invalid_field", name, "%s is not one of the policy's codes", name);
	return 0;
}

static int
check_field(const struct mp_policy *p, const struct field *f, const json_t *v, struct api_err *e)
{
	char today[11];
	const char *s;
	size_t i, j;
	json_t *g;

	switch (f->check) {
	case FREE_TEXT:
		return text_field(v, f->name, f->min, f->max, f->required, &s, e);
	case CODE:
		return check_code(p, f, json_object_get(v, f->name), f->name, e);
	case DAY_PAST:
		g = json_object_get(v, f->name);
		mp_today(today);
		if (!json_is_string(g) || !mp_day_ok(json_string_value(g)) ||
		    strcmp(json_string_value(g), today) > 0)
			return api_error(e, 400, "invalid_field", f->name,
			    "%s must be a date YYYY-MM-DD, not in the future", f->name);
		return 0;
	case CODES:
		g = json_object_get(v, f->name);
		if (!json_is_array(g) || json_array_size(g) > p->lists[f->list].n)
			return api_error(e, 400, "invalid_field", f->name,
			    "%s must be a list of the policy's codes", f->name);
		for (i = 0; i < json_array_size(g); i++) {
			if (check_code(p, f, json_array_get(g, i), f->name, e) != 0)
				return -1;
			for (j = 0; j < i; j++)
				if (json_equal(json_array_get(g, i), json_array_get(g, j)))
					return api_error(e, 400, "invalid_field", f->name,
					    "%s names a code twice", f->name);
		}
		return 0;
	case CONTACT:
		return check_contact(json_object_get(v, f->name), e);
	}
	return -1;
}

int
report_validate(const struct mp_policy *p, const json_t *o, struct api_err *e)
{
	const char *names[NFIELDS + 1];
	size_t i;
	json_t *v;

	for (i = 0; i < NFIELDS; i++)
		names[i] = report_fields[i].name;
	names[NFIELDS] = NULL;
	if (only_fields(o, names, "", e) != 0)
		return -1;
	for (i = 0; i < NFIELDS; i++) {
		v = json_object_get(o, report_fields[i].name);
		if (v == NULL || json_is_null(v)) {
			if (report_fields[i].required)
				return api_error(e, 400, "missing_field", report_fields[i].name,
				    "%s is required", report_fields[i].name);
			continue;
		}
		/* An empty optional text is the same as leaving it out. */
		if (report_fields[i].check == FREE_TEXT && !report_fields[i].required &&
		    json_is_string(v) && json_string_length(v) == 0)
			continue;
		if (check_field(p, &report_fields[i], o, e) != 0)
			return -1;
	}
	return 0;
}
