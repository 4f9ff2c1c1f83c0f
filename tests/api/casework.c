/* Helpers for the case-work tests (see casework.h). */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "casework.h"
#include "mp_b64.h"

struct pol POL;

/* --- days ----------------------------------------------------------------------------- */

void
day_add(char out[11], const char *day, int n)
{
	struct tm tm;
	int y = 0, m = 0, d = 0;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (day == NULL || sscanf(day, "%d-%d-%d", &y, &m, &d) != 3) {
		snprintf(out, 11, "%s", "0000-00-00");
		return;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d + n;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

void
months_ahead(char out[11], int months)
{
	char today[11];
	struct tm tm;
	int y = 0, m = 0, d = 0;
	time_t t;

	amsterdam_day(today, 0);
	sscanf(today, "%d-%d-%d", &y, &m, &d);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1 + months;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* --- the policy file -------------------------------------------------------------------- */

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
pol_index(const char *code)
{
	for (int i = 0; code && i < POL.nst; i++)
		if (strcmp(POL.st[i], code) == 0)
			return i;
	return -1;
}

const char *
pol_label(const char *code, const char *lang)
{
	int i = pol_index(code), l = lang && strcmp(lang, "en") == 0 ? 1 : 0;

	return i < 0 || POL.label[i][l][0] == '\0' ? NULL : POL.label[i][l];
}

/* "nl: label | en: label" into out[0] (nl) and out[1] (en). */
static void
labels(char *rest, char out[2][512])
{
	char *save = NULL, *part;

	for (part = strtok_r(rest, "|", &save); part; part = strtok_r(NULL, "|", &save)) {
		char *p = trim(part), *colon = strchr(p, ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		if (strcmp(trim(p), "nl") == 0)
			snprintf(out[0], 512, "%s", trim(colon + 1));
		else if (strcmp(trim(p), "en") == 0)
			snprintf(out[1], 512, "%s", trim(colon + 1));
	}
}

int
pol_load(void)
{
	char path[PATHLEN + 32], line[2048], section[64] = "", trans[POL_MAX][512];
	int ntrans = 0;
	FILE *f;

	if (POL.loaded)
		return 0;
	memset(&POL, 0, sizeof POL);
	snprintf(path, sizeof path, "%s/policy.conf", I.inst);
	if ((f = fopen(path, "r")) == NULL) {
		diag("cannot read %s", path);
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *p = trim(line), *code, *rest;

		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '[') {
			snprintf(section, sizeof section, "%s", p);
			continue;
		}
		code = p;
		for (rest = p; *rest && *rest != ' ' && *rest != '\t'; rest++)
			;
		if (*rest)
			*rest++ = '\0';
		if (strcmp(section, "[statuses]") == 0 && POL.nst < POL_MAX) {
			snprintf(POL.st[POL.nst], sizeof POL.st[0], "%s", code);
			labels(rest, POL.label[POL.nst]);
			POL.nst++;
		} else if (strcmp(section, "[transitions]") == 0 && ntrans < POL_MAX) {
			snprintf(trans[ntrans++], sizeof trans[0], "%s %s", code, rest);
		} else if (strcmp(section, "[settings]") == 0 &&
		    strcmp(code, "handling_days") == 0) {
			POL.handling_days = atoi(trim(rest));
		} else if (strcmp(section, "[notices]") == 0 && strcmp(code, "purged") == 0) {
			labels(rest, POL.purged);
		}
	}
	fclose(f);
	for (int i = 0; i < ntrans; i++) {
		char *save = NULL, *from = strtok_r(trans[i], " \t", &save), *to;
		int fi = pol_index(from);

		while ((to = strtok_r(NULL, " \t", &save)) != NULL) {
			int ti = pol_index(to);

			if (fi >= 0 && ti >= 0)
				POL.allow[fi][ti] = 1;
		}
	}
	if (POL.nst == 0 || POL.handling_days <= 0 || pol_index("received") < 0 ||
	    pol_index("closed") < 0) {
		diag("the policy file %s lacks statuses, received/closed or handling_days", path);
		return -1;
	}
	POL.loaded = 1;
	return 0;
}

/* --- requests --------------------------------------------------------------------------- */

int
cw_get_as(struct resp *r, const struct mp_identity *who, const char *id)
{
	char target[160];

	snprintf(target, sizeof target, "/api/v1/cases/%s", id);
	return signed_req(r, who ? who : anna, "GET", target, NULL) == 0 && r->status == 200 ? 0
	                                                                                     : -1;
}

int
cw_post(struct resp *r, const char *id, const char *what, const char *body)
{
	char target[200];

	snprintf(target, sizeof target, "/api/v1/cases/%s/%s", id, what);
	return signed_req(r, anna, "POST", target, body);
}

long
cw_move(const char *id, const char *status, const char *closure)
{
	json_t *o = closure ? json_pack("{s:s, s:s}", "status", status, "closure", closure)
	                    : json_pack("{s:s}", "status", status);
	char *b = dump(o);
	struct resp r;
	long st;

	cw_post(&r, id, "status", b);
	st = r.status;
	if (st != 200)
		diag("move %s to %s: %ld %.200s", id, status, st, r.body ? r.body : "");
	resp_free(&r);
	free(b);
	json_decref(o);
	return st;
}

const char *
cw_status(const char *id)
{
	static char st[64];
	struct resp r;

	st[0] = '\0';
	if (cw_get(&r, id) == 0 && jstr(r.json, "status"))
		snprintf(st, sizeof st, "%s", jstr(r.json, "status"));
	resp_free(&r);
	return st;
}

int
cw_walk_to(const char *id, const char *to)
{
	int prev[POL_MAX], queue[POL_MAX], qh = 0, qt = 0, path[POL_MAX], n = 0, from, goal, v;

	if (pol_load() != 0)
		return -1;
	from = pol_index(cw_status(id));
	goal = pol_index(to);
	if (from < 0 || goal < 0)
		return -1;
	for (int i = 0; i < POL_MAX; i++)
		prev[i] = -2;
	prev[from] = -1;
	queue[qt++] = from;
	while (qh < qt) {
		int u = queue[qh++];

		for (int w = 0; w < POL.nst; w++)
			if (POL.allow[u][w] && prev[w] == -2) {
				prev[w] = u;
				queue[qt++] = w;
			}
	}
	if (prev[goal] == -2)
		return -1;
	for (v = goal; v != from; v = prev[v])
		path[n++] = v;
	while (n-- > 0) {
		const char *s = POL.st[path[n]];

		if (cw_move(id, s, strcmp(s, "closed") == 0 ? "advice_information" : NULL) != 200)
			return -1;
	}
	return 0;
}

json_t *
cw_history(const char *id)
{
	struct resp r;
	json_t *h = NULL;

	if (cw_get(&r, id) == 0 && json_is_array(json_object_get(r.json, "history")))
		h = json_incref(json_object_get(r.json, "history"));
	resp_free(&r);
	return h;
}

json_t *
cw_list_find(const char *query, const char *id)
{
	char target[512];
	struct resp r;
	json_t *c, *found = NULL;
	size_t i;

	snprintf(target, sizeof target, "/api/v1/cases?limit=500%s%s", query && *query ? "&" : "",
	    query ? query : "");
	if (signed_req(&r, anna, "GET", target, NULL) == 0 && r.status == 200)
		json_array_foreach(json_object_get(r.json, "cases"), i, c)
			if (jstr(c, "id") && strcmp(jstr(c, "id"), id) == 0)
				found = json_incref(c);
	resp_free(&r);
	return found;
}

int
cw_followup(struct resp *r, const char *token)
{
	return followup(r, token) == 0 && r->status == 200 ? 0 : -1;
}

const char *
kid_of(const uint8_t pk[32])
{
	static char k[4][MP_KID_TEXT_LEN + 1];
	static int n;

	n = (n + 1) % 4;
	mp_kid(k[n], pk);
	return k[n];
}

static int
reporter_keys(uint8_t pk[32], uint8_t sk[32], const char *token)
{
	uint8_t t[MP_TOKEN_BYTES];
	int rc;

	if (mp_token_parse(t, token, strlen(token)) != 0)
		return -1;
	rc = mp_token_reporter_keypair(pk, sk, t);
	sodium_memzero(t, sizeof t);
	return rc;
}

int
cw_report(struct cw *c, const char *lang, const char *desc)
{
	json_t *o = json_pack("{s:s, s:s}", "language", lang, "description", desc), *cs;
	char *b = dump(o), box[MP_B64U_LEN(32)];
	struct resp r;
	size_t i;
	int rc = -1;

	memset(c, 0, sizeof *c);
	snprintf(c->lang, sizeof c->lang, "%s", lang);
	http_json(&r, "POST", "/api/v1/reports", b);
	free(b);
	json_decref(o);
	if (r.status != 201 || jstr(r.json, "token") == NULL ||
	    strlen(jstr(r.json, "token")) != MP_TOKEN_TEXT_LEN) {
		diag("report: %ld %.200s", r.status, r.body ? r.body : "");
		resp_free(&r);
		return -1;
	}
	memcpy(c->token, jstr(r.json, "token"), MP_TOKEN_TEXT_LEN + 1);
	resp_free(&r);
	if (reporter_keys(c->rpk, c->rsk, c->token) != 0)
		return -1;
	b64u(box, sizeof box, c->rpk, 32);
	signed_req(&r, anna, "GET", "/api/v1/cases?limit=5", NULL);
	json_array_foreach(json_object_get(r.json, "cases"), i, cs) {
		struct resp g;
		const char *id = jstr(cs, "id");

		if (id == NULL || strlen(id) >= sizeof c->id)
			continue;
		if (cw_get(&g, id) == 0 && jstr(g.json, "reporter_box") &&
		    strcmp(jstr(g.json, "reporter_box"), box) == 0) {
			snprintf(c->id, sizeof c->id, "%s", id);
			snprintf(c->ref, sizeof c->ref, "%s",
			    jstr(g.json, "ref") ? jstr(g.json, "ref") : "");
			rc = 0;
		}
		resp_free(&g);
		if (rc == 0)
			break;
	}
	if (rc != 0)
		diag("the case of a new report is not among the 5 newest: %ld %.200s", r.status,
		    r.body ? r.body : "");
	resp_free(&r);
	return rc;
}

/* --- summaries --------------------------------------------------------------------------- */

static int
b64u_id(const char *s)
{
	uint8_t b[16];

	return s && strlen(s) == 22 && mp_b64u_decode_exact(b, 16, s, 22) == 0;
}

static int
ref_form(const char *s)
{
	if (s == NULL || strlen(s) < 9 || s[4] != '-')
		return 0;
	for (size_t i = 0; s[i]; i++)
		if (i != 4 && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
summary_ok(const json_t *s, char *why, size_t whylen)
{
	static const char *const nullable_str[] = { "closure", "collective" };
	const json_t *v;

	why[0] = '\0';
	if (!json_is_object(s)) {
		snprintf(why, whylen, "not an object");
		return 0;
	}
	if (!b64u_id(jstr(s, "id")))
		snprintf(why, whylen, "id is not 22 b64u symbols of 16 bytes");
	else if (!ref_form(jstr(s, "ref")))
		snprintf(why, whylen, "ref is not YYYY-NNNN");
	else if (!is_day(jstr(s, "received")) || !is_day(jstr(s, "updated")) ||
	    !is_day(jstr(s, "due")))
		snprintf(why, whylen, "received, updated or due is not a day");
	else if (strcmp(jstr(s, "updated"), jstr(s, "received")) < 0)
		snprintf(why, whylen, "updated is before received");
	else if (jstr(s, "status") == NULL || (POL.loaded && pol_index(jstr(s, "status")) < 0))
		snprintf(why, whylen, "status is not a status of the policy");
	else if (jstr(s, "channel") == NULL)
		snprintf(why, whylen, "channel is not a string");
	else if (!json_is_boolean(json_object_get(s, "anonymous")) ||
	    !json_is_boolean(json_object_get(s, "overdue")) ||
	    !json_is_boolean(json_object_get(s, "purged")))
		snprintf(why, whylen, "anonymous, overdue or purged is not a boolean");
	else if (!json_is_null(v = json_object_get(s, "classification")) && !json_is_object(v))
		snprintf(why, whylen, "classification is neither null nor an object");
	for (size_t i = 0; why[0] == '\0' && i < 2; i++) {
		v = json_object_get(s, nullable_str[i]);
		if (!json_is_null(v) && !json_is_string(v))
			snprintf(why, whylen, "%s is neither null nor a string", nullable_str[i]);
	}
	if (why[0] == '\0' && jstr(s, "status") &&
	    (strcmp(jstr(s, "status"), "closed") == 0) !=
	        json_is_string(json_object_get(s, "closure")))
		snprintf(why, whylen, "closure is set exactly when the status is closed: no");
	return why[0] == '\0';
}

int
field_is(const struct resp *r, const char *want)
{
	const char *f = jstr(json_object_get(r->json, "error"), "field");
	size_t n = strlen(want);

	return f && strncmp(f, want, n) == 0 && (f[n] == '\0' || f[n] == '[' || f[n] == '.');
}

/* --- keys and sealing -------------------------------------------------------------------- */

size_t
active_keys(struct mp_box_pk *out, size_t max)
{
	struct resp r;
	json_t *list, *k;
	size_t i, n = 0;

	signed_req(&r, anna, "GET", "/api/v1/keys", NULL);
	list = json_object_get(r.json, "keys");
	json_array_foreach(list, i, k) {
		const char *role = jstr(k, "role"), *box = jstr(k, "box");

		if (!role || !box || (strcmp(role, "caseworker") && strcmp(role, "recovery")))
			continue;
		if (n < max && mp_b64u_decode_exact(out[n].pk, 32, box, strlen(box)) == 0)
			n++;
	}
	if (n == 0)
		diag_resp(&r);
	resp_free(&r);
	return n;
}

json_t *
seal_item(const char *kind, const char *case_id, const char *text, const uint8_t *reporter_pk)
{
	struct mp_box_pk rc[64];
	size_t n = active_keys(rc, 63);
	json_t *pt = json_pack(
	           "{s:s, s:s, s:s}", "text", text, "from", "caseworker", "author", "Anna"),
	       *env;
	char *pts = dump(pt);

	if (reporter_pk)
		memcpy(rc[n++].pk, reporter_pk, 32);
	env = mp_envelope_seal(kind, case_id, (const uint8_t *)pts, strlen(pts), rc, n);
	sodium_memzero(pts, strlen(pts));
	free(pts);
	json_decref(pt);
	return env;
}

char *
envelope_body(json_t *env)
{
	json_t *o = json_pack("{s:o}", "envelope", env ? env : json_null());
	char *b = dump(o);

	json_decref(o);
	return b;
}

/* --- the command line ------------------------------------------------------------------- */

int
key_add_recovery(const struct mp_identity *id)
{
	char bin[PATHLEN + 16], box[MP_B64U_LEN(32)], *err = NULL;
	int rc;

	snprintf(bin, sizeof bin, "%s/meldpunt", I.build);
	b64u(box, sizeof box, id->box_pk, 32);
	{
		const char *argv[] = { bin, "key", "add", "--dir", I.inst, "--role", "recovery",
			"--name", id->name, "--box", box, NULL };

		rc = run_cmd(NULL, &err, argv);
	}
	if (rc != 0)
		diag("key add --role recovery %s: exit %d: %s", id->name, rc, err ? err : "");
	free(err);
	return rc;
}

int
key_revoke(const char *kid)
{
	char bin[PATHLEN + 16], *err = NULL;
	int rc;

	snprintf(bin, sizeof bin, "%s/meldpunt", I.build);
	{
		const char *argv[] = { bin, "key", "revoke", "--dir", I.inst, "--kid", kid, NULL };

		rc = run_cmd(NULL, &err, argv);
	}
	if (rc != 0)
		diag("key revoke %s: exit %d: %s", kid, rc, err ? err : "");
	free(err);
	return rc;
}

/* --- histories and big bodies ------------------------------------------------------------- */

static int
code_like(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

int
history_codes_only(const json_t *h, char *why, size_t whylen)
{
	static const char *const types[] = { "created", "status", "classified", "collective",
		"shared", "purged" };
	const json_t *ev, *v, *x;
	const char *key, *type;
	size_t i, j, t;

	why[0] = '\0';
	if (!json_is_array(h) || json_array_size(h) == 0) {
		snprintf(why, whylen, "no history");
		return 0;
	}
	json_array_foreach(h, i, ev) {
		type = jstr(ev, "type");
		for (t = 0; type && t < sizeof types / sizeof types[0]; t++)
			if (strcmp(type, types[t]) == 0)
				break;
		if (!json_is_object(ev) || !is_day(jstr(ev, "date")) || type == NULL ||
		    t == sizeof types / sizeof types[0]) {
			snprintf(
			    why, whylen, "event %zu has no day date or a type out of the list", i);
			return 0;
		}
		json_object_foreach((json_t *)ev, key, v) {
			int good = json_is_null(v) || json_is_integer(v) || json_is_boolean(v) ||
			    (json_is_string(v) && code_like(json_string_value(v)));

			if (json_is_array(v)) {
				good = 1;
				json_array_foreach(v, j, x)
					if (!json_is_string(x) || !code_like(json_string_value(x)))
						good = 0;
			}
			if (!good && strcmp(key, "date") != 0) {
				snprintf(why, whylen, "event %zu (%s): %s is not a code, id or day",
				    i, type, key);
				return 0;
			}
		}
	}
	return 1;
}

char *
big_json(const char *name, size_t len)
{
	char *b = malloc(len + 1);
	int n;

	if (b == NULL)
		abort();
	memset(b, 'a', len);
	n = snprintf(b, len, "{\"%s\":\"", name);
	b[n] = 'a';
	memcpy(b + len - 2, "\"}", 2);
	b[len] = '\0';
	return b;
}
