/* The policy file: a line-oriented format that a municipal admin can edit and get told where it is wrong. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_policy.h"

static const char *const list_names[MP_NLISTS] = {
	"languages",
	"grounds",
	"domains",
	"manifestations",
	"municipalities",
	"roles",
	"wishes",
	"channels",
	"statuses",
	"closures",
	"notices",
};

static const char *const required_statuses[] = {
	"received",
	"intake",
	"registration_only",
	"in_progress",
	"referred",
	"closed",
};

struct parser {
	struct mp_policy *p;
	char *err;
	size_t errlen;
	int line;
	unsigned limits_seen; /* bit i: limit_lines[i] was given */
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ps->err, ps->errlen, "line %d: ", ps->line);

	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

char *
mp_policy_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
code_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 40)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Split off the first white-space separated word of *s. */
static char *
word(char **s)
{
	char *w = *s, *e;

	while (*w == ' ' || *w == '\t')
		w++;
	e = w;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	if (*e)
		*e++ = '\0';
	*s = e;
	return w;
}

static struct mp_code *
list_add(struct parser *ps, struct mp_list *l, const char *code)
{
	struct mp_code *v;
	size_t i;

	if (!code_ok(code)) {
		fail(ps, "\"%s\" is not a code (lower case letters, digits and _, at most 40)",
		    code);
		return NULL;
	}
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].code, code) == 0) {
			fail(ps, "code \"%s\" appears twice", code);
			return NULL;
		}
	if ((v = realloc(l->v, (l->n + 1) * sizeof *v)) == NULL) {
		fail(ps, "out of memory");
		return NULL;
	}
	l->v = v;
	memset(&v[l->n], 0, sizeof v[l->n]);
	if ((v[l->n].code = strdup(code)) == NULL) {
		fail(ps, "out of memory");
		return NULL;
	}
	return &v[l->n++];
}

static int
parse_language(struct parser *ps, char *rest)
{
	struct mp_list *l = &ps->p->lists[MP_LANGUAGES];
	char *code = word(&rest), *dir = word(&rest), *name = mp_policy_trim(rest);
	struct mp_code *c;

	size_t i;

	for (i = MP_LANGUAGES + 1; i < MP_NLISTS; i++)
		if (ps->p->lists[i].n > 0)
			return fail(ps, "[languages] must come before every labelled list");
	if (l->n == MP_POLICY_MAX_LANGS)
		return fail(ps, "at most %d languages", MP_POLICY_MAX_LANGS);
	if (strcmp(dir, "ltr") != 0 && strcmp(dir, "rtl") != 0)
		return fail(ps, "a language is `code ltr|rtl name`");
	if (*name == '\0')
		return fail(ps, "the language needs its name");
	if ((c = list_add(ps, l, code)) == NULL)
		return -1;
	c->rtl = strcmp(dir, "rtl") == 0;
	if ((c->labels[0] = strdup(name)) == NULL)
		return fail(ps, "out of memory");
	return 0;
}

static int
parse_labelled(struct parser *ps, enum mp_list_id id, char *rest)
{
	const struct mp_list *langs = &ps->p->lists[MP_LANGUAGES];
	char *code = word(&rest), *part, *save = NULL, *colon, *lang, *label;
	struct mp_code *c;
	size_t i;
	int li;

	if (langs->n == 0)
		return fail(ps, "[languages] must come before [%s]", list_names[id]);
	if ((c = list_add(ps, &ps->p->lists[id], code)) == NULL)
		return -1;
	for (part = strtok_r(rest, "|", &save); part != NULL; part = strtok_r(NULL, "|", &save)) {
		if ((colon = strchr(part, ':')) == NULL)
			return fail(ps, "a label is `lang: text`, separated by |");
		*colon = '\0';
		lang = mp_policy_trim(part);
		label = mp_policy_trim(colon + 1);
		if ((li = mp_policy_lang(ps->p, lang)) < 0)
			return fail(ps, "language \"%s\" is not in [languages]", lang);
		if (c->labels[li] != NULL)
			return fail(ps, "two labels in \"%s\" for \"%s\"", lang, code);
		if (*label == '\0')
			return fail(ps, "empty label in \"%s\" for \"%s\"", lang, code);
		if ((c->labels[li] = strdup(label)) == NULL)
			return fail(ps, "out of memory");
	}
	for (i = 0; i < langs->n; i++)
		if (c->labels[i] == NULL)
			return fail(ps, "\"%s\" has no label in \"%s\"", code, langs->v[i].code);
	return 0;
}

static int
status_index(const struct mp_policy *p, const char *code, size_t *out)
{
	size_t i;

	for (i = 0; i < p->lists[MP_STATUSES].n; i++)
		if (strcmp(p->lists[MP_STATUSES].v[i].code, code) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

static int
parse_transition(struct parser *ps, char *rest)
{
	struct mp_policy *p = ps->p;
	char *from = word(&rest), *to;
	struct mp_transition *m;
	size_t f, t;

	if (status_index(p, from, &f) != 0)
		return fail(ps, "\"%s\" is not in [statuses] (which must come first)", from);
	if (*mp_policy_trim(rest) == '\0')
		return fail(ps, "\"%s\" needs the statuses it may move to", from);
	while (*(to = word(&rest)) != '\0') {
		if (status_index(p, to, &t) != 0)
			return fail(ps, "\"%s\" is not in [statuses]", to);
		if (t == f)
			return fail(ps, "\"%s\" cannot move to itself", to);
		if ((m = realloc(p->moves, (p->nmoves + 1) * sizeof *m)) == NULL)
			return fail(ps, "out of memory");
		p->moves = m;
		m[p->nmoves].from = f;
		m[p->nmoves++].to = t;
	}
	return 0;
}

static int
parse_setting(struct parser *ps, char *rest)
{
	static const struct {
		const char *name;
		size_t off;
		long min, max;
	} settings[] = {
		{ "handling_days", offsetof(struct mp_policy, handling_days), 1, 3650 },
		{ "threshold", offsetof(struct mp_policy, threshold), 1, 1000 },
		{ "retention_closed_months", offsetof(struct mp_policy, retention_closed_months), 1,
		    1200 },
		{ "retention_inactive_months",
		    offsetof(struct mp_policy, retention_inactive_months), 1, 1200 },
	};
	char *name = word(&rest), *val = mp_policy_trim(rest), *end;
	long v;
	size_t i;

	for (i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		if (strcmp(settings[i].name, name) != 0)
			continue;
		v = strtol(val, &end, 10);
		if (*val == '\0' || *end != '\0' || v < settings[i].min || v > settings[i].max)
			return fail(ps, "%s must be a whole number from %ld to %ld", name,
			    settings[i].min, settings[i].max);
		*(int *)(void *)((char *)ps->p + settings[i].off) = (int)v;
		return 0;
	}
	return fail(ps, "unknown setting \"%s\"", name);
}

/*
 * [limits]: rates as `name requests seconds`, the rest `name value`.  The
 * section and each line are optional, so that a policy written before it
 * existed keeps working; the defaults suit one municipality (docs/ABUSE.md).
 */
enum limit_kind { LIMIT_RATE, LIMIT_NUMBER, LIMIT_LOCAL };

#define LIMIT_AT(member) offsetof(struct mp_policy, limits.member)

static const struct limit_line {
	const char *name;
	enum limit_kind kind;
	size_t off;
	long min, max;         /* of a number; of the requests of a rate */
	int requests, seconds; /* the default (a number's in requests) */
} limit_lines[] = {
	{ "report", LIMIT_RATE, LIMIT_AT(client[MP_LIMIT_REPORT]), 1, 1000000, 10, 3600 },
	{ "followup", LIMIT_RATE, LIMIT_AT(client[MP_LIMIT_FOLLOWUP]), 1, 1000000, 120, 3600 },
	{ "signed", LIMIT_RATE, LIMIT_AT(client[MP_LIMIT_SIGNED]), 1, 1000000, 10000, 3600 },
	{ "public", LIMIT_RATE, LIMIT_AT(client[MP_LIMIT_PUBLIC]), 1, 1000000, 3000, 3600 },
	{ "all_report", LIMIT_RATE, LIMIT_AT(all[MP_LIMIT_REPORT]), 1, 1000000, 2000, 600 },
	{ "all_followup", LIMIT_RATE, LIMIT_AT(all[MP_LIMIT_FOLLOWUP]), 1, 1000000, 6000, 600 },
	{ "all_signed", LIMIT_RATE, LIMIT_AT(all[MP_LIMIT_SIGNED]), 1, 1000000, 60000, 600 },
	{ "all_public", LIMIT_RATE, LIMIT_AT(all[MP_LIMIT_PUBLIC]), 1, 1000000, 6000, 600 },
	{ "flood", LIMIT_RATE, LIMIT_AT(flood), 1, 1000000, 300, 600 },
	{ "unproven", LIMIT_RATE, LIMIT_AT(unproven), 1, 1000000, 30, 600 },
	{ "pow_bits", LIMIT_NUMBER, LIMIT_AT(pow_bits), 4, 28, 16, 0 },
	{ "connections", LIMIT_NUMBER, LIMIT_AT(connections), 1, 1024, 32, 0 },
	{ "local", LIMIT_LOCAL, LIMIT_AT(local_shared), 0, 1, 0, 0 },
	{ "case_messages", LIMIT_NUMBER, LIMIT_AT(case_messages), 1, 10000, 20, 0 },
};
#define NLIMITS (sizeof limit_lines / sizeof limit_lines[0])
#define LIMIT_SECONDS_MAX 86400

static void *
limit_field(struct mp_policy *p, const struct limit_line *l)
{
	return (char *)p + l->off;
}

static void
limits_default(struct mp_policy *p)
{
	struct mp_rate *r;
	size_t i;

	for (i = 0; i < NLIMITS; i++) {
		if (limit_lines[i].kind == LIMIT_RATE) {
			r = limit_field(p, &limit_lines[i]);
			r->requests = limit_lines[i].requests;
			r->seconds = limit_lines[i].seconds;
		} else {
			*(int *)limit_field(p, &limit_lines[i]) = limit_lines[i].requests;
		}
	}
}

/* A whole number from min to max, or -1 (no range here reaches below 0). */
static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return (*end != '\0' || v < min || v > max) ? -1 : v;
}

static int
parse_limit(struct parser *ps, char *rest)
{
	char *name = word(&rest), *a = word(&rest), *b = word(&rest);
	const struct limit_line *l = NULL;
	struct mp_rate *r;
	long v, secs;
	size_t i;

	for (i = 0; i < NLIMITS && l == NULL; i++)
		if (strcmp(limit_lines[i].name, name) == 0)
			l = &limit_lines[i];
	if (l == NULL)
		return fail(ps, "unknown limit \"%s\"", name);
	i = (size_t)(l - limit_lines);
	if (ps->limits_seen & (1u << i))
		return fail(ps, "limit \"%s\" appears twice", name);
	ps->limits_seen |= 1u << i;
	if (*mp_policy_trim(rest) != '\0')
		return fail(ps, "too many values for \"%s\"", name);
	switch (l->kind) {
	case LIMIT_RATE:
		if ((v = number(a, l->min, l->max)) < 0 ||
		    (secs = number(b, 1, LIMIT_SECONDS_MAX)) < 0)
			return fail(ps,
			    "%s is `%s requests seconds`: requests from %ld to %ld, "
			    "seconds from 1 to %d",
			    name, name, l->min, l->max, LIMIT_SECONDS_MAX);
		r = limit_field(ps->p, l);
		r->requests = (int)v;
		r->seconds = (int)secs;
		break;
	case LIMIT_NUMBER:
		if (*b != '\0' || (v = number(a, l->min, l->max)) < 0)
			return fail(
			    ps, "%s must be a whole number from %ld to %ld", name, l->min, l->max);
		*(int *)limit_field(ps->p, l) = (int)v;
		break;
	case LIMIT_LOCAL:
		if (*b != '\0' || (strcmp(a, "exempt") != 0 && strcmp(a, "shared") != 0))
			return fail(ps, "local is `exempt` or `shared`");
		*(int *)limit_field(ps->p, l) = strcmp(a, "shared") == 0;
		break;
	}
	return 0;
}

/* Whole-file rules, after the last line. */
static int
check_complete(struct parser *ps)
{
	struct mp_policy *p = ps->p;
	size_t i, k;

	ps->line = 0;
	for (i = 0; i < MP_NLISTS; i++)
		if (p->lists[i].n == 0)
			return fail(ps, "section [%s] is missing or empty", list_names[i]);
	for (i = 0; i < sizeof required_statuses / sizeof required_statuses[0]; i++)
		if (status_index(p, required_statuses[i], &k) != 0)
			return fail(ps, "[statuses] must have \"%s\"", required_statuses[i]);
	if (mp_policy_find(p, MP_NOTICES, "purged") == NULL)
		return fail(ps, "[notices] must have \"purged\"");
	if (p->nmoves == 0)
		return fail(ps, "section [transitions] is missing or empty");
	if (p->handling_days == 0 || p->threshold == 0 || p->retention_closed_months == 0 ||
	    p->retention_inactive_months == 0)
		return fail(ps,
		    "[settings] needs handling_days, threshold, retention_closed_months "
		    "and retention_inactive_months");
	return 0;
}

int
mp_policy_parse(struct mp_policy **out, const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = { NULL, err, errlen, 0, 0 };
	char *copy = NULL, *line, *next, *s;
	/* A list id, or MP_NLISTS for transitions, +1 settings, +2 limits. */
	int section = -1, rc = -1;
	size_t i;

	*out = NULL;
	if (memchr(text, '\0', len) != NULL)
		return fail(&ps, "the file holds a NUL byte");
	if ((ps.p = calloc(1, sizeof *ps.p)) == NULL || (copy = malloc(len + 1)) == NULL) {
		fail(&ps, "out of memory");
		goto out;
	}
	limits_default(ps.p);
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line != NULL; line = next) {
		ps.line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		s = mp_policy_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			size_t n = strlen(s);
			if (s[n - 1] != ']') {
				fail(&ps, "a section header is `[name]`");
				goto out;
			}
			s[n - 1] = '\0';
			for (section = -1, i = 0; i < MP_NLISTS; i++)
				if (strcmp(s + 1, list_names[i]) == 0)
					section = (int)i;
			if (strcmp(s + 1, "transitions") == 0)
				section = MP_NLISTS;
			else if (strcmp(s + 1, "settings") == 0)
				section = MP_NLISTS + 1;
			else if (strcmp(s + 1, "limits") == 0)
				section = MP_NLISTS + 2;
			if (section < 0) {
				fail(&ps, "unknown section [%s]", s + 1);
				goto out;
			}
			continue;
		}
		if (section < 0) {
			fail(&ps, "text before the first [section]");
			goto out;
		}
		if (section == MP_LANGUAGES        ? parse_language(&ps, s)
		        : section == MP_NLISTS     ? parse_transition(&ps, s)
		        : section == MP_NLISTS + 1 ? parse_setting(&ps, s)
		        : section == MP_NLISTS + 2
		        ? parse_limit(&ps, s)
		        : parse_labelled(&ps, (enum mp_list_id)section, s))
			goto out;
	}
	if (check_complete(&ps) != 0)
		goto out;
	*out = ps.p;
	ps.p = NULL;
	rc = 0;
out:
	free(copy);
	mp_policy_free(ps.p);
	return rc;
}

void
mp_policy_free(struct mp_policy *p)
{
	size_t i, j, k;

	if (p == NULL)
		return;
	for (i = 0; i < MP_NLISTS; i++) {
		for (j = 0; j < p->lists[i].n; j++) {
			free(p->lists[i].v[j].code);
			for (k = 0; k < MP_POLICY_MAX_LANGS; k++)
				free(p->lists[i].v[j].labels[k]);
		}
		free(p->lists[i].v);
	}
	free(p->moves);
	free(p);
}

const struct mp_code *
mp_policy_find(const struct mp_policy *p, enum mp_list_id list, const char *code)
{
	size_t i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < p->lists[list].n; i++)
		if (strcmp(p->lists[list].v[i].code, code) == 0)
			return &p->lists[list].v[i];
	return NULL;
}

int
mp_policy_lang(const struct mp_policy *p, const char *lang)
{
	size_t i;

	for (i = 0; lang != NULL && i < p->lists[MP_LANGUAGES].n; i++)
		if (strcmp(p->lists[MP_LANGUAGES].v[i].code, lang) == 0)
			return (int)i;
	return -1;
}

const char *
mp_policy_label(const struct mp_policy *p, const struct mp_code *c, const char *lang)
{
	int li = mp_policy_lang(p, lang);

	/* The parser guarantees a label in every language; the first is the fallback. */
	return c->labels[li < 0 ? 0 : li] ? c->labels[li < 0 ? 0 : li] : c->code;
}

int
mp_policy_move_ok(const struct mp_policy *p, const char *from, const char *to)
{
	size_t f, t, i;

	if (status_index(p, from, &f) != 0 || status_index(p, to, &t) != 0)
		return 0;
	for (i = 0; i < p->nmoves; i++)
		if (p->moves[i].from == f && p->moves[i].to == t)
			return 1;
	return 0;
}

static json_t *
list_json(const struct mp_policy *p, enum mp_list_id id)
{
	const struct mp_list *langs = &p->lists[MP_LANGUAGES];
	json_t *a = json_array(), *o, *labels;
	size_t i, k;

	for (i = 0; a != NULL && i < p->lists[id].n; i++) {
		const struct mp_code *c = &p->lists[id].v[i];
		labels = json_object();
		for (k = 0; labels != NULL && k < langs->n; k++)
			json_object_set_new(labels, langs->v[k].code, json_string(c->labels[k]));
		o = json_pack("{s:s, s:o}", "code", c->code, "labels", labels);
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *
mp_policy_json(const struct mp_policy *p)
{
	const struct mp_list *langs = &p->lists[MP_LANGUAGES];
	json_t *o = json_object(), *a = json_array(), *moves = json_array();
	size_t i;

	if (o == NULL || a == NULL || moves == NULL)
		goto fail;
	for (i = 0; i < langs->n; i++)
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:s}", "code", langs->v[i].code, "name",
		        langs->v[i].labels[0], "dir", langs->v[i].rtl ? "rtl" : "ltr"));
	json_object_set_new(o, "languages", a);
	a = NULL;
	for (i = 1; i < MP_NLISTS; i++)
		json_object_set_new(o, list_names[i], list_json(p, (enum mp_list_id)i));
	for (i = 0; i < p->nmoves; i++)
		json_array_append_new(moves,
		    json_pack("{s:s, s:s}", "from", p->lists[MP_STATUSES].v[p->moves[i].from].code,
		        "to", p->lists[MP_STATUSES].v[p->moves[i].to].code));
	json_object_set_new(o, "transitions", moves);
	json_object_set_new(o, "handling_days", json_integer(p->handling_days));
	json_object_set_new(o, "disclosure_threshold", json_integer(p->threshold));
	json_object_set_new(o, "retention",
	    json_pack("{s:i, s:i}", "closed_months", p->retention_closed_months, "inactive_months",
	        p->retention_inactive_months));
	return o;
fail:
	json_decref(o);
	json_decref(a);
	json_decref(moves);
	return NULL;
}
